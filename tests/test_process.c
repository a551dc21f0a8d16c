/*
 * The Process API (mproc.h, "Processes" and "Start methods"), with
 * CPython's multiprocessing.Process as the reference.
 *
 * Helper children are the MPROC_TARGETs below. A child cannot use CUnit:
 * it reports through its exit code (0 = all as expected, other values
 * say which check failed) or through a temporary file.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* Exit code of a child whose arguments did not parse. */
#define BADARGS 99

/* ------------------------------------------------------------------ */
/* Helper children                                                     */
/* ------------------------------------------------------------------ */

MPROC_TARGET(t_return)
{
  int code;
  if (mproc_args_parse(args, "i:t_return", &code) != 0)
    return BADARGS;
  return code;
}

MPROC_TARGET(t_block)
{
  (void)args;
  mproc_test_block_forever();
  return 0;
}

/* Crashes with an invalid memory access: SIGSEGV on POSIX, an access
 * violation (0xC0000005) on Windows. The default action is restored first,
 * so that a sanitizer's handler does not turn the crash into an exit. */
MPROC_TARGET(t_crash)
{
  volatile uintptr_t addr = 16; /* not NULL: UBSan's null check stays out */
  (void)args;
  mproc_test_default_crash_handling();
  *(volatile int *)addr = 1;
  return 0;
}

/* Positional arguments of every basic type and two kwargs. */
MPROC_TARGET(t_args)
{
  int i, b;
  const char *s;
  double d;
  const void *y;
  size_t ylen;
  int64_t big;
  const mproc_value_t *v;
  const void *data;
  size_t len;
  int64_t age;

  if (mproc_args_parse(args, "isdy#pL:t_args", &i, &s, &d, &y, &ylen, &b,
                       &big) != 0)
    return BADARGS;
  if (mproc_args_count(args) != 6)
    return 2;
  if (i != 42 || strcmp(s, "hello") != 0 || d != 2.5 || b != 1)
    return 3;
  if (ylen != 4 || memcmp(y, "\0\1\2\377", 4) != 0)
    return 4;
  if (big != INT64_C(1) << 40)
    return 5;
  v = mproc_args_kw(args, "name");
  if (v == NULL || mproc_value_type(v) != MPROC_T_STR ||
      mproc_value_bytes(v, &data, &len) != 0 || len != 4 ||
      memcmp(data, "egon", 4) != 0)
    return 6;
  v = mproc_args_kw(args, "age");
  if (v == NULL || mproc_value_int(v, &age) != 0 || age != 18)
    return 7;
  if (mproc_args_kw(args, "missing") != NULL)
    return 8;
  return 0;
}

/* The same keyword arguments read with mproc_args_parse_kw. */
MPROC_TARGET(t_args_kw)
{
  static const char *const kwlist[] = {"n", "name", "age", NULL};
  int n = 0, age = 0;
  const char *name = NULL;
  if (mproc_args_parse_kw(args, "isi:t_args_kw", kwlist, &n, &name, &age) != 0)
    return BADARGS;
  return (n == 1 && strcmp(name, "egon") == 0 && age == 18) ? 0 : 2;
}

/* Expects an int, gets whatever the parent sends. */
MPROC_TARGET(t_typed)
{
  int x;
  int rc = mproc_args_parse(args, "i:t_typed", &x);
  const char *msg = mproc_last_error();
  if (rc == 0)
    return 2;
  if (rc != MPROC_ETYPE)
    return 3;
  if (strstr(msg, "t_typed") == NULL || strstr(msg, "arg") == NULL)
    return 4;
  return 0;
}

static unsigned char pattern_byte(uint32_t *state)
{
  *state = *state * 1103515245u + 12345u;
  return (unsigned char)(*state >> 16);
}

MPROC_TARGET(t_big)
{
  const void *raw;
  const unsigned char *data;
  size_t len;
  int64_t expect_len, seed;
  uint32_t state;
  if (mproc_args_parse(args, "y#LL:t_big", &raw, &len, &expect_len, &seed) != 0)
    return BADARGS;
  data = raw;
  if ((int64_t)len != expect_len)
    return 2;
  state = (uint32_t)seed;
  for (size_t i = 0; i < len; i++)
    if (data[i] != pattern_byte(&state))
      return 3;
  return 0;
}

/* Three calls deep, as a sys.exit() from inside a library would be. */
static void exit_level3(int code)
{
  mproc_exit(code);
}

static void exit_level2(int code)
{
  exit_level3(code);
}

static void exit_level1(int code)
{
  exit_level2(code);
}

MPROC_TARGET(t_exit_nested)
{
  int code;
  if (mproc_args_parse(args, "i:t_exit_nested", &code) != 0)
    return BADARGS;
  exit_level1(code);
  return 1; /* not reached */
}

/* Tries to start a child; returns -status of the start (100 if it
 * started). Also checks that the daemon flag is inherited: 90 if the
 * current process or a new object is not daemonic. */
MPROC_TARGET(t_try_child)
{
  mproc_process_t *p = NULL;
  int rc, expect_daemon;
  if (mproc_args_parse(args, "p:t_try_child", &expect_daemon) != 0)
    return BADARGS;
  if (mproc_process_daemon(mproc_current_process()) != expect_daemon)
    return 90;
  if (mproc_process_create(&p, t_return, "i", 0) != 0)
    return 91;
  if (mproc_process_daemon(p) != expect_daemon) {
    mproc_process_free(p);
    return 92;
  }
  rc = mproc_process_start(p);
  if (rc == 0)
    (void)mproc_process_join(p, MPROC_TEST_JOIN_LIMIT);
  mproc_process_free(p);
  return rc == 0 ? 100 : -rc;
}

MPROC_TARGET(t_name_is)
{
  const char *expect;
  if (mproc_args_parse(args, "s:t_name_is", &expect) != 0)
    return BADARGS;
  return strcmp(mproc_process_name(mproc_current_process()), expect) == 0 ? 0
                                                                          : 2;
}

