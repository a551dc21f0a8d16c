/*
 * Pool throughput, side by side in one run with CPython's
 * multiprocessing.Pool (bench_pool.py) and the floors: the same work in
 * a plain loop in one process, and memcpy of the same bytes through
 * shared memory.
 *
 *   1. apply_async of tiny tasks; map of 1M ints (chunksize 10k); map of
 *      100k ints (default chunksize); the typed-array map of 1M ints,
 *      copied in and already in SharedMemory, against memcpy
 *   2. what one item costs the codec: mproc_items_add, mproc_args_parse,
 *      mproc_return, each alone
 *   3. granularity: tasks that spin 1000, 100, 10, 1 us, mapped with
 *      chunksize 1 and the default; speed-up over a plain loop
 *   4. throughput of map (x -> 2x) against workers and chunksize
 *   last, the two maps of table 1 again in a program that asks glibc to
 *      keep freed memory (mallopt: no trim, no mmap for large blocks);
 *      see bench/README.md for why it matters on a VM
 *
 * Usage: bench_pool [fork|spawn|forkserver]   (default: forkserver)
 * Environment: MPROC_BENCH_WORKERS   worker counts of table 4 ("1,2,4")
 *              MPROC_BENCH_GRAN_WORKERS  workers of table 3 (2)
 *              MPROC_BENCH_RUNS      runs per figure, median taken (5)
 *              MPROC_BENCH_PLOT_DIR  where pool.svg goes (bench/)
 * Tables 1 and 2 use one worker per CPU (CPython's Pool() default).
 * Every pool is started, and its workers running, before timing.
 */
#include <mproc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "bench.h"

#define TINY_N 50000
#define MAX_W 64
#define NCS 5

static const size_t chunksizes[NCS] = {1, 10, 100, 1000, 10000};
static const int spins[4] = {1000, 100, 10, 1}; /* microseconds */

static int runs = 5;

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

static void spin_us(int us)
{
  double end = now() + us * 1e-6;

  while (now() < end)
    ;
}

MPROC_TARGET(spin)
{
  int us;

  if (mproc_args_parse(args, "i", &us) != 0)
    return 1;
  spin_us(us);
  return mproc_return("i", us);
}

MPROC_BATCH(twice_batch)
{
  const int *x = in;
  int *y = out;

  for (size_t i = 0; i < n; i++)
    y[i] = 2 * x[i];
  return 0;
}

static mproc_pool_t *new_pool(const mproc_context_t *ctx, int workers)
{
  mproc_pool_options_t o = {.processes = workers, .context = ctx};
  mproc_pool_t *p;
  mproc_args_t *r;

  check(mproc_pool_create(&p, &o), "Pool");
  for (int i = 0; i < 4 * mproc_pool_processes(p); i++) {
    check(mproc_pool_apply(p, &r, twice, "i", i), "apply");
    mproc_args_free(r);
  }
  return p;
}

static void end_pool(mproc_pool_t *p)
{
  check(mproc_pool_close(p), "close");
  check(mproc_pool_join(p), "join");
  mproc_pool_free(p);
}

/* ---- 1. headline figures ---- */

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

/* map of @n ints, building the input list included (CPython's includes
 * making its list too). */
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

/* The typed-array map of @n ints; @in and @out where the caller put them. */
static double array_rate(mproc_pool_t *p, const int *in, int *out, int n)
{
  double t0 = now(), dt;

  check(mproc_pool_map_array(p, twice_batch, in, (size_t)n, sizeof *in, out,
                             sizeof *out, 0),
        "map_array");
  dt = now() - t0;
  if (out[n - 1] != 2 * in[n - 1]) {
    fprintf(stderr, "bench_pool: map_array gave a wrong result\n");
    exit(1);
  }
  return n / dt;
}

/* The floor of the typed map: the input's bytes into shared memory and
 * the output's out of it, with memcpy (warm pages, as the pool's). */
