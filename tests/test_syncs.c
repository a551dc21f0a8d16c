/*
 * Semaphore, BoundedSemaphore, Event, Condition and Barrier, in one
 * process and across processes, after CPython's _TestSemaphore,
 * _TestCondition, _TestEvent and _TestBarrier.
 */
#include <apr_pools.h>
#include <apr_thread_proc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define BADARGS 99

/* Releases the semaphore @n times. */
MPROC_TARGET(s_release)
{
  mproc_semaphore_t *s;
  int n;

  if (mproc_args_parse(args, "oi", MPROC_KIND_SEMAPHORE, &s, &n) != 0)
    return BADARGS;
  for (int i = 0; i < n; i++)
    if (mproc_semaphore_release(s) != 0)
      return 1;
  return 0;
}

MPROC_TARGET(e_set)
{
  mproc_event_t *e;

  if (mproc_args_parse(args, "o", MPROC_KIND_EVENT, &e) != 0)
    return BADARGS;
  return mproc_event_set(e) == 0 ? 0 : 1;
}

/* CPython's condition test child: says it sleeps, waits, says it woke. */
MPROC_TARGET(c_waiter)
{
  mproc_condition_t *c;
  mproc_semaphore_t *sleeping, *woken;

  if (mproc_args_parse(args, "ooo", MPROC_KIND_CONDITION, &c,
                       MPROC_KIND_SEMAPHORE, &sleeping, MPROC_KIND_SEMAPHORE,
                       &woken) != 0)
    return BADARGS;
  if (mproc_condition_acquire(c, MPROC_FOREVER) != 0)
    return 1;
  mproc_semaphore_release(sleeping);
  if (mproc_condition_wait(c, 60) != 0)
    return 2;
  mproc_semaphore_release(woken);
  return mproc_condition_release(c) == 0 ? 0 : 3;
}

/* Adds one to the counter (a semaphore's value) under the condition and
 * notifies. */
MPROC_TARGET(c_bump)
{
  mproc_condition_t *c;
  mproc_semaphore_t *counter;

  if (mproc_args_parse(args, "oo", MPROC_KIND_CONDITION, &c,
                       MPROC_KIND_SEMAPHORE, &counter) != 0)
    return BADARGS;
  if (mproc_condition_acquire(c, MPROC_FOREVER) != 0)
    return 1;
  mproc_semaphore_release(counter);
  mproc_condition_notify_all(c);
  return mproc_condition_release(c) == 0 ? 0 : 2;
}

/* Waits on the barrier @passes times; puts each index on @q. A broken
 * barrier gives exit 20. */
MPROC_TARGET(b_waiter)
{
  mproc_barrier_t *b;
  mproc_queue_t *q;
  int passes, rc;

  if (mproc_args_parse(args, "ooi", MPROC_KIND_BARRIER, &b, MPROC_KIND_QUEUE,
                       &q, &passes) != 0)
    return BADARGS;
  for (int i = 0; i < passes; i++) {
    rc = mproc_barrier_wait(b, 60);
    if (rc == MPROC_EBROKEN)
      return 20;
    if (rc < 0 || mproc_queue_put(q, MPROC_FOREVER, "i", rc) != 0)
      return 1;
  }
  return 0;
}

/* The barrier action's state in this process: each party sets it before
 * it waits (the action runs in whichever party trips the barrier). */
static mproc_shared_t *action_runs;

/* CPython's AppendTrue: counts its runs. */
MPROC_TARGET(b_count_runs)
{
  (void)args;
  if (action_runs == NULL)
    return 1;
  (*(int *)mproc_shared_ptr(action_runs))++;
  return 0;
}

MPROC_TARGET(b_fail)
{
  (void)args;
  return 5;
}

/* CPython's _test_action_f over @passes passes: after pass k the action
 * has run exactly k times. Exit 20 when broken, 3 on a wrong count. */
static int action_party(mproc_barrier_t *b, mproc_shared_t *runs, int passes)
{
  int rc = 0;

  action_runs = runs;
  for (int k = 1; k <= passes && rc == 0; k++) {
    int i = mproc_barrier_wait(b, 60);
    rc = i == MPROC_EBROKEN                    ? 20
         : i < 0                               ? 1
         : *(int *)mproc_shared_ptr(runs) != k ? 3
                                               : 0;
  }
  action_runs = NULL;
  return rc;
}

MPROC_TARGET(b_action_party)
{
  mproc_barrier_t *b;
  mproc_shared_t *runs;
  int passes;

  if (mproc_args_parse(args, "ooi", MPROC_KIND_BARRIER, &b, MPROC_KIND_VALUE,
                       &runs, &passes) != 0)
    return BADARGS;
  return action_party(b, runs, passes);
}

