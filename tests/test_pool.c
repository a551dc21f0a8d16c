/*
 * Pool, with CPython's _TestPool as the reference (apply, map, starmap,
 * async results, imap, callbacks, terminate, maxtasksperchild, many
 * workers, keyword arguments), plus the faults CPython's pool hangs on: a
 * worker killed or crashing in the middle of a task (also in the middle
 * of a batch), a hung worker with work queued behind it, a task timeout;
 * and the typed-array map.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "pool/sched.h" /* the scheduler's counters, to see batching */

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

/* With MPROC_POOL_BACKEND=mpi, under mpirun (the mpi.pool entry) or in
 * spawn mode (mpi.spawn.pool), the pools run on MPI ranks: a test of what only
 * local workers have (killing a worker kills the MPI job; maxtasksperchild is
 * refused; a sent task is not taken back) says it is skipped, and why.
 * test_pool_mpi.c tests what the MPI backend does instead. */
static int skip_on_mpi(const char *why)
{
  const char *b = getenv("MPROC_POOL_BACKEND");

  if (b == NULL || strcmp(b, "mpi") != 0)
    return 0;
  printf("skipped: MPI backend: %s\n", why);
  return 1;
}

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
  /* The result may be dropped (a Python caller ignoring apply()'s
   * return): the call still waits, and still fails as the task does. */
  CU_ASSERT_EQUAL(mproc_pool_apply(p, NULL, p_sqr, "i", 6), 0);
  CU_ASSERT_EQUAL(mproc_pool_apply(p, NULL, p_raise, "i", 3), MPROC_ETASK);
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
  if (skip_on_mpi("maxtasksperchild is refused (test_pool_mpi_limits)"))
    return;
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
  if (skip_on_mpi("a killed rank ends the MPI job (Open MPI 4.1 has no ULFM)"))
    return;
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

/* Counts the warnings that name the task a dying worker was running. */
static void crash_logged(int level, const char *who, const char *msg, void *ctx)
{
  (void)who;
  if (level == MPROC_LOG_WARNING && strstr(msg, "died") != NULL &&
      strstr(msg, "while running p_crash") != NULL)
    atomic_fetch_add((atomic_int *)ctx, 1);
}

static void test_pool_worker_crashes(void)
{
  if (skip_on_mpi("a crashed rank ends the MPI job (Open MPI 4.1 has no ULFM)"))
    return;
  mproc_pool_t *p = new_pool(2);
  mproc_args_t *r = NULL;
  mproc_items_t *it = range_items(20);
  atomic_int warned = 0;

  /* The pool says which worker died while running what, as a warning. */
  CU_ASSERT_EQUAL(mproc_log_set_handler(crash_logged, &warned), 0);
  CU_ASSERT_EQUAL(mproc_pool_apply(p, &r, p_crash, NULL), MPROC_EWORKER);
  CU_ASSERT_PTR_NOT_NULL(strstr(mproc_last_error(), "died"));
  CU_ASSERT_EQUAL(atomic_load(&warned), 1);
  mproc_log_set_handler(NULL, NULL);
  CU_ASSERT_EQUAL(mproc_pool_map(p, &r, p_sqr, it, 3), 0);
  CU_ASSERT(squares(r, 20));
  mproc_args_free(r);
  mproc_items_free(it);
  end_pool(p);
}

/* ---- batching, stealing, timeouts ---- */

/* A board of int64 slots in a named block, shared with tasks by name. */
static mproc_shm_t *new_board(void)
{
  mproc_shm_t *m = NULL;

  CU_ASSERT_EQUAL(mproc_shm_open(&m, NULL, 1, 16 * sizeof(int64_t)), 0);
  return m;
}

static void free_board(mproc_shm_t *m)
{
  mproc_shm_close(m);
  mproc_shm_unlink(m);
  mproc_shm_free(m);
}

/* Wait (pacing a poll) until slot @i of @m is not 0; its value, or 0. */
static int64_t board_wait(mproc_shm_t *m, int i)
{
  volatile int64_t *slot = (int64_t *)mproc_shm_buf(m) + i;
  double end = mproc_test_now() + MPROC_TEST_JOIN_LIMIT;

  while (*slot == 0 && mproc_test_now() < end)
    mproc_test_sleep_ms(2);
  return *slot;
}

/* Say it started (slot 2), then wait until slot 0 opens the gate. */
MPROC_TARGET(p_gate)
{
  const char *name;
  mproc_shm_t *m = NULL;
  volatile int64_t *b;

  if (mproc_args_parse(args, "s", &name) != 0 ||
      mproc_shm_open(&m, name, 0, 0) != 0)
    return 1;
  b = mproc_shm_buf(m);
  b[2] = 1;
  while (b[0] == 0)
    mproc_test_sleep_ms(2); /* pacing a poll of the gate */
  mproc_shm_free(m);
  return 0;
}

