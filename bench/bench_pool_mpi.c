/*
 * bench_pool_mpi: the Pool's MPI backend beside the local pool, on the
 * same cores, in one run (README "Across machines", bench/README.md).
 * Run it under mpirun; rank 0 measures, ranks 1..N-1 serve:
 *
 *   mpirun -n 4 --oversubscribe bench/bench_pool_mpi [runs]
 *
 * (as root add --allow-run-as-root). The local pool gets N-1 workers too,
 * and both pools live side by side: each run measures the local pool,
 * then the MPI pool, so that both see the same load on shared cores.
 * Figures: apply_async of tiny tasks, map of 1M ints (chunksize 10k; the
 * map call alone, the input list is built before the clock starts: it
 * costs both pools the same), the typed-array map of 1M ints; the median
 * of [runs] (3) runs each.
 * bench_pool_mpi.py gives mpi4py.futures' figure for the same tiny tasks.
 */
#include <mproc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define TINY_N 100000
#define MAP_N 1000000

static int runs = 3;

static void check(int rc, const char *what)
{
  if (rc != 0) {
    fprintf(stderr, "bench_pool_mpi: %s: %s (%s)\n", what, mproc_strerror(rc),
            mproc_last_error());
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

MPROC_BATCH(twice_batch)
{
  const int *x = in;
  int *y = out;

  for (size_t i = 0; i < n; i++)
    y[i] = 2 * x[i];
  return 0;
}

static mproc_pool_t *new_pool(int backend, int workers)
{
  mproc_pool_options_t o = {.processes = workers, .backend = backend};
  mproc_pool_t *p;
  mproc_args_t *r;

  check(mproc_pool_create(&p, &o), "Pool");
  for (int i = 0; i < 4 * workers; i++) {
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
  for (int i = 0; i < n; i++)
    check(mproc_items_add(it, "i", i), "items");
  t0 = now();
  check(mproc_pool_map(p, &r, twice, it, chunksize), "map");
  dt = now() - t0;
  if (mproc_args_count(r) != (size_t)n) {
    fprintf(stderr, "bench_pool_mpi: map gave %zu results\n",
            mproc_args_count(r));
    exit(1);
  }
  mproc_args_free(r);
  mproc_items_free(it);
  return n / dt;
}

static double array_rate(mproc_pool_t *p, const int *in, int *out, int n)
{
  double t0, dt;

  memset(out, 0, (size_t)n * sizeof *out); /* the other pool's are there */
  t0 = now();
  check(mproc_pool_map_array(p, twice_batch, in, (size_t)n, sizeof *in, out,
                             sizeof *out, 0),
        "map_array");
  dt = now() - t0;
  for (int i = 0; i < n; i++)
    if (out[i] != 2 * in[i]) {
      fprintf(stderr, "bench_pool_mpi: map_array gave a wrong result\n");
      exit(1);
    }
  return n / dt;
}

typedef struct figs {
  double tiny, map, array;
} figs_t;

static void pool_end(mproc_pool_t *p)
{
  check(mproc_pool_close(p), "close");
  check(mproc_pool_join(p), "join");
  mproc_pool_free(p);
}

/* The local pool (@l) and the MPI pool (@m), run by run, one after the
 * other. */
static void measure(int workers, figs_t *l, figs_t *m)
{
  double t[2][16], mp[2][16], a[2][16];
  int *in = malloc(MAP_N * sizeof *in), *out = malloc(MAP_N * sizeof *out);
  mproc_pool_t *p[2] = {new_pool(MPROC_POOL_BACKEND_LOCAL, workers),
                        new_pool(MPROC_POOL_BACKEND_MPI, workers)};
  figs_t *f[2] = {l, m};

  for (int i = 0; i < MAP_N; i++)
    in[i] = i;
  for (int r = 0; r < runs; r++) {
    for (int k = 0; k < 2; k++)
      t[k][r] = tiny_rate(p[k], TINY_N);
    for (int k = 0; k < 2; k++)
      mp[k][r] = map_rate(p[k], MAP_N, 10000);
    for (int k = 0; k < 2; k++)
      a[k][r] = array_rate(p[k], in, out, MAP_N);
  }
  for (int k = 0; k < 2; k++) {
    f[k]->tiny = median(t[k], runs);
    f[k]->map = median(mp[k], runs);
    f[k]->array = median(a[k], runs);
    pool_end(p[k]);
  }
  free(in);
  free(out);
}

int main(int argc, char **argv)
{
  const char *size = getenv("OMPI_COMM_WORLD_SIZE");
  int workers = size != NULL ? atoi(size) - 1 : 0;
  figs_t l, m;

  check(mproc_main(argc, argv), "mproc_main");
  if (workers < 1) {
    fprintf(stderr, "bench_pool_mpi: run it under mpirun -n N (N >= 2)\n");
    return 2;
  }
  if (argc > 1)
    runs = atoi(argv[1]) > 0 && atoi(argv[1]) <= 16 ? atoi(argv[1]) : 3;
  measure(workers, &l, &m);
  printf("bench_pool_mpi: %d workers (local processes / MPI ranks), %d "
         "CPUs, median of %d runs\n\n",
         workers, mproc_cpu_count(), runs);
  printf("%-30s %14s %14s   %s\n", "", "local pool", "MPI pool",
         "MPI / local (target)");
  printf("%-30s %12.0f/s %12.0f/s   %.2fx (>= 0.5x)\n",
         "apply_async, tiny tasks", l.tiny, m.tiny, m.tiny / l.tiny);
  printf("%-30s %12.0f/s %12.0f/s   %.2fx (>= 0.5x: within 2x)\n",
         "map of 1M ints, chunksize 10k", l.map, m.map, m.map / l.map);
  printf("%-30s %12.0f/s %12.0f/s   %.2fx\n", "typed map of 1M ints", l.array,
         m.array, m.array / l.array);
  printf("\nmpi4py.futures, the same tiny tasks: mpirun -n %d python3 -m "
         "mpi4py.futures bench/bench_pool_mpi.py\n",
         workers + 1);
  return 0;
}
