/*
 * What the examples share: a portable sleep (the seeds' time.sleep) and
 * a check that prints mproc's error and exits, to keep each example as
 * short as its Python original.
 */
#ifndef EXAMPLES_COMMON_H
#define EXAMPLES_COMMON_H

#include <mproc.h>
#include <stdio.h>
#include <stdlib.h>

#ifdef _WIN32
#include <windows.h>
static inline void sleep_s(double s)
{
  Sleep((DWORD)(s * 1000));
}
#else
#include <time.h>
static inline void sleep_s(double s)
{
  struct timespec ts = {(time_t)s, (long)((s - (time_t)s) * 1e9)};
  while (nanosleep(&ts, &ts) != 0)
    ;
}
#endif

/* Monotonic seconds, for the examples that time themselves. */
static inline double now_s(void)
{
#ifdef _WIN32
  return GetTickCount64() / 1000.0;
#else
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
#endif
}

#define CHECK(call)                                                            \
  do {                                                                         \
    if ((call) != 0) {                                                         \
      fprintf(stderr, "%s: %s\n", #call, mproc_last_error());                  \
      exit(1);                                                                 \
    }                                                                          \
  } while (0)

#endif