/* Write its pid into slot @i of block @name, then block until killed. */
MPROC_TARGET(p_report_at)
{
  const char *name;
  int i;
  mproc_shm_t *m = NULL;

  if (mproc_args_parse(args, "si", &name, &i) != 0 ||
      mproc_shm_open(&m, name, 0, 0) != 0)
    return 1;
  ((volatile int64_t *)mproc_shm_buf(m))[i] = mproc_test_getpid();
  mproc_test_block_forever();
  return 0;
}

/* One worker, held by a gate while 50 tasks queue up; they then reach it
 * in one batch, and the worker is killed at task 5 of them: only that
 * task fails, the 44 batched behind it are taken back and complete on
 * the replacement. */
static void test_pool_batch_worker_killed(void)
{
  if (skip_on_mpi("a killed rank ends the MPI job (Open MPI 4.1 has no ULFM)"))
    return;
  mproc_pool_t *p = new_pool(1);
  mproc_shm_t *m = new_board();
  mproc_async_t *gate = NULL, *ar[50] = {NULL};
  mproc__pool_stats_t st;
  mproc_args_t *r = NULL;
  int v;

  CU_ASSERT_EQUAL_FATAL(
      mproc_pool_apply_async(p, &gate, NULL, p_gate, "s", mproc_shm_name(m)),
      0);
  CU_ASSERT_FATAL(board_wait(m, 2) == 1);
  for (int i = 0; i < 50; i++)
    CU_ASSERT_EQUAL(
        i == 5 ? mproc_pool_apply_async(p, &ar[i], NULL, p_report_at, "si",
                                        mproc_shm_name(m), 1)
               : mproc_pool_apply_async(p, &ar[i], NULL, p_sqr, "i", i),
        0);
  ((volatile int64_t *)mproc_shm_buf(m))[0] = 1; /* open the gate */
  int64_t pid = board_wait(m, 1);
  CU_ASSERT_FATAL(pid != 0);
  mproc__pool_get_stats(p, &st);
  CU_ASSERT(st.max_batch >= 10); /* they did travel together */
  CU_ASSERT_EQUAL(mproc_test_kill_pid((long)pid, SIGKILL), 0);
  for (int i = 0; i < 50; i++) {
    int rc = mproc_async_get(ar[i], MPROC_TEST_JOIN_LIMIT, &r);
    if (i == 5) {
      CU_ASSERT_EQUAL(rc, MPROC_EWORKER);
      CU_ASSERT_PTR_NOT_NULL(strstr(mproc_last_error(), "signal 9"));
    } else {
      CU_ASSERT(rc == 0 && mproc_args_parse(r, "i", &v) == 0 && v == i * i);
    }
    mproc_args_free(r);
    r = NULL;
    mproc_async_free(ar[i]);
  }
  mproc__pool_get_stats(p, &st);
  CU_ASSERT(st.reclaimed >= 44); /* those behind the dead task */
  CU_ASSERT_EQUAL(mproc_async_get(gate, MPROC_TEST_JOIN_LIMIT, &r), 0);
  mproc_args_free(r);
  mproc_async_free(gate);
  free_board(m);
  end_pool(p);
}

/* A task that hangs holds its worker, not the work queued behind it: the
 * other worker takes that (it waited forever before). */
static void test_pool_hung_worker_frees_queue(void)
{
  if (skip_on_mpi("a task sent to a rank is not taken back"))
    return;
  mproc_pool_t *p = new_pool(2);
  mproc_shm_t *m = new_board();
  mproc_items_t *it = range_items(20);
  mproc_async_t *hung = NULL, *rest = NULL;
  mproc_args_t *r = NULL;

  CU_ASSERT_EQUAL(mproc_pool_apply_async(p, &hung, NULL, p_report_at, "si",
                                         mproc_shm_name(m), 1),
                  0);
  CU_ASSERT_EQUAL(mproc_pool_map_async(p, &rest, NULL, p_sqr, it, 1), 0);
  CU_ASSERT_EQUAL(mproc_async_get(rest, MPROC_TEST_JOIN_LIMIT, &r), 0);
  CU_ASSERT(squares(r, 20));
  CU_ASSERT(board_wait(m, 1) != 0);
  CU_ASSERT_EQUAL(mproc_async_ready(hung), 0);
  mproc_args_free(r);
  mproc_pool_free(p); /* terminates the hung worker */
  CU_ASSERT_EQUAL(mproc_async_get(hung, 5, &r), MPROC_ECLOSED);
  mproc_async_free(hung);
  mproc_async_free(rest);
  mproc_items_free(it);
  free_board(m);
}

