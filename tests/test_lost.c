/*
 * Exit statuses that cannot be known must not hang a join or fake an
 * exit: a child the program reaped behind mproc's back (SIGCHLD ignored),
 * and a forkserver child whose server died. Both end as
 * MPROC_EXITCODE_LOST. POSIX only: Windows has neither case.
 */
#include <stdio.h>
#include <string.h>

#include "harness.h"

#ifndef _WIN32
#include <signal.h>

MPROC_TARGET(t_lost_seven)
{
  (void)args;
  return 7;
}

MPROC_TARGET(t_lost_block)
{
  (void)args;
  mproc_test_block_forever();
  return 0;
}

static void test_reaped_behind_our_back(void)
{
  void (*old)(int) = signal(SIGCHLD, SIG_IGN);
  mproc_process_t *p = NULL;
  int code = MPROC_EXITCODE_NONE;

  CU_ASSERT_EQUAL_FATAL(mproc_process_create(&p, t_lost_seven, NULL), 0);
  CU_ASSERT_EQUAL(mproc_process_start(p), 0);
  CU_ASSERT_EQUAL(mproc_process_join(p, 30), 0);
  CU_ASSERT_EQUAL(mproc_process_is_alive(p), 0);
  CU_ASSERT_EQUAL(mproc_process_exitcode(p, &code), 0);
  /* Forkserver children are the server's: their status still arrives. */
  CU_ASSERT_EQUAL(code, mproc_get_start_method() == MPROC_FORKSERVER
                            ? 7
                            : MPROC_EXITCODE_LOST);
  mproc_process_free(p);
  signal(SIGCHLD, old);
}

/* Many quick children while SIGCHLD is ignored: a child may end, and be
 * reaped by the kernel, before its start has returned. Every start
 * succeeds all the same; the exit code is 7 or lost. */
static void test_reaped_before_start_returns(void)
{
  void (*old)(int) = signal(SIGCHLD, SIG_IGN);
  int failed = 0, wrong = 0;
  char why[256] = "";

  for (int i = 0; i < 300; i++) {
    mproc_process_t *p = NULL;
    int code = MPROC_EXITCODE_NONE;
    int rc = mproc_process_create(&p, t_lost_seven, NULL);
    if (rc == 0)
      rc = mproc_process_start(p);
    if (rc != 0 && !failed)
      snprintf(why, sizeof why, "%s", mproc_last_error());
    failed += rc != 0;
    if (rc == 0) {
      wrong += mproc_process_join(p, 30) != 0 ||
               mproc_process_exitcode(p, &code) != 0 ||
               (code != 7 && code != MPROC_EXITCODE_LOST);
    }
    mproc_process_free(p);
  }
  signal(SIGCHLD, old);
  CU_ASSERT_EQUAL(failed, 0);
  CU_ASSERT_EQUAL(wrong, 0);
  if (failed)
    printf("\n  %d of 300 starts failed (first: %s)\n", failed, why);
}

static void test_forkserver_death_fakes_no_exit(void)
{
  const mproc_context_t *ctx = mproc_get_context("forkserver");
  mproc_process_t *p = NULL, *q = NULL;
  int code = MPROC_EXITCODE_NONE;
  long server;

  CU_ASSERT_EQUAL_FATAL(mproc_context_process(ctx, &p, t_lost_block, NULL), 0);
  CU_ASSERT_EQUAL_FATAL(mproc_process_start(p), 0);
  server = mproc_test_forkserver_pid();
  CU_ASSERT_FATAL(server > 0);
  CU_ASSERT_EQUAL(mproc_test_kill_pid(server, SIGKILL), 0);
  /* The child outlives its server: join must keep waiting. */
  CU_ASSERT_EQUAL(mproc_process_join(p, 0.3), MPROC_ETIMEDOUT);
  CU_ASSERT_EQUAL(mproc_process_is_alive(p), 1);
  CU_ASSERT_EQUAL(mproc_process_terminate(p), 0);
  CU_ASSERT_EQUAL(mproc_process_join(p, 30), 0);
  CU_ASSERT_EQUAL(mproc_process_exitcode(p, &code), 0);
  CU_ASSERT_EQUAL(code, MPROC_EXITCODE_LOST);
  mproc_process_free(p);
  /* The next start reaps the dead server and starts a new one. */
  code = MPROC_EXITCODE_NONE;
  CU_ASSERT_EQUAL_FATAL(mproc_context_process(ctx, &q, t_lost_seven, NULL), 0);
  CU_ASSERT_EQUAL(mproc_process_start(q), 0);
  CU_ASSERT_EQUAL(mproc_process_join(q, 30), 0);
  CU_ASSERT_EQUAL(mproc_process_exitcode(q, &code), 0);
  CU_ASSERT_EQUAL(code, 7);
  mproc_process_free(q);
}
#else
static void test_reaped_behind_our_back(void)
{
  printf("skipped: Windows has no SIGCHLD\n");
}

static void test_reaped_before_start_returns(void)
{
  printf("skipped: Windows has no SIGCHLD\n");
}

static void test_forkserver_death_fakes_no_exit(void)
{
  printf("skipped: Windows has no forkserver\n");
}
#endif

void mproc_test_register_lost(void)
{
  static const mproc_test_case_t cases[] = {
      MPROC_TEST_CASE(test_reaped_behind_our_back),
      MPROC_TEST_CASE(test_reaped_before_start_returns),
      MPROC_TEST_CASE(test_forkserver_death_fakes_no_exit),
      {NULL, NULL}};

  (void)mproc_test_add_suite("lost", cases);
}
