/*
 * What a Python programmer porting a program expects: the library's log
 * (levels, the handler, MPROC_LOG, children's lines), a failing child
 * that says why (stderr and mproc_process_error()), output in CPython's
 * order, a bad MPROC_START_METHOD refused, and os.getpid()/getppid()/
 * time.sleep() on every platform.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* ---- targets ---- */

MPROC_TARGET(pt_noop)
{
  (void)args;
  return 0;
}

/* Fails with the message it is given, repeated @times (a huge one too). */
MPROC_TARGET(pt_fail)
{
  const char *msg;
  int times = 1;
  char *big;
  size_t len;
  int rc;

  if (mproc_args_parse(args, "s|i", &msg, &times) != 0)
    return 99;
  if (times <= 1)
    return mproc_fail("%s", msg);
  len = strlen(msg);
  big = malloc(len * (size_t)times + 1);
  if (big == NULL)
    return 98;
  for (int i = 0; i < times; i++)
    memcpy(big + len * (size_t)i, msg, len);
  big[len * (size_t)times] = '\0';
  rc = mproc_fail("%s", big);
  free(big);
  return rc;
}

/* Returns @code; with @fail set it calls mproc_fail() first. */
MPROC_TARGET(pt_return)
{
  int code, fail = 0;

  if (mproc_args_parse(args, "i|p", &code, &fail) != 0)
    return 99;
  if (fail)
    (void)mproc_fail("failed, but returns %d", code);
  return code;
}

/* Puts its own pid and its parent's on @q. */
MPROC_TARGET(pt_pids)
{
  mproc_queue_t *q;

  if (mproc_args_parse(args, "o", MPROC_KIND_QUEUE, &q) != 0)
    return 99;
  return mproc_queue_put(q, MPROC_FOREVER,
                         MPROC_ARGS(mproc_getpid(), mproc_getppid())) != 0;
}

/* Puts one item of @len bytes: it streams through the ring, so the put
 * blocks once the ring is full and nobody reads. */
MPROC_TARGET(pt_big_put)
{
  mproc_queue_t *q;
  int64_t len;
  char *buf;
  int rc;

  if (mproc_args_parse(args, "oL", MPROC_KIND_QUEUE, &q, &len) != 0)
    return 99;
  buf = calloc(1, (size_t)len);
  if (buf == NULL)
    return 98;
  rc = mproc_queue_put_bytes(q, MPROC_FOREVER, buf, (size_t)len);
  free(buf);
  return rc != 0;
}

/* Connects to @address with a wrong key. */
MPROC_TARGET(pt_wrong_key)
{
  const char *address;
  mproc_conn_t *c = NULL;
  int rc;

  if (mproc_args_parse(args, "s", &address) != 0)
    return 99;
  rc = mproc_client(&c, address, NULL, "wrong", 5, MPROC_TEST_JOIN_LIMIT);
  mproc_conn_free(c);
  return rc == 0 ? 1 : 0;
}

/* ---- the log, in this process ---- */

#define MAX_RECORDS 64

typedef struct records {
  int n;
  int level[MAX_RECORDS];
  char text[MAX_RECORDS][300]; /* "[LEVEL/name] message" */
} records_t;

static void collect(int level, const char *name, const char *msg, void *ctx)
{
  records_t *r = ctx;

  if (r->n == MAX_RECORDS)
    return;
  r->level[r->n] = level;
  snprintf(r->text[r->n], sizeof r->text[0], "[%s/%s] %s",
           mproc_log_level_name(level), name, msg);
  r->n++;
}

/* The first record holding @needle, or -1. */
static int find(const records_t *r, const char *needle)
{
  for (int i = 0; i < r->n; i++)
    if (strstr(r->text[i], needle) != NULL)
      return i;
  return -1;
}

static void expect_record(const records_t *r, const char *needle, int level)
{
  int i = find(r, needle);

  CU_ASSERT(i >= 0);
  if (i < 0) {
    fprintf(stderr, "no log record \"%s\" among %d:\n", needle, r->n);
    for (int k = 0; k < r->n; k++)
      fprintf(stderr, "  %s\n", r->text[k]);
    return;
  }
  CU_ASSERT_EQUAL(r->level[i], level);
}