/* An initializer that blocks in the first worker to run it (it reports
 * its pid in slot 1 of block @name); the others go on. */
MPROC_TARGET(p_init_first_hangs)
{
  const char *name;
  mproc_shm_t *m = NULL;
  volatile int64_t *b;

  if (mproc_args_parse(args, "s", &name) != 0 ||
      mproc_shm_open(&m, name, 0, 0) != 0)
    return 1;
  b = mproc_shm_buf(m);
  if (__atomic_fetch_add(&b[3], 1, __ATOMIC_SEQ_CST) == 0) {
    b[1] = mproc_test_getpid();
    mproc_test_block_forever();
  }
  mproc_shm_free(m);
  return 0;
}

/* A worker stuck before its first task (in its initializer here) does
 * not hold the work given to it: an idle worker takes it, and the stuck
 * one gets no more. */
static void test_pool_stuck_worker_frees_queue(void)
{
  if (skip_on_mpi("a task sent to a rank is not taken back"))
    return;
  mproc_shm_t *m = new_board();
  mproc_pool_options_t o = {
      .processes = 2, .initializer = p_init_first_hangs, .initargs = "s"};
  mproc_pool_t *p = NULL;
  mproc_items_t *it = range_items(40);
  mproc__pool_stats_t st;
  mproc_args_t *r = NULL;

  CU_ASSERT_EQUAL_FATAL(mproc_pool_create(&p, &o, mproc_shm_name(m)), 0);
  for (int round = 0; round < 3; round++) {
    CU_ASSERT_EQUAL(mproc_pool_map(p, &r, p_sqr, it, 1), 0);
    CU_ASSERT(squares(r, 40));
    mproc_args_free(r);
    r = NULL;
  }
  CU_ASSERT(board_wait(m, 1) != 0); /* one did hang */
  mproc__pool_get_stats(p, &st);
  CU_ASSERT(st.reclaimed >= 1);
  mproc_pool_free(p); /* terminates the stuck worker */
  mproc_items_free(it);
  free_board(m);
}

/* A task past the pool's task_timeout fails with MPROC_ETIMEDOUT, its
 * worker is replaced, the pool goes on; in a map, the item's chunk fails
 * the map. */
static void test_pool_task_timeout(void)
{
  if (skip_on_mpi("a rank is not killed (test_pool_mpi_task_timeout)"))
    return;
  mproc_pool_options_t o = {.processes = 2, .task_timeout = 0.5};
  mproc_pool_t *p = NULL;
  mproc_items_t *it = NULL;
  mproc_args_t *r = NULL;
  mproc_async_t *a = NULL;
  long before[2] = {0}, after[2] = {0};
  double t0;
  int v;

  CU_ASSERT_EQUAL_FATAL(mproc_pool_create(&p, &o), 0);
  CU_ASSERT_EQUAL(mproc_pool_worker_pids(p, before, 2), 2);
  t0 = mproc_test_now();
  CU_ASSERT_EQUAL(mproc_pool_apply_async(p, &a, NULL, p_sleep, "d", 60.0), 0);
  CU_ASSERT_EQUAL(mproc_async_get(a, MPROC_TEST_JOIN_LIMIT, &r),
                  MPROC_ETIMEDOUT);
  CU_ASSERT_PTR_NOT_NULL(strstr(mproc_last_error(), "timed out"));
  CU_ASSERT_EQUAL(mproc_async_ready(a), 1); /* the task's own status */
  CU_ASSERT(mproc_test_now() - t0 < MPROC_TEST_JOIN_LIMIT / 2);
  mproc_async_free(a);
  /* The pool goes on, with a new worker in place of the killed one. */
  CU_ASSERT_EQUAL(mproc_pool_apply(p, &r, p_sqr, "i", 6), 0);
  CU_ASSERT(mproc_args_parse(r, "i", &v) == 0 && v == 36);
  mproc_args_free(r);
  r = NULL;
  /* The killed worker's slot gets a new one (its end is seen apart from
   * the task's failure, so wait for it, pacing a poll). */
  for (t0 = mproc_test_now(); mproc_test_now() - t0 < MPROC_TEST_JOIN_LIMIT;
       mproc_test_sleep_ms(5))
    if (mproc_pool_worker_pids(p, after, 2) == 2 &&
        (after[0] != before[0] || after[1] != before[1]))
      break;
  CU_ASSERT(after[0] != before[0] || after[1] != before[1]);
  CU_ASSERT_EQUAL_FATAL(mproc_items_create(&it), 0);
  for (int i = 0; i < 6; i++)
    mproc_items_add(it, "d", i == 3 ? 60.0 : 0.01);
  CU_ASSERT_EQUAL(mproc_pool_map(p, &r, p_sleep, it, 1), MPROC_ETIMEDOUT);
  CU_ASSERT_PTR_NULL(r);
  mproc_items_free(it);
  end_pool(p);
}