/* A child's children are named after it: "<own name>:1", ":2". */
MPROC_TARGET(t_grandchild_names)
{
  char want[256];
  const char *own = mproc_process_name(mproc_current_process());
  mproc_process_t *a = NULL, *b = NULL;
  int rc = 0;
  (void)args;
  if (mproc_process_create(&a, t_return, "i", 0) != 0 ||
      mproc_process_create(&b, t_return, "i", 0) != 0) {
    rc = 2;
    goto out;
  }
  snprintf(want, sizeof want, "%s:1", own);
  if (strcmp(mproc_process_name(a), want) != 0)
    rc = 3;
  snprintf(want, sizeof want, "%s:2", own);
  if (rc == 0 && strcmp(mproc_process_name(b), want) != 0)
    rc = 4;
out:
  mproc_process_free(a);
  mproc_process_free(b);
  return rc;
}

MPROC_TARGET(t_parent_check)
{
  long ppid;
  const char *pname;
  mproc_process_t *parent = mproc_parent_process();
  if (mproc_args_parse(args, "ls:t_parent_check", &ppid, &pname) != 0)
    return BADARGS;
  if (parent == NULL)
    return 2;
  if (mproc_process_pid(parent) != ppid)
    return 3;
  if (mproc_process_is_alive(parent) != 1)
    return 4;
  if (strcmp(mproc_process_name(parent), pname) != 0)
    return 5;
  return 0;
}

/* Writes its pid as mproc sees it; 2 if it differs from the OS's. */
MPROC_TARGET(t_write_pid)
{
  const char *path;
  char text[64];
  long pid = mproc_process_pid(mproc_current_process());
  if (mproc_args_parse(args, "s:t_write_pid", &path) != 0)
    return BADARGS;
  snprintf(text, sizeof text, "%ld\n", pid);
  if (mproc_test_write_file(path, text) != 0)
    return 3;
  return pid == mproc_test_getpid() ? 0 : 2;
}

MPROC_TARGET(t_authkey_is)
{
  const void *expect;
  size_t expect_len, len;
  const unsigned char *key;
  if (mproc_args_parse(args, "y#:t_authkey_is", &expect, &expect_len) != 0)
    return BADARGS;
  if (mproc_process_authkey(mproc_current_process(), &key, &len) != 0)
    return 2;
  if (len != expect_len || memcmp(key, expect, len) != 0)
    return 3;
  return 0;
}

/* Starts two grandchildren returning 1 and 2; returns 10*e1 + e2. */
MPROC_TARGET(t_tree)
{
  mproc_process_t *p[2] = {NULL, NULL};
  int codes[2] = {-1, -1}, rc = 0;
  (void)args;
  for (int i = 0; i < 2; i++)
    if (mproc_process_create(&p[i], t_return, "i", i + 1) != 0 ||
        mproc_process_start(p[i]) != 0)
      rc = 200 + i;
  for (int i = 0; i < 2; i++)
    if (p[i] != NULL && mproc_process_join(p[i], MPROC_TEST_JOIN_LIMIT) == 0)
      (void)mproc_process_exitcode(p[i], &codes[i]);
  for (int i = 0; i < 2; i++)
    mproc_process_free(p[i]);
  if (rc != 0)
    return rc;
  if (codes[0] < 0 || codes[1] < 0)
    return 210;
  return 10 * codes[0] + codes[1];
}

/* Starts a daemonic grandchild that blocks, writes its pid to @path,
 * then blocks until killed. */
MPROC_TARGET(t_parent_of_daemon)
{
  const char *path;
  mproc_process_t *g = NULL;
  char text[64];
  if (mproc_args_parse(args, "s:t_parent_of_daemon", &path) != 0)
    return BADARGS;
  if (mproc_process_create(&g, t_block, NULL) != 0 ||
      mproc_process_set_daemon(g, 1) != 0 || mproc_process_start(g) != 0)
    return 2;
  snprintf(text, sizeof text, "%ld\n", mproc_process_pid(g));
  if (mproc_test_write_file(path, text) != 0)
    return 3;
  mproc_test_block_forever();
  return 0;
}

/* Slow work, then a file saying it finished. */
MPROC_TARGET(t_slow_write)
{
  const char *path;
  int code;
  if (mproc_args_parse(args, "si:t_slow_write", &path, &code) != 0)
    return BADARGS;
  mproc_test_sleep_ms(300);
  if (mproc_test_write_file(path, "done\n") != 0)
    return 2;
  return code;
}

/* Starts a daemonic blocked grandchild (pid written to @gpath) and a
 * non-daemonic slow one, and returns without joining either. */
MPROC_TARGET(t_unjoined)
{
  const char *gpath, *donepath;
  mproc_process_t *g = NULL, *n = NULL;
  char text[64];
  int use_exit = 0;
  if (mproc_args_parse(args, "ss|p:t_unjoined", &gpath, &donepath, &use_exit) !=
      0)
    return BADARGS;
  if (mproc_process_create(&g, t_block, NULL) != 0 ||
      mproc_process_set_daemon(g, 1) != 0 || mproc_process_start(g) != 0)
    return 2;
  if (mproc_process_create(&n, t_slow_write, "si", donepath, 3) != 0 ||
      mproc_process_start(n) != 0)
    return 3;
  snprintf(text, sizeof text, "%ld\n", mproc_process_pid(g));
  if (mproc_test_write_file(gpath, text) != 0)
    return 4;
  /* Deliberately neither joined nor freed: the exit must handle them,
   * whether the target returns or calls the C library's exit(). */
  if (use_exit)
    exit(0);
  return 0;
}

/* Not registered: only the fork method can run it. */
static int plain_target(mproc_args_t *args)
{
  (void)args;
  return 4;
}

/* Registered at run time by a test, after mproc_main(): a re-executed
 * child does not have it. */
static int late_target(mproc_args_t *args)
{
  (void)args;
  return 6;
}

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

/* Poll until @pid has ended, at most @timeout seconds: 1 if it did. */
static int wait_pid_gone(long pid, double timeout)
{
  double deadline = mproc_test_now() + timeout;
  for (;;) {
    if (mproc_test_pid_gone(pid))
      return 1;
    if (mproc_test_now() >= deadline)
      return 0;
    mproc_test_sleep_ms(10);
  }
}

static int needs_registration(mproc_start_method_t m)
{
  return m != MPROC_FORK;
}

/* ------------------------------------------------------------------ */
/* Arguments                                                           */
/* ------------------------------------------------------------------ */

