/*
 * Pool, with CPython's _TestPool as the reference (apply, map, starmap,
 * async results, imap, callbacks, terminate, maxtasksperchild, many
 * workers), plus the faults CPython's pool hangs on: a worker killed or
 * crashing in the middle of a task.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* ---- tasks ---- */

MPROC_TARGET(p_sqr)
{
  int x;
  double wait = 0;

  if (mproc_args_parse(args, "i|d", &x, &wait) != 0)
    return 1;
  if (wait > 0)
    mproc_test_sleep_ms((int)(wait * 1000)); /* a slow task, by design */
  return mproc_return("i", x * x);
}

MPROC_TARGET(p_mul)
{
  int a, b;

  if (mproc_args_parse(args, "ii", &a, &b) != 0)
    return 1;
  return mproc_return("i", a * b);
}

MPROC_TARGET(p_raise)
{
  int x;

  if (mproc_args_parse(args, "i", &x) != 0)
    return 1;
  if (x == 3)
    return mproc_fail("ValueError: three is not allowed");
  return mproc_return("i", x);
}

MPROC_TARGET(p_pid)
{
  (void)args;
  return mproc_return("l", mproc_test_getpid());
}

MPROC_TARGET(p_sleep)
{
  double s;

  if (mproc_args_parse(args, "d", &s) != 0)
    return 1;
  mproc_test_sleep_ms((int)(s * 1000)); /* a slow task, by design */
  return 0;
}

/* Writes its pid into the named SharedMemory block, then blocks. */
MPROC_TARGET(p_report_and_block)
{
  const char *name;
  mproc_shm_t *m = NULL;

  if (mproc_args_parse(args, "s", &name) != 0 ||
      mproc_shm_open(&m, name, 0, 0) != 0)
    return 1;
  *(volatile int64_t *)mproc_shm_buf(m) = mproc_test_getpid();
  mproc_test_block_forever();
  return 0;
}

MPROC_TARGET(p_crash)
{
  volatile uintptr_t addr = 16; /* as t_crash: not NULL, for UBSan */

  (void)args;
  mproc_test_default_crash_handling();
  *(volatile int *)addr = 1;
  return 0;
}

/* A result that cannot be encoded: an object. */
MPROC_TARGET(p_bad_result)
{
  mproc_lock_t *l = NULL;
  int rc;

  (void)args;
  if (mproc_lock_create(&l) != 0)
    return 1;
  rc = mproc_return("o", l);
  mproc_lock_free(l);
  return rc;
}

static int init_value;

MPROC_TARGET(p_init)
{
  return mproc_args_parse(args, "i", &init_value);
}

MPROC_TARGET(p_get_init)
{
  (void)args;
  return mproc_return("i", init_value);
}

/* ---- helpers ---- */

static mproc_pool_t *new_pool(int n)
{
  mproc_pool_options_t o = {.processes = n};
  mproc_pool_t *p = NULL;

  CU_ASSERT_EQUAL(mproc_pool_create(&p, &o), 0);
  return p;
}

static void end_pool(mproc_pool_t *p)
{
  CU_ASSERT_EQUAL(mproc_pool_close(p), 0);
  CU_ASSERT_EQUAL(mproc_pool_join(p), 0);
  mproc_pool_free(p);
}

static mproc_items_t *range_items(int n)
{
  mproc_items_t *it = NULL;

  CU_ASSERT_EQUAL_FATAL(mproc_items_create(&it), 0);
  for (int i = 0; i < n; i++)
    CU_ASSERT_EQUAL(mproc_items_add(it, "i", i), 0);
  return it;
}

static int64_t int_at(mproc_args_t *r, size_t i)
{
  int64_t v = -1;

  if (mproc_value_int(mproc_args_at(r, i), &v) != 0)
    return -1;
  return v;
}

/* Whether @r is [f(0), f(1), ..., f(n-1)] for f = square. */
static int squares(mproc_args_t *r, int n)
{
  if (r == NULL || mproc_args_count(r) != (size_t)n)
    return 0;
  for (int i = 0; i < n; i++)
    if (int_at(r, (size_t)i) != (int64_t)i * i)
      return 0;
  return 1;
}

/* ---- tests ---- */

