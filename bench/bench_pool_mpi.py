"""mpi4py.futures beside bench_pool_mpi: the same tiny tasks (x -> 2x)
submitted one by one, and map of 1M ints in chunks of 10k, on the ranks
1..N-1 of

    mpirun -n 4 --oversubscribe python3 -m mpi4py.futures bench/bench_pool_mpi.py

(Debian: python3-mpi4py; as root add --allow-run-as-root). Prints
`name value` lines (items/s), the median of 3 runs."""
import statistics
import time

from mpi4py.futures import MPIPoolExecutor


def twice(x):
    return 2 * x


def main():
    tiny_n, map_n = 20000, 1000000
    with MPIPoolExecutor() as ex:
        list(ex.map(twice, range(100)))  # the workers are up
        tiny, maps = [], []
        for _ in range(3):
            t0 = time.perf_counter()
            futs = [ex.submit(twice, i) for i in range(tiny_n)]
            for f in futs:
                f.result()
            tiny.append(tiny_n / (time.perf_counter() - t0))
            t0 = time.perf_counter()
            out = list(ex.map(twice, range(map_n), chunksize=10000))
            maps.append(map_n / (time.perf_counter() - t0))
            assert out[-1] == 2 * (map_n - 1)
    print("mpi4py_tiny", statistics.median(tiny))
    print("mpi4py_map", statistics.median(maps))


if __name__ == "__main__":
    main()