static void test_args_and_kwargs(void)
{
  char text[16];
  unsigned char bytes[4] = {0, 1, 2, 255};
  mproc_process_t *p = NULL;

  /* The arguments are encoded at create: the caller's buffers may change
   * (or be freed) before start. */
  strcpy(text, "hello");
  CU_ASSERT_EQUAL_FATAL(mproc_process_create(&p, t_args, "isdy#pL", 42, text,
                                             2.5, bytes, (size_t)4, 1,
                                             (int64_t)1 << 40),
                        0);
  CU_ASSERT_EQUAL(
      mproc_process_set_kwargs(p, "{s:s,s:i}", "name", "egon", "age", 18), 0);
  memset(text, 'X', 5);
  memset(bytes, 0xee, sizeof bytes);
  CU_ASSERT_EQUAL(mproc_process_start(p), 0);
  EXPECT_EXIT(mproc_test_finish(p), 0);

  p = NULL;
  CU_ASSERT_EQUAL_FATAL(mproc_process_create(&p, t_args_kw, "i", 1), 0);
  CU_ASSERT_EQUAL(
      mproc_process_set_kwargs(p, "{s:s,s:i}", "name", "egon", "age", 18), 0);
  CU_ASSERT_EQUAL(mproc_process_start(p), 0);
  EXPECT_EXIT(mproc_test_finish(p), 0);
}

static void test_kwargs_errors(void)
{
  mproc_process_t *p = NULL;
  CU_ASSERT_EQUAL_FATAL(mproc_process_create(&p, t_return, "i", 0), 0);
  /* A kwargs format must be a map with string keys. */
  CU_ASSERT_EQUAL(mproc_process_set_kwargs(p, "i", 3), MPROC_EINVAL);
  CU_ASSERT_EQUAL(mproc_process_set_kwargs(p, "{i:i}", 1, 2), MPROC_EINVAL);
  CU_ASSERT_EQUAL(mproc_process_start(p), 0);
  CU_ASSERT_EQUAL(mproc_process_set_kwargs(p, "{s:i}", "a", 1), MPROC_ESTATE);
  EXPECT_EXIT(mproc_test_finish(p), 0);
  /* A NULL target or a bad format fails at create. */
  p = NULL;
  CU_ASSERT_EQUAL(mproc_process_create(&p, NULL, NULL), MPROC_EINVAL);
  mproc_process_free(p);
  p = NULL;
  CU_ASSERT_EQUAL(mproc_process_create(&p, t_return, "i?", 1), MPROC_EINVAL);
  mproc_process_free(p);
}

static void test_arg_type_mismatch(void)
{
  EXPECT_EXIT(mproc_test_run(t_typed, "s", "not an int"), 0);
  EXPECT_EXIT(mproc_test_run(t_typed, "d", 1.5), 0);
}

static void test_big_bytes(void)
{
  const size_t len = (size_t)16 << 20;
  unsigned char *buf = malloc(len);
  uint32_t state = 12345;
  mproc_process_t *p = NULL;
  CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
  for (size_t i = 0; i < len; i++)
    buf[i] = pattern_byte(&state);
  CU_ASSERT_EQUAL(mproc_process_create(&p, t_big, "y#LL", buf, len,
                                       (int64_t)len, (int64_t)12345),
                  0);
  free(buf); /* encoded already */
  if (p == NULL)
    return;
  CU_ASSERT_EQUAL(mproc_process_start(p), 0);
  EXPECT_EXIT(mproc_test_finish(p), 0);
}

/* ------------------------------------------------------------------ */
/* Exit codes, liveness, join                                          */
/* ------------------------------------------------------------------ */

static void test_exit_codes(void)
{
  EXPECT_EXIT(mproc_test_run(t_return, "i", 0), 0);
  EXPECT_EXIT(mproc_test_run(t_return, "i", 7), 7);
  EXPECT_EXIT(mproc_test_run(t_return, "i", 255), 255);
  EXPECT_EXIT(mproc_test_run(t_exit_nested, "i", 5), 5);
}

/* exitcode polls: it reaps an ended child without a join. */
static void test_exitcode_polls(void)
{
  mproc_process_t *p = mproc_test_start(t_return, "i", 3);
  double deadline = mproc_test_now() + 10.0;
  int code = MPROC_EXITCODE_NONE;
  if (p == NULL)
    return;
  while (mproc_process_exitcode(p, &code) == 0 && code == MPROC_EXITCODE_NONE &&
         mproc_test_now() < deadline)
    mproc_test_sleep_ms(5);
  CU_ASSERT_EQUAL(code, 3);
  CU_ASSERT_EQUAL(mproc_process_is_alive(p), 0);
  CU_ASSERT_EQUAL(mproc_process_join(p, 0), 0);
  EXPECT_EXIT(mproc_test_finish(p), 3);
}

static void test_lifecycle_states(void)
{
  mproc_process_t *p = NULL;
  int code = 0;
  CU_ASSERT_EQUAL_FATAL(mproc_process_create(&p, t_block, NULL), 0);
  CU_ASSERT_EQUAL(mproc_process_is_alive(p), 0);
  CU_ASSERT_EQUAL(mproc_process_pid(p), 0);
  CU_ASSERT_EQUAL(mproc_process_exitcode(p, &code), 0);
  CU_ASSERT_EQUAL(code, MPROC_EXITCODE_NONE);
  CU_ASSERT_EQUAL(mproc_process_start_method(p), mproc_get_start_method());

  CU_ASSERT_EQUAL_FATAL(mproc_process_start(p), 0);
  CU_ASSERT(mproc_process_pid(p) > 0);
  CU_ASSERT_EQUAL(mproc_process_is_alive(p), 1);
  code = 0;
  CU_ASSERT_EQUAL(mproc_process_exitcode(p, &code), 0);
  CU_ASSERT_EQUAL(code, MPROC_EXITCODE_NONE);

  CU_ASSERT_EQUAL(mproc_process_terminate(p), 0);
  CU_ASSERT_EQUAL(mproc_process_join(p, MPROC_TEST_JOIN_LIMIT), 0);
  CU_ASSERT_EQUAL(mproc_process_is_alive(p), 0);
  CU_ASSERT_EQUAL(mproc_process_exitcode(p, &code), 0);
  CU_ASSERT_EQUAL(code, -SIGTERM);
  /* Terminating an ended process is not an error (CPython: no-op). */
  CU_ASSERT_EQUAL(mproc_process_terminate(p), 0);
  CU_ASSERT_EQUAL(mproc_process_kill(p), 0);
  CU_ASSERT_EQUAL(mproc_process_exitcode(p, &code), 0);
  CU_ASSERT_EQUAL(code, -SIGTERM);
  /* pid stays readable after the end. */
  CU_ASSERT(mproc_process_pid(p) > 0);
  mproc_process_free(p);
}

