/*
 * Locks left held by a process that ends: whichever way it ends (its
 * target returns, calls mproc_exit(), or it is killed), the next
 * acquirer gets the lock with MPROC_EOWNERDEAD instead of a deadlock.
 * The same for every object built on a lock: RLock, Condition, the lock
 * of a Value, and a queue's internal lock held by a thread of a child
 * whose target returned in the middle of a put.
 */
#include <apr_pools.h>
#include <apr_thread_proc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define BADARGS 99

/* How a holder ends: return from the target, or mproc_exit(). */
enum { BY_RETURN, BY_EXIT };

/* Acquires the Lock or RLock (@depth times) and ends @how holding it. */
MPROC_TARGET(h_take_lock)
{
  mproc_lock_t *l;
  int64_t kind = 0;
  int k, depth, how;

  if (mproc_value_int(mproc_args_at(args, 0), &kind) != 0 ||
      mproc_args_parse(args, "iiio", &k, &depth, &how, (int)kind, &l) != 0)
    return BADARGS;
  for (int i = 0; i < depth; i++)
    if (mproc_lock_acquire(l, 60) != 0)
      return 1;
  if (how == BY_EXIT)
    mproc_exit(7);
  return 7;
}

/* Acquires the Condition and returns holding it. */
MPROC_TARGET(h_take_condition)
{
  mproc_condition_t *c;

  if (mproc_args_parse(args, "o", MPROC_KIND_CONDITION, &c) != 0)
    return BADARGS;
  return mproc_condition_acquire(c, 60) == 0 ? 7 : 1;
}

/* Acquires the Value's lock, writes a half-done update, returns. */
MPROC_TARGET(h_take_value)
{
  mproc_shared_t *v;

  if (mproc_args_parse(args, "o", MPROC_KIND_VALUE, &v) != 0)
    return BADARGS;
  if (mproc_lock_acquire(mproc_shared_lock(v), 60) != 0)
    return 1;
  *(int *)mproc_shared_ptr(v) = 41;
  return 7;
}

typedef struct big_put {
  mproc_queue_t *q;
  size_t len;
} big_put_t;

static void *APR_THREAD_FUNC put_big(apr_thread_t *t, void *arg)
{
  big_put_t *bp = arg;
  void *buf = calloc(1, bp->len);

  (void)t;
  /* Never returns: nobody reads, and the item is larger than the ring,
   * so the thread streams it holding the queue's write lock. */
  if (buf != NULL)
    (void)mproc_queue_put_bytes(bp->q, MPROC_FOREVER, buf, bp->len);
  free(buf);
  return NULL;
}

/* Starts a thread that puts an item larger than the queue's ring (and
 * so holds the queue's write lock until the item is read), waits until
 * the item has begun, then returns from the target. */
MPROC_TARGET(h_return_mid_put)
{
  static big_put_t bp;
  apr_pool_t *pool;
  apr_thread_t *t;
  double deadline;

  if (mproc_args_parse(args, "o", MPROC_KIND_QUEUE, &bp.q) != 0)
    return BADARGS;
  bp.len = 16 << 20;
  if (apr_pool_create(&pool, NULL) != APR_SUCCESS ||
      apr_thread_create(&t, NULL, put_big, &bp, pool) != APR_SUCCESS)
    return 1;
  /* The item counts as soon as its header is in: then the writer is
   * streaming the rest, with the write lock held. */
  deadline = mproc_test_now() + 60;
  while (mproc_queue_qsize(bp.q) != 1)
    if (mproc_test_now() > deadline)
      return 2;
    else
      mproc_test_sleep_ms(2);
  return 7;
}

/* The lock @l was left held by a process that ended: it is handed to us
 * with MPROC_EOWNERDEAD, and works normally afterwards. */
static void expect_handed_over(mproc_lock_t *l)
{
  CU_ASSERT_EQUAL(mproc_lock_acquire(l, 30), MPROC_EOWNERDEAD);
  CU_ASSERT_EQUAL(mproc_lock_release(l), 0);
  CU_ASSERT_EQUAL(mproc_lock_acquire(l, 0), 0);
  CU_ASSERT_EQUAL(mproc_lock_release(l), 0);
}

