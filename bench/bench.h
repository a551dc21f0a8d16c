/*
 * What the benchmarks share: a monotonic clock, the median of repeated
 * runs, and reading the `name value` lines of their CPython twin.
 */
#ifndef MPROC_BENCH_H
#define MPROC_BENCH_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Sorts @v. */
static inline double median(double *v, int n)
{
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return v[n / 2];
}

/* Run `python3 <script> <arg>` and read its `name value` lines: @out[i]
 * gets the value named @names[i]. 1 when every name was given, else 0. */
static inline int cpython_values(const char *script, const char *arg,
                                 const char *const *names, double *out, int n)
{
  char cmd[1024], name[64];
  int got = 0;
  double v;
  FILE *f;

  snprintf(cmd, sizeof cmd, "python3 '%s' %s", script, arg);
  f = popen(cmd, "r");
  if (f == NULL)
    return 0;
  while (fscanf(f, "%63s %lf", name, &v) == 2)
    for (int i = 0; i < n; i++)
      if (strcmp(name, names[i]) == 0) {
        out[i] = v;
        got++;
      }
  pclose(f);
  return got == n;
}

#endif /* MPROC_BENCH_H */