static void test_terminate_and_kill(void)
{
  mproc_process_t *p = mproc_test_start(t_block, NULL);
  if (p != NULL) {
    CU_ASSERT_EQUAL(mproc_process_terminate(p), 0);
    EXPECT_EXIT(mproc_test_finish(p), -SIGTERM);
  }
  p = mproc_test_start(t_block, NULL);
  if (p != NULL) {
    CU_ASSERT_EQUAL(mproc_process_kill(p), 0);
    EXPECT_EXIT(mproc_test_finish(p), -SIGKILL);
  }
}

/* A crashed child reads the same everywhere: -SIGSEGV. */
static void test_crash_is_sigsegv(void)
{
  mproc_process_t *p = mproc_test_start(t_crash, NULL);
  if (p != NULL)
    EXPECT_EXIT(mproc_test_finish(p), -SIGSEGV);
}

static void test_join_timeout(void)
{
  mproc_process_t *p = mproc_test_start(t_block, NULL);
  double t0, dt;
  if (p == NULL)
    return;
  t0 = mproc_test_now();
  CU_ASSERT_EQUAL(mproc_process_join(p, 0), MPROC_ETIMEDOUT);
  CU_ASSERT_EQUAL(mproc_process_join(p, -1.0), MPROC_ETIMEDOUT);
  dt = mproc_test_now() - t0;
  CU_ASSERT(dt < 0.5);

  t0 = mproc_test_now();
  CU_ASSERT_EQUAL(mproc_process_join(p, 0.2), MPROC_ETIMEDOUT);
  dt = mproc_test_now() - t0;
  CU_ASSERT(dt >= 0.15);
  CU_ASSERT(dt < 5.0);
  CU_ASSERT_EQUAL(mproc_process_is_alive(p), 1);
  mproc_test_stop(p);

  /* MPROC_FOREVER waits for a child that ends by itself. */
  p = mproc_test_start(t_exit_nested, "i", 6);
  if (p == NULL)
    return;
  CU_ASSERT_EQUAL(mproc_process_join(p, MPROC_FOREVER), 0);
  CU_ASSERT_EQUAL(mproc_process_is_alive(p), 0);
  /* Joining again returns at once. */
  CU_ASSERT_EQUAL(mproc_process_join(p, 0), 0);
  EXPECT_EXIT(mproc_test_finish(p), 6);
}

/* ------------------------------------------------------------------ */
/* Errors where CPython raises                                         */
/* ------------------------------------------------------------------ */

static void test_state_errors(void)
{
  mproc_process_t *p = NULL;
  mproc_sentinel_t s;
  CU_ASSERT_EQUAL_FATAL(mproc_process_create(&p, t_block, NULL), 0);
  /* Before start: join/terminate/kill/sentinel are errors
   * (CPython: "can only join a started process" and friends). */
  CU_ASSERT_EQUAL(mproc_process_join(p, 0), MPROC_ESTATE);
  CU_ASSERT_EQUAL(mproc_process_terminate(p), MPROC_ESTATE);
  CU_ASSERT_EQUAL(mproc_process_kill(p), MPROC_ESTATE);
  CU_ASSERT_EQUAL(mproc_process_sentinel(p, &s), MPROC_ESTATE);
  CU_ASSERT_EQUAL(mproc_process_set_daemon(p, 0), 0);

  CU_ASSERT_EQUAL_FATAL(mproc_process_start(p), 0);
  /* Start twice, daemon after start, close while running. */
  CU_ASSERT_EQUAL(mproc_process_start(p), MPROC_ESTATE);
  CU_ASSERT_EQUAL(mproc_process_set_daemon(p, 1), MPROC_ESTATE);
  CU_ASSERT_EQUAL(mproc_process_daemon(p), 0);
  CU_ASSERT_EQUAL(mproc_process_close(p), MPROC_ESTATE);
  CU_ASSERT_EQUAL(mproc_process_is_alive(p), 1);
  CU_ASSERT_EQUAL(mproc_process_terminate(p), 0);
  CU_ASSERT_EQUAL(mproc_process_join(p, MPROC_TEST_JOIN_LIMIT), 0);
  /* Also after the end: a process object runs once. */
  CU_ASSERT_EQUAL(mproc_process_start(p), MPROC_ESTATE);
  mproc_process_free(p);
}

static void test_use_after_close(void)
{
  mproc_process_t *p = mproc_test_start(t_return, "i", 0);
  mproc_sentinel_t s;
  int code;
  if (p == NULL)
    return;
  CU_ASSERT_EQUAL(mproc_process_join(p, MPROC_TEST_JOIN_LIMIT), 0);
  CU_ASSERT_EQUAL(mproc_process_close(p), 0);
  CU_ASSERT_EQUAL(mproc_process_close(p), 0);
  CU_ASSERT_EQUAL(mproc_process_start(p), MPROC_ECLOSED);
  CU_ASSERT_EQUAL(mproc_process_join(p, 0), MPROC_ECLOSED);
  CU_ASSERT_EQUAL(mproc_process_is_alive(p), MPROC_ECLOSED);
  CU_ASSERT_EQUAL(mproc_process_pid(p), MPROC_ECLOSED);
  CU_ASSERT_EQUAL(mproc_process_exitcode(p, &code), MPROC_ECLOSED);
  CU_ASSERT_EQUAL(mproc_process_terminate(p), MPROC_ECLOSED);
  CU_ASSERT_EQUAL(mproc_process_kill(p), MPROC_ECLOSED);
  CU_ASSERT_EQUAL(mproc_process_sentinel(p, &s), MPROC_ECLOSED);
  CU_ASSERT_EQUAL(mproc_process_set_kwargs(p, "{s:i}", "a", 1), MPROC_ECLOSED);
  /* Name and daemon stay readable. */
  CU_ASSERT_PTR_NOT_NULL(mproc_process_name(p));
  CU_ASSERT_EQUAL(mproc_process_daemon(p), 0);
  mproc_process_free(p);

  /* Closing a process that never started is allowed (CPython too). */
  p = NULL;
  CU_ASSERT_EQUAL_FATAL(mproc_process_create(&p, t_return, "i", 0), 0);
  CU_ASSERT_EQUAL(mproc_process_close(p), 0);
  CU_ASSERT_EQUAL(mproc_process_start(p), MPROC_ECLOSED);
  mproc_process_free(p);
  mproc_process_free(NULL);
}

