/*
 * What a process knows about itself and its parent, after CPython's
 * _TestProcess (test_current, test_parent_process) and TestStartMethod
 * (check_context): the current process's exit code is None while it
 * runs, a child reports the start method it was started with, and a
 * child can wait for its parent to end.
 */
#include <stdio.h>
#include <string.h>

#include "harness.h"

#define BADARGS 99

/* Checks that neither the current process nor its parent has an exit
 * code (CPython's None) while they run. */
MPROC_TARGET(s_exitcode_none)
{
  int code = 0;

  (void)args;
  if (mproc_process_exitcode(mproc_current_process(), &code) != 0 ||
      code != MPROC_EXITCODE_NONE)
    return 1;
  code = 0;
  if (mproc_process_exitcode(mproc_parent_process(), &code) != 0 ||
      code != MPROC_EXITCODE_NONE)
    return 2;
  return 0;
}

/* Checks that this child reports start method @method everywhere, that
 * the method is fixed (CPython: "context has already been set"), and,
 * with @nest, that a grandchild started with the default context was
 * started with the same method. */
MPROC_TARGET(s_method_is)
{
  mproc_process_t *p = NULL;
  int method, nest, code = -1;

  if (mproc_args_parse(args, "ii", &method, &nest) != 0)
    return BADARGS;
  if ((int)mproc_get_start_method() != method)
    return 10 + (int)mproc_get_start_method();
  if ((int)mproc_context_method(mproc_get_context(NULL)) != method)
    return 20;
  if ((int)mproc_process_start_method(mproc_current_process()) != method)
    return 30;
  if (mproc_set_start_method("spawn", 0) != MPROC_ESTATE)
    return 40;
  if (!nest)
    return 0;
  if (mproc_context_process(NULL, &p, s_method_is, "ii", method, 0) != 0 ||
      mproc_process_start(p) != 0 ||
      mproc_process_join(p, MPROC_TEST_JOIN_LIMIT) != 0 ||
      mproc_process_exitcode(p, &code) != 0)
    code = 50;
  mproc_process_free(p);
  return code;
}

/* The parent is alive and a short join on it times out. */
MPROC_TARGET(s_parent_runs)
{
  mproc_process_t *parent = mproc_parent_process();

  (void)args;
  if (parent == NULL || mproc_process_is_alive(parent) != 1)
    return 1;
  if (mproc_process_join(parent, 0) != MPROC_ETIMEDOUT)
    return 2;
  if (mproc_process_join(parent, 0.05) != MPROC_ETIMEDOUT)
    return 3;
  return 0;
}

/* CPython's _test_report_parent_status: says whether the parent is
 * alive, waits for it to end, says again. */
MPROC_TARGET(s_report_parent)
{
  mproc_process_t *parent = mproc_parent_process();
  mproc_conn_t *w;
  int rc;

  if (mproc_args_parse(args, "o", MPROC_KIND_CONNECTION, &w) != 0)
    return BADARGS;
  if (mproc_conn_send(w, "i", mproc_process_is_alive(parent)) != 0)
    return 1;
  rc = mproc_process_join(parent, MPROC_TEST_JOIN_LIMIT);
  return mproc_conn_send(w, "ii", rc, mproc_process_is_alive(parent)) == 0 ? 0
                                                                           : 2;
}

/* CPython's _test_create_grandchild_process: starts the reporter and
 * waits to be terminated. */
MPROC_TARGET(s_grandparent)
{
  mproc_process_t *p = NULL;
  mproc_conn_t *w;

  if (mproc_args_parse(args, "o", MPROC_KIND_CONNECTION, &w) != 0)
    return BADARGS;
  if (mproc_process_create(&p, s_report_parent, "o", w) != 0 ||
      mproc_process_start(p) != 0)
    return 1;
  mproc_test_block_forever();
  return 0;
}

/* The defect: the current process's exit code was 0 while it ran. */
static void test_current_exitcode_is_none(void)
{
  int code = 0;

  CU_ASSERT_EQUAL(mproc_process_exitcode(mproc_current_process(), &code), 0);
  CU_ASSERT_EQUAL(code, MPROC_EXITCODE_NONE);
  EXPECT_EXIT(mproc_test_run(s_exitcode_none, NULL), 0);
}

/* The defect: a child reported its parent's default method (or the
 * platform's) instead of the one it was started with. Each method the
 * platform has, whatever the program's default. */
static void test_child_reports_its_start_method(void)
{
  const char *const *methods = mproc_all_start_methods();

  for (size_t i = 0; methods[i] != NULL; i++) {
    const mproc_context_t *ctx = mproc_get_context(methods[i]);
    mproc_process_t *p = NULL;
    int m = (int)mproc_context_method(ctx);

    CU_ASSERT_EQUAL_FATAL(
        mproc_context_process(ctx, &p, s_method_is, "ii", m, i == 0), 0);
    CU_ASSERT_EQUAL(mproc_process_start(p), 0);
    EXPECT_EXIT(mproc_test_finish(p), 0);
  }
}

static void test_parent_join_times_out_while_it_runs(void)
{
  EXPECT_EXIT(mproc_test_run(s_parent_runs, NULL), 0);
}

/* CPython's test_parent_process: a grandchild sees its parent alive,
 * then, once the parent is terminated, its join returns and the parent
 * is not alive. */
static void test_parent_join_returns_when_it_ends(void)
{
  mproc_conn_t *r = NULL, *w = NULL;
  mproc_process_t *p;
  mproc_args_t *msg = NULL;
  int alive = -1, rc = -1;

  CU_ASSERT_EQUAL_FATAL(mproc_pipe(&r, &w, 0), 0);
  p = mproc_test_start(s_grandparent, "o", w);
  mproc_conn_free(w);
  CU_ASSERT_EQUAL_FATAL(mproc_conn_poll(r, 60), 1);
  CU_ASSERT_EQUAL(mproc_conn_recv(r, &msg), 0);
  CU_ASSERT(mproc_args_parse(msg, "i", &alive) == 0 && alive == 1);
  mproc_args_free(msg);
  mproc_test_stop(p);
  CU_ASSERT_EQUAL_FATAL(mproc_conn_poll(r, 60), 1);
  CU_ASSERT_EQUAL(mproc_conn_recv(r, &msg), 0);
  CU_ASSERT(mproc_args_parse(msg, "ii", &rc, &alive) == 0);
  CU_ASSERT_EQUAL(rc, 0);
  CU_ASSERT_EQUAL(alive, 0);
  mproc_args_free(msg);
  /* The grandchild's end: its copy of the pipe closes. */
  CU_ASSERT_EQUAL(mproc_conn_poll(r, 60), 1);
  CU_ASSERT_EQUAL(mproc_conn_recv(r, &msg), MPROC_EEOF);
  mproc_conn_free(r);
}

void mproc_test_register_self(void)
{
  static const mproc_test_case_t cases[] = {
      MPROC_TEST_CASE(test_current_exitcode_is_none),
      MPROC_TEST_CASE(test_child_reports_its_start_method),
      MPROC_TEST_CASE(test_parent_join_times_out_while_it_runs),
      MPROC_TEST_CASE(test_parent_join_returns_when_it_ends),
      {NULL, NULL}};

  (void)mproc_test_add_suite("self", cases);
}
