from multiprocessing import Queue, Process

def func(exp, q):
    ret = eval(exp)
    q.put({ret, 2, 3})
    q.put(ret * 2)
    q.put(ret * 4)

if __name__ == '__main__':
    q = Queue()
    Process(target=func, args=('1+2+3', q)).start()
    print(q.get())
    print(q.get())