static void test_daemon_cannot_have_children(void)
{
  mproc_process_t *p = NULL;
  CU_ASSERT_EQUAL_FATAL(mproc_process_create(&p, t_try_child, "p", 1), 0);
  CU_ASSERT_EQUAL(mproc_process_set_daemon(p, 1), 0);
  CU_ASSERT_EQUAL(mproc_process_daemon(p), 1);
  CU_ASSERT_EQUAL(mproc_process_start(p), 0);
  EXPECT_EXIT(mproc_test_finish(p), -MPROC_EDAEMON);
  /* A non-daemonic child may have children. */
  EXPECT_EXIT(mproc_test_run(t_try_child, "p", 0), 100);
}

static void test_unregistered_target(void)
{
  mproc_process_t *p = NULL;
  mproc_start_method_t m = mproc_get_start_method();
  int rc;
  CU_ASSERT_PTR_NULL(mproc_target_name(plain_target));
  CU_ASSERT_STRING_EQUAL(mproc_target_name(t_return), "t_return");
  CU_ASSERT_EQUAL_FATAL(mproc_process_create(&p, plain_target, NULL), 0);
  rc = mproc_process_start(p);
  if (needs_registration(m)) {
    CU_ASSERT_EQUAL(rc, MPROC_ENOTREG);
    CU_ASSERT_PTR_NOT_NULL(strstr(mproc_last_error(), "MPROC_TARGET"));
    CU_ASSERT_EQUAL(mproc_process_is_alive(p), 0);
    mproc_process_free(p);
  } else {
    CU_ASSERT_EQUAL(rc, 0);
    if (rc == 0)
      EXPECT_EXIT(mproc_test_finish(p), 4);
  }
}

static void test_register(void)
{
  int code;
  CU_ASSERT_EQUAL(mproc_register(NULL, late_target), MPROC_EINVAL);
  CU_ASSERT_EQUAL(mproc_register("", late_target), MPROC_EINVAL);
  CU_ASSERT_EQUAL(mproc_register("late_target", NULL), MPROC_EINVAL);
  /* A name taken by another function. */
  CU_ASSERT_EQUAL(mproc_register("t_return", late_target), MPROC_EINVAL);
  CU_ASSERT_STRING_EQUAL(mproc_target_name(t_return), "t_return");
  CU_ASSERT_EQUAL(mproc_register("late_target", late_target), 0);
  CU_ASSERT_STRING_EQUAL(mproc_target_name(late_target), "late_target");
  /* Registered only in this process, after mproc_main(): a re-executed
   * child does not know the name and exits with MPROC_EXIT_NOTARGET; a
   * forked child calls the function itself. */
  code = mproc_test_run(late_target, NULL);
  if (needs_registration(mproc_get_start_method()))
    EXPECT_EXIT(code, MPROC_EXIT_NOTARGET);
  else
    EXPECT_EXIT(code, 6);
}

static void test_context_process(void)
{
  const mproc_context_t *ctx = mproc_get_context("spawn");
  mproc_process_t *p = NULL;
  CU_ASSERT_PTR_NOT_NULL_FATAL(ctx);
  /* An explicit context overrides the default start method. */
  CU_ASSERT_EQUAL_FATAL(mproc_context_process(ctx, &p, t_return, "i", 9), 0);
  CU_ASSERT_EQUAL(mproc_process_start_method(p), MPROC_SPAWN);
  CU_ASSERT_EQUAL(mproc_process_start(p), 0);
  EXPECT_EXIT(mproc_test_finish(p), 9);
  p = NULL;
  CU_ASSERT_EQUAL_FATAL(mproc_context_process(NULL, &p, t_return, "i", 1), 0);
  CU_ASSERT_EQUAL(mproc_process_start_method(p), mproc_get_start_method());
  mproc_process_free(p);
}

/* ------------------------------------------------------------------ */
/* Identity: names, parent, pid, authkey, daemon                       */
/* ------------------------------------------------------------------ */

static void test_names(void)
{
  mproc_process_t *a = NULL, *b = NULL;
  int na = -1, nb = -1;
  char tail;
  CU_ASSERT_STRING_EQUAL(mproc_process_name(mproc_current_process()),
                         "MainProcess");
  CU_ASSERT_EQUAL_FATAL(mproc_process_create(&a, t_name_is, "s", "x"), 0);
  CU_ASSERT_EQUAL_FATAL(mproc_process_create(&b, t_name_is, "s", "x"), 0);
  CU_ASSERT_EQUAL(sscanf(mproc_process_name(a), "Process-%d%c", &na, &tail), 1);
  CU_ASSERT_EQUAL(sscanf(mproc_process_name(b), "Process-%d%c", &nb, &tail), 1);
  CU_ASSERT(na >= 1);
  CU_ASSERT_EQUAL(nb, na + 1);
  CU_ASSERT_EQUAL(mproc_process_set_name(a, NULL), MPROC_EINVAL);
  CU_ASSERT_EQUAL(mproc_process_set_name(a, "worker"), 0);
  CU_ASSERT_STRING_EQUAL(mproc_process_name(a), "worker");
  mproc_process_free(a);
  mproc_process_free(b);

  /* The child's own name is the one the parent gave, default or set. */
  a = NULL;
  CU_ASSERT_EQUAL_FATAL(mproc_process_create(&a, t_name_is, "s", "custom"), 0);
  CU_ASSERT_EQUAL(mproc_process_set_name(a, "custom"), 0);
  CU_ASSERT_EQUAL(mproc_process_start(a), 0);
  EXPECT_EXIT(mproc_test_finish(a), 0);

  /* Grandchildren are named after their parent. */
  EXPECT_EXIT(mproc_test_run(t_grandchild_names, NULL), 0);
}