static void log_off(void)
{
  mproc_log_set_handler(NULL, NULL);
  mproc_log_set_level(0);
}

static void test_log_levels_and_handler(void)
{
  records_t *r = calloc(1, sizeof *r);
  mproc_process_t *p;
  char want[160];
  long pid;

  CU_ASSERT_PTR_NOT_NULL_FATAL(r);
  CU_ASSERT_EQUAL(mproc_log_level(), 0); /* off by default */
  CU_ASSERT_EQUAL(mproc_log_set_handler(collect, r), 0);
  CU_ASSERT_EQUAL(mproc_log_level(), MPROC_LOG_WARNING);
  CU_ASSERT_EQUAL(mproc_log_set_level(MPROC_LOG_DEBUG), 0);
  CU_ASSERT_EQUAL(mproc_log_level(), MPROC_LOG_DEBUG);
  CU_ASSERT_EQUAL(mproc_log_set_level(-1), MPROC_EINVAL);

  p = mproc_test_start(pt_noop, NULL);
  CU_ASSERT_PTR_NOT_NULL_FATAL(p);
  pid = mproc_process_pid(p);
  snprintf(want, sizeof want,
           "[DEBUG/MainProcess] started %s (pid %ld, method %s)",
           mproc_process_name(p), pid,
           mproc_start_method_name(mproc_get_start_method()));
  expect_record(r, want, MPROC_LOG_DEBUG);
  snprintf(want, sizeof want, "%s (pid %ld) exited with exitcode 0",
           mproc_process_name(p), pid);
  EXPECT_EXIT(mproc_test_finish(p), 0);
  expect_record(r, want, MPROC_LOG_DEBUG);

  /* The program's own records go the same way. */
  mproc_log(MPROC_LOG_INFO, "mine %d", 7);
  expect_record(r, "[INFO/MainProcess] mine 7", MPROC_LOG_INFO);

  /* Below the level: nothing, not even formatted. */
  r->n = 0;
  CU_ASSERT_EQUAL(mproc_log_set_level(MPROC_LOG_INFO), 0);
  EXPECT_EXIT(mproc_test_run(pt_noop, NULL), 0);
  mproc_log(MPROC_LOG_DEBUG, "dropped");
  CU_ASSERT_EQUAL(r->n, 0);

  /* Off: no sink, no record, level 0. */
  log_off();
  CU_ASSERT_EQUAL(mproc_log_level(), 0);
  mproc_log(MPROC_LOG_CRITICAL, "nowhere");
  EXPECT_EXIT(mproc_test_run(pt_noop, NULL), 0);
  CU_ASSERT_EQUAL(r->n, 0);

  CU_ASSERT_STRING_EQUAL(mproc_log_level_name(MPROC_LOG_SUBDEBUG), "SUBDEBUG");
  CU_ASSERT_STRING_EQUAL(mproc_log_level_name(MPROC_LOG_SUBWARNING),
                         "SUBWARNING");
  CU_ASSERT_STRING_EQUAL(mproc_log_level_name(12), "Level 12");
  free(r);
}

/* A writer that dies in the middle of an item breaks the queue; the
 * reader that finds out logs it. */
static void test_log_queue_broken(void)
{
  records_t *r = calloc(1, sizeof *r);
  mproc_queue_t *q = NULL;
  mproc_args_t *item = NULL;
  mproc_process_t *w;
  double end;

  CU_ASSERT_PTR_NOT_NULL_FATAL(r);
  CU_ASSERT_EQUAL_FATAL(mproc_queue_create(&q, 0), 0);
  w = mproc_test_start(pt_big_put, "oL", q, (int64_t)(16 << 20));
  /* Its header is out (qsize 1) and the ring fills: the writer waits. */
  end = mproc_test_now() + MPROC_TEST_JOIN_LIMIT;
  while (mproc_queue_qsize(q) < 1 && mproc_test_now() < end)
    mproc_test_sleep_ms(5);
  CU_ASSERT_EQUAL(mproc_queue_qsize(q), 1);
  CU_ASSERT_EQUAL(mproc_process_kill(w), 0);
  EXPECT_EXIT(mproc_test_finish(w), -SIGKILL);
  mproc_log_set_handler(collect, r);
  CU_ASSERT_EQUAL(mproc_queue_get(q, MPROC_TEST_JOIN_LIMIT, &item),
                  MPROC_EBROKEN);
  log_off();
  mproc_args_free(item);
  expect_record(r, "[WARNING/MainProcess] queue marked broken: the writer",
                MPROC_LOG_WARNING);
  mproc_queue_free(q);
  free(r);
}

