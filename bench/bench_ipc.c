/*
 * Throughput and latency of the objects that carry data between
 * processes, side by side in one run with CPython's multiprocessing
 * (bench_ipc.py) and the raw OS floor:
 *
 *   Queue, 8-byte items      items/s   vs CPython's Queue
 *   Queue, 1 MiB items       MB/s      vs memcpy of 1 MiB blocks
 *   Connection, 8-byte RTT   us        vs a raw socketpair round trip
 *   Lock acquire+release     ns        vs a raw process-shared mutex
 *
 * Usage: bench_ipc [fork|spawn|forkserver]   (default: forkserver)
 * Each figure is the median of 5 runs.
 */
#include <mproc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#define RUNS 5
#define SMALL_N 200000
#define BIG_N 400

/* ---- children ---- */

MPROC_TARGET(producer)
{
  mproc_queue_t *q;
  int n, size;
  char *item;

  if (mproc_args_parse(args, "oii", MPROC_KIND_QUEUE, &q, &n, &size) != 0)
    return 1;
  item = calloc(1, (size_t)size);
  if (item == NULL)
    return 1;
  memset(item, 'x', (size_t)size);
  for (int i = 0; i < n; i++)
    if (mproc_queue_put_bytes(q, MPROC_FOREVER, item, (size_t)size) != 0)
      return 2;
  free(item);
  return 0;
}

MPROC_TARGET(echo)
{
  mproc_conn_t *c;
  char buf[64];
  size_t len;

  if (mproc_args_parse(args, "o", MPROC_KIND_CONNECTION, &c) != 0)
    return 1;
  for (;;) {
    if (mproc_conn_recv_bytes_into(c, buf, sizeof buf, 0, &len) != 0)
      return 2;
    if (len == 4 && memcmp(buf, "STOP", 4) == 0)
      return 0;
    if (mproc_conn_send_bytes(c, buf, len, 0, MPROC_ALL) != 0)
      return 3;
  }
}

/* ---- mproc ---- */

static double queue_rate(const mproc_context_t *ctx, int n, int size)
{
  mproc_queue_t *q = NULL;
  mproc_process_t *p = NULL;
  mproc_args_t *item;
  double t0, dt;

  if (mproc_queue_create(&q, 0) != 0 ||
      mproc_context_process(ctx, &p, producer, "oii", q, n, size) != 0 ||
      mproc_process_start(p) != 0) {
    fprintf(stderr, "queue bench: %s\n", mproc_last_error());
    exit(1);
  }
  /* The first item says the child runs: time the rest. */
  mproc_queue_get(q, MPROC_FOREVER, &item);
  mproc_args_free(item);
  t0 = now();
  for (int i = 1; i < n; i++) {
    if (mproc_queue_get(q, MPROC_FOREVER, &item) != 0) {
      fprintf(stderr, "get: %s\n", mproc_last_error());
      exit(1);
    }
    mproc_args_free(item);
  }
  dt = now() - t0;
  mproc_process_join(p, MPROC_FOREVER);
  mproc_process_free(p);
  mproc_queue_free(q);
  return dt / (n - 1);
}

static double conn_rtt(const mproc_context_t *ctx, int n)
{
  mproc_conn_t *a, *b;
  mproc_process_t *p = NULL;
  char buf[16];
  size_t len;
  double t0, dt;

  if (mproc_pipe(&a, &b, 1) != 0 ||
      mproc_context_process(ctx, &p, echo, "o", b) != 0 ||
      mproc_process_start(p) != 0) {
    fprintf(stderr, "conn bench: %s\n", mproc_last_error());
    exit(1);
  }
  mproc_conn_free(b);
  mproc_conn_send_bytes(a, "12345678", 8, 0, MPROC_ALL);
  mproc_conn_recv_bytes_into(a, buf, sizeof buf, 0, &len);
  t0 = now();
  for (int i = 0; i < n; i++) {
    mproc_conn_send_bytes(a, "12345678", 8, 0, MPROC_ALL);
    mproc_conn_recv_bytes_into(a, buf, sizeof buf, 0, &len);
  }
  dt = now() - t0;
  mproc_conn_send_bytes(a, "STOP", 4, 0, MPROC_ALL);
  mproc_process_join(p, MPROC_FOREVER);
  mproc_process_free(p);
  mproc_conn_free(a);
  return dt / n;
}

static double lock_ns(int n)
{
  mproc_lock_t *l = NULL;
  double t0, dt;

  mproc_lock_create(&l);
  t0 = now();
  for (int i = 0; i < n; i++) {
    mproc_lock_acquire(l, MPROC_FOREVER);
    mproc_lock_release(l);
  }
  dt = now() - t0;
  mproc_lock_free(l);
  return dt / n * 1e9;
}

/* ---- raw floors ---- */

static double raw_socketpair_rtt(int n)
{
  int sv[2];
  char buf[8] = "12345678";
  double t0, dt;
  pid_t pid;

  socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
  pid = fork();
  if (pid == 0) {
    close(sv[0]);
    for (int i = 0; i < n; i++)
      if (read(sv[1], buf, 8) != 8 || write(sv[1], buf, 8) != 8)
        _exit(1);
    _exit(0);
  }
  close(sv[1]);
  t0 = now();
  for (int i = 0; i < n; i++)
    if (write(sv[0], buf, 8) != 8 || read(sv[0], buf, 8) != 8)
      break;
  dt = now() - t0;
  close(sv[0]);
  waitpid(pid, NULL, 0);
  return dt / n;
}