static void test_default_name_in_child(void)
{
  mproc_process_t *p = NULL;
  char want[128];
  CU_ASSERT_EQUAL_FATAL(mproc_process_create(&p, t_name_is, NULL), 0);
  snprintf(want, sizeof want, "%s", mproc_process_name(p));
  mproc_process_free(p);
  /* The next default name is one higher: create the child with it. */
  {
    int n = 0;
    CU_ASSERT_EQUAL(sscanf(want, "Process-%d", &n), 1);
    snprintf(want, sizeof want, "Process-%d", n + 1);
  }
  EXPECT_EXIT(mproc_test_run(t_name_is, "s", want), 0);
}

static void test_parent_process(void)
{
  CU_ASSERT_PTR_NULL(mproc_parent_process());
  CU_ASSERT_EQUAL(mproc_process_pid(mproc_current_process()),
                  mproc_test_getpid());
  EXPECT_EXIT(mproc_test_run(t_parent_check, "ls", mproc_test_getpid(),
                             mproc_process_name(mproc_current_process())),
              0);
}

static void test_pid_in_child(void)
{
  char path[512], text[64];
  mproc_process_t *p;
  long seen = -1;
  CU_ASSERT_EQUAL_FATAL(mproc_test_tmp_path(path, sizeof path), 0);
  p = mproc_test_start(t_write_pid, "s", path);
  if (p == NULL)
    return;
  CU_ASSERT_EQUAL(mproc_test_wait_file(path, text, sizeof text, 10.0), 0);
  CU_ASSERT_EQUAL(sscanf(text, "%ld", &seen), 1);
  CU_ASSERT_EQUAL(seen, mproc_process_pid(p));
  EXPECT_EXIT(mproc_test_finish(p), 0);
  mproc_test_remove(path);
}

static void test_authkey(void)
{
  const unsigned char *key = NULL, *pkey = NULL;
  size_t len = 0, plen = 0;
  unsigned char saved[64];
  mproc_process_t *p = NULL;

  CU_ASSERT_EQUAL_FATAL(
      mproc_process_authkey(mproc_current_process(), &key, &len), 0);
  CU_ASSERT_EQUAL_FATAL(len, 32);
  memcpy(saved, key, len);

  /* A new process's default key is the current process's. */
  CU_ASSERT_EQUAL_FATAL(
      mproc_process_create(&p, t_authkey_is, "y#", saved, (size_t)32), 0);
  CU_ASSERT_EQUAL(mproc_process_authkey(p, &pkey, &plen), 0);
  CU_ASSERT_EQUAL(plen, 32);
  CU_ASSERT(plen == 32 && memcmp(pkey, saved, 32) == 0);
  CU_ASSERT_EQUAL(mproc_process_start(p), 0);
  EXPECT_EXIT(mproc_test_finish(p), 0);

  /* A key set before start is the child's. */
  p = NULL;
  CU_ASSERT_EQUAL_FATAL(
      mproc_process_create(&p, t_authkey_is, "y#", "secret key", (size_t)10),
      0);
  CU_ASSERT_EQUAL(mproc_process_set_authkey(p, NULL, 3), MPROC_EINVAL);
  CU_ASSERT_EQUAL(mproc_process_set_authkey(p, "secret key", 10), 0);
  CU_ASSERT_EQUAL(mproc_process_start(p), 0);
  EXPECT_EXIT(mproc_test_finish(p), 0);

  /* ... and the parent's own key did not change. */
  CU_ASSERT_EQUAL(mproc_process_authkey(mproc_current_process(), &key, &len),
                  0);
  CU_ASSERT(len == 32 && memcmp(key, saved, 32) == 0);
}

static void test_daemon_flag(void)
{
  mproc_process_t *p = NULL;
  CU_ASSERT_EQUAL(mproc_process_daemon(mproc_current_process()), 0);
  CU_ASSERT_EQUAL_FATAL(mproc_process_create(&p, t_return, "i", 0), 0);
  CU_ASSERT_EQUAL(mproc_process_daemon(p), 0);
  CU_ASSERT_EQUAL(mproc_process_set_daemon(p, 1), 0);
  CU_ASSERT_EQUAL(mproc_process_daemon(p), 1);
  CU_ASSERT_EQUAL(mproc_process_set_daemon(p, 0), 0);
  CU_ASSERT_EQUAL(mproc_process_daemon(p), 0);
  mproc_process_free(p);
  /* Inheritance in a daemonic child is checked by t_try_child. */
}

/* ------------------------------------------------------------------ */
/* Sentinel, many processes, trees, active_children                    */
/* ------------------------------------------------------------------ */

static void test_sentinel(void)
{
  mproc_process_t *p = mproc_test_start(t_block, NULL);
  mproc_sentinel_t s = 0, s2 = 0;
  if (p == NULL)
    return;
  CU_ASSERT_EQUAL(mproc_process_sentinel(p, &s), 0);
  CU_ASSERT_EQUAL(mproc_process_sentinel(p, &s2), 0);
  CU_ASSERT_EQUAL(s, s2);
  CU_ASSERT_EQUAL(mproc_test_sentinel_wait(s, 0), 0);
  CU_ASSERT_EQUAL(mproc_test_sentinel_wait(s, 0.1), 0);
  CU_ASSERT_EQUAL(mproc_process_terminate(p), 0);
  CU_ASSERT_EQUAL(mproc_test_sentinel_wait(s, 10.0), 1);
  EXPECT_EXIT(mproc_test_finish(p), -SIGTERM);
}

static void test_hundred_processes(void)
{
  enum { N = 100 };
  mproc_process_t *p[N];
  int started = 0;
  for (int i = 0; i < N; i++) {
    p[i] = NULL;
    if (mproc_process_create(&p[i], t_return, "i", (i * 37) % 256) == 0 &&
        mproc_process_start(p[i]) == 0)
      started++;
  }
  CU_ASSERT_EQUAL(started, N);
  for (int i = 0; i < N; i++) {
    int code = MPROC_EXITCODE_NONE;
    if (p[i] == NULL)
      continue;
    if (mproc_process_pid(p[i]) > 0) {
      CU_ASSERT_EQUAL(mproc_process_join(p[i], MPROC_TEST_JOIN_LIMIT), 0);
      CU_ASSERT_EQUAL(mproc_process_exitcode(p[i], &code), 0);
      CU_ASSERT_EQUAL(code, (i * 37) % 256);
    }
    mproc_process_free(p[i]);
  }
}