/* map returns at its first failing chunk (as CPython's does) while other
 * chunks still wait: the caller may free the items at once (ASan saw
 * them read after that). */
static void test_pool_map_fails_items_freed(void)
{
  mproc_pool_t *p = new_pool(2);
  mproc_args_t *r = NULL;

  for (int round = 0; round < 3; round++) {
    /* More chunks than the first batches take: some wait unsent. */
    mproc_items_t *it = range_items(20000);
    CU_ASSERT_EQUAL(mproc_pool_map(p, &r, p_raise, it, 1), MPROC_ETASK);
    mproc_items_free(it);
    it = range_items(3000); /* likely where the old items were */
    CU_ASSERT_EQUAL(mproc_pool_map(p, &r, p_sqr, it, 0), 0);
    CU_ASSERT(squares(r, 3000));
    mproc_args_free(r);
    r = NULL;
    mproc_items_free(it);
  }
  end_pool(p);
}

/* Mixed work for test_pool_no_lost_wakeups: batches, work taken back
 * from busy workers, waits for one result, for a whole map, for imap. */
static void mixed_rounds(mproc_pool_t *p, int rounds, int nmax)
{
  unsigned seed = 12345;

  for (int round = 0; round < rounds; round++) {
    mproc_items_t *it = NULL;
    mproc_async_t *ar[64], *m = NULL;
    mproc_imap_t *im = NULL;
    mproc_args_t *r = NULL;
    int n, ok = 1;
    seed = seed * 1103515245u + 12345u;
    n = nmax / 5 + (int)(seed >> 16) % nmax;
    CU_ASSERT_EQUAL_FATAL(mproc_items_create(&it), 0);
    for (int i = 0; i < n; i++) /* a few slow items: work gets stolen */
      mproc_items_add(it, "[id]", i, i % 701 == 3 ? 0.02 : 0.0);
    CU_ASSERT_EQUAL(
        mproc_pool_starmap_async(p, &m, NULL, p_sqr, it, 1 + (seed >> 8) % 40),
        0);
    CU_ASSERT_EQUAL(mproc_async_get(m, MPROC_TEST_JOIN_LIMIT, &r), 0);
    CU_ASSERT(squares(r, n));
    mproc_args_free(r);
    mproc_async_free(m);
    mproc_items_free(it);
    for (int i = 0; i < 64; i++)
      mproc_pool_apply_async(p, &ar[i], NULL, p_sqr, "i", i);
    for (int i = 63; i >= 0; i--) { /* the last first */
      ok &= mproc_async_get(ar[i], MPROC_TEST_JOIN_LIMIT, &r) == 0 &&
            int_at(r, 0) == i * i;
      mproc_args_free(r);
      mproc_async_free(ar[i]);
    }
    CU_ASSERT(ok);
    it = range_items(n);
    CU_ASSERT_EQUAL(mproc_pool_imap(p, &im, p_sqr, it, 7, round % 2), 0);
    for (int i = 0; i < n && ok; i++) {
      ok = mproc_imap_next(im, MPROC_TEST_JOIN_LIMIT, &r) == 0;
      mproc_args_free(r);
    }
    CU_ASSERT(ok);
    mproc_imap_free(im);
    mproc_items_free(it);
  }
}

/* Every wake-up the scheduler needs comes from the protocol, not from its
 * once-a-second look around: with that look made hourly, mixed work still
 * completes, also with workers replaced after maxtasksperchild (whose
 * budget must not count tasks taken back from them). A missed wake-up
 * hangs here until the join limit. */
static void test_pool_no_lost_wakeups(void)
{
  if (skip_on_mpi("it uses maxtasksperchild, which is refused"))
    return;
  mproc_pool_options_t o = {.processes = 2, .maxtasksperchild = 97};
  mproc_pool_t *p = NULL;

  mproc__pool_set_idle_wake(3600);
  for (int workers = 2; workers <= 3; workers++) {
    p = new_pool(workers);
    mixed_rounds(p, 12, 3000);
    end_pool(p);
  }
  CU_ASSERT_EQUAL_FATAL(mproc_pool_create(&p, &o), 0);
  mixed_rounds(p, 3, 600);
  end_pool(p);
  mproc__pool_set_idle_wake(1.0);
}

/* ---- keyword arguments ---- */

MPROC_TARGET(p_sqr_kw)
{
  static const char *const kw[] = {"x", "wait", NULL};
  int x;
  double wait = 0;

  if (mproc_args_parse_kw(args, "i|d:sqr", kw, &x, &wait) != 0)
    return -1; /* the task fails with the parse error */
  return mproc_return("i", x * x);
}