/* A peer with a wrong key is refused, and the reason logged. */
static void test_log_handshake_refused(void)
{
  records_t *r = calloc(1, sizeof *r);
  mproc_listener_t *l = NULL;
  mproc_conn_t *c = NULL;
  mproc_process_t *p;

  CU_ASSERT_PTR_NOT_NULL_FATAL(r);
  CU_ASSERT_EQUAL_FATAL(
      mproc_listener_create(&l, NULL, NULL, 1, "right key", 9), 0);
  mproc_log_set_handler(collect, r);
  /* The first accept sets the handshakes going (side by side, in the
   * background): the refused peer makes no accept fail, and the refusal
   * is logged before the peer is told of it. */
  CU_ASSERT_EQUAL(mproc_listener_accept(l, &c, 0), MPROC_ETIMEDOUT);
  p = mproc_test_start(pt_wrong_key, "s", mproc_listener_address(l));
  EXPECT_EXIT(mproc_test_finish(p), 0);
  CU_ASSERT_EQUAL(mproc_listener_accept(l, &c, 0), MPROC_ETIMEDOUT);
  log_off();
  expect_record(r,
                "[WARNING/MainProcess] handshake refused: ", MPROC_LOG_WARNING);
  mproc_conn_free(c);
  mproc_listener_free(l);
  free(r);
}

/* ---- whole programs: the log of every process, stderr, order ---- */

static char *run_helper(const char *scenario, int *code)
{
  const char *argv[] = {MPROC_TEST_PORTING_HELPER, scenario, NULL};
  char path[512];
  char *out = malloc(1 << 16);

  *code = -1000;
  if (out == NULL || mproc_test_tmp_path(path, sizeof path) != 0)
    return out;
  out[0] = '\0';
  /* The leg's start method, for the helper's processes too. */
  mproc_test_setenv("MPROC_START_METHOD",
                    mproc_start_method_name(mproc_get_start_method()));
  CU_ASSERT_EQUAL(mproc_test_run_capture(argv[0], argv, path, code), 0);
  mproc_test_setenv("MPROC_START_METHOD", NULL);
  CU_ASSERT_EQUAL(mproc_test_read_file(path, out, 1 << 16), 0);
  mproc_test_remove(path);
  /* A Windows program's text mode writes "\r\n". */
  for (char *r = out, *w = out;; r++)
    if (*r != '\r' && (*w++ = *r) == '\0')
      break;
  return out;
}

static void expect_text(const char *out, const char *needle)
{
  CU_ASSERT_PTR_NOT_NULL(strstr(out, needle));
  if (strstr(out, needle) == NULL)
    fprintf(stderr, "missing \"%s\" in the output:\n%s\n", needle, out);
}

/* MPROC_LOG traces a whole program without a code change: every process
 * logs on stderr, children included, with CPython's "[LEVEL/name]". */