static void test_pool_apply(void)
{
  mproc_pool_t *p = new_pool(4);
  mproc_args_t *r = NULL;
  int v = 0;

  CU_ASSERT_EQUAL(mproc_pool_apply(p, &r, p_sqr, "i", 5), 0);
  CU_ASSERT_EQUAL(mproc_args_parse(r, "i", &v), 0);
  CU_ASSERT_EQUAL(v, 25);
  mproc_args_free(r);
  CU_ASSERT_EQUAL(mproc_pool_processes(p), 4);
  end_pool(p);
}

static void test_pool_map(void)
{
  mproc_pool_t *p = new_pool(4);
  mproc_items_t *it = range_items(100);
  mproc_args_t *r = NULL;

  CU_ASSERT_EQUAL(mproc_pool_map(p, &r, p_sqr, it, 20), 0);
  CU_ASSERT(squares(r, 100));
  mproc_args_free(r);
  r = NULL;
  CU_ASSERT_EQUAL(mproc_pool_map(p, &r, p_sqr, it, 0), 0); /* default */
  CU_ASSERT(squares(r, 100));
  mproc_args_free(r);
  mproc_items_free(it);
  end_pool(p);
}

static void test_pool_starmap(void)
{
  mproc_pool_t *p = new_pool(2);
  mproc_items_t *it = NULL, *bad = NULL;
  mproc_args_t *r = NULL;
  int ok = 1;

  CU_ASSERT_EQUAL_FATAL(mproc_items_create(&it), 0);
  for (int i = 0; i < 10; i++)
    CU_ASSERT_EQUAL(mproc_items_add(it, "[ii]", i, i + 1), 0);
  CU_ASSERT_EQUAL(mproc_pool_starmap(p, &r, p_mul, it, 3), 0);
  for (int i = 0; ok && i < 10; i++)
    ok = int_at(r, (size_t)i) == i * (i + 1);
  CU_ASSERT(ok && mproc_args_count(r) == 10);
  mproc_args_free(r);
  /* An item that is not a list of arguments fails its chunk. */
  CU_ASSERT_EQUAL_FATAL(mproc_items_create(&bad), 0);
  CU_ASSERT_EQUAL(mproc_items_add(bad, "i", 1), 0);
  CU_ASSERT_EQUAL(mproc_pool_starmap(p, &r, p_mul, bad, 1), MPROC_ETASK);
  /* An item is exactly one value. */
  CU_ASSERT_EQUAL(mproc_items_add(bad, "ii", 1, 2), MPROC_EINVAL);
  CU_ASSERT_EQUAL(mproc_items_count(bad), 1);
  mproc_items_free(bad);
  mproc_items_free(it);
  end_pool(p);
}

static void test_pool_async(void)
{
  mproc_pool_t *p = new_pool(2);
  mproc_async_t *a = NULL, *slow = NULL;
  mproc_args_t *r = NULL;
  int v = 0;

  CU_ASSERT_EQUAL(mproc_pool_apply_async(p, &a, NULL, p_sqr, "i", 7), 0);
  CU_ASSERT_EQUAL(mproc_async_get(a, MPROC_TEST_JOIN_LIMIT, &r), 0);
  CU_ASSERT_EQUAL(mproc_args_parse(r, "i", &v), 0);
  CU_ASSERT_EQUAL(v, 49);
  CU_ASSERT_EQUAL(mproc_async_ready(a), 1);
  CU_ASSERT_EQUAL(mproc_async_successful(a), 1);
  mproc_args_free(r);
  mproc_async_free(a);

  /* get(timeout) on a slow task: a distinct timeout status, then the
   * result still comes. */
  CU_ASSERT_EQUAL(mproc_pool_apply_async(p, &slow, NULL, p_sqr, "id", 6, 1.0),
                  0);
  CU_ASSERT_EQUAL(mproc_async_get(slow, 0.05, &r), MPROC_ETIMEDOUT);
  CU_ASSERT_PTR_NULL(r);
  CU_ASSERT_EQUAL(mproc_async_successful(slow), MPROC_ESTATE);
  CU_ASSERT_EQUAL(mproc_async_wait(slow, MPROC_TEST_JOIN_LIMIT), 0);
  CU_ASSERT_EQUAL(mproc_async_get(slow, 0, &r), 0);
  CU_ASSERT_EQUAL(mproc_args_parse(r, "i", &v), 0);
  CU_ASSERT_EQUAL(v, 36);
  mproc_args_free(r);
  mproc_async_free(slow);
  end_pool(p);
}