static void test_tree(void)
{
  EXPECT_EXIT(mproc_test_run(t_tree, NULL), 12);
}

static int list_has(mproc_process_t **list, int n, mproc_process_t *p)
{
  for (int i = 0; i < n; i++)
    if (list[i] == p)
      return 1;
  return 0;
}

/* Poll mproc_active_children() until it reports @want, at most 10 s. */
static int wait_active(int want)
{
  double deadline = mproc_test_now() + 10.0;
  int n;
  while ((n = mproc_active_children(NULL, 0)) != want &&
         mproc_test_now() < deadline)
    mproc_test_sleep_ms(10);
  return n;
}

static void test_active_children(void)
{
  mproc_process_t *p[3] = {NULL, NULL, NULL}, *quick = NULL, *list[8];
  int n, code = 0;
  CU_ASSERT_EQUAL(mproc_active_children(NULL, 0), 0);
  for (int i = 0; i < 3; i++)
    p[i] = mproc_test_start(t_block, NULL);
  if (p[0] == NULL || p[1] == NULL || p[2] == NULL)
    goto out;
  n = mproc_active_children(list, 8);
  CU_ASSERT_EQUAL(n, 3);
  for (int i = 0; i < 3; i++)
    CU_ASSERT(list_has(list, n < 8 ? n : 8, p[i]));
  /* A cap smaller than the count lists fewer but counts all. */
  CU_ASSERT_EQUAL(mproc_active_children(list, 1), 3);

  /* Ended children are reaped by active_children, without a join. */
  CU_ASSERT_EQUAL(mproc_process_terminate(p[0]), 0);
  CU_ASSERT_EQUAL(wait_active(2), 2);
  CU_ASSERT_EQUAL(mproc_process_is_alive(p[0]), 0);
  CU_ASSERT_EQUAL(mproc_process_exitcode(p[0], &code), 0);
  CU_ASSERT_EQUAL(code, -SIGTERM);
  n = mproc_active_children(list, 8);
  CU_ASSERT_FALSE(list_has(list, n, p[0]));

  quick = mproc_test_start(t_return, "i", 3);
  CU_ASSERT_EQUAL(wait_active(2), 2);
  if (quick != NULL) {
    CU_ASSERT_EQUAL(mproc_process_exitcode(quick, &code), 0);
    CU_ASSERT_EQUAL(code, 3);
  }
out:
  for (int i = 0; i < 3; i++)
    mproc_test_stop(p[i]);
  mproc_test_finish(quick);
  CU_ASSERT_EQUAL(mproc_active_children(NULL, 0), 0);
}

/* ------------------------------------------------------------------ */
/* Start methods, CPU count                                            */
/* ------------------------------------------------------------------ */

static void test_cpu_count(void)
{
  int n = mproc_cpu_count();
  CU_ASSERT(n >= 1);
  CU_ASSERT(n <= mproc_test_online_cpus());
}

static void test_start_methods(void)
{
  mproc_start_method_t cur = mproc_get_start_method();
  const char *name = mproc_start_method_name(cur);
  const char *const *all = mproc_all_start_methods();
  const mproc_context_t *ctx;
  int found = 0, env = getenv("MPROC_START_METHOD") != NULL;

  CU_ASSERT_STRING_EQUAL(mproc_start_method_name(MPROC_FORK), "fork");
  CU_ASSERT_STRING_EQUAL(mproc_start_method_name(MPROC_SPAWN), "spawn");
  CU_ASSERT_STRING_EQUAL(mproc_start_method_name(MPROC_FORKSERVER),
                         "forkserver");
  CU_ASSERT_PTR_NOT_NULL_FATAL(all);
  for (; *all != NULL; all++)
    found += strcmp(*all, name) == 0;
  CU_ASSERT_EQUAL(found, 1);

  ctx = mproc_get_context(NULL);
  CU_ASSERT_PTR_NOT_NULL(ctx);
  if (ctx != NULL)
    CU_ASSERT_EQUAL(mproc_context_method(ctx), cur);
  ctx = mproc_get_context("spawn");
  CU_ASSERT_PTR_NOT_NULL(ctx);
  if (ctx != NULL)
    CU_ASSERT_EQUAL(mproc_context_method(ctx), MPROC_SPAWN);
  CU_ASSERT_PTR_NULL(mproc_get_context("bogus"));

  /* Set once; a second time needs force. */
  CU_ASSERT_EQUAL(mproc_set_start_method(name, 1), 0);
  CU_ASSERT_EQUAL(mproc_set_start_method(name, 0), MPROC_ESTATE);
  CU_ASSERT_EQUAL(mproc_set_start_method("spawn", 0), MPROC_ESTATE);
  CU_ASSERT_EQUAL(mproc_set_start_method("bogus", 1), MPROC_EINVAL);
  CU_ASSERT_EQUAL(mproc_set_start_method("bogus", 0), MPROC_EINVAL);
  CU_ASSERT_EQUAL(mproc_set_start_method("spawn", 1), 0);
  if (!env)
    CU_ASSERT_EQUAL(mproc_get_start_method(), MPROC_SPAWN);
  CU_ASSERT_EQUAL(mproc_set_start_method(name, 1), 0);
  CU_ASSERT_EQUAL(mproc_get_start_method(), cur);
}

/* ------------------------------------------------------------------ */
/* Lifetime edges: free while running, the bootstrap guard, exits      */
/* ------------------------------------------------------------------ */

static void test_free_running_is_reaped(void)
{
  mproc_process_t *p;
  long pid;
  p = mproc_test_start(t_block, NULL);
  if (p == NULL)
    return;
  pid = mproc_process_pid(p);
  CU_ASSERT(pid > 0);
  mproc_process_free(p);
  /* Freed children are counted but not listed. */
  CU_ASSERT_EQUAL(mproc_active_children(NULL, 0), 1);
  CU_ASSERT_EQUAL(mproc_test_kill_pid(pid, SIGTERM), 0);
  CU_ASSERT_EQUAL(wait_active(0), 0);
  CU_ASSERT(wait_pid_gone(pid, 10.0));
}

