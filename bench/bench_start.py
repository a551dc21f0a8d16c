"""CPython's side of bench_start: start+join latency of a process whose
target returns at once, per start method. Prints one line per method:
'<method> <mean_us> <median_us> <runs>'. Usage: bench_start.py N"""
import multiprocessing as mp
import statistics
import sys
import time


def noop():
    pass


def measure(method, n):
    ctx = mp.get_context(method)
    for _ in range(3):  # warm-up: the forkserver starts here
        p = ctx.Process(target=noop)
        p.start()
        p.join()
    times = []
    for _ in range(n):
        t = time.perf_counter()
        p = ctx.Process(target=noop)
        p.start()
        p.join()
        times.append(time.perf_counter() - t)
    return times


if __name__ == '__main__':
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    for method in ('fork', 'spawn', 'forkserver'):
        # spawn re-imports the interpreter each time: fewer runs keep the
        # benchmark short without changing what it measures.
        runs = max(10, n // 10) if method != 'fork' else n
        t = measure(method, runs)
        print('%s %.1f %.1f %d' % (method, statistics.mean(t) * 1e6,
                                   statistics.median(t) * 1e6, runs),
              flush=True)
