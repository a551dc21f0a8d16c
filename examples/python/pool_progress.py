import time
from multiprocessing import Pool

def slow_square(x):
    time.sleep(0.001)
    return x * x

if __name__ == '__main__':
    total, done, out = 2000, 0, []
    with Pool() as pool:
        for v in pool.imap(slow_square, range(total), chunksize=25):
            out.append(v)
            done += 1
            if done % 25 == 0:
                filled = done * 40 // total
                print('\r[%s%s] %3d%%' % ('#' * filled, ' ' * (40 - filled),
                                          done * 100 // total), end='', flush=True)
    print('\nsum of squares of range(2000) = %d' % sum(out))