static void test_log_env_whole_program(void)
{
  int code;
  char *out;

  mproc_test_setenv("MPROC_LOG", "debug");
  out = run_helper("log", &code);
  mproc_test_setenv("MPROC_LOG", NULL);
  CU_ASSERT_PTR_NOT_NULL_FATAL(out);
  EXPECT_EXIT(code, 0);
  expect_text(out, "[DEBUG/MainProcess] started Process-1 (pid ");
  expect_text(out, "[DEBUG/MainProcess] started Process-2 (pid ");
  expect_text(out, "[INFO/Process-2] child process calling target returns");
  expect_text(out, "[INFO/Process-2] process exiting with exitcode 0");
  expect_text(out, ") exited with exitcode 0");
  expect_text(out, "[INFO/SyncManager] manager serving at ");
  expect_text(out, "[DEBUG/SyncManager] manager: connection accepted");
  expect_text(out, "[WARNING/SyncManager] handshake refused: authentication");
  expect_text(out, "[WARNING/SyncManager] manager: connection refused");
  expect_text(out, "[INFO/MainProcess] process shutting down");
  expect_text(out, "[INFO/MainProcess] calling terminate() for daemon "
                   "Process-1");
  expect_text(out, "[INFO/MainProcess] calling join() for process Process-1");
  if (mproc_get_start_method() == MPROC_FORKSERVER)
    expect_text(out, "[INFO/MainProcess] forkserver started (pid ");
  free(out);

  /* INFO: the same program, without its DEBUG lines. */
  mproc_test_setenv("MPROC_LOG", "INFO");
  out = run_helper("log", &code);
  mproc_test_setenv("MPROC_LOG", NULL);
  CU_ASSERT_PTR_NOT_NULL_FATAL(out);
  EXPECT_EXIT(code, 0);
  expect_text(out, "[INFO/MainProcess] process shutting down");
  CU_ASSERT_PTR_NULL(strstr(out, "[DEBUG/"));
  free(out);

  /* Not a level: said, and nothing logged. Unset: nothing either. */
  mproc_test_setenv("MPROC_LOG", "verbose");
  out = run_helper("log", &code);
  mproc_test_setenv("MPROC_LOG", NULL);
  CU_ASSERT_PTR_NOT_NULL_FATAL(out);
  EXPECT_EXIT(code, 0);
  expect_text(out, "MPROC_LOG='verbose' is not a log level");
  CU_ASSERT_PTR_NULL(strstr(out, "[INFO/"));
  free(out);
  out = run_helper("log", &code);
  CU_ASSERT_PTR_NOT_NULL_FATAL(out);
  EXPECT_EXIT(code, 0);
  CU_ASSERT_PTR_NULL(strstr(out, "[INFO/"));
  CU_ASSERT_PTR_NULL(strstr(out, "[WARNING/"));
  free(out);
}

/* A failing child prints "Process NAME: <message>" on its stderr, after
 * what its parent printed before starting it (the parent flushes stdio
 * first, as CPython does), and the parent reads the message. */
static void test_failure_on_stderr_in_order(void)
{
  const char *before, *child, *report;
  int code;
  char *out = run_helper("fail", &code);

  CU_ASSERT_PTR_NOT_NULL_FATAL(out);
  EXPECT_EXIT(code, 0);
  before = strstr(out, "parent before start\n");
  child = strstr(out, "Process Process-1: the answer is 42, not 41\n");
  report = strstr(out, "exitcode 1, error: the answer is 42, not 41\n");
  CU_ASSERT(before != NULL && child != NULL && report != NULL);
  CU_ASSERT(before != NULL && child != NULL && before < child);
  CU_ASSERT(child != NULL && report != NULL && child < report);
  if (!(before && child && report && before < child && child < report))
    fprintf(stderr, "output:\n%s\n", out);
  free(out);
}

/* ---- a failing child's message, from the API ---- */

static void test_failure_message(void)
{
  mproc_process_t *p;

  p = mproc_test_start(pt_fail, "s", "no such user: jason");
  CU_ASSERT_PTR_NOT_NULL_FATAL(p);
  CU_ASSERT_EQUAL(mproc_process_join(p, MPROC_TEST_JOIN_LIMIT), 0);
  CU_ASSERT_PTR_NOT_NULL_FATAL(mproc_process_error(p));
  CU_ASSERT_STRING_EQUAL(mproc_process_error(p), "no such user: jason");
  EXPECT_EXIT(mproc_test_finish(p), 1);

  /* A return code alone, or a success after mproc_fail(), says nothing. */
  p = mproc_test_start(pt_return, "i", 3);
  CU_ASSERT_EQUAL(mproc_process_join(p, MPROC_TEST_JOIN_LIMIT), 0);
  CU_ASSERT_PTR_NULL(mproc_process_error(p));
  EXPECT_EXIT(mproc_test_finish(p), 3);
  p = mproc_test_start(pt_return, "ip", 0, 1);
  CU_ASSERT_EQUAL(mproc_process_join(p, MPROC_TEST_JOIN_LIMIT), 0);
  CU_ASSERT_PTR_NULL(mproc_process_error(p));
  EXPECT_EXIT(mproc_test_finish(p), 0);

  /* Not started: nothing. */
  CU_ASSERT_EQUAL(mproc_process_create(&p, pt_noop, NULL), 0);
  CU_ASSERT_PTR_NULL(mproc_process_error(p));
  mproc_process_free(p);
}