static void test_pool_errors_from_tasks(void)
{
  mproc_pool_t *p = new_pool(2);
  mproc_items_t *it = range_items(10);
  mproc_args_t *r = NULL;
  mproc_async_t *a = NULL;

  CU_ASSERT_EQUAL(mproc_pool_apply(p, &r, p_raise, "i", 3), MPROC_ETASK);
  CU_ASSERT_PTR_NOT_NULL(strstr(mproc_last_error(), "three is not allowed"));
  CU_ASSERT_EQUAL(mproc_pool_map(p, &r, p_raise, it, 2), MPROC_ETASK);
  CU_ASSERT_PTR_NOT_NULL(strstr(mproc_last_error(), "ValueError"));
  /* A target returning non-zero without a message. */
  CU_ASSERT_EQUAL(mproc_pool_apply(p, &r, p_mul, "i", 1), MPROC_ETASK);
  CU_ASSERT_PTR_NOT_NULL(strstr(mproc_last_error(), "p_mul"));
  /* A result that cannot be encoded fails the task; the worker lives. */
  CU_ASSERT_EQUAL(mproc_pool_apply(p, &r, p_bad_result, NULL), MPROC_ETASK);
  CU_ASSERT_EQUAL(mproc_pool_apply_async(p, &a, NULL, p_raise, "i", 3), 0);
  CU_ASSERT_EQUAL(mproc_async_wait(a, MPROC_TEST_JOIN_LIMIT), 0);
  CU_ASSERT_EQUAL(mproc_async_successful(a), 0);
  mproc_async_free(a);
  CU_ASSERT_EQUAL(mproc_pool_apply(p, &r, p_sqr, "i", 4), 0);
  mproc_args_free(r);
  mproc_items_free(it);
  end_pool(p);
}

static void test_pool_imap(void)
{
  mproc_pool_t *p = new_pool(4);
  mproc_items_t *it = range_items(1000);
  mproc_imap_t *im = NULL;
  mproc_args_t *r = NULL;
  int ok = 1, v, i;
  static char seen[1000];

  CU_ASSERT_EQUAL_FATAL(mproc_pool_imap(p, &im, p_sqr, it, 100, 1), 0);
  for (i = 0; ok && i < 1000; i++) {
    ok = mproc_imap_next(im, MPROC_TEST_JOIN_LIMIT, &r) == 0 &&
         mproc_args_parse(r, "i", &v) == 0 && v == i * i;
    mproc_args_free(r);
  }
  CU_ASSERT(ok);
  CU_ASSERT_EQUAL(mproc_imap_next(im, 0, &r), MPROC_ESTOP);
  mproc_imap_free(im);

  /* Unordered: every result exactly once. */
  memset(seen, 0, sizeof seen);
  CU_ASSERT_EQUAL_FATAL(mproc_pool_imap(p, &im, p_sqr, it, 53, 0), 0);
  for (i = 0; ok && i < 1000; i++) {
    int root = 0;
    ok = mproc_imap_next(im, MPROC_TEST_JOIN_LIMIT, &r) == 0 &&
         mproc_args_parse(r, "i", &v) == 0;
    while (ok && root * root < v)
      root++;
    ok = ok && root < 1000 && root * root == v && !seen[root];
    if (ok)
      seen[root] = 1;
    mproc_args_free(r);
  }
  CU_ASSERT(ok);
  CU_ASSERT_EQUAL(mproc_imap_next(im, 0, &r), MPROC_ESTOP);
  mproc_imap_free(im);

  /* A failing item is reported at its place, then iteration goes on. */
  mproc_items_free(it);
  it = range_items(6);
  CU_ASSERT_EQUAL_FATAL(mproc_pool_imap(p, &im, p_raise, it, 1, 1), 0);
  for (i = 0; i < 6; i++) {
    int rc = mproc_imap_next(im, MPROC_TEST_JOIN_LIMIT, &r);
    if (i == 3) {
      CU_ASSERT_EQUAL(rc, MPROC_ETASK);
    } else {
      CU_ASSERT(rc == 0 && mproc_args_parse(r, "i", &v) == 0 && v == i);
    }
    mproc_args_free(r);
  }
  CU_ASSERT_EQUAL(mproc_imap_next(im, 0, &r), MPROC_ESTOP);
  mproc_imap_free(im);
  mproc_items_free(it);
  end_pool(p);
}