static double memcpy_rate(const int *in, int *out, int n, void *shared)
{
  size_t bytes = (size_t)n * sizeof *in;
  double t0 = now(), dt;

  memcpy(shared, in, bytes);
  memcpy(out, (char *)shared + bytes, bytes);
  dt = now() - t0;
  return n / dt;
}

/* The same work in one process: a plain loop. */
static double loop_rate(const int *in, int *out, int n)
{
  double t0 = now(), dt;

  for (int i = 0; i < n; i++)
    out[i] = 2 * in[i];
  dt = now() - t0;
  return out[n - 1] == 2 * in[n - 1] ? n / dt : 0;
}

typedef double (*measure_fn)(void *ctx);

static double median_of(measure_fn fn, void *ctx)
{
  double v[64];
  int n = runs < 64 ? runs : 64;

  for (int i = 0; i < n; i++)
    v[i] = fn(ctx);
  return median(v, n);
}

typedef struct head_ctx {
  mproc_pool_t *pool;
  int n;
  size_t chunksize;
  const int *in;
  int *out;
  void *shared;
} head_ctx_t;

static double m_tiny(void *c)
{
  return tiny_rate(((head_ctx_t *)c)->pool, TINY_N);
}

static double m_map(void *c)
{
  head_ctx_t *h = c;
  return map_rate(h->pool, h->n, h->chunksize);
}

static double m_array(void *c)
{
  head_ctx_t *h = c;
  return array_rate(h->pool, h->in, h->out, h->n);
}

static double m_memcpy(void *c)
{
  head_ctx_t *h = c;
  return memcpy_rate(h->in, h->out, h->n, h->shared);
}

static double m_loop(void *c)
{
  head_ctx_t *h = c;
  return loop_rate(h->in, h->out, h->n);
}

typedef struct head {
  double tiny, map1m, map100k, arr_copy, arr_shared, memcpy, loop;
  double map1m_kept, map100k_kept; /* with mallopt; 0: not measured */
} head_t;

static void headline(const mproc_context_t *ctx, head_t *f)
{
  int n = 1000000;
  size_t bytes = (size_t)n * sizeof(int);
  mproc_shm_t *a, *b, *fl;
  int *in = malloc(bytes), *out = malloc(bytes);
  head_ctx_t h = {new_pool(ctx, mproc_cpu_count()), 0, 0, in, out, NULL};

  for (int i = 0; i < n; i++)
    in[i] = i;
  f->tiny = median_of(m_tiny, &h);
  h.n = 1000000, h.chunksize = 10000;
  f->map1m = median_of(m_map, &h);
  h.n = 100000, h.chunksize = 0;
  f->map100k = median_of(m_map, &h);
  h.n = n;
  f->arr_copy = median_of(m_array, &h);
  check(mproc_shm_open(&a, NULL, 1, bytes), "SharedMemory");
  check(mproc_shm_open(&b, NULL, 1, bytes), "SharedMemory");
  check(mproc_shm_open(&fl, NULL, 1, 2 * bytes), "SharedMemory");
  memcpy(mproc_shm_buf(a), in, bytes);
  memset(mproc_shm_buf(fl), 0, 2 * bytes);
  h.in = mproc_shm_buf(a);
  h.out = mproc_shm_buf(b);
  f->arr_shared = median_of(m_array, &h);
  h.in = in;
  h.out = out;
  h.shared = mproc_shm_buf(fl);
  f->memcpy = median_of(m_memcpy, &h);
  f->loop = median_of(m_loop, &h);
  mproc_shm_free(a);
  mproc_shm_free(b);
  mproc_shm_free(fl);
  end_pool(h.pool);
  free(in);
  free(out);
}

/* ---- 2. the codec per item ---- */

typedef struct codec {
  double items_add, parse, ret;
} codec_t;

