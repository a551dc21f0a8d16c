/*
 * How children are tracked. With pidfds (Linux 5.3 and later) a child's
 * sentinel is its pidfd; without them (an older kernel, valgrind, or
 * MPROC_NO_PIDFD=1, as the ctest entries <method>.nopidfd.* set to run
 * this suite and the process suites that way) it is a pipe that the
 * child's end closes, and waits and signals go by pid, never to a pid the
 * child may no longer own. Forkserver children are followed through the
 * server's connection either way.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#ifndef _WIN32
#include <sys/stat.h>
#include <unistd.h>

MPROC_TARGET(t_track_block)
{
  (void)args;
  mproc_test_block_forever();
  return 0;
}

MPROC_TARGET(t_track_five)
{
  (void)args;
  return 5;
}

static int forced_off(void)
{
  const char *env = getenv("MPROC_NO_PIDFD");
  return env != NULL && strcmp(env, "1") == 0;
}

/* What the sentinel descriptor is: "pidfd", "pipe", "socket" or "other". */
static const char *kind_of(mproc_sentinel_t s)
{
  char path[64], link[128];
  struct stat st;
  ssize_t n;

  snprintf(path, sizeof path, "/proc/self/fd/%d", (int)s);
  n = readlink(path, link, sizeof link - 1);
  if (n > 0) {
    link[n] = '\0';
    if (strstr(link, "pidfd") != NULL)
      return "pidfd";
  }
  if (fstat((int)s, &st) != 0)
    return "other";
  if (S_ISFIFO(st.st_mode))
    return "pipe";
  return S_ISSOCK(st.st_mode) ? "socket" : "other";
}

static void test_sentinel_kind(void)
{
  mproc_process_t *p = NULL;
  mproc_sentinel_t s = -1;
  const char *want;

  if (mproc_get_start_method() == MPROC_FORKSERVER)
    want = "socket"; /* the server's connection */
  else
    want = forced_off() ? "pipe" : "pidfd";
  p = mproc_test_start(t_track_block, NULL);
  CU_ASSERT_PTR_NOT_NULL_FATAL(p);
  CU_ASSERT_EQUAL(mproc_process_sentinel(p, &s), 0);
  CU_ASSERT_STRING_EQUAL(kind_of(s), want);
  if (strcmp(kind_of(s), want) != 0)
    printf("\n  sentinel is a %s, want a %s (MPROC_NO_PIDFD %s)\n", kind_of(s),
           want, forced_off() ? "set" : "unset");
  /* Not ready while the child runs; ready once it has ended. */
  CU_ASSERT_EQUAL(mproc_test_sentinel_wait(s, 0.05), 0);
  mproc_test_stop(p);
}

/* Waits, timeouts, terminate and exit codes, whichever way. */
static void test_wait_and_signal(void)
{
  mproc_process_t *p = mproc_test_start(t_track_block, NULL), *q;
  mproc_sentinel_t s = -1;
  int code = 0;

  CU_ASSERT_PTR_NOT_NULL_FATAL(p);
  CU_ASSERT_EQUAL(mproc_process_join(p, 0.05), MPROC_ETIMEDOUT);
  CU_ASSERT_EQUAL(mproc_process_is_alive(p), 1);
  CU_ASSERT_EQUAL(mproc_process_terminate(p), 0);
  CU_ASSERT_EQUAL(mproc_process_join(p, MPROC_TEST_JOIN_LIMIT), 0);
  CU_ASSERT_EQUAL(mproc_process_exitcode(p, &code), 0);
  CU_ASSERT_EQUAL(code, -SIGTERM);
  /* Ended and reaped: a second signal goes nowhere (its pid may be
   * somebody else's by now). */
  CU_ASSERT_EQUAL(mproc_process_kill(p), 0);
  mproc_process_free(p);
  q = mproc_test_start(t_track_five, NULL);
  CU_ASSERT_PTR_NOT_NULL_FATAL(q);
  CU_ASSERT_EQUAL(mproc_process_sentinel(q, &s), 0);
  CU_ASSERT_EQUAL(mproc_test_sentinel_wait(s, MPROC_TEST_JOIN_LIMIT), 1);
  EXPECT_EXIT(mproc_test_finish(q), 5);
}
#else
static void test_sentinel_kind(void)
{
  printf("skipped: Windows has no pidfds; a process handle is the sentinel\n");
}

static void test_wait_and_signal(void)
{
  printf("skipped: Windows has no pidfds; the process suite covers it\n");
}
#endif

void mproc_test_register_tracking(void)
{
  static const mproc_test_case_t cases[] = {
      MPROC_TEST_CASE(test_sentinel_kind),
      MPROC_TEST_CASE(test_wait_and_signal),
      {NULL, NULL}};

  (void)mproc_test_add_suite("tracking", cases);
}
