from multiprocessing import Process, Lock
import time
import random
import os

def work(lock):
    lock.acquire()
    global a
    if a > 0:
        print('%s success' % os.getpid(), a)
        a -= 1
        time.sleep(random.randrange(0, 2) * 0.1)
    else:
        print('%s fail' % os.getpid())
    lock.release()

a = 2

if __name__ == '__main__':
    lock = Lock()
    p_obj = []
    for i in range(0, 5):
        p = Process(target=work, args=(lock,))
        p.start()
        p_obj.append(p)