/* Waits with the barrier's default timeout; exit 20 when broken. */
MPROC_TARGET(b_wait_default)
{
  mproc_barrier_t *b;
  int rc;

  if (mproc_args_parse(args, "o", MPROC_KIND_BARRIER, &b) != 0)
    return BADARGS;
  rc = mproc_barrier_wait(b, MPROC_FOREVER);
  return rc == MPROC_EBROKEN ? 20 : rc < 0 ? 1 : 0;
}

/* A Value of type int (or a plain int) equals @want. */
typedef struct int_is {
  int *at;
  int want;
} int_is_t;

static int int_is(void *arg)
{
  int_is_t *x = arg;

  return *x->at == x->want;
}

/* CPython's _test_waitfor_f: sets the state to 0 and notifies, then
 * itself waits for the state to reach 4. */
static int waitfor_f(mproc_condition_t *c, int *state)
{
  int_is_t four = {state, 4};
  int rc;

  if (mproc_condition_acquire(c, 60) != 0)
    return 1;
  *state = 0;
  mproc_condition_notify(c, 1);
  rc = mproc_condition_wait_for(c, int_is, &four, 30);
  mproc_condition_release(c);
  return rc != 0 ? 2 : *state != 4 ? 3 : 0;
}

MPROC_TARGET(c_waitfor_f)
{
  mproc_condition_t *c;
  mproc_shared_t *state;

  if (mproc_args_parse(args, "oo", MPROC_KIND_CONDITION, &c, MPROC_KIND_VALUE,
                       &state) != 0)
    return BADARGS;
  return waitfor_f(c, mproc_shared_ptr(state));
}

/* CPython's _test_waitfor_timeout_f: a wait_for that times out takes at
 * least its timeout; exit 0 when it did. */
MPROC_TARGET(c_waitfor_timeout_f)
{
  mproc_condition_t *c;
  mproc_shared_t *state;
  mproc_semaphore_t *sem;
  int_is_t four;
  double t0, dt;
  int rc;

  if (mproc_args_parse(args, "ooo", MPROC_KIND_CONDITION, &c, MPROC_KIND_VALUE,
                       &state, MPROC_KIND_SEMAPHORE, &sem) != 0)
    return BADARGS;
  four.at = mproc_shared_ptr(state);
  four.want = 4;
  mproc_semaphore_release(sem);
  if (mproc_condition_acquire(c, 60) != 0)
    return 1;
  t0 = mproc_test_now();
  rc = mproc_condition_wait_for(c, int_is, &four, 0.1);
  dt = mproc_test_now() - t0;
  mproc_condition_release(c);
  return rc == MPROC_ETIMEDOUT && dt >= 0.099 ? 0 : 2;
}

/* CPython's _test_wait_result: notifies once. */
MPROC_TARGET(c_notify_once)
{
  mproc_condition_t *c;

  if (mproc_args_parse(args, "o", MPROC_KIND_CONDITION, &c) != 0)
    return BADARGS;
  if (mproc_condition_acquire(c, 60) != 0)
    return 1;
  mproc_condition_notify(c, 1);
  return mproc_condition_release(c) == 0 ? 0 : 2;
}

static void test_semaphore(void)
{
  mproc_semaphore_t *s = NULL;
  double t0;

  CU_ASSERT_EQUAL(mproc_semaphore_create(&s, -1), MPROC_EINVAL);
  CU_ASSERT_EQUAL_FATAL(mproc_semaphore_create(&s, 2), 0);
  CU_ASSERT_EQUAL(mproc_semaphore_value(s), 2);
  CU_ASSERT_EQUAL(mproc_semaphore_acquire(s, 0), 0);
  CU_ASSERT_EQUAL(mproc_semaphore_acquire(s, MPROC_FOREVER), 0);
  CU_ASSERT_EQUAL(mproc_semaphore_value(s), 0);
  CU_ASSERT_EQUAL(mproc_semaphore_acquire(s, 0), MPROC_ETIMEDOUT);
  t0 = mproc_test_now();
  CU_ASSERT_EQUAL(mproc_semaphore_acquire(s, 0.2), MPROC_ETIMEDOUT);
  CU_ASSERT(mproc_test_now() - t0 >= 0.19);
  /* An unbounded semaphore may go above its start. */
  for (int i = 0; i < 3; i++)
    CU_ASSERT_EQUAL(mproc_semaphore_release(s), 0);
  CU_ASSERT_EQUAL(mproc_semaphore_value(s), 3);
  mproc_semaphore_free(s);
}

