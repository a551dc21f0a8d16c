/*
 * What the examples share: a check that prints mproc's error and exits,
 * the C stand-in for the exception a Python program would raise, to keep
 * each example as short as its Python original. (What the seeds ask the
 * OS, os.getpid(), os.getppid() and time.sleep(), is the library's:
 * mproc_getpid(), mproc_getppid(), mproc_sleep().)
 */
#ifndef EXAMPLES_COMMON_H
#define EXAMPLES_COMMON_H

#include <mproc.h>
#include <stdio.h>
#include <stdlib.h>

#define CHECK(call)                                                            \
  do {                                                                         \
    if ((call) != 0) {                                                         \
      fprintf(stderr, "%s: %s\n", #call, mproc_last_error());                  \
      exit(1);                                                                 \
    }                                                                          \
  } while (0)

#endif