MPROC_TARGET(p_mul_kw)
{
  static const char *const kw[] = {"a", "b", NULL};
  int a, b = 1;

  if (mproc_args_parse_kw(args, "i|i:mul", kw, &a, &b) != 0)
    return -1;
  return mproc_return("i", a * b);
}

static void test_pool_kwargs(void)
{
  mproc_pool_t *p = new_pool(2);
  mproc_items_t *it = NULL;
  mproc_async_t *a = NULL;
  mproc_args_t *r = NULL;
  int v = 0, ok = 1;

  /* CPython's test_apply: papply(sqr, (5,)) and papply(sqr, (), {'x':3}) */
  CU_ASSERT_EQUAL(mproc_pool_apply(p, &r, p_sqr_kw, "i", 5), 0);
  CU_ASSERT(mproc_args_parse(r, "i", &v) == 0 && v == 25);
  mproc_args_free(r);
  CU_ASSERT_EQUAL(mproc_pool_apply_kw(p, &r, p_sqr_kw, NULL, "{s:i}", "x", 3),
                  0);
  CU_ASSERT(mproc_args_parse(r, "i", &v) == 0 && v == 9);
  mproc_args_free(r);
  CU_ASSERT_EQUAL(
      mproc_pool_apply_async_kw(p, &a, NULL, p_mul_kw, "i", "{s:i}", 6, "b", 7),
      0);
  CU_ASSERT_EQUAL(mproc_async_get(a, MPROC_TEST_JOIN_LIMIT, &r), 0);
  CU_ASSERT(mproc_args_parse(r, "i", &v) == 0 && v == 42);
  mproc_args_free(r);
  mproc_async_free(a);
  /* CPython's errors: an unknown keyword, one given twice. */
  CU_ASSERT_EQUAL(mproc_pool_apply_kw(p, &r, p_sqr_kw, NULL, "{s:i}", "y", 3),
                  MPROC_ETASK);
  CU_ASSERT_PTR_NOT_NULL(strstr(mproc_last_error(), "unexpected keyword"));
  CU_ASSERT_EQUAL(mproc_pool_apply_kw(p, &r, p_sqr_kw, "i", "{s:i}", 2, "x", 3),
                  MPROC_ETASK);
  CU_ASSERT_PTR_NOT_NULL(strstr(mproc_last_error(), "given by name"));
  CU_ASSERT_EQUAL(mproc_pool_apply_kw(p, &r, p_sqr_kw, NULL, "[i]", 3),
                  MPROC_EINVAL); /* keywords are one map */
  /* starmap items with keywords, among plain ones. */
  CU_ASSERT_EQUAL_FATAL(mproc_items_create(&it), 0);
  for (int i = 0; i < 10; i++)
    CU_ASSERT_EQUAL(i % 2 ? mproc_items_add_kw(it, "i", "{s:i}", i, "b", i + 1)
                          : mproc_items_add(it, "[ii]", i, i + 1),
                    0);
  CU_ASSERT_EQUAL(mproc_items_add_kw(it, NULL, "{s:i,s:i}", "a", 4, "b", 5), 0);
  CU_ASSERT_EQUAL(mproc_pool_starmap(p, &r, p_mul_kw, it, 3), 0);
  CU_ASSERT_EQUAL(mproc_args_count(r), 11);
  for (int i = 0; ok && i < 10; i++)
    ok = int_at(r, (size_t)i) == i * (i + 1);
  CU_ASSERT(ok && int_at(r, 10) == 20);
  mproc_args_free(r);
  mproc_items_free(it);
  /* A keyword item needs starmap. */
  CU_ASSERT_EQUAL_FATAL(mproc_items_create(&it), 0);
  CU_ASSERT_EQUAL(mproc_items_add_kw(it, NULL, "{s:i}", "x", 2), 0);
  CU_ASSERT_EQUAL(mproc_pool_map(p, &r, p_sqr_kw, it, 0), MPROC_ETASK);
  CU_ASSERT_PTR_NOT_NULL(strstr(mproc_last_error(), "starmap"));
  CU_ASSERT_EQUAL(mproc_pool_starmap(p, &r, p_sqr_kw, it, 0), 0);
  CU_ASSERT_EQUAL(int_at(r, 0), 4);
  mproc_args_free(r);
  mproc_items_free(it);
  end_pool(p);
}

/* ---- failure messages ---- */

/* Fail with a message of @n 'x's. */
MPROC_TARGET(p_fail_big)
{
  long n;
  char *msg;

  if (mproc_args_parse(args, "l", &n) != 0 ||
      (msg = malloc((size_t)n + 1)) == NULL)
    return 1;
  memset(msg, 'x', (size_t)n);
  msg[n] = '\0';
  mproc_fail("%s", msg);
  free(msg);
  return 1;
}

