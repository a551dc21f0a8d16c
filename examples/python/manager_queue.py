from multiprocessing import Manager, Pool
import os

def reader(q):
    print('reader启动(%s),父进程为(%s)' % (os.getpid(), os.getppid()), flush=True)
    for i in range(q.qsize()):
        print('reader从Queue获取消息L%s' % q.get(True), flush=True)

def write(q):
    print('write启动(%s),父进程为(%s)' % (os.getpid(), os.getppid()), flush=True)
    for i in 'XiongDiLian':
        q.put(i)

if __name__ == '__main__':
    print('(%s) start' % os.getpid(), flush=True)
    q = Manager().Queue()
    po = Pool()
    po.apply(write, (q,))
    po.apply(reader, (q,))
    po.close()
    po.join()
    print('(%s) end' % os.getpid())