static void run_bomb_helper(const char *mode, const char *method, int want)
{
  const char *argv[] = {MPROC_TEST_BOMB_HELPER, mode, method, NULL};
  int code = -1000;
  CU_ASSERT_EQUAL_FATAL(
      mproc_test_run_program(MPROC_TEST_BOMB_HELPER, argv, &code), 0);
  if (code != want)
    printf("\nbomb_helper %s %s: exit code %d, expected %d\n", mode, method,
           code, want);
  CU_ASSERT_EQUAL(code, want);
}

static void test_bootstrap_guard(void)
{
  /* A spawned child starting a process before its mproc_main(). */
  run_bomb_helper("early", "spawn", -MPROC_EBOOTSTRAP);
  /* A program that never calls mproc_main() cannot use a method that
   * re-executes it; fork needs no guard. */
  run_bomb_helper("never", "spawn", -MPROC_EBOOTSTRAP);
  if (MPROC_TEST_POSIX) {
    run_bomb_helper("never", "forkserver", -MPROC_EBOOTSTRAP);
    run_bomb_helper("never", "fork", 0);
  }
}

static void test_daemon_dies_with_killed_parent(void)
{
  char path[512], text[64];
  mproc_process_t *a;
  long g = 0;
  int gone;
  CU_ASSERT_EQUAL_FATAL(mproc_test_tmp_path(path, sizeof path), 0);
  a = mproc_test_start(t_parent_of_daemon, "s", path);
  if (a == NULL)
    return;
  CU_ASSERT_EQUAL(mproc_test_wait_file(path, text, sizeof text, 10.0), 0);
  CU_ASSERT_EQUAL(sscanf(text, "%ld", &g), 1);
  CU_ASSERT_EQUAL(mproc_test_kill_pid(mproc_process_pid(a), SIGKILL), 0);
  EXPECT_EXIT(mproc_test_finish(a), -SIGKILL);
  if (g > 0) {
    gone = wait_pid_gone(g, 1.0);
    CU_ASSERT(gone);
    if (!gone) {
      printf("\ndaemonic grandchild %ld outlived its killed parent\n", g);
      (void)mproc_test_kill_pid(g, SIGKILL);
    }
  }
  mproc_test_remove(path);
}

static void check_exit_with_unjoined_children(int use_exit)
{
  char gpath[512], donepath[512], text[64];
  mproc_process_t *a;
  long g = 0;
  int rc, gone;
  CU_ASSERT_EQUAL_FATAL(mproc_test_tmp_path(gpath, sizeof gpath), 0);
  CU_ASSERT_EQUAL_FATAL(mproc_test_tmp_path(donepath, sizeof donepath), 0);
  a = mproc_test_start(t_unjoined, "ssp", gpath, donepath, use_exit);
  if (a == NULL)
    return;
  rc = mproc_process_join(a, 10.0);
  CU_ASSERT_EQUAL(rc, 0);
  if (rc == 0) {
    /* The non-daemonic grandchild was joined before the child exited. */
    CU_ASSERT_EQUAL(mproc_test_read_file(donepath, text, sizeof text), 0);
  }
  EXPECT_EXIT(mproc_test_finish(a), 0);
  CU_ASSERT_EQUAL(mproc_test_read_file(gpath, text, sizeof text), 0);
  if (sscanf(text, "%ld", &g) == 1 && g > 0) {
    gone = wait_pid_gone(g, 1.0);
    CU_ASSERT(gone);
    if (!gone)
      (void)mproc_test_kill_pid(g, SIGKILL);
  }
  mproc_test_remove(gpath);
  mproc_test_remove(donepath);
}

static void test_exit_with_unjoined_children(void)
{
  check_exit_with_unjoined_children(0);
  check_exit_with_unjoined_children(1); /* exit() instead of return */
}

/* ------------------------------------------------------------------ */

void mproc_test_register_process(void)
{
  static const mproc_test_case_t cases[] = {
      MPROC_TEST_CASE(test_args_and_kwargs),
      MPROC_TEST_CASE(test_kwargs_errors),
      MPROC_TEST_CASE(test_arg_type_mismatch),
      MPROC_TEST_CASE(test_big_bytes),
      MPROC_TEST_CASE(test_exit_codes),
      MPROC_TEST_CASE(test_exitcode_polls),
      MPROC_TEST_CASE(test_lifecycle_states),
      MPROC_TEST_CASE(test_terminate_and_kill),
      MPROC_TEST_CASE(test_crash_is_sigsegv),
      MPROC_TEST_CASE(test_join_timeout),
      MPROC_TEST_CASE(test_state_errors),
      MPROC_TEST_CASE(test_use_after_close),
      MPROC_TEST_CASE(test_daemon_cannot_have_children),
      MPROC_TEST_CASE(test_unregistered_target),
      MPROC_TEST_CASE(test_register),
      MPROC_TEST_CASE(test_context_process),
      MPROC_TEST_CASE(test_names),
      MPROC_TEST_CASE(test_default_name_in_child),
      MPROC_TEST_CASE(test_parent_process),
      MPROC_TEST_CASE(test_pid_in_child),
      MPROC_TEST_CASE(test_authkey),
      MPROC_TEST_CASE(test_daemon_flag),
      MPROC_TEST_CASE(test_sentinel),
      MPROC_TEST_CASE(test_hundred_processes),
      MPROC_TEST_CASE(test_tree),
      MPROC_TEST_CASE(test_active_children),
      MPROC_TEST_CASE(test_cpu_count),
      MPROC_TEST_CASE(test_start_methods),
      MPROC_TEST_CASE(test_free_running_is_reaped),
      MPROC_TEST_CASE(test_bootstrap_guard),
      MPROC_TEST_CASE(test_daemon_dies_with_killed_parent),
      MPROC_TEST_CASE(test_exit_with_unjoined_children),
      {NULL, NULL},
  };
  (void)mproc_test_add_suite("process", cases);
}