/* Whether the last error is @n 'x's. */
static int all_x(const char *s, size_t n)
{
  size_t len = strlen(s);

  if (len != n)
    return 0;
  for (size_t i = 0; i < len; i++)
    if (s[i] != 'x')
      return 0;
  return 1;
}

/* In a Process: mproc_fail keeps a 1 MiB message whole in the child. */
MPROC_TARGET(t_fail_big)
{
  long n;
  char *msg;
  int whole;

  if (mproc_args_parse(args, "l", &n) != 0 ||
      (msg = malloc((size_t)n + 1)) == NULL)
    return 2;
  memset(msg, 'x', (size_t)n);
  msg[n] = '\0';
  whole = mproc_fail("%s", msg) == 1 &&
          all_x(mproc_last_error(),
                (size_t)n < MPROC_ERROR_MAX ? (size_t)n : MPROC_ERROR_MAX);
  free(msg);
  return whole ? 0 : 3;
}

static size_t error_len;

static void on_long_error(int status, const char *msg, void *ud)
{
  (void)status;
  (void)ud;
  error_len = strlen(msg);
}

/* A 1 MiB failure message arrives whole (it came as 511 characters); a
 * longer one is cut at MPROC_ERROR_MAX. */
static void test_pool_fail_message_whole(void)
{
  mproc_pool_t *p = new_pool(1);
  mproc_callbacks_t cb = {NULL, on_long_error, NULL, NULL};
  mproc_async_t *a = NULL;
  mproc_args_t *r = NULL;
  long mib = 1L << 20;

  CU_ASSERT(MPROC_ERROR_MAX >= 64 * 1024);
  CU_ASSERT_EQUAL(mproc_pool_apply(p, &r, p_fail_big, "l", mib), MPROC_ETASK);
  CU_ASSERT(all_x(mproc_last_error(), (size_t)mib));
  CU_ASSERT_EQUAL(mproc_pool_apply(p, &r, p_fail_big, "l", mib + 4096),
                  MPROC_ETASK);
  CU_ASSERT(all_x(mproc_last_error(), MPROC_ERROR_MAX));
  error_len = 0;
  CU_ASSERT_EQUAL(mproc_pool_apply_async(p, &a, &cb, p_fail_big, "l", mib), 0);
  CU_ASSERT_EQUAL(mproc_async_wait(a, MPROC_TEST_JOIN_LIMIT), 0);
  CU_ASSERT_EQUAL(error_len, (size_t)mib);
  mproc_async_free(a);
  /* A short error afterwards is itself again. */
  CU_ASSERT_EQUAL(mproc_pool_apply(p, &r, p_raise, "i", 3), MPROC_ETASK);
  CU_ASSERT_STRING_EQUAL(mproc_last_error(),
                         "ValueError: three is not allowed");
  end_pool(p);
  EXPECT_EXIT(mproc_test_run(t_fail_big, "l", mib), 0);
  EXPECT_EXIT(mproc_test_run(t_fail_big, "l", 3 * mib), 0);
}

/* ---- the typed-array map ---- */

MPROC_BATCH(b_twice)
{
  const int32_t *x = in;
  int32_t *y = out;

  for (size_t i = 0; i < n; i++)
    y[i] = 2 * x[i];
  return 0;
}

typedef struct rec_in {
  int32_t a;
  double b;
} rec_in_t;

MPROC_BATCH(b_product)
{
  const rec_in_t *r = in;
  double *y = out;

  for (size_t i = 0; i < n; i++)
    y[i] = r[i].a * r[i].b;
  return 0;
}

/* Fails a slice holding the value 777 (by message) or 778 (by code). */
MPROC_BATCH(b_picky)
{
  const int32_t *x = in;
  int32_t *y = out;

  for (size_t i = 0; i < n; i++) {
    if (x[i] == 777)
      return mproc_fail("bad record %d", (int)x[i]);
    if (x[i] == 778)
      return 5;
    y[i] = x[i] + 1;
  }
  return 0;
}

/* The name of a board, set in each worker by the initializer. */
static char board_name[64];

MPROC_TARGET(p_set_board)
{
  const char *name;

  if (mproc_args_parse(args, "s", &name) != 0)
    return 1;
  snprintf(board_name, sizeof board_name, "%s", name);
  return 0;
}

/* Blocks (after reporting its pid) in a slice holding the value 555. */
MPROC_BATCH(b_block_on)
{
  const int32_t *x = in;
  int32_t *y = out;
  mproc_shm_t *m = NULL;

  for (size_t i = 0; i < n; i++) {
    if (x[i] == 555 && mproc_shm_open(&m, board_name, 0, 0) == 0) {
      ((volatile int64_t *)mproc_shm_buf(m))[1] = mproc_test_getpid();
      mproc_test_block_forever();
    }
    y[i] = -x[i];
  }
  return 0;
}

