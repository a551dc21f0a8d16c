import time
from multiprocessing import Pool

def foo(num):
    time.sleep(0.02)
    print(num, flush=True)

if __name__ == '__main__':
    pool = Pool(16)
    t0 = time.monotonic()
    for i in range(100):
        pool.apply(func=foo, args=(i,))
    print('100 tasks of 0.02 s in %.1f s: one at a time' % (time.monotonic() - t0))
    pool.close()
    pool.join()