static void test_bounded_semaphore(void)
{
  mproc_semaphore_t *s = NULL;

  CU_ASSERT_EQUAL_FATAL(mproc_bounded_semaphore_create(&s, 2), 0);
  CU_ASSERT_EQUAL(mproc_semaphore_release(s), MPROC_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(mproc_last_error(), "released too many"));
  CU_ASSERT_EQUAL(mproc_semaphore_acquire(s, 0), 0);
  CU_ASSERT_EQUAL(mproc_semaphore_release(s), 0);
  CU_ASSERT_EQUAL(mproc_semaphore_value(s), 2);
  CU_ASSERT_EQUAL(mproc_object_kind(s), MPROC_KIND_BOUNDED_SEMAPHORE);
  mproc_semaphore_free(s);
}

static void test_semaphore_across_processes(void)
{
  mproc_semaphore_t *s = NULL;
  mproc_process_t *p;

  CU_ASSERT_EQUAL_FATAL(mproc_semaphore_create(&s, 0), 0);
  p = mproc_test_start(s_release, "oi", s, 3);
  for (int i = 0; i < 3; i++)
    CU_ASSERT_EQUAL(mproc_semaphore_acquire(s, 60), 0);
  EXPECT_EXIT(mproc_test_finish(p), 0);
  CU_ASSERT_EQUAL(mproc_semaphore_value(s), 0);
  mproc_semaphore_free(s);
}

static void test_event(void)
{
  mproc_event_t *e = NULL;
  double t0;

  CU_ASSERT_EQUAL_FATAL(mproc_event_create(&e), 0);
  CU_ASSERT_EQUAL(mproc_event_is_set(e), 0);
  t0 = mproc_test_now();
  CU_ASSERT_EQUAL(mproc_event_wait(e, 0.2), MPROC_ETIMEDOUT);
  CU_ASSERT(mproc_test_now() - t0 >= 0.19);
  EXPECT_EXIT(mproc_test_run(e_set, "o", e), 0);
  CU_ASSERT_EQUAL(mproc_event_is_set(e), 1);
  CU_ASSERT_EQUAL(mproc_event_wait(e, 0), 0);
  CU_ASSERT_EQUAL(mproc_event_wait(e, MPROC_FOREVER), 0);
  CU_ASSERT_EQUAL(mproc_event_clear(e), 0);
  CU_ASSERT_EQUAL(mproc_event_wait(e, 0), MPROC_ETIMEDOUT);
  /* A waiter woken by a child. */
  mproc_process_t *p = mproc_test_start(e_set, "o", e);
  CU_ASSERT_EQUAL(mproc_event_wait(e, 60), 0);
  EXPECT_EXIT(mproc_test_finish(p), 0);
  mproc_event_free(e);
}

static void test_condition_errors(void)
{
  mproc_condition_t *c = NULL;
  mproc_lock_t *l = NULL;

  CU_ASSERT_EQUAL_FATAL(mproc_lock_create(&l), 0);
  CU_ASSERT_EQUAL_FATAL(mproc_condition_create(&c, l), 0);
  mproc_lock_free(l); /* the condition holds its own reference */
  CU_ASSERT_EQUAL(mproc_condition_notify(c, 1), MPROC_EPERM);
  CU_ASSERT_PTR_NOT_NULL(strstr(mproc_last_error(), "un-acquired"));
  CU_ASSERT_EQUAL(mproc_condition_wait(c, 0), MPROC_EPERM);
  CU_ASSERT_EQUAL(mproc_condition_acquire(c, 0), 0);
  CU_ASSERT_EQUAL(mproc_condition_wait(c, 0.1), MPROC_ETIMEDOUT);
  /* The lock is held again after a timed-out wait. */
  CU_ASSERT_EQUAL(mproc_lock_acquire(mproc_condition_lock(c), 0),
                  MPROC_ETIMEDOUT);
  CU_ASSERT_EQUAL(mproc_condition_notify(c, 1), 0);
  CU_ASSERT_EQUAL(mproc_condition_release(c), 0);
  mproc_condition_free(c);
}

/* CPython's test_notify and test_notify_all with three children. */
static void test_condition_notify(void)
{
  enum { N = 3 };
  mproc_condition_t *c = NULL;
  mproc_semaphore_t *sleeping = NULL, *woken = NULL;
  mproc_process_t *p[N];

  CU_ASSERT_EQUAL_FATAL(mproc_condition_create(&c, NULL), 0);
  CU_ASSERT_EQUAL_FATAL(mproc_semaphore_create(&sleeping, 0), 0);
  CU_ASSERT_EQUAL_FATAL(mproc_semaphore_create(&woken, 0), 0);
  for (int i = 0; i < N; i++)
    p[i] = mproc_test_start(c_waiter, "ooo", c, sleeping, woken);
  for (int i = 0; i < N; i++)
    CU_ASSERT_EQUAL(mproc_semaphore_acquire(sleeping, 60), 0);
  /* Each child holds the lock from "sleeping" until it is inside wait,
   * so with the lock we know all three wait. */
  CU_ASSERT_EQUAL(mproc_condition_acquire(c, 60), 0);
  CU_ASSERT_EQUAL(mproc_condition_notify(c, 1), 0);
  CU_ASSERT_EQUAL(mproc_condition_release(c), 0);
  CU_ASSERT_EQUAL(mproc_semaphore_acquire(woken, 60), 0);
  CU_ASSERT_EQUAL(mproc_semaphore_acquire(woken, 0.3), MPROC_ETIMEDOUT);
  CU_ASSERT_EQUAL(mproc_condition_acquire(c, 60), 0);
  CU_ASSERT_EQUAL(mproc_condition_notify_all(c), 0);
  CU_ASSERT_EQUAL(mproc_condition_release(c), 0);
  for (int i = 0; i < N - 1; i++)
    CU_ASSERT_EQUAL(mproc_semaphore_acquire(woken, 60), 0);
  for (int i = 0; i < N; i++)
    EXPECT_EXIT(mproc_test_finish(p[i]), 0);
  mproc_condition_free(c);
  mproc_semaphore_free(sleeping);
  mproc_semaphore_free(woken);
}