static int32_t *int_array(size_t n)
{
  int32_t *a = malloc(n * sizeof *a);

  for (size_t i = 0; a != NULL && i < n; i++)
    a[i] = (int32_t)i;
  return a;
}

/* Order and values, odd slice sizes, records of two sizes, in place. */
static void test_pool_map_array(void)
{
  mproc_pool_t *p = new_pool(3);
  size_t n = 100003;
  int32_t *in = int_array(n), *out = calloc(n, sizeof *out);
  rec_in_t recs[1000];
  double prod[1000];
  int ok = 1;

  CU_ASSERT_FATAL(in != NULL && out != NULL);
  CU_ASSERT_EQUAL(mproc_pool_map_array(p, b_twice, in, n, 4, out, 4, 0), 0);
  for (size_t i = 0; ok && i < n; i++)
    ok = out[i] == 2 * (int32_t)i;
  CU_ASSERT(ok);
  memset(out, 0, n * sizeof *out);
  CU_ASSERT_EQUAL(mproc_pool_map_array(p, b_twice, in, n, 4, out, 4, 7), 0);
  for (size_t i = 0; ok && i < n; i++)
    ok = out[i] == 2 * (int32_t)i;
  CU_ASSERT(ok);
  CU_ASSERT_EQUAL(mproc_pool_map_array(p, b_twice, in, n, 4, in, 4, 1000), 0);
  for (size_t i = 0; ok && i < n; i++)
    ok = in[i] == 2 * (int32_t)i;
  CU_ASSERT(ok);
  for (int i = 0; i < 1000; i++)
    recs[i] = (rec_in_t){i, 0.5};
  CU_ASSERT_EQUAL(mproc_pool_map_array(p, b_product, recs, 1000, sizeof *recs,
                                       prod, sizeof *prod, 0),
                  0);
  for (int i = 0; ok && i < 1000; i++)
    ok = prod[i] == i * 0.5;
  CU_ASSERT(ok);
  CU_ASSERT_EQUAL(mproc_pool_map_array(p, b_twice, in, 0, 4, out, 4, 0), 0);
  free(in);
  free(out);
  end_pool(p);
}

/* A failing slice fails the call with its message; the others are done. */
static void test_pool_map_array_fails(void)
{
  mproc_pool_t *p = new_pool(2);
  size_t n = 4000;
  int32_t *in = int_array(n), *out = calloc(n, sizeof *out);
  int ok = 1;

  CU_ASSERT_FATAL(in != NULL && out != NULL);
  CU_ASSERT_EQUAL(mproc_pool_map_array(p, b_picky, in, n, 4, out, 4, 100),
                  MPROC_ETASK);
  CU_ASSERT_STRING_EQUAL(mproc_last_error(), "bad record 777");
  for (size_t i = 0; ok && i < n; i++)
    ok = (i >= 700 && i < 800) || out[i] == (int32_t)i + 1;
  CU_ASSERT(ok); /* every other slice was done */
  CU_ASSERT_EQUAL(mproc_pool_map_array(p, b_picky, in + 778, 10, 4, out, 4, 0),
                  MPROC_ETASK);
  CU_ASSERT_PTR_NOT_NULL(strstr(mproc_last_error(), "returned 5"));
  /* Not a batch function, not registered, bad sizes. */
  CU_ASSERT_EQUAL(mproc_pool_map_array(p, (mproc_batch_fn)(void (*)(void))p_sqr,
                                       in, n, 4, out, 4, 0),
                  MPROC_ENOTREG);
  CU_ASSERT_EQUAL(mproc_pool_map_array(p, b_twice, NULL, n, 4, out, 4, 0),
                  MPROC_EINVAL);
  CU_ASSERT_EQUAL(mproc_pool_map_array(p, b_twice, in, n, 0, out, 4, 0),
                  MPROC_EINVAL);
  CU_ASSERT_EQUAL(
      mproc_pool_map_array(p, b_twice, in, SIZE_MAX / 2, 4, out, 4, 0),
      MPROC_ERANGE);
  free(in);
  free(out);
  end_pool(p);
}

/* A helper process: kill the pid reported in slot 1 of block @name. */
MPROC_TARGET(t_kill_reported)
{
  const char *name;
  mproc_shm_t *m = NULL;
  int64_t pid;
  int rc;

  if (mproc_args_parse(args, "s", &name) != 0 ||
      mproc_shm_open(&m, name, 0, 0) != 0)
    return 1;
  pid = board_wait(m, 1);
  rc = pid != 0 && mproc_test_kill_pid((long)pid, SIGKILL) == 0 ? 0 : 2;
  mproc_shm_free(m);
  return rc;
}