/* A huge message: the parent keeps at most 4000 bytes of it, and the
 * child, whose one write fits an empty pipe, never blocks on it. */
static void test_failure_message_bounded(void)
{
  mproc_process_t *p = mproc_test_start(pt_fail, "si", "0123456789", 500);
  const char *e;
  size_t len;

  CU_ASSERT_PTR_NOT_NULL_FATAL(p);
  CU_ASSERT_EQUAL(mproc_process_join(p, MPROC_TEST_JOIN_LIMIT), 0);
  e = mproc_process_error(p);
  CU_ASSERT_PTR_NOT_NULL_FATAL(e);
  len = strlen(e);
  CU_ASSERT(len > 0 && len <= 4000);
  for (size_t i = 0; i < len; i++)
    if (e[i] != (char)('0' + i % 10)) {
      CU_FAIL("the message is not a prefix of what the child failed with");
      break;
    }
  EXPECT_EXIT(mproc_test_finish(p), 1);
}

static int late_target(mproc_args_t *args)
{
  (void)args;
  return 5;
}

/* A child that cannot run its target says why: registered in the parent
 * after start-up, the target does not exist in a re-executed child. */
static void test_failure_unknown_target(void)
{
  mproc_process_t *p;
  int code;

  CU_ASSERT_EQUAL(mproc_register("late_target", late_target), 0);
  p = mproc_test_start(late_target, NULL);
  CU_ASSERT_PTR_NOT_NULL_FATAL(p);
  CU_ASSERT_EQUAL(mproc_process_join(p, MPROC_TEST_JOIN_LIMIT), 0);
  CU_ASSERT_EQUAL(mproc_process_exitcode(p, &code), 0);
  if (mproc_get_start_method() == MPROC_FORK) {
    /* fork calls the function itself. */
    CU_ASSERT_EQUAL(code, 5);
    CU_ASSERT_PTR_NULL(mproc_process_error(p));
  } else {
    CU_ASSERT_EQUAL(code, MPROC_EXIT_NOTARGET);
    CU_ASSERT_PTR_NOT_NULL(mproc_process_error(p));
    if (mproc_process_error(p) != NULL)
      CU_ASSERT_PTR_NOT_NULL(
          strstr(mproc_process_error(p), "'late_target' is not registered"));
  }
  mproc_process_free(p);
}

/* ---- MPROC_START_METHOD ---- */