static void test_pool_empty(void)
{
  mproc_pool_t *p = new_pool(2);
  mproc_items_t *it = range_items(0);
  mproc_args_t *r = NULL;
  mproc_imap_t *im = NULL;

  CU_ASSERT_EQUAL(mproc_pool_map(p, &r, p_sqr, it, 0), 0);
  CU_ASSERT(r != NULL && mproc_args_count(r) == 0);
  mproc_args_free(r);
  CU_ASSERT_EQUAL(mproc_pool_imap(p, &im, p_sqr, it, 0, 1), 0);
  CU_ASSERT_EQUAL(mproc_imap_next(im, 1, &r), MPROC_ESTOP);
  mproc_imap_free(im);
  mproc_items_free(it);
  end_pool(p);
}

typedef struct seen {
  int results, errors, last_status;
  int64_t value;
  size_t progress_calls, progress_done, progress_total;
} seen_t;

static void on_result(mproc_args_t *r, void *ud)
{
  seen_t *s = ud;
  s->results++;
  s->value = mproc_args_count(r) == 1 ? int_at(r, 0) : -2;
}

static void on_error(int status, const char *msg, void *ud)
{
  seen_t *s = ud;
  (void)msg;
  s->errors++;
  s->last_status = status;
}

static void on_progress(size_t done, size_t total, void *ud)
{
  seen_t *s = ud;
  s->progress_calls++;
  s->progress_done = done;
  s->progress_total = total;
}

static void test_pool_callbacks(void)
{
  mproc_pool_t *p = new_pool(2);
  seen_t s = {0};
  mproc_callbacks_t cb = {on_result, on_error, on_progress, &s};
  mproc_async_t *a = NULL, *b = NULL, *m = NULL;
  mproc_items_t *it = range_items(40);

  CU_ASSERT_EQUAL(mproc_pool_apply_async(p, &a, &cb, p_sqr, "i", 7), 0);
  CU_ASSERT_EQUAL(mproc_pool_apply_async(p, &b, &cb, p_raise, "i", 3), 0);
  CU_ASSERT_EQUAL(mproc_pool_map_async(p, &m, &cb, p_sqr, it, 10), 0);
  end_pool(p); /* close + join: every callback has run */
  CU_ASSERT_EQUAL(s.errors, 1);
  CU_ASSERT_EQUAL(s.last_status, MPROC_ETASK);
  CU_ASSERT_EQUAL(s.results, 2); /* the apply and the map */
  CU_ASSERT_EQUAL(s.progress_calls, 4);
  CU_ASSERT_EQUAL(s.progress_done, 40);
  CU_ASSERT_EQUAL(s.progress_total, 40);
  CU_ASSERT_EQUAL(mproc_async_ready(m), 1);
  mproc_async_free(a);
  mproc_async_free(b);
  mproc_async_free(m);
  mproc_items_free(it);
}

static int not_registered(mproc_args_t *args)
{
  (void)args;
  return 0;
}

static void test_pool_invalid(void)
{
  mproc_pool_options_t o = {.processes = -1};
  mproc_pool_t *p = NULL;
  mproc_args_t *r = NULL;
  mproc_async_t *a = NULL;
  mproc_lock_t *l = NULL;
  mproc_items_t *it = NULL;

  CU_ASSERT_EQUAL(mproc_pool_create(&p, &o), MPROC_EINVAL);
  CU_ASSERT_PTR_NULL(p);
  o.processes = 1;
  o.maxtasksperchild = -1;
  CU_ASSERT_EQUAL(mproc_pool_create(&p, &o), MPROC_EINVAL);
  o.maxtasksperchild = 0;
  o.initializer = not_registered;
  CU_ASSERT_EQUAL(mproc_pool_create(&p, &o), MPROC_ENOTREG);
  CU_ASSERT_PTR_NULL(p);
  p = new_pool(1);
  CU_ASSERT_EQUAL(mproc_pool_join(p), MPROC_ESTATE); /* still running */
  CU_ASSERT_EQUAL(mproc_pool_apply(p, &r, not_registered, NULL), MPROC_ENOTREG);
  /* Objects travel only through inheritance. */
  CU_ASSERT_EQUAL_FATAL(mproc_lock_create(&l), 0);
  CU_ASSERT_EQUAL(mproc_pool_apply(p, &r, p_sqr, "o", l), MPROC_ETYPE);
  CU_ASSERT_EQUAL_FATAL(mproc_items_create(&it), 0);
  CU_ASSERT_EQUAL(mproc_items_add(it, "o", l), MPROC_ETYPE);
  CU_ASSERT_EQUAL(mproc_items_count(it), 0);
  mproc_items_free(it);
  mproc_lock_free(l);
  CU_ASSERT_EQUAL(mproc_pool_close(p), 0);
  CU_ASSERT_EQUAL(mproc_pool_apply_async(p, &a, NULL, p_sqr, "i", 1),
                  MPROC_ESTATE);
  CU_ASSERT_PTR_NULL(a);
  CU_ASSERT_EQUAL(mproc_pool_join(p), 0);
  mproc_pool_free(p);
}