static void codec_costs(codec_t *c)
{
  int n = 1000000, x = 0;
  long long sum = 0;
  mproc_queue_t *q;
  mproc_items_t *it;
  mproc_args_t *a;
  double t0;

  check(mproc_items_create(&it), "items");
  t0 = now();
  for (int i = 0; i < n; i++)
    mproc_items_add(it, "i", i);
  c->items_add = (now() - t0) / n * 1e9;
  mproc_items_free(it);
  /* An argument list as a target receives it: through a queue. */
  check(mproc_simple_queue_create(&q), "SimpleQueue");
  check(mproc_queue_put(q, MPROC_FOREVER, "i", 12345), "put");
  check(mproc_queue_get(q, MPROC_FOREVER, &a), "get");
  t0 = now();
  for (int i = 0; i < n; i++) {
    mproc_args_parse(a, "i", &x);
    sum += x;
  }
  c->parse = sum == 12345LL * n ? (now() - t0) / n * 1e9 : 0;
  t0 = now();
  for (int i = 0; i < n; i++)
    mproc_return("i", 2 * i);
  c->ret = (now() - t0) / n * 1e9;
  mproc_args_free(a);
  mproc_queue_free(q);
}

/* ---- 3. granularity ---- */

static int gran_n(int us)
{
  return 100000 / us; /* 0.1 s of work in all */
}

static double gran_loop(int us)
{
  int n = gran_n(us);
  double t0 = now();

  for (int i = 0; i < n; i++)
    spin_us(us);
  return now() - t0;
}

static double gran_pool(mproc_pool_t *p, int us, size_t chunksize)
{
  int n = gran_n(us);
  mproc_items_t *it;
  mproc_args_t *r;
  double t0, dt;

  check(mproc_items_create(&it), "items");
  t0 = now();
  for (int i = 0; i < n; i++)
    mproc_items_add(it, "i", us);
  check(mproc_pool_map(p, &r, spin, it, chunksize), "map");
  dt = now() - t0;
  mproc_args_free(r);
  mproc_items_free(it);
  return dt;
}

typedef struct gran {
  double loop[4], cs1[4], def[4];
} gran_t;

static void granularity(const mproc_context_t *ctx, int workers, gran_t *g)
{
  mproc_pool_t *p = new_pool(ctx, workers);
  double v[3][64];
  int n = runs < 64 ? runs : 64;

  for (int s = 0; s < 4; s++) {
    for (int r = 0; r < n; r++) {
      v[0][r] = gran_loop(spins[s]);
      v[1][r] = gran_pool(p, spins[s], 1);
      v[2][r] = gran_pool(p, spins[s], 0);
    }
    g->loop[s] = median(v[0], n);
    g->cs1[s] = median(v[1], n);
    g->def[s] = median(v[2], n);
  }
  end_pool(p);
}

/* ---- 4. throughput against workers and chunksize ---- */

#define TP_N 100000

typedef struct tp {
  int nw, workers[MAX_W];
  double rate[MAX_W][NCS];
} tp_t;

static void throughput(const mproc_context_t *ctx, tp_t *t)
{
  for (int w = 0; w < t->nw; w++) {
    mproc_pool_t *p = new_pool(ctx, t->workers[w]);
    for (int c = 0; c < NCS; c++) {
      double v[64];
      int n = runs < 64 ? runs : 64;
      for (int r = 0; r < n; r++)
        v[r] = map_rate(p, TP_N, chunksizes[c]);
      t->rate[w][c] = median(v, n);
    }
    end_pool(p);
  }
}

/* ---- CPython ---- */

typedef struct py {
  int ok;
  double tiny, map1m, map100k;
  gran_t gran;
  double tp[MAX_W][NCS];
} py_t;

