from multiprocessing import Process, Queue
import os

def reader(q):
    print('reader启动(%s),父进程为(%s)' % (os.getpid(), os.getppid()))
    for i in range(q.qsize()):
        print('reader从Queue获取消息L%s' % q.get(True))

def write(q):
    print('write启动(%s),父进程为(%s)' % (os.getpid(), os.getppid()))
    for i in 'XiongDiLian':
        q.put(i)

def run(fn, q):
    p = Process(target=fn, args=(q,))
    p.start()
    p.join()

if __name__ == '__main__':
    print('(%s) start' % os.getpid())
    q = Queue()
    run(write, q)
    run(reader, q)
    print('(%s) end' % os.getpid())