static void test_bad_start_method_env(void)
{
  const char *leg = mproc_start_method_name(mproc_get_start_method());
  mproc_process_t *p = NULL;
  const char *e;

  CU_ASSERT_EQUAL(mproc_test_setenv("MPROC_START_METHOD", "spwan"), 0);
  CU_ASSERT_EQUAL(mproc_set_start_method(NULL, 1), 0);
  CU_ASSERT_EQUAL(mproc_process_create(&p, pt_noop, NULL), 0);
  CU_ASSERT_EQUAL(mproc_process_start(p), MPROC_EINVAL);
  e = mproc_last_error();
  CU_ASSERT_PTR_NOT_NULL(strstr(e, "MPROC_START_METHOD='spwan'"));
  CU_ASSERT_PTR_NOT_NULL(strstr(e, "spawn"));
  CU_ASSERT_PTR_NULL(mproc_get_context(NULL));
  /* Every start that relies on the default, not only the first. */
  CU_ASSERT_EQUAL(mproc_process_start(p), MPROC_EINVAL);
  mproc_process_free(p);
  /* The program's own choice does not hide the bad variable... */
  CU_ASSERT_EQUAL(mproc_set_start_method("spawn", 0), 0);
  CU_ASSERT_EQUAL(mproc_process_create(&p, pt_noop, NULL), 0);
  CU_ASSERT_EQUAL(mproc_process_start(p), MPROC_EINVAL);
  mproc_process_free(p);
  /* ...an explicit context does not use it at all. */
  CU_ASSERT_EQUAL(
      mproc_context_process(mproc_get_context(leg), &p, pt_noop, NULL), 0);
  CU_ASSERT_EQUAL(mproc_process_start(p), 0);
  EXPECT_EXIT(mproc_test_finish(p), 0);
  /* A forced choice ignores the environment by design. */
  CU_ASSERT_EQUAL(mproc_set_start_method(leg, 1), 0);
  EXPECT_EXIT(mproc_test_run(pt_noop, NULL), 0);
  CU_ASSERT_EQUAL(mproc_test_setenv("MPROC_START_METHOD", NULL), 0);
  CU_ASSERT_EQUAL(mproc_set_start_method(leg, 1), 0);
}

/* ---- os.getpid(), os.getppid(), time.sleep() ---- */

static void test_pids_and_sleep(void)
{
  mproc_queue_t *q = NULL;
  mproc_process_t *p;
  mproc_args_t *item = NULL;
  long pid = 0, ppid = 0, child;
  double t0;

  CU_ASSERT_EQUAL(mproc_getpid(), mproc_test_getpid());
  /* The main program's parent as the OS says; under Wine the first
   * Windows process has none (0). */
  CU_ASSERT(mproc_getppid() > 0 || (!MPROC_TEST_POSIX && mproc_getppid() == 0));
  CU_ASSERT(mproc_getppid() != mproc_getpid());

  CU_ASSERT_EQUAL_FATAL(mproc_queue_create(&q, 0), 0);
  p = mproc_test_start(pt_pids, "o", q);
  CU_ASSERT_PTR_NOT_NULL_FATAL(p);
  child = mproc_process_pid(p);
  CU_ASSERT_EQUAL(mproc_queue_get(q, MPROC_TEST_JOIN_LIMIT, &item), 0);
  CU_ASSERT_EQUAL(mproc_args_parse(item, "ll", &pid, &ppid), 0);
  CU_ASSERT_EQUAL(pid, child);
  /* The parent, under forkserver too (where the OS parent is the
   * server). */
  CU_ASSERT_EQUAL(ppid, mproc_getpid());
  mproc_args_free(item);
  EXPECT_EXIT(mproc_test_finish(p), 0);
  mproc_queue_free(q);

  t0 = mproc_monotonic();
  mproc_sleep(0.05);
  CU_ASSERT(mproc_monotonic() - t0 >= 0.049);
  t0 = mproc_monotonic();
  mproc_sleep(0);
  mproc_sleep(-1);
  mproc_sleep(NAN);
  /* Returned at once: far less than anything they could be taken for. */
  CU_ASSERT(mproc_monotonic() - t0 < 5.0);
}

void mproc_test_register_porting(void)
{
  static const mproc_test_case_t cases[] = {
      MPROC_TEST_CASE(test_log_levels_and_handler),
      MPROC_TEST_CASE(test_log_queue_broken),
      MPROC_TEST_CASE(test_log_handshake_refused),
      MPROC_TEST_CASE(test_log_env_whole_program),
      MPROC_TEST_CASE(test_failure_on_stderr_in_order),
      MPROC_TEST_CASE(test_failure_message),
      MPROC_TEST_CASE(test_failure_message_bounded),
      MPROC_TEST_CASE(test_failure_unknown_target),
      MPROC_TEST_CASE(test_bad_start_method_env),
      MPROC_TEST_CASE(test_pids_and_sleep),
      {NULL, NULL}};

  (void)mproc_test_add_suite("porting", cases);
}
