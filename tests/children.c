/*
 * Starting and finishing helper children from a test, shared by every
 * suite (see harness.h).
 */
#include <stdio.h>

#include "harness.h"

void mproc_test_expect_exit(int got, int want, const char *what, int line)
{
  char msg[600];

  snprintf(msg, sizeof msg, "exit code %d, expected %d: %s", got, want, what);
  CU_assertImplementation(got == want, (unsigned)line, msg, __FILE__, "",
                          CU_FALSE);
}

mproc_process_t *mproc_test_startv(mproc_target_fn fn, const char *fmt,
                                   va_list ap)
{
  mproc_process_t *p = NULL;
  int rc = mproc_context_processv(NULL, &p, fn, fmt, ap);

  CU_ASSERT_EQUAL(rc, 0);
  if (rc != 0) {
    fprintf(stderr, "create failed: %s\n", mproc_last_error());
    return NULL;
  }
  rc = mproc_process_start(p);
  CU_ASSERT_EQUAL(rc, 0);
  if (rc != 0) {
    fprintf(stderr, "start failed: %s\n", mproc_last_error());
    mproc_process_free(p);
    return NULL;
  }
  return p;
}

mproc_process_t *mproc_test_start(mproc_target_fn fn, const char *fmt, ...)
{
  mproc_process_t *p;
  va_list ap;

  va_start(ap, fmt);
  p = mproc_test_startv(fn, fmt, ap);
  va_end(ap);
  return p;
}

int mproc_test_finish(mproc_process_t *p)
{
  int code = MPROC_EXITCODE_NONE, rc;

  if (p == NULL)
    return MPROC_EXITCODE_NONE;
  rc = mproc_process_join(p, MPROC_TEST_JOIN_LIMIT);
  CU_ASSERT_EQUAL(rc, 0);
  if (rc != 0) {
    (void)mproc_process_kill(p);
    (void)mproc_process_join(p, MPROC_TEST_JOIN_LIMIT);
  }
  CU_ASSERT_EQUAL(mproc_process_exitcode(p, &code), 0);
  mproc_process_free(p);
  return code;
}

int mproc_test_run(mproc_target_fn fn, const char *fmt, ...)
{
  mproc_process_t *p;
  va_list ap;

  va_start(ap, fmt);
  p = mproc_test_startv(fn, fmt, ap);
  va_end(ap);
  return p ? mproc_test_finish(p) : MPROC_EXITCODE_NONE;
}

void mproc_test_stop(mproc_process_t *p)
{
  if (p == NULL)
    return;
  CU_ASSERT_EQUAL(mproc_process_terminate(p), 0);
  EXPECT_EXIT(mproc_test_finish(p), -SIGTERM);
}
