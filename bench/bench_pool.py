"""CPython's side of bench_pool: the same measurements with
multiprocessing.Pool, printed as `name value` lines.

Usage: bench_pool.py METHOD GRAN_WORKERS RUNS WORKERS_CSV
  tiny_per_s, map_1m_per_s, map_100k_per_s     per second
  gran_loop_T, gran_cs1_T, gran_def_T          seconds, tasks spinning T us
  tp_W_CS                                      items/s, W workers, chunksize CS
"""
import multiprocessing as mp
import sys
import time

SPINS = (1000, 100, 10, 1)
CHUNKSIZES = (1, 10, 100, 1000, 10000)
TP_N = 100000


def twice(x):
    return 2 * x


def spin(us):
    end = time.perf_counter() + us * 1e-6
    while time.perf_counter() < end:
        pass
    return us


def median(v):
    return sorted(v)[len(v) // 2]


def warm(pool, workers):
    for i in range(4 * workers):
        pool.apply(twice, (i,))


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


def gran_n(us):
    return 100000 // us


def gran_loop(us):
    t0 = time.perf_counter()
    for _ in range(gran_n(us)):
        spin(us)
    return time.perf_counter() - t0


def gran_pool(pool, us, chunksize):
    t0 = time.perf_counter()
    pool.map(spin, [us] * gran_n(us), chunksize)
    return time.perf_counter() - t0


def main():
    ctx = mp.get_context(sys.argv[1] if len(sys.argv) > 1 else "forkserver")
    gran_workers = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    workers = [int(w) for w in sys.argv[4].split(",")] if len(sys.argv) > 4 else [1, 2, 4]
    # Chunksize 1 costs CPython ~25 us a task: fewer runs there.
    slow_runs = min(runs, 3)

    with ctx.Pool() as pool:
        warm(pool, mp.cpu_count())
        print("tiny_per_s", median([tiny_rate(pool, 20000) for _ in range(runs)]))
        print("map_1m_per_s", median([map_rate(pool, 1000000, 10000) for _ in range(runs)]))
        print("map_100k_per_s", median([map_rate(pool, 100000, None) for _ in range(runs)]))
        sys.stdout.flush()

    with ctx.Pool(gran_workers) as pool:
        warm(pool, gran_workers)
        for us in SPINS:
            print("gran_loop_%d" % us, median([gran_loop(us) for _ in range(runs)]))
            print("gran_cs1_%d" % us, median([gran_pool(pool, us, 1) for _ in range(slow_runs)]))
            print("gran_def_%d" % us, median([gran_pool(pool, us, None) for _ in range(runs)]))
            sys.stdout.flush()

    for w in workers:
        with ctx.Pool(w) as pool:
            warm(pool, w)
            for cs in CHUNKSIZES:
                n = slow_runs if cs == 1 else runs
                print("tp_%d_%d" % (w, cs), median([map_rate(pool, TP_N, cs) for _ in range(n)]))
                sys.stdout.flush()


if __name__ == "__main__":
    main()
