/*
 * Start+join latency of a child whose target returns at once, for each
 * start method, side by side with the raw OS floor measured in the same
 * run (fork+_exit+waitpid; posix_spawn of this executable + waitpid) and
 * CPython's multiprocessing doing the same work (bench_start.py).
 *
 * Usage: bench_start [N]   (N runs per method, default 200)
 */
#include <mproc.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

extern char **environ;

typedef struct stats {
  double mean_us, median_us;
  int runs;
} stats_t;

MPROC_TARGET(noop)
{
  (void)args;
  return 0;
}

static stats_t summarise(double *t, int n)
{
  stats_t s = {0, 0, n};
  for (int i = 0; i < n; i++)
    s.mean_us += t[i] * 1e6 / n;
  qsort(t, (size_t)n, sizeof *t, cmp_double);
  s.median_us = t[n / 2] * 1e6;
  return s;
}

static int raw_fork(void)
{
  int status;
  pid_t pid = fork();
  if (pid == 0)
    _exit(0);
  return pid > 0 && waitpid(pid, &status, 0) == pid ? 0 : -1;
}

static int raw_spawn(void)
{
  char *argv[] = {"bench_start", "--raw-child", NULL};
  int status;
  pid_t pid;
  if (posix_spawn(&pid, "/proc/self/exe", NULL, NULL, argv, environ) != 0)
    return -1;
  return waitpid(pid, &status, 0) == pid ? 0 : -1;
}

static const mproc_context_t *bench_ctx;

static int mproc_once(void)
{
  mproc_process_t *p;
  int rc = mproc_context_process(bench_ctx, &p, noop, NULL);
  if (rc == 0)
    rc = mproc_process_start(p);
  if (rc == 0)
    rc = mproc_process_join(p, MPROC_FOREVER);
  if (rc != 0)
    fprintf(stderr, "mproc: %s\n", mproc_last_error());
  mproc_process_free(p);
  return rc;
}

static stats_t measure(int (*once)(void), int n)
{
  double *t = malloc(sizeof *t * (size_t)n);
  stats_t s = {0, 0, 0};

  if (t == NULL)
    return s;
  for (int i = 0; i < 5; i++) /* warm-up (starts the forkserver) */
    if (once() != 0)
      goto out;
  for (int i = 0; i < n; i++) {
    double t0 = now();
    if (once() != 0)
      goto out;
    t[i] = now() - t0;
  }
  s = summarise(t, n);
out:
  free(t);
  return s;
}

static int cpython(int n, stats_t out[3])
{
  char cmd[1024], method[32];
  double mean, median;
  int runs, got = 0;
  FILE *f;

  snprintf(cmd, sizeof cmd, "python3 '%s' %d", MPROC_BENCH_PY, n);
  f = popen(cmd, "r");
  if (f == NULL)
    return -1;
  while (fscanf(f, "%31s %lf %lf %d", method, &mean, &median, &runs) == 4) {
    int i = strcmp(method, "fork") == 0    ? 0
            : strcmp(method, "spawn") == 0 ? 1
                                           : 2;
    out[i] = (stats_t){mean, median, runs};
    got++;
  }
  pclose(f);
  return got == 3 ? 0 : -1;
}

static void row(const char *name, stats_t m, stats_t raw, const char *rawname,
                double raw_target, stats_t py, double py_target)
{
  double r_raw = m.median_us / raw.median_us;
  double r_py = py.runs ? py.median_us / m.median_us : 0;

  printf("%-11s %9.1f %9.1f  %-22s %9.1f", name, m.median_us, m.mean_us,
         rawname, raw.median_us);
  if (raw_target > 0)
    printf("  %5.2fx (<= %.1fx %s)", r_raw, raw_target,
           r_raw <= raw_target ? "met" : "MISSED");
  else
    printf("  %5.2fx %16s", r_raw, "");
  if (py.runs)
    printf("  %9.1f  %6.1fx", py.median_us, r_py);
  if (py_target > 0)
    printf(" (>= %.0fx %s)", py_target, r_py >= py_target ? "met" : "MISSED");
  printf("\n");
}

int main(int argc, char **argv)
{
  stats_t raw_f, raw_s, m[3], py[3] = {{0, 0, 0}};
  const char *methods[3] = {"fork", "spawn", "forkserver"};
  int n;

  mproc_main(argc, argv);
  if (argc > 1 && strcmp(argv[1], "--raw-child") == 0)
    return 0;
  n = argc > 1 ? atoi(argv[1]) : 200;
  if (n < 10)
    n = 10;
  raw_f = measure(raw_fork, n);
  raw_s = measure(raw_spawn, n);
  for (int i = 0; i < 3; i++) {
    bench_ctx = mproc_get_context(methods[i]);
    m[i] = measure(mproc_once, n);
    if (m[i].runs == 0)
      return 1;
  }
  if (cpython(n, py) != 0)
    fprintf(stderr, "CPython's numbers are missing (python3 failed)\n");
  printf("start+join latency, microseconds (median; mean), %d runs each, %d "
         "CPUs\n\n",
         n, mproc_cpu_count());
  printf("%-11s %9s %9s  %-22s %9s  %-25s %9s  %s\n", "method", "mproc", "mean",
         "raw OS floor", "raw", "mproc/raw", "CPython", "CPython/mproc");
  row("fork", m[0], raw_f, "fork+waitpid", 1.3, py[0], 0);
  row("spawn", m[1], raw_s, "posix_spawn(self)+wait", 1.5, py[1], 0);
  row("forkserver", m[2], raw_f, "fork+waitpid", 0, py[2], 10);
  printf("\nCPython runs: fork %d, spawn %d, forkserver %d (python3 %s)\n",
         py[0].runs, py[1].runs, py[2].runs, "from PATH");
  return 0;
}
