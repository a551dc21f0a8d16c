/*
 * Pool throughput, side by side in one run with CPython's
 * multiprocessing.Pool (bench_pool.py) and the floor of the same work done
 * in the calling process with no pool at all:
 *
 *   apply_async of tiny tasks      tasks/s
 *   map of 1M ints, chunksize 10k  ints/s
 *   map of 100k ints, default      ints/s
 *
 * Usage: bench_pool [fork|spawn|forkserver]   (default: forkserver)
 * Each figure is the median of 3 runs; the pool has as many workers as
 * CPUs, and is started (and its workers running) before timing.
 */
#include <mproc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

#define RUNS 3
#define TINY_N 50000

static void check(int rc, const char *what)
{
  if (rc != 0) {
    fprintf(stderr, "bench_pool: %s: %s\n", what, mproc_last_error());
    exit(1);
  }
}

MPROC_TARGET(twice)
{
  int x;

  if (mproc_args_parse(args, "i", &x) != 0)
    return 1;
  return mproc_return("i", 2 * x);
}

static mproc_pool_t *new_pool(const mproc_context_t *ctx)
{
  mproc_pool_options_t o = {.context = ctx};
  mproc_pool_t *p;
  mproc_args_t *r;

  check(mproc_pool_create(&p, &o), "Pool");
  /* Every worker up and running before the clock starts. */
  for (int i = 0; i < 4 * mproc_pool_processes(p); i++) {
    check(mproc_pool_apply(p, &r, twice, "i", i), "apply");
    mproc_args_free(r);
  }
  return p;
}

static double tiny_rate(mproc_pool_t *p, int n)
{
  mproc_async_t **ar = malloc((size_t)n * sizeof *ar);
  mproc_args_t *r;
  double t0 = now(), dt;

  for (int i = 0; i < n; i++)
    check(mproc_pool_apply_async(p, &ar[i], NULL, twice, "i", i),
          "apply_async");
  for (int i = 0; i < n; i++) {
    check(mproc_async_get(ar[i], MPROC_FOREVER, &r), "get");
    mproc_args_free(r);
    mproc_async_free(ar[i]);
  }
  dt = now() - t0;
  free(ar);
  return n / dt;
}

static double map_rate(mproc_pool_t *p, int n, size_t chunksize)
{
  mproc_items_t *it;
  mproc_args_t *r;
  double t0, dt;

  check(mproc_items_create(&it), "items");
  t0 = now();
  for (int i = 0; i < n; i++)
    check(mproc_items_add(it, "i", i), "items");
  check(mproc_pool_map(p, &r, twice, it, chunksize), "map");
  dt = now() - t0;
  if (mproc_args_count(r) != (size_t)n) {
    fprintf(stderr, "bench_pool: map gave %zu results\n", mproc_args_count(r));
    exit(1);
  }
  mproc_args_free(r);
  mproc_items_free(it);
  return n / dt;
}

/* The floor: the same calls in this process, through the same argument
 * and result encoding a worker uses, minus the pool. */
static double floor_rate(int n)
{
  double t0 = now(), dt;
  long long sum = 0;

  for (int i = 0; i < n; i++) {
    mproc_items_t *it;
    mproc_items_create(&it);
    mproc_items_add(it, "i", i);
    sum += mproc_items_count(it);
    mproc_items_free(it);
  }
  dt = now() - t0;
  return sum == n ? n / dt : 0;
}

typedef struct py {
  double tiny, map1m, map100k;
  int ok;
} py_t;

static py_t cpython(const char *method)
{
  static const char *const names[] = {"tiny_per_s", "map_1m_per_s",
                                      "map_100k_per_s"};
  double v[3] = {0};
  py_t r;

  r.ok = cpython_values(MPROC_BENCH_POOL_PY, method, names, v, 3);
  r.tiny = v[0];
  r.map1m = v[1];
  r.map100k = v[2];
  return r;
}

int main(int argc, char **argv)
{
  const char *method = argc > 1 ? argv[1] : "forkserver";
  const mproc_context_t *ctx;
  double v[RUNS], tiny, m1, m100, fl;
  mproc_pool_t *p;
  py_t py;

  mproc_main(argc, argv);
  ctx = mproc_get_context(method);
  check(ctx == NULL, method);
  p = new_pool(ctx);
  for (int i = 0; i < RUNS; i++)
    v[i] = tiny_rate(p, TINY_N);
  tiny = median(v, RUNS);
  for (int i = 0; i < RUNS; i++)
    v[i] = map_rate(p, 1000000, 10000);
  m1 = median(v, RUNS);
  for (int i = 0; i < RUNS; i++)
    v[i] = map_rate(p, 100000, 0);
  m100 = median(v, RUNS);
  check(mproc_pool_close(p), "close");
  check(mproc_pool_join(p), "join");
  mproc_pool_free(p);
  for (int i = 0; i < RUNS; i++)
    v[i] = floor_rate(1000000);
  fl = median(v, RUNS);
  py = cpython(method);

  printf("bench_pool, start method %s, %d workers, median of %d runs\n\n",
         method, mproc_cpu_count(), RUNS);
  printf("%-32s %12s %12s %12s   %s\n", "", "mproc", "floor", "CPython",
         "ratio (target)");
  printf("%-32s %10.0f/s %10.0f/s %10.0f/s   %.1fx CPython (>= 30x)\n",
         "apply_async, tiny tasks", tiny, fl, py.tiny,
         py.ok ? tiny / py.tiny : 0);
  printf("%-32s %10.0f/s %10.0f/s %10.0f/s   %.1fx CPython (>= 15x)\n",
         "map 1M ints, chunksize 10k", m1, fl, py.map1m,
         py.ok ? m1 / py.map1m : 0);
  printf("%-32s %10.0f/s %10.0f/s %10.0f/s   %.1fx CPython\n",
         "map 100k ints, default chunks", m100, fl, py.map100k,
         py.ok ? m100 / py.map100k : 0);
  printf("\nfloor: building one item's arguments in this process, no pool\n");
  if (!py.ok)
    printf("(CPython's numbers are missing: python3 failed)\n");
  return 0;
}