static void test_pool_initializer(void)
{
  mproc_pool_options_t o = {
      .processes = 2, .initializer = p_init, .initargs = "i"};
  mproc_pool_t *p = NULL;
  mproc_args_t *r = NULL;
  int v = 0;

  CU_ASSERT_EQUAL_FATAL(mproc_pool_create(&p, &o, 42), 0);
  CU_ASSERT_EQUAL(mproc_pool_apply(p, &r, p_get_init, NULL), 0);
  CU_ASSERT_EQUAL(mproc_args_parse(r, "i", &v), 0);
  CU_ASSERT_EQUAL(v, 42);
  mproc_args_free(r);
  end_pool(p);
}

/* CPython's test_terminate: many sleeping tasks, terminate at once; the
 * outstanding results fail instead of hanging. */
static void test_pool_terminate(void)
{
  mproc_pool_t *p = new_pool(4);
  mproc_items_t *it = NULL;
  mproc_async_t *a = NULL;
  mproc_args_t *r = NULL;
  double t0;

  CU_ASSERT_EQUAL_FATAL(mproc_items_create(&it), 0);
  for (int i = 0; i < 10000; i++)
    mproc_items_add(it, "d", 0.2);
  CU_ASSERT_EQUAL(mproc_pool_map_async(p, &a, NULL, p_sleep, it, 1), 0);
  t0 = mproc_test_now();
  CU_ASSERT_EQUAL(mproc_pool_terminate(p), 0);
  CU_ASSERT(mproc_test_now() - t0 < 10);
  CU_ASSERT_EQUAL(mproc_async_get(a, 5, &r), MPROC_ECLOSED);
  CU_ASSERT_EQUAL(mproc_pool_join(p), 0);
  mproc_pool_free(p);
  mproc_async_free(a);
  mproc_items_free(it);
}

/* Freeing a running pool terminates it, as CPython's `with` does. */
static void test_pool_free_running(void)
{
  mproc_pool_t *p = new_pool(2);
  mproc_async_t *a = NULL;
  mproc_args_t *r = NULL;

  CU_ASSERT_EQUAL(mproc_pool_apply_async(p, &a, NULL, p_sleep, "d", 30.0), 0);
  mproc_pool_free(p);
  CU_ASSERT_EQUAL(mproc_async_get(a, 5, &r), MPROC_ECLOSED);
  mproc_async_free(a);
}

/* maxtasksperchild=10 over 100 tasks: workers are replaced, nothing is
 * lost. */
static void test_pool_maxtasksperchild(void)
{
  mproc_pool_options_t o = {.processes = 2, .maxtasksperchild = 10};
  mproc_pool_t *p = NULL;
  mproc_items_t *it = range_items(100);
  mproc_args_t *r = NULL;
  int64_t pids[100];
  int distinct = 0, most = 0;

  CU_ASSERT_EQUAL_FATAL(mproc_pool_create(&p, &o), 0);
  CU_ASSERT_EQUAL(mproc_pool_map(p, &r, p_pid, it, 1), 0);
  CU_ASSERT_EQUAL_FATAL(mproc_args_count(r), 100);
  for (int i = 0; i < 100; i++) {
    int dup = 0, same = 0;
    pids[i] = int_at(r, (size_t)i);
    for (int k = 0; k <= i; k++) {
      dup |= k < i && pids[k] == pids[i];
      same += pids[k] == pids[i];
    }
    distinct += !dup;
    most = same > most ? same : most;
  }
  /* No worker ran more than 10 tasks; every worker but the (at most two)
   * still alive at the end ran exactly 10: 10 or 11 workers in all. */
  CU_ASSERT(most <= 10);
  CU_ASSERT(distinct >= 10 && distinct <= 11);
  mproc_args_free(r);
  mproc_items_free(it);
  end_pool(p);
}

/* CPython's test_pool_worker_lifetime_early_close and the 200-worker sum
 * of squares. */
