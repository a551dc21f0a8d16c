/*
 * A program that returns from main() with its pool still running exits,
 * under every start method (it used to hang in about half the runs: exit
 * cleanup ended the workers and the pool started new ones, which cleanup
 * then waited for). The program is tests/pool_exit_helper.c, run 50 times
 * here; a run that does not end in time is killed and fails the test.
 */
#include <stdio.h>
#include <string.h>

#include "harness.h"

#define RUNS 50
#define RUN_LIMIT 30.0 /* seconds: a hang, not slowness, fails a run */

/* Run the helper @RUNS times with this leg's method; how many exited 0. */
static int run_helper(const char *mode)
{
  const char *method = mproc_start_method_name(mproc_get_start_method());
  const char *argv[] = {MPROC_TEST_POOL_EXIT_HELPER, method, mode, NULL};
  int ok = 0;

  for (int i = 0; i < RUNS; i++) {
    int code = -1;
    int rc = mproc_test_run_program_timeout(MPROC_TEST_POOL_EXIT_HELPER, argv,
                                            RUN_LIMIT, &code);
    if (rc == 1)
      printf("\n  run %d (%s, %s) hung at exit: killed\n", i, method,
             mode ? mode : "idle");
    else if (rc != 0 || code != 0)
      printf("\n  run %d (%s, %s) ended with %d (rc %d)\n", i, method,
             mode ? mode : "idle", code, rc);
    ok += rc == 0 && code == 0;
  }
  return ok;
}

/* The README's snippet: map, then return from main() without closing. */
static void test_pool_exit_idle(void)
{
  CU_ASSERT_EQUAL(run_helper(NULL), RUNS);
}

/* The same with a task still running and others queued at exit. */
static void test_pool_exit_busy(void)
{
  CU_ASSERT_EQUAL(run_helper("busy"), RUNS);
}

void mproc_test_register_pool_exit(void)
{
  static const mproc_test_case_t cases[] = {
      MPROC_TEST_CASE(test_pool_exit_idle),
      MPROC_TEST_CASE(test_pool_exit_busy),
      {NULL, NULL}};

  mproc_test_add_suite("pool_exit", cases);
}
