import time
from multiprocessing import Pool

def foo(num):
    time.sleep(0.1)
    print(num, flush=True)

if __name__ == '__main__':
    pool = Pool(16)
    for i in range(100):
        pool.apply_async(func=foo, args=(i,))
    pool.close()
    pool.join()