/* Wait until @s reaches @n (a polling loop, paced): CPython's
 * assertReachesEventually. */
static int sem_reaches(mproc_semaphore_t *s, long n)
{
  double deadline = mproc_test_now() + 60;

  while (mproc_semaphore_value(s) != n) {
    if (mproc_test_now() > deadline)
      return 0;
    mproc_test_sleep_ms(2);
  }
  return 1;
}

/* CPython's test_notify_n: notify(2) wakes two, notify(4) the rest, a
 * notify with nobody waiting wakes nobody later. */
static void test_condition_notify_n(void)
{
  enum { N = 4 };
  mproc_condition_t *c = NULL;
  mproc_semaphore_t *sleeping = NULL, *woken = NULL;
  mproc_process_t *p[N];

  CU_ASSERT_EQUAL_FATAL(mproc_condition_create(&c, NULL), 0);
  CU_ASSERT_EQUAL_FATAL(mproc_semaphore_create(&sleeping, 0), 0);
  CU_ASSERT_EQUAL_FATAL(mproc_semaphore_create(&woken, 0), 0);
  for (int i = 0; i < N; i++)
    p[i] = mproc_test_start(c_waiter, "ooo", c, sleeping, woken);
  for (int i = 0; i < N; i++)
    CU_ASSERT_EQUAL(mproc_semaphore_acquire(sleeping, 60), 0);
  CU_ASSERT_EQUAL(mproc_condition_acquire(c, 60), 0);
  CU_ASSERT_EQUAL(mproc_semaphore_value(woken), 0);
  CU_ASSERT_EQUAL(mproc_condition_notify(c, 2), 0);
  CU_ASSERT_EQUAL(mproc_condition_release(c), 0);
  CU_ASSERT(sem_reaches(woken, 2));
  CU_ASSERT_EQUAL(mproc_condition_acquire(c, 60), 0);
  CU_ASSERT_EQUAL(mproc_condition_notify(c, 4), 0);
  CU_ASSERT_EQUAL(mproc_condition_release(c), 0);
  CU_ASSERT(sem_reaches(woken, N));
  for (int i = 0; i < N; i++)
    EXPECT_EXIT(mproc_test_finish(p[i]), 0);
  /* Nobody waits: the notify is not kept for a later waiter. */
  CU_ASSERT_EQUAL(mproc_condition_acquire(c, 60), 0);
  CU_ASSERT_EQUAL(mproc_condition_notify(c, 3), 0);
  CU_ASSERT_EQUAL(mproc_condition_wait(c, 0.05), MPROC_ETIMEDOUT);
  CU_ASSERT_EQUAL(mproc_condition_release(c), 0);
  mproc_condition_free(c);
  mproc_semaphore_free(sleeping);
  mproc_semaphore_free(woken);
}

/* The defect: a notify could be taken by a waiter that began waiting
 * after it (here the notifier itself), and the waiter it was meant for
 * slept on. After notify(1) the notifier's own wait must time out and
 * the earlier waiter must wake. */
static void test_condition_notify_not_taken_by_later_waiter(void)
{
  mproc_condition_t *c = NULL;
  mproc_semaphore_t *sleeping = NULL, *woken = NULL;
  mproc_process_t *p;

  CU_ASSERT_EQUAL_FATAL(mproc_condition_create(&c, NULL), 0);
  CU_ASSERT_EQUAL_FATAL(mproc_semaphore_create(&sleeping, 0), 0);
  CU_ASSERT_EQUAL_FATAL(mproc_semaphore_create(&woken, 0), 0);
  for (int round = 0; round < 5; round++) {
    p = mproc_test_start(c_waiter, "ooo", c, sleeping, woken);
    CU_ASSERT_EQUAL(mproc_semaphore_acquire(sleeping, 60), 0);
    /* The child holds the lock until it is inside wait. */
    CU_ASSERT_EQUAL(mproc_condition_acquire(c, 60), 0);
    CU_ASSERT_EQUAL(mproc_condition_notify(c, 1), 0);
    CU_ASSERT_EQUAL(mproc_condition_wait(c, 0.05), MPROC_ETIMEDOUT);
    CU_ASSERT_EQUAL(mproc_condition_release(c), 0);
    CU_ASSERT_EQUAL(mproc_semaphore_acquire(woken, 60), 0);
    EXPECT_EXIT(mproc_test_finish(p), 0);
  }
  mproc_condition_free(c);
  mproc_semaphore_free(sleeping);
  mproc_semaphore_free(woken);
}