static void cpython(const char *method, const tp_t *t, int gran_workers,
                    py_t *py)
{
  const char *names[3 + 12 + MAX_W * NCS];
  char buf[3 + 12 + MAX_W * NCS][40], arg[512];
  double v[3 + 12 + MAX_W * NCS];
  int k = 0, len;

  names[k++] = "tiny_per_s";
  names[k++] = "map_1m_per_s";
  names[k++] = "map_100k_per_s";
  for (int s = 0; s < 4; s++) {
    snprintf(buf[k], sizeof buf[k], "gran_loop_%d", spins[s]);
    names[k] = buf[k], k++;
    snprintf(buf[k], sizeof buf[k], "gran_cs1_%d", spins[s]);
    names[k] = buf[k], k++;
    snprintf(buf[k], sizeof buf[k], "gran_def_%d", spins[s]);
    names[k] = buf[k], k++;
  }
  for (int w = 0; w < t->nw; w++)
    for (int c = 0; c < NCS; c++) {
      snprintf(buf[k], sizeof buf[k], "tp_%d_%zu", t->workers[w],
               chunksizes[c]);
      names[k] = buf[k], k++;
    }
  len = snprintf(arg, sizeof arg, "%s %d %d ", method, gran_workers, runs);
  for (int w = 0; w < t->nw; w++)
    len += snprintf(arg + len, sizeof arg - (size_t)len, "%s%d", w ? "," : "",
                    t->workers[w]);
  memset(v, 0, sizeof v);
  py->ok = cpython_values(MPROC_BENCH_POOL_PY, arg, names, v, k);
  k = 0;
  py->tiny = v[k++];
  py->map1m = v[k++];
  py->map100k = v[k++];
  for (int s = 0; s < 4; s++) {
    py->gran.loop[s] = v[k++];
    py->gran.cs1[s] = v[k++];
    py->gran.def[s] = v[k++];
  }
  for (int w = 0; w < t->nw; w++)
    for (int c = 0; c < NCS; c++)
      py->tp[w][c] = v[k++];
}

/* ---- output ---- */

static double ratio(double a, double b)
{
  return b > 0 ? a / b : 0;
}

/* The maps of table 1 once glibc keeps freed memory: large blocks then
 * come back without page faults. Run last: the setting stays. The
 * workers started before it keep the default. */
static void headline_kept(const mproc_context_t *ctx, head_t *f)
{
  f->map1m_kept = f->map100k_kept = 0;
#ifdef __GLIBC__
  head_ctx_t h = {new_pool(ctx, mproc_cpu_count()), 0, 0, NULL, NULL, NULL};
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  h.n = 1000000, h.chunksize = 10000;
  f->map1m_kept = median_of(m_map, &h);
  h.n = 100000, h.chunksize = 0;
  f->map100k_kept = median_of(m_map, &h);
  end_pool(h.pool);
#else
  (void)ctx;
#endif
}

static void print_headline(const head_t *f, const py_t *py)
{
  double best_py_map = py->map1m > py->map100k ? py->map1m : py->map100k;

  printf("%-34s %14s %14s   %s\n", "", "mproc", "CPython", "ratio (target)");
  printf("%-34s %12.0f/s %12.0f/s   %.1fx CPython (>= 30x)\n",
         "apply_async, tiny tasks", f->tiny, py->tiny,
         ratio(f->tiny, py->tiny));
  printf("%-34s %12.0f/s %12.0f/s   %.1fx CPython (>= 15x)\n",
         "map 1M ints, chunksize 10k", f->map1m, py->map1m,
         ratio(f->map1m, py->map1m));
  printf("%-34s %12.0f/s %12.0f/s   %.1fx CPython (>= 10x)\n",
         "map 100k ints, default chunksize", f->map100k, py->map100k,
         ratio(f->map100k, py->map100k));
  if (f->map1m_kept > 0) {
    printf("%-34s %12.0f/s %12.0f/s   %.1fx CPython\n",
           "map 1M, memory kept (mallopt)", f->map1m_kept, py->map1m,
           ratio(f->map1m_kept, py->map1m));
    printf("%-34s %12.0f/s %12.0f/s   %.1fx CPython\n",
           "map 100k, memory kept (mallopt)", f->map100k_kept, py->map100k,
           ratio(f->map100k_kept, py->map100k));
  }
  printf("%-34s %12.0f/s %14s   %.1fx CPython's map (>= 50x); "
         "%.2fx the memcpy floor (<= 3x)\n",
         "typed map 1M ints, copied in", f->arr_copy, "",
         ratio(f->arr_copy, best_py_map), ratio(f->memcpy, f->arr_copy));
  printf("%-34s %12.0f/s %14s   %.1fx CPython's map (>= 100x); "
         "%.2fx the memcpy floor (<= 3x)\n",
         "typed map 1M ints, in SharedMemory", f->arr_shared, "",
         ratio(f->arr_shared, best_py_map), ratio(f->memcpy, f->arr_shared));
  printf("%-34s %12.0f/s\n", "floor: memcpy in and out of shm", f->memcpy);
  printf("%-34s %12.0f/s\n", "floor: plain loop, one process", f->loop);
}