static void held_lock(int kind, int depth, int how)
{
  mproc_lock_t *l = NULL;

  CU_ASSERT_EQUAL_FATAL(kind == MPROC_KIND_LOCK ? mproc_lock_create(&l)
                                                : mproc_rlock_create(&l),
                        0);
  EXPECT_EXIT(mproc_test_run(h_take_lock, "iiio", kind, depth, how, l), 7);
  expect_handed_over(l);
  mproc_lock_free(l);
}

/* The defect: a target that returned holding a Lock left it locked for
 * ever (its memory was unmapped before the process ended, so the kernel
 * could not find it on the thread's robust list). */
static void test_lock_held_by_returning_target(void)
{
  held_lock(MPROC_KIND_LOCK, 1, BY_RETURN);
}

static void test_lock_held_by_exiting_target(void)
{
  held_lock(MPROC_KIND_LOCK, 1, BY_EXIT);
}

/* An RLock held three levels deep: the next owner holds it once. */
static void test_rlock_held_by_returning_target(void)
{
  held_lock(MPROC_KIND_RLOCK, 3, BY_RETURN);
}

static void test_rlock_held_by_exiting_target(void)
{
  held_lock(MPROC_KIND_RLOCK, 3, BY_EXIT);
}

static void test_condition_held_by_returning_target(void)
{
  mproc_condition_t *c = NULL;

  CU_ASSERT_EQUAL_FATAL(mproc_condition_create(&c, NULL), 0);
  EXPECT_EXIT(mproc_test_run(h_take_condition, "o", c), 7);
  CU_ASSERT_EQUAL(mproc_condition_acquire(c, 30), MPROC_EOWNERDEAD);
  /* Usable as a condition afterwards. */
  CU_ASSERT_EQUAL(mproc_condition_notify_all(c), 0);
  CU_ASSERT_EQUAL(mproc_condition_wait(c, 0.01), MPROC_ETIMEDOUT);
  CU_ASSERT_EQUAL(mproc_condition_release(c), 0);
  mproc_condition_free(c);
}

static void test_value_lock_held_by_returning_target(void)
{
  mproc_shared_t *v = NULL;

  CU_ASSERT_EQUAL_FATAL(mproc_shared_value_create(&v, MPROC_C_INT, 1), 0);
  EXPECT_EXIT(mproc_test_run(h_take_value, "o", v), 7);
  expect_handed_over(mproc_shared_lock(v));
  CU_ASSERT_EQUAL(*(int *)mproc_shared_ptr(v), 41);
  mproc_shared_free(v);
}

/* A child's thread dies in the middle of a put when the target returns:
 * the queue is broken (the message is half written), not stuck. */
static void test_queue_lock_held_by_returning_target(void)
{
  mproc_queue_t *q = NULL;

  CU_ASSERT_EQUAL_FATAL(mproc_queue_create(&q, 0), 0);
  EXPECT_EXIT(mproc_test_run(h_return_mid_put, "o", q), 7);
  CU_ASSERT_EQUAL(mproc_queue_put(q, 30, "i", 1), MPROC_EBROKEN);
  mproc_queue_free(q);
}

void mproc_test_register_held(void)
{
  static const mproc_test_case_t cases[] = {
      MPROC_TEST_CASE(test_lock_held_by_returning_target),
      MPROC_TEST_CASE(test_lock_held_by_exiting_target),
      MPROC_TEST_CASE(test_rlock_held_by_returning_target),
      MPROC_TEST_CASE(test_rlock_held_by_exiting_target),
      MPROC_TEST_CASE(test_condition_held_by_returning_target),
      MPROC_TEST_CASE(test_value_lock_held_by_returning_target),
      MPROC_TEST_CASE(test_queue_lock_held_by_returning_target),
      {NULL, NULL}};

  (void)mproc_test_add_suite("held", cases);
}