/* The parent's half of CPython's test_waitfor: 1 when the child's
 * notify woke it (within 30 s). */
static int waitfor_parent(mproc_condition_t *c, int *state)
{
  int_is_t zero = {state, 0};
  int rc;

  CU_ASSERT_EQUAL(mproc_condition_acquire(c, 60), 0);
  rc = mproc_condition_wait_for(c, int_is, &zero, 30);
  CU_ASSERT_EQUAL(rc, 0);
  CU_ASSERT_EQUAL(*state, 0);
  CU_ASSERT_EQUAL(mproc_condition_release(c), 0);
  /* Move the state on to 4 whatever happened, so that the child ends. */
  for (int i = 0; i < 4; i++) {
    CU_ASSERT_EQUAL(mproc_condition_acquire(c, 60), 0);
    (*state)++;
    CU_ASSERT_EQUAL(mproc_condition_notify(c, 1), 0);
    CU_ASSERT_EQUAL(mproc_condition_release(c), 0);
  }
  return rc == 0;
}

/* CPython's test_waitfor, the interleaving of the defect (a child
 * notifies, then waits itself), many times over. */
static void test_condition_waitfor(void)
{
  enum { ROUNDS = 20 };
  mproc_condition_t *c = NULL;
  mproc_shared_t *state = NULL;
  int ok = 1;

  CU_ASSERT_EQUAL_FATAL(mproc_condition_create(&c, NULL), 0);
  CU_ASSERT_EQUAL_FATAL(mproc_shared_value_create(&state, MPROC_C_INT, 0), 0);
  for (int i = 0; i < ROUNDS && ok; i++) {
    int *v = mproc_shared_ptr(state);
    *v = -1;
    mproc_process_t *p = mproc_test_start(c_waitfor_f, "oo", c, state);
    ok = waitfor_parent(c, v);
    EXPECT_EXIT(mproc_test_finish(p), 0);
  }
  mproc_condition_free(c);
  mproc_shared_free(state);
}

typedef struct waitfor_thread {
  mproc_condition_t *c;
  int state, rc;
} waitfor_thread_t;

static void *APR_THREAD_FUNC waitfor_thread(apr_thread_t *t, void *arg)
{
  waitfor_thread_t *w = arg;

  (void)t;
  w->rc = waitfor_f(w->c, &w->state);
  return NULL;
}

/* The same interleaving between two threads of one process, where it is
 * cheap to repeat it a thousand times. */
static void test_condition_waitfor_threads(void)
{
  enum { ROUNDS = 1000 };
  waitfor_thread_t w = {NULL, 0, 0};
  apr_pool_t *pool = NULL;
  apr_thread_t *t;
  apr_status_t st;
  int ok = 1;

  CU_ASSERT_EQUAL_FATAL(mproc_condition_create(&w.c, NULL), 0);
  CU_ASSERT_EQUAL_FATAL(apr_pool_create(&pool, NULL), APR_SUCCESS);
  for (int i = 0; i < ROUNDS && ok; i++) {
    w.state = -1;
    w.rc = -1;
    CU_ASSERT_EQUAL_FATAL(apr_thread_create(&t, NULL, waitfor_thread, &w, pool),
                          APR_SUCCESS);
    ok = waitfor_parent(w.c, &w.state);
    apr_thread_join(&st, t);
    CU_ASSERT_EQUAL(w.rc, 0);
    ok = ok && w.rc == 0;
  }
  apr_pool_destroy(pool);
  mproc_condition_free(w.c);
}

/* CPython's test_waitfor_timeout: three notifies never make the state
 * 4, and the waiter's wait_for times out after its timeout. */