static void print_granularity(const gran_t *g, const py_t *py, int workers)
{
  printf("\nspeed-up over a plain loop, %d workers, tasks spinning T us "
         "(targets: >= 1.9x at 10 us, >= 1.5x at 1 us)\n",
         workers);
  printf("%8s %14s %14s %16s %16s\n", "T", "mproc cs=1", "mproc default",
         "CPython cs=1", "CPython default");
  for (int s = 0; s < 4; s++)
    printf("%6d us %13.2fx %13.2fx %15.2fx %15.2fx\n", spins[s],
           ratio(g->loop[s], g->cs1[s]), ratio(g->loop[s], g->def[s]),
           ratio(py->gran.loop[s], py->gran.cs1[s]),
           ratio(py->gran.loop[s], py->gran.def[s]));
}

static void print_throughput(const tp_t *t, const py_t *py)
{
  printf("\nmap of %d ints (x -> 2x), items/s: mproc / CPython\n", TP_N);
  printf("%8s", "workers");
  for (int c = 0; c < NCS; c++)
    printf("   chunksize %-11zu", chunksizes[c]);
  printf("\n");
  for (int w = 0; w < t->nw; w++) {
    printf("%8d", t->workers[w]);
    for (int c = 0; c < NCS; c++)
      printf("   %9.3gM / %-7.3gM", t->rate[w][c] / 1e6, py->tp[w][c] / 1e6);
    printf("\n");
  }
}

/* The two curves as data and a gnuplot script, drawn into pool.svg when
 * gnuplot is there. */
static void plot(const char *dir, const gran_t *g, const py_t *py,
                 const tp_t *t, int gran_workers, const char *method)
{
  char path[1024];
  FILE *f;

  snprintf(path, sizeof path, "%s/pool_plot.dat", dir);
  if ((f = fopen(path, "w")) == NULL)
    return;
  fprintf(f,
          "# speed-up over a plain loop, %d workers\n"
          "# task_us mproc_cs1 mproc_default cpython_cs1 "
          "cpython_default\n",
          gran_workers);
  for (int s = 0; s < 4; s++)
    fprintf(f, "%d %.3f %.3f %.3f %.3f\n", spins[s],
            ratio(g->loop[s], g->cs1[s]), ratio(g->loop[s], g->def[s]),
            ratio(py->gran.loop[s], py->gran.cs1[s]),
            ratio(py->gran.loop[s], py->gran.def[s]));
  fprintf(f,
          "\n\n# map of %d ints, items/s\n# chunksize then, per worker "
          "count, mproc cpython\n",
          TP_N);
  for (int c = 0; c < NCS; c++) {
    fprintf(f, "%zu", chunksizes[c]);
    for (int w = 0; w < t->nw; w++)
      fprintf(f, " %.0f %.0f", t->rate[w][c], py->tp[w][c]);
    fprintf(f, "\n");
  }
  fclose(f);
  snprintf(path, sizeof path, "%s/pool_plot.gp", dir);
  if ((f = fopen(path, "w")) == NULL)
    return;
  fprintf(f,
          "# Written by bench_pool (%s); gnuplot pool_plot.gp -> pool.svg\n"
          "set terminal svg size 1000,520 dynamic font 'sans,11'\n"
          "set output 'pool.svg'\n"
          "set multiplot layout 1,2\n"
          "set logscale x\nset grid\nset key below\n"
          "set title 'Speed-up over a plain loop (%d workers)'\n"
          "set xlabel 'task length (us)'\nset ylabel 'speed-up'\n"
          "set yrange [0:*]\n"
          "plot 'pool_plot.dat' index 0 using 1:2 with linespoints lw 2 "
          "title 'mproc, chunksize 1', '' index 0 using 1:3 with "
          "linespoints lw 2 title 'mproc, default', '' index 0 using 1:4 "
          "with linespoints dt 2 title 'CPython, chunksize 1', '' index 0 "
          "using 1:5 with linespoints dt 2 title 'CPython, default'\n"
          "set logscale y\nset key below\n"
          "set title 'map of %d ints: items/s'\n"
          "set xlabel 'chunksize'\nset ylabel 'items/s'\nset yrange [*:*]\n"
          "plot ",
          method, gran_workers, TP_N);
  for (int w = 0; w < t->nw; w++)
    fprintf(f,
            "%s'pool_plot.dat' index 1 using 1:%d with linespoints lw 2 "
            "title 'mproc, %d workers', '' index 1 using 1:%d with "
            "linespoints dt 2 title 'CPython, %d workers'",
            w ? ", " : "", 2 + 2 * w, t->workers[w], 3 + 2 * w, t->workers[w]);
  fprintf(f, "\nunset multiplot\n");
  fclose(f);
  snprintf(path, sizeof path, "cd '%s' && gnuplot pool_plot.gp 2>/dev/null",
           dir);
  if (system(path) == 0)
    printf("\nplot: %s/pool.svg\n", dir);
  else
    printf("\nplot: %s/pool_plot.gp (gnuplot not found: apt-get install "
           "gnuplot-nox)\n",
           dir);
}