static double raw_memcpy_mb_s(int n)
{
  size_t size = 1 << 20;
  char *a = malloc(size), *b = malloc(size);
  double t0, dt;

  memset(a, 1, size);
  memset(b, 2, size);
  t0 = now();
  for (int i = 0; i < n; i++) {
    memcpy(i % 2 ? a : b, i % 2 ? b : a, size);
    __asm__ volatile("" : : "r"(a), "r"(b) : "memory");
  }
  dt = now() - t0;
  free(a);
  free(b);
  return (double)size * n / dt / 1e6;
}

/* A process-shared mutex; @robust adds what mproc's Lock promises on top
 * (the next owner learns that the holder died) and what that costs in
 * glibc: the robust list kept on every lock and unlock. */
static double raw_mutex_ns(int n, int robust)
{
  pthread_mutexattr_t attr;
  pthread_mutex_t m;
  double t0, dt;

  pthread_mutexattr_init(&attr);
  pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
  if (robust)
    pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
  pthread_mutex_init(&m, &attr);
  t0 = now();
  for (int i = 0; i < n; i++) {
    pthread_mutex_lock(&m);
    pthread_mutex_unlock(&m);
  }
  dt = now() - t0;
  pthread_mutex_destroy(&m);
  return dt / n * 1e9;
}

/* ---- CPython ---- */

typedef struct py {
  double small, big, rtt_us, lock_ns;
  int ok;
} py_t;

static py_t cpython(const char *method)
{
  static const char *const names[] = {"queue_small_per_s", "queue_1mib_mb_s",
                                      "conn_rtt_us", "lock_ns"};
  double v[4] = {0};
  py_t r;

  r.ok = cpython_values(MPROC_BENCH_IPC_PY, method, names, v, 4);
  r.small = v[0];
  r.big = v[1];
  r.rtt_us = v[2];
  r.lock_ns = v[3];
  return r;
}

int main(int argc, char **argv)
{
  const char *method = argc > 1 ? argv[1] : "forkserver";
  const mproc_context_t *ctx;
  double v[RUNS], small, big, rtt, lock, raw_rtt, raw_mem, raw_mx, raw_rb;
  py_t py;

  mproc_main(argc, argv);
  ctx = mproc_get_context(method);
  if (ctx == NULL) {
    fprintf(stderr, "bench_ipc: %s\n", mproc_last_error());
    return 2;
  }
  for (int i = 0; i < RUNS; i++)
    v[i] = 1.0 / queue_rate(ctx, SMALL_N, 8);
  small = median(v, RUNS);
  for (int i = 0; i < RUNS; i++)
    v[i] = (1 << 20) / queue_rate(ctx, BIG_N, 1 << 20) / 1e6;
  big = median(v, RUNS);
  for (int i = 0; i < RUNS; i++)
    v[i] = conn_rtt(ctx, 50000) * 1e6;
  rtt = median(v, RUNS);
  for (int i = 0; i < RUNS; i++)
    v[i] = lock_ns(2000000);
  lock = median(v, RUNS);
  for (int i = 0; i < RUNS; i++)
    v[i] = raw_socketpair_rtt(50000) * 1e6;
  raw_rtt = median(v, RUNS);
  for (int i = 0; i < RUNS; i++)
    v[i] = raw_memcpy_mb_s(2000);
  raw_mem = median(v, RUNS);
  for (int i = 0; i < RUNS; i++)
    v[i] = raw_mutex_ns(2000000, 0);
  raw_mx = median(v, RUNS);
  for (int i = 0; i < RUNS; i++)
    v[i] = raw_mutex_ns(2000000, 1);
  raw_rb = median(v, RUNS);
  py = cpython(method);

  printf("bench_ipc, start method %s, median of %d runs\n\n", method, RUNS);
  printf("%-26s %14s %14s %14s   %s\n", "", "mproc", "raw OS floor", "CPython",
         "ratio (target)");
  printf("%-26s %12.0f/s %14s %12.0f/s   %.1fx CPython (>= 30x)\n",
         "Queue, 8-byte items", small, "-", py.small,
         py.ok ? small / py.small : 0);
  printf("%-26s %9.0f MB/s %9.0f MB/s %9.0f MB/s   %.2f GB/s (>= 4 GB/s); "
         "%.2fx memcpy\n",
         "Queue, 1 MiB items", big, raw_mem, py.big, big / 1000, big / raw_mem);
  printf("%-26s %11.2f us %11.2f us %11.2f us   %.2fx raw socketpair "
         "(<= 1.0x)\n",
         "Connection, 8-byte RTT", rtt, raw_rtt, py.rtt_us, rtt / raw_rtt);
  printf("%-26s %11.1f ns %11.1f ns %11.1f ns   %.2fx raw pshared mutex "
         "(<= 1.5x)\n",
         "Lock acquire+release", lock, raw_mx, py.lock_ns, lock / raw_mx);
  printf("%-26s %14s %11.1f ns %14s   %.2fx raw robust pshared mutex\n",
         "  (robust floor)", "", raw_rb, "", lock / raw_rb);
  if (!py.ok)
    printf("\n(CPython's numbers are missing: python3 failed)\n");
  return 0;
}