static void test_condition_waitfor_timeout(void)
{
  mproc_condition_t *c = NULL;
  mproc_shared_t *state = NULL;
  mproc_semaphore_t *sem = NULL;
  mproc_process_t *p;

  CU_ASSERT_EQUAL_FATAL(mproc_condition_create(&c, NULL), 0);
  CU_ASSERT_EQUAL_FATAL(mproc_shared_value_create(&state, MPROC_C_INT, 0), 0);
  CU_ASSERT_EQUAL_FATAL(mproc_semaphore_create(&sem, 0), 0);
  p = mproc_test_start(c_waitfor_timeout_f, "ooo", c, state, sem);
  CU_ASSERT_EQUAL(mproc_semaphore_acquire(sem, 60), 0);
  for (int i = 0; i < 3; i++) {
    CU_ASSERT_EQUAL(mproc_condition_acquire(c, 60), 0);
    (*(int *)mproc_shared_ptr(state))++;
    CU_ASSERT_EQUAL(mproc_condition_notify(c, 1), 0);
    CU_ASSERT_EQUAL(mproc_condition_release(c), 0);
  }
  EXPECT_EXIT(mproc_test_finish(p), 0);
  mproc_condition_free(c);
  mproc_shared_free(state);
  mproc_semaphore_free(sem);
}

/* CPython's test_wait_result: a wait that times out is false, one that
 * a notify ends is true. */
static void test_condition_wait_result(void)
{
  mproc_condition_t *c = NULL;
  mproc_process_t *p;

  CU_ASSERT_EQUAL_FATAL(mproc_condition_create(&c, NULL), 0);
  CU_ASSERT_EQUAL(mproc_condition_acquire(c, 60), 0);
  CU_ASSERT_EQUAL(mproc_condition_wait(c, 0), MPROC_ETIMEDOUT);
  CU_ASSERT_EQUAL(mproc_condition_wait(c, 0.1), MPROC_ETIMEDOUT);
  p = mproc_test_start(c_notify_once, "o", c);
  CU_ASSERT_EQUAL(mproc_condition_wait(c, 60), 0);
  CU_ASSERT_EQUAL(mproc_condition_release(c), 0);
  EXPECT_EXIT(mproc_test_finish(p), 0);
  mproc_condition_free(c);
}

static int at_least_three(void *arg)
{
  return mproc_semaphore_value(arg) >= 3;
}

static void test_condition_wait_for(void)
{
  mproc_condition_t *c = NULL;
  mproc_semaphore_t *counter = NULL;
  mproc_process_t *p[3];

  CU_ASSERT_EQUAL_FATAL(mproc_condition_create(&c, NULL), 0);
  CU_ASSERT_EQUAL_FATAL(mproc_semaphore_create(&counter, 0), 0);
  CU_ASSERT_EQUAL(mproc_condition_acquire(c, 60), 0);
  CU_ASSERT_EQUAL(mproc_condition_wait_for(c, at_least_three, counter, 0.1),
                  MPROC_ETIMEDOUT);
  for (int i = 0; i < 3; i++)
    p[i] = mproc_test_start(c_bump, "oo", c, counter);
  CU_ASSERT_EQUAL(mproc_condition_wait_for(c, at_least_three, counter, 60), 0);
  CU_ASSERT_EQUAL(mproc_condition_release(c), 0);
  for (int i = 0; i < 3; i++)
    EXPECT_EXIT(mproc_test_finish(p[i]), 0);
  mproc_condition_free(c);
  mproc_semaphore_free(counter);
}

/* Five parties (four children and us): indexes 0..4, each once. */
static void test_barrier_indexes(void)
{
  enum { P = 5, PASSES = 3 };
  mproc_barrier_t *b = NULL;
  mproc_queue_t *q = NULL;
  mproc_process_t *p[P - 1];
  mproc_args_t *item;
  int seen[P] = {0}, v, rc;

  CU_ASSERT_EQUAL(mproc_barrier_create(&b, 0), MPROC_EINVAL);
  CU_ASSERT_EQUAL_FATAL(mproc_barrier_create(&b, P), 0);
  CU_ASSERT_EQUAL_FATAL(mproc_queue_create(&q, 0), 0);
  CU_ASSERT_EQUAL(mproc_barrier_parties(b), P);
  for (int i = 0; i < P - 1; i++)
    p[i] = mproc_test_start(b_waiter, "ooi", b, q, PASSES);
  for (int pass = 0; pass < PASSES; pass++) {
    rc = mproc_barrier_wait(b, 60);
    CU_ASSERT(rc >= 0 && rc < P);
    if (rc >= 0 && rc < P)
      seen[rc]++;
  }
  for (int i = 0; i < (P - 1) * PASSES; i++) {
    CU_ASSERT_EQUAL_FATAL(mproc_queue_get(q, 60, &item), 0);
    CU_ASSERT(mproc_args_parse(item, "i", &v) == 0 && v >= 0 && v < P);
    if (v >= 0 && v < P)
      seen[v]++;
    mproc_args_free(item);
  }
  for (int i = 0; i < P; i++)
    CU_ASSERT_EQUAL(seen[i], PASSES);
  for (int i = 0; i < P - 1; i++)
    EXPECT_EXIT(mproc_test_finish(p[i]), 0);
  CU_ASSERT_EQUAL(mproc_barrier_n_waiting(b), 0);
  CU_ASSERT_EQUAL(mproc_barrier_broken(b), 0);
  mproc_barrier_free(b);
  mproc_queue_free(q);
}