static int parse_workers(tp_t *t)
{
  const char *s = getenv("MPROC_BENCH_WORKERS");
  char *end;

  t->nw = 0;
  for (s = s ? s : "1,2,4"; *s != '\0' && t->nw < MAX_W;) {
    long v = strtol(s, &end, 10);
    if (end == s || v < 1 || v > 1024)
      return -1;
    t->workers[t->nw++] = (int)v;
    s = *end == ',' ? end + 1 : end;
  }
  return t->nw > 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
  const char *method = argc > 1 ? argv[1] : "forkserver";
  const char *dir = getenv("MPROC_BENCH_PLOT_DIR");
  const char *gw = getenv("MPROC_BENCH_GRAN_WORKERS");
  const char *rs = getenv("MPROC_BENCH_RUNS");
  int gran_workers = gw ? atoi(gw) : 2;
  const mproc_context_t *ctx;
  static tp_t t;
  static py_t py;
  head_t f;
  codec_t c;
  gran_t g;

  mproc_main(argc, argv);
  if (rs != NULL && atoi(rs) > 0)
    runs = atoi(rs);
  ctx = mproc_get_context(method);
  check(ctx == NULL, method);
  if (parse_workers(&t) != 0 || gran_workers < 1) {
    fprintf(stderr, "bench_pool: bad MPROC_BENCH_WORKERS or "
                    "MPROC_BENCH_GRAN_WORKERS\n");
    return 2;
  }
  headline(ctx, &f);
  codec_costs(&c);
  granularity(ctx, gran_workers, &g);
  throughput(ctx, &t);
  cpython(method, &t, gran_workers, &py);
  headline_kept(ctx, &f);

  printf("bench_pool, start method %s, %d CPUs, median of %d runs\n\n", method,
         mproc_cpu_count(), runs);
  print_headline(&f, &py);
  printf("\none item through the codec, alone: mproc_items_add %.1f ns, "
         "mproc_args_parse %.1f ns, mproc_return %.1f ns\n",
         c.items_add, c.parse, c.ret);
  print_granularity(&g, &py, gran_workers);
  print_throughput(&t, &py);
  if (!py.ok)
    printf("\n(CPython's numbers are missing: python3 failed)\n");
  plot(dir ? dir : MPROC_BENCH_DIR, &g, &py, &t, gran_workers, method);
  return 0;
}