/* A worker killed in the middle of a slice fails that slice, reported
 * with its records; every other slice completes. */
static void test_pool_map_array_worker_killed(void)
{
  if (skip_on_mpi("a killed rank ends the MPI job (Open MPI 4.1 has no ULFM)"))
    return;
  mproc_shm_t *m = new_board();
  mproc_pool_options_t o = {
      .processes = 2, .initializer = p_set_board, .initargs = "s"};
  mproc_pool_t *p = NULL;
  size_t n = 2000;
  int32_t *in = int_array(n), *out = calloc(n, sizeof *out);
  int ok = 1, rc = 0;

  CU_ASSERT_FATAL(in != NULL && out != NULL);
  CU_ASSERT_EQUAL_FATAL(mproc_pool_create(&p, &o, mproc_shm_name(m)), 0);
  /* The call blocks until every slice is back: kill from a helper
   * process once the slice is blocked. */
  mproc_process_t *killer =
      mproc_test_start(t_kill_reported, "s", mproc_shm_name(m));
  rc = mproc_pool_map_array(p, b_block_on, in, n, 4, out, 4, 100);
  CU_ASSERT_EQUAL(rc, MPROC_EWORKER);
  CU_ASSERT_PTR_NOT_NULL(strstr(mproc_last_error(), "records [500, 600)"));
  CU_ASSERT_PTR_NOT_NULL(strstr(mproc_last_error(), "died"));
  for (size_t i = 0; ok && i < n; i++)
    ok = (i >= 500 && i < 600) || out[i] == -(int32_t)i;
  CU_ASSERT(ok);
  EXPECT_EXIT(mproc_test_finish(killer), 0);
  /* The pool goes on. */
  CU_ASSERT_EQUAL(mproc_pool_map_array(p, b_twice, in, n, 4, out, 4, 0), 0);
  CU_ASSERT(out[n - 1] == 2 * (int32_t)(n - 1));
  free(in);
  free(out);
  end_pool(p);
  free_board(m);
}

/* Arrays that already live in SharedMemory blocks are used in place:
 * nothing is staged or copied. */
static void test_pool_map_array_shared(void)
{
  if (skip_on_mpi("no memory is shared across ranks: every array is staged"))
    return;
  mproc_pool_t *p = new_pool(2);
  mproc_shm_t *a = NULL, *b = NULL;
  mproc__pool_stats_t st;
  size_t n = 50000;
  int32_t *in, *out;
  int ok = 1;

  CU_ASSERT_EQUAL_FATAL(mproc_shm_open(&a, NULL, 1, n * 4 + 64), 0);
  CU_ASSERT_EQUAL_FATAL(mproc_shm_open(&b, NULL, 1, n * 4), 0);
  in = (int32_t *)((char *)mproc_shm_buf(a) + 64); /* not at its start */
  out = mproc_shm_buf(b);
  for (size_t i = 0; i < n; i++)
    in[i] = (int32_t)i;
  CU_ASSERT_EQUAL(mproc_pool_map_array(p, b_twice, in, n, 4, out, 4, 0), 0);
  for (size_t i = 0; ok && i < n; i++)
    ok = out[i] == 2 * (int32_t)i;
  CU_ASSERT(ok);
  mproc__pool_get_stats(p, &st);
  CU_ASSERT_EQUAL(st.staged, 0);
  /* A plain array is staged, both ways. */
  int32_t *plain = int_array(n);
  CU_ASSERT_EQUAL(mproc_pool_map_array(p, b_twice, plain, n, 4, out, 4, 0), 0);
  mproc__pool_get_stats(p, &st);
  CU_ASSERT_EQUAL(st.staged, n * 4);
  free(plain);
  end_pool(p);
  free_board(a);
  free_board(b);
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
      MPROC_TEST_CASE(test_pool_batch_worker_killed),
      MPROC_TEST_CASE(test_pool_hung_worker_frees_queue),
      MPROC_TEST_CASE(test_pool_stuck_worker_frees_queue),
      MPROC_TEST_CASE(test_pool_task_timeout),
      MPROC_TEST_CASE(test_pool_map_fails_items_freed),
      MPROC_TEST_CASE(test_pool_no_lost_wakeups),
      MPROC_TEST_CASE(test_pool_kwargs),
      MPROC_TEST_CASE(test_pool_fail_message_whole),
      MPROC_TEST_CASE(test_pool_map_array),
      MPROC_TEST_CASE(test_pool_map_array_fails),
      MPROC_TEST_CASE(test_pool_map_array_worker_killed),
      MPROC_TEST_CASE(test_pool_map_array_shared),
      {NULL, NULL}};

  mproc_test_add_suite("pool", cases);
}