/* CPython's test_thousand: many passes in a row stay in step. */
static void test_barrier_thousand(void)
{
  enum { PASSES = 1000 };
  mproc_barrier_t *b = NULL;
  mproc_queue_t *q = NULL;
  mproc_process_t *p[2];
  long sum = 0;
  mproc_args_t *item;
  int v, ok = 1;

  CU_ASSERT_EQUAL_FATAL(mproc_barrier_create(&b, 3), 0);
  CU_ASSERT_EQUAL_FATAL(mproc_queue_create(&q, 0), 0);
  for (int i = 0; i < 2; i++)
    p[i] = mproc_test_start(b_waiter, "ooi", b, q, PASSES);
  for (int i = 0; i < PASSES && ok; i++) {
    v = mproc_barrier_wait(b, 60);
    ok = v >= 0 && v < 3;
    sum += v;
  }
  CU_ASSERT(ok);
  for (int i = 0; i < 2 * PASSES && ok; i++) {
    ok = mproc_queue_get(q, 60, &item) == 0 &&
         mproc_args_parse(item, "i", &v) == 0;
    sum += v;
    mproc_args_free(item);
  }
  CU_ASSERT(ok);
  CU_ASSERT_EQUAL(sum, (long)PASSES * (0 + 1 + 2));
  for (int i = 0; i < 2; i++)
    EXPECT_EXIT(mproc_test_finish(p[i]), 0);
  mproc_barrier_free(b);
  mproc_queue_free(q);
}

/* Wait until @n parties wait (a polling loop, paced). */
static int await_waiting(mproc_barrier_t *b, int n)
{
  double deadline = mproc_test_now() + 60;

  while (mproc_barrier_n_waiting(b) != n) {
    if (mproc_test_now() > deadline)
      return 0;
    mproc_test_sleep_ms(2);
  }
  return 1;
}

static void test_barrier_abort_and_reset(void)
{
  mproc_barrier_t *b = NULL;
  mproc_queue_t *q = NULL;
  mproc_process_t *p;

  CU_ASSERT_EQUAL_FATAL(mproc_barrier_create(&b, 3), 0);
  CU_ASSERT_EQUAL_FATAL(mproc_queue_create(&q, 0), 0);
  p = mproc_test_start(b_waiter, "ooi", b, q, 1);
  CU_ASSERT(await_waiting(b, 1));
  CU_ASSERT_EQUAL(mproc_barrier_abort(b), 0);
  EXPECT_EXIT(mproc_test_finish(p), 20);
  CU_ASSERT_EQUAL(mproc_barrier_broken(b), 1);
  CU_ASSERT_EQUAL(mproc_barrier_wait(b, 0), MPROC_EBROKEN);
  CU_ASSERT_EQUAL(mproc_barrier_reset(b), 0);
  CU_ASSERT_EQUAL(mproc_barrier_broken(b), 0);
  /* A reset while a party waits breaks that pass only. */
  p = mproc_test_start(b_waiter, "ooi", b, q, 1);
  CU_ASSERT(await_waiting(b, 1));
  CU_ASSERT_EQUAL(mproc_barrier_reset(b), 0);
  EXPECT_EXIT(mproc_test_finish(p), 20);
  CU_ASSERT_EQUAL(mproc_barrier_broken(b), 0);
  CU_ASSERT_EQUAL(mproc_barrier_n_waiting(b), 0);
  mproc_barrier_free(b);
  mproc_queue_free(q);
}

/* CPython's test_action: the action runs exactly once per pass, before
 * any party is released. */
static void test_barrier_action(void)
{
  enum { N = 5, PASSES = 3 };
  mproc_barrier_t *b = NULL;
  mproc_shared_t *runs = NULL;
  mproc_process_t *p[N - 1];

  CU_ASSERT_EQUAL_FATAL(mproc_shared_value_create(&runs, MPROC_C_INT, 0), 0);
  CU_ASSERT_EQUAL_FATAL(
      mproc_barrier_create_ex(&b, N, b_count_runs, MPROC_FOREVER), 0);
  for (int i = 0; i < N - 1; i++)
    p[i] = mproc_test_start(b_action_party, "ooi", b, runs, PASSES);
  CU_ASSERT_EQUAL(action_party(b, runs, PASSES), 0);
  for (int i = 0; i < N - 1; i++)
    EXPECT_EXIT(mproc_test_finish(p[i]), 0);
  CU_ASSERT_EQUAL(*(int *)mproc_shared_ptr(runs), PASSES);
  CU_ASSERT_EQUAL(mproc_barrier_broken(b), 0);
  mproc_barrier_free(b);
  mproc_shared_free(runs);
}

