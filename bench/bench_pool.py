"""CPython's side of bench_pool: the same three measurements with
multiprocessing.Pool, printed as `name value` lines (per second)."""
import multiprocessing as mp
import sys
import time


def twice(x):
    return 2 * x


def median(v):
    return sorted(v)[len(v) // 2]


def tiny_rate(pool, n):
    t0 = time.perf_counter()
    rs = [pool.apply_async(twice, (i,)) for i in range(n)]
    for r in rs:
        r.get()
    return n / (time.perf_counter() - t0)


def map_rate(pool, n, chunksize):
    t0 = time.perf_counter()
    out = pool.map(twice, range(n), chunksize)
    assert len(out) == n
    return n / (time.perf_counter() - t0)


if __name__ == "__main__":
    ctx = mp.get_context(sys.argv[1] if len(sys.argv) > 1 else "forkserver")
    with ctx.Pool() as pool:
        for i in range(4 * mp.cpu_count()):
            pool.apply(twice, (i,))
        print("tiny_per_s", median([tiny_rate(pool, 20000) for _ in range(3)]))
        print("map_1m_per_s", median([map_rate(pool, 1000000, 10000) for _ in range(3)]))
        print("map_100k_per_s", median([map_rate(pool, 100000, None) for _ in range(3)]))