static void test_pool_many_workers(void)
{
  mproc_pool_t *p = new_pool(200);
  mproc_items_t *it = range_items(1000);
  mproc_args_t *r = NULL;
  int64_t sum = 0;

  CU_ASSERT_EQUAL(mproc_pool_map(p, &r, p_sqr, it, 0), 0);
  for (size_t i = 0; r != NULL && i < mproc_args_count(r); i++)
    sum += int_at(r, i);
  CU_ASSERT_EQUAL(sum, 332833500);
  mproc_args_free(r);
  mproc_items_free(it);
  end_pool(p);
}

/* A worker SIGKILLed in the middle of a task: that task fails with the
 * worker-died status at once, every other task completes, and the pool
 * goes on with a new worker. */
static void test_pool_worker_killed(void)
{
  mproc_pool_t *p = new_pool(2);
  mproc_shm_t *m = NULL;
  mproc_async_t *victim = NULL;
  mproc_items_t *it = range_items(50);
  mproc_async_t *rest = NULL;
  mproc_args_t *r = NULL;
  volatile int64_t *slot;
  double end;

  CU_ASSERT_EQUAL_FATAL(mproc_shm_open(&m, NULL, 1, 64), 0);
  slot = mproc_shm_buf(m);
  CU_ASSERT_EQUAL(mproc_pool_apply_async(p, &victim, NULL, p_report_and_block,
                                         "s", mproc_shm_name(m)),
                  0);
  CU_ASSERT_EQUAL(mproc_pool_map_async(p, &rest, NULL, p_sqr, it, 5), 0);
  end = mproc_test_now() + MPROC_TEST_JOIN_LIMIT;
  while (*slot == 0 && mproc_test_now() < end)
    mproc_test_sleep_ms(5); /* pacing a poll */
  CU_ASSERT_FATAL(*slot != 0);
  CU_ASSERT_EQUAL(mproc_test_kill_pid((long)*slot, SIGKILL), 0);
  CU_ASSERT_EQUAL(mproc_async_get(victim, MPROC_TEST_JOIN_LIMIT, &r),
                  MPROC_EWORKER);
  CU_ASSERT_PTR_NOT_NULL(strstr(mproc_last_error(), "signal 9"));
  CU_ASSERT_EQUAL(mproc_async_get(rest, MPROC_TEST_JOIN_LIMIT, &r), 0);
  CU_ASSERT(squares(r, 50));
  mproc_args_free(r);
  r = NULL;
  CU_ASSERT_EQUAL(mproc_pool_apply(p, &r, p_sqr, "i", 3), 0);
  mproc_args_free(r);
  mproc_async_free(victim);
  mproc_async_free(rest);
  mproc_items_free(it);
  mproc_shm_close(m);
  mproc_shm_unlink(m);
  mproc_shm_free(m);
  end_pool(p);
}

static void test_pool_worker_crashes(void)
{
  mproc_pool_t *p = new_pool(2);
  mproc_args_t *r = NULL;
  mproc_items_t *it = range_items(20);

  CU_ASSERT_EQUAL(mproc_pool_apply(p, &r, p_crash, NULL), MPROC_EWORKER);
  CU_ASSERT_PTR_NOT_NULL(strstr(mproc_last_error(), "died"));
  CU_ASSERT_EQUAL(mproc_pool_map(p, &r, p_sqr, it, 3), 0);
  CU_ASSERT(squares(r, 20));
  mproc_args_free(r);
  mproc_items_free(it);
  end_pool(p);
}

void mproc_test_register_pool(void)
{
  static const mproc_test_case_t cases[] = {
      MPROC_TEST_CASE(test_pool_apply),
      MPROC_TEST_CASE(test_pool_map),
      MPROC_TEST_CASE(test_pool_starmap),
      MPROC_TEST_CASE(test_pool_async),
      MPROC_TEST_CASE(test_pool_errors_from_tasks),
      MPROC_TEST_CASE(test_pool_imap),
      MPROC_TEST_CASE(test_pool_empty),
      MPROC_TEST_CASE(test_pool_callbacks),
      MPROC_TEST_CASE(test_pool_invalid),
      MPROC_TEST_CASE(test_pool_initializer),
      MPROC_TEST_CASE(test_pool_terminate),
      MPROC_TEST_CASE(test_pool_free_running),
      MPROC_TEST_CASE(test_pool_maxtasksperchild),
      MPROC_TEST_CASE(test_pool_many_workers),
      MPROC_TEST_CASE(test_pool_worker_killed),
      MPROC_TEST_CASE(test_pool_worker_crashes),
      {NULL, NULL}};

  mproc_test_add_suite("pool", cases);
}
