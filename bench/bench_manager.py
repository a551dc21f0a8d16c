"""CPython's side of bench_manager: a Manager() dict's d[k] = v and d[k],
printed as `name value` lines (microseconds per operation, the median of
several runs).

Usage: bench_manager.py [method [n [runs]]]"""
import multiprocessing as mp
import sys
import time

KEYS = 1000


def median(v):
    return sorted(v)[len(v) // 2]


def dict_set_us(d, n):
    t0 = time.perf_counter()
    for i in range(n):
        d[i % KEYS] = i
    return (time.perf_counter() - t0) / n * 1e6


def dict_get_us(d, n):
    t0 = time.perf_counter()
    s = 0
    for i in range(n):
        s += d[i % KEYS]
    return (time.perf_counter() - t0) / n * 1e6


def main():
    method = sys.argv[1] if len(sys.argv) > 1 else None
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 5000
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    with mp.get_context(method).Manager() as m:
        d = m.dict()
        dict_set_us(d, KEYS)  # every key present, as in the C bench
        print("dict_set_us", median([dict_set_us(d, n) for _ in range(runs)]))
        print("dict_get_us", median([dict_get_us(d, n) for _ in range(runs)]))


if __name__ == "__main__":
    main()