/* An action that fails (CPython: raises) breaks the barrier for every
 * party. */
static void test_barrier_action_fails(void)
{
  mproc_barrier_t *b = NULL;
  mproc_process_t *p[2];

  CU_ASSERT_EQUAL_FATAL(mproc_barrier_create_ex(&b, 3, b_fail, MPROC_FOREVER),
                        0);
  for (int i = 0; i < 2; i++)
    p[i] = mproc_test_start(b_wait_default, "o", b);
  CU_ASSERT_EQUAL(mproc_barrier_wait(b, 60), MPROC_EBROKEN);
  for (int i = 0; i < 2; i++)
    EXPECT_EXIT(mproc_test_finish(p[i]), 20);
  CU_ASSERT_EQUAL(mproc_barrier_broken(b), 1);
  CU_ASSERT_EQUAL(mproc_barrier_n_waiting(b), 0);
  mproc_barrier_free(b);
}

static int not_registered(mproc_args_t *args)
{
  (void)args;
  return 0;
}

/* CPython's test_default_timeout: parties waiting without a timeout of
 * their own time out after the barrier's, which breaks it; the party
 * that comes late finds it broken. */
static void test_barrier_default_timeout(void)
{
  mproc_barrier_t *b = NULL;
  mproc_process_t *p[2];
  double t0, deadline;

  CU_ASSERT_EQUAL(mproc_barrier_create_ex(&b, 2, not_registered, 1),
                  MPROC_ENOTREG);
  CU_ASSERT_EQUAL(mproc_barrier_create_ex(&b, 2, NULL, -1), MPROC_EINVAL);
  CU_ASSERT_EQUAL(mproc_barrier_create_ex(&b, 0, NULL, 1), MPROC_EINVAL);
  CU_ASSERT_EQUAL_FATAL(mproc_barrier_create_ex(&b, 3, NULL, 0.5), 0);
  t0 = mproc_test_now();
  for (int i = 0; i < 2; i++)
    p[i] = mproc_test_start(b_wait_default, "o", b);
  deadline = t0 + 60;
  while (!mproc_barrier_broken(b) && mproc_test_now() < deadline)
    mproc_test_sleep_ms(5);
  CU_ASSERT(mproc_test_now() - t0 >= 0.5);
  CU_ASSERT_EQUAL(mproc_barrier_wait(b, MPROC_FOREVER), MPROC_EBROKEN);
  for (int i = 0; i < 2; i++)
    EXPECT_EXIT(mproc_test_finish(p[i]), 20);
  mproc_barrier_free(b);
}

static void test_barrier_timeout_breaks(void)
{
  mproc_barrier_t *b = NULL;
  double t0;

  CU_ASSERT_EQUAL_FATAL(mproc_barrier_create(&b, 2), 0);
  t0 = mproc_test_now();
  CU_ASSERT_EQUAL(mproc_barrier_wait(b, 0.2), MPROC_EBROKEN);
  CU_ASSERT(mproc_test_now() - t0 >= 0.19);
  CU_ASSERT_EQUAL(mproc_barrier_broken(b), 1);
  CU_ASSERT_EQUAL(mproc_barrier_reset(b), 0);
  CU_ASSERT_EQUAL(mproc_barrier_broken(b), 0);
  mproc_barrier_free(b);
}

void mproc_test_register_syncs(void)
{
  static const mproc_test_case_t cases[] = {
      MPROC_TEST_CASE(test_semaphore),
      MPROC_TEST_CASE(test_bounded_semaphore),
      MPROC_TEST_CASE(test_semaphore_across_processes),
      MPROC_TEST_CASE(test_event),
      MPROC_TEST_CASE(test_condition_errors),
      MPROC_TEST_CASE(test_condition_notify),
      MPROC_TEST_CASE(test_condition_wait_for),
      MPROC_TEST_CASE(test_condition_notify_n),
      MPROC_TEST_CASE(test_condition_notify_not_taken_by_later_waiter),
      MPROC_TEST_CASE(test_condition_waitfor),
      MPROC_TEST_CASE(test_condition_waitfor_threads),
      MPROC_TEST_CASE(test_condition_waitfor_timeout),
      MPROC_TEST_CASE(test_condition_wait_result),
      MPROC_TEST_CASE(test_barrier_indexes),
      MPROC_TEST_CASE(test_barrier_thousand),
      MPROC_TEST_CASE(test_barrier_abort_and_reset),
      MPROC_TEST_CASE(test_barrier_timeout_breaks),
      MPROC_TEST_CASE(test_barrier_action),
      MPROC_TEST_CASE(test_barrier_action_fails),
      MPROC_TEST_CASE(test_barrier_default_timeout),
      {NULL, NULL}};

  (void)mproc_test_add_suite("syncs", cases);
}
