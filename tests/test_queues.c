/*
 * Queue, SimpleQueue, JoinableQueue, Lock and RLock, in one process and
 * across processes, with CPython's multiprocessing tests as the reference
 * (_TestQueue, _TestLock), and objects passed as process arguments.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define BADARGS 99

/* ---- children ---- */

/* Puts @n ints from @base, then returns at once: the items must survive. */
MPROC_TARGET(q_producer)
{
  mproc_queue_t *q;
  int base, n;

  if (mproc_args_parse(args, "oii", MPROC_KIND_QUEUE, &q, &base, &n) != 0)
    return BADARGS;
  for (int i = 0; i < n; i++)
    if (mproc_queue_put(q, MPROC_FOREVER, "i", base + i) != 0)
      return 1;
  return 0;
}

/* Gets ints until -1, acknowledging each with task_done. */
MPROC_TARGET(q_worker)
{
  mproc_queue_t *jq, *out;
  mproc_args_t *item;
  long sum = 0;
  int v;

  if (mproc_args_parse(args, "oo", MPROC_KIND_JOINABLE_QUEUE, &jq,
                       MPROC_KIND_QUEUE, &out) != 0)
    return BADARGS;
  for (;;) {
    if (mproc_queue_get(jq, MPROC_FOREVER, &item) != 0)
      return 1;
    if (mproc_args_parse(item, "i", &v) != 0)
      return 2;
    mproc_args_free(item);
    if (v >= 0)
      sum += v;
    if (mproc_queue_task_done(jq) != 0)
      return 3;
    if (v < 0)
      break;
  }
  return mproc_queue_put(out, MPROC_FOREVER, "l", sum) == 0 ? 0 : 4;
}

/* Sends back one big item of @len bytes, byte i = i * 7; exits 3 when
 * the queue broke under it. */
MPROC_TARGET(q_big)
{
  mproc_queue_t *q;
  int64_t len;
  unsigned char *buf;
  int rc;

  if (mproc_args_parse(args, "oL", MPROC_KIND_QUEUE, &q, &len) != 0)
    return BADARGS;
  buf = malloc((size_t)len);
  if (buf == NULL)
    return 1;
  for (int64_t i = 0; i < len; i++)
    buf[i] = (unsigned char)(i * 7);
  rc = mproc_queue_put_bytes(q, MPROC_FOREVER, buf, (size_t)len);
  free(buf);
  return rc == 0 ? 0 : rc == MPROC_EBROKEN ? 3 : 2;
}

/* Gets one item (never returns while its writer is stopped). */
MPROC_TARGET(q_get_one)
{
  mproc_queue_t *q;
  mproc_args_t *item = NULL;

  if (mproc_args_parse(args, "o", MPROC_KIND_QUEUE, &q) != 0)
    return BADARGS;
  if (mproc_queue_get(q, MPROC_FOREVER, &item) != 0)
    return 1;
  mproc_args_free(item);
  return 0;
}

/* Tries the lock without waiting: 10 if it was busy, 11 if acquired. */
MPROC_TARGET(l_try)
{
  mproc_lock_t *l;
  int rc;

  if (mproc_args_parse(args, "o", MPROC_KIND_LOCK, &l) != 0)
    return BADARGS;
  rc = mproc_lock_acquire(l, 0);
  if (rc == 0)
    mproc_lock_release(l);
  return rc == MPROC_ETIMEDOUT ? 10 : rc == 0 ? 11 : 12;
}

/* Takes the lock, says so on @q, and waits to be killed holding it. */
MPROC_TARGET(l_hold)
{
  mproc_lock_t *l;
  mproc_queue_t *q;

  if (mproc_args_parse(args, "oo", MPROC_KIND_LOCK, &l, MPROC_KIND_QUEUE, &q) !=
      0)
    return BADARGS;
  if (mproc_lock_acquire(l, MPROC_FOREVER) != 0)
    return 1;
  if (mproc_queue_put(q, MPROC_FOREVER, "s", "held") != 0)
    return 2;
  mproc_test_block_forever();
  return 0;
}

/* Adds 1 to a counter kept in @q's single item, @n times, under @l. */
MPROC_TARGET(l_count)
{
  mproc_lock_t *l;
  mproc_queue_t *q;
  mproc_args_t *item;
  int n, v;

  if (mproc_args_parse(args, "ooi", MPROC_KIND_LOCK, &l, MPROC_KIND_QUEUE, &q,
                       &n) != 0)
    return BADARGS;
  for (int i = 0; i < n; i++) {
    int st;
    int bad = 0;
    MPROC_WITH_LOCK(l, st)
    {
      /* The item is only ever out of the queue while the lock is held. */
      if (mproc_queue_get(q, 0, &item) != 0 ||
          mproc_args_parse(item, "i", &v) != 0) {
        bad = 1;
        break;
      }
      mproc_args_free(item);
      bad = mproc_queue_put(q, 0, "i", v + 1) != 0;
    }
    if (st != 0 || bad)
      return 1;
  }
  return 0;
}

/* The same object given twice and in kwargs arrives as one object. */
MPROC_TARGET(o_same)
{
  mproc_lock_t *a, *b;
  const mproc_value_t *v;
  void *c;

  if (mproc_args_parse(args, "oo", MPROC_KIND_LOCK, &a, MPROC_KIND_LOCK, &b) !=
      0)
    return BADARGS;
  v = mproc_args_kw(args, "lock");
  if (v == NULL || mproc_value_type(v) != MPROC_T_OBJECT)
    return 2;
  if (mproc_args_object(args, v, MPROC_KIND_LOCK, &c) != 0)
    return 3;
  if (a != b || c != (void *)a)
    return 4;
  /* The wrong kind is a type error naming the argument. */
  if (mproc_args_parse(args, "o|o", MPROC_KIND_QUEUE, &c, MPROC_KIND_LOCK,
                       &c) != MPROC_ETYPE ||
      strstr(mproc_last_error(), "must be Queue, not Lock") == NULL)
    return 5;
  return 0;
}

/* Passes the lock it received on to a grandchild. */
MPROC_TARGET(o_relay)
{
  mproc_lock_t *l;

  mproc_process_t *p = NULL;
  int code = -1;

  if (mproc_args_parse(args, "o", MPROC_KIND_LOCK, &l) != 0)
    return BADARGS;
  /* No CUnit here: the harness's helpers assert. */
  if (mproc_process_create(&p, l_try, "o", l) != 0 ||
      mproc_process_start(p) != 0 ||
      mproc_process_join(p, MPROC_TEST_JOIN_LIMIT) != 0 ||
      mproc_process_exitcode(p, &code) != 0)
    code = 1;
  mproc_process_free(p);
  return code;
}

/* ---- helpers ---- */

static mproc_queue_t *new_queue(long maxsize)
{
  mproc_queue_t *q = NULL;

  CU_ASSERT_EQUAL_FATAL(mproc_queue_create(&q, maxsize), 0);
  return q;
}

static int get_int(mproc_queue_t *q, double timeout, int *v)
{
  mproc_args_t *item;
  int rc = mproc_queue_get(q, timeout, &item);

  if (rc != 0)
    return rc;
  rc = mproc_args_parse(item, "i", v);
  mproc_args_free(item);
  return rc;
}

/* ---- queue tests ---- */

static void test_queue_fifo_and_sizes(void)
{
  mproc_queue_t *q = new_queue(0);
  int v;

  CU_ASSERT_EQUAL(mproc_queue_empty(q), 1);
  CU_ASSERT_EQUAL(mproc_queue_qsize(q), 0);
  for (int i = 0; i < 100; i++)
    CU_ASSERT_EQUAL(mproc_queue_put(q, 0, "i", i), 0);
  /* Exact at once: no feeder thread to wait for. */
  CU_ASSERT_EQUAL(mproc_queue_qsize(q), 100);
  CU_ASSERT_EQUAL(mproc_queue_empty(q), 0);
  CU_ASSERT_EQUAL(mproc_queue_full(q), 0);
  for (int i = 0; i < 100; i++) {
    CU_ASSERT_EQUAL(get_int(q, 0, &v), 0);
    CU_ASSERT_EQUAL(v, i);
  }
  CU_ASSERT_EQUAL(mproc_queue_get(q, 0, &(mproc_args_t *){NULL}), MPROC_EEMPTY);
  mproc_queue_free(q);
}

static void test_queue_maxsize(void)
{
  mproc_queue_t *q = new_queue(2);
  double t0;
  int v;

  CU_ASSERT_EQUAL(mproc_queue_put(q, 0, "i", 1), 0);
  CU_ASSERT_EQUAL(mproc_queue_put(q, 0, "i", 2), 0);
  CU_ASSERT_EQUAL(mproc_queue_full(q), 1);
  CU_ASSERT_EQUAL(mproc_queue_put(q, 0, "i", 3), MPROC_EFULL);
  t0 = mproc_test_now();
  CU_ASSERT_EQUAL(mproc_queue_put(q, 0.2, "i", 3), MPROC_EFULL);
  CU_ASSERT(mproc_test_now() - t0 >= 0.19);
  CU_ASSERT_EQUAL(get_int(q, 0, &v), 0);
  CU_ASSERT_EQUAL(mproc_queue_put(q, 0, "i", 3), 0);
  CU_ASSERT_EQUAL(mproc_queue_qsize(q), 2);
  mproc_queue_free(q);
}

static void test_queue_get_timeout(void)
{
  mproc_queue_t *q = new_queue(0);
  mproc_args_t *item = NULL;
  double t0 = mproc_test_now();

  CU_ASSERT_EQUAL(mproc_queue_get(q, 0.2, &item), MPROC_EEMPTY);
  CU_ASSERT(mproc_test_now() - t0 >= 0.19);
  CU_ASSERT_PTR_NULL(item);
  /* A negative timeout counts as 0. */
  CU_ASSERT_EQUAL(mproc_queue_get(q, -5, &item), MPROC_EEMPTY);
  mproc_queue_free(q);
}

static void test_queue_closed_and_errors(void)
{
  mproc_queue_t *q = new_queue(0);
  mproc_lock_t *l = NULL;

  CU_ASSERT_EQUAL(mproc_lock_create(&l), 0);
  /* Objects travel only as process arguments. */
  CU_ASSERT_EQUAL(mproc_queue_put(q, 0, "o", l), MPROC_ETYPE);
  CU_ASSERT_PTR_NOT_NULL(strstr(mproc_last_error(), "Lock objects should "
                                                    "only be shared"));
  CU_ASSERT_EQUAL(mproc_queue_qsize(q), 0);
  CU_ASSERT_EQUAL(mproc_queue_put(q, 0, "o", (void *)"text"), MPROC_ETYPE);
  CU_ASSERT_EQUAL(mproc_queue_join_thread(q), MPROC_ESTATE);
  CU_ASSERT_EQUAL(mproc_queue_task_done(q), MPROC_ETYPE);
  CU_ASSERT_EQUAL(mproc_queue_close(q), 0);
  CU_ASSERT_EQUAL(mproc_queue_close(q), 0);
  CU_ASSERT_EQUAL(mproc_queue_join_thread(q), 0);
  CU_ASSERT_EQUAL(mproc_queue_put(q, 0, "i", 1), MPROC_ECLOSED);
  CU_ASSERT_EQUAL(mproc_queue_get(q, 0, &(mproc_args_t *){NULL}),
                  MPROC_ECLOSED);
  mproc_lock_free(l);
  mproc_queue_free(q);
}

static void test_queue_producer_exits_after_put(void)
{
  mproc_queue_t *q = new_queue(0);
  int v;

  EXPECT_EXIT(mproc_test_run(q_producer, "oii", q, 100, 50), 0);
  CU_ASSERT_EQUAL(mproc_queue_qsize(q), 50);
  for (int i = 0; i < 50; i++) {
    CU_ASSERT_EQUAL(get_int(q, 0, &v), 0);
    CU_ASSERT_EQUAL(v, 100 + i);
  }
  CU_ASSERT_EQUAL(mproc_queue_empty(q), 1);
  mproc_queue_free(q);
}

/* Three producers, one consumer (this process) through a small bound:
 * every item arrives exactly once and each producer's in order. */
static void test_queue_many_producers(void)
{
  enum { P = 3, N = 2000 };
  mproc_queue_t *q = new_queue(16);
  mproc_process_t *p[P];
  int next[P] = {0}, v, ok = 1;

  for (int i = 0; i < P; i++)
    p[i] = mproc_test_start(q_producer, "oii", q, i * N, N);
  for (int k = 0; k < P * N && ok; k++) {
    ok = get_int(q, 30, &v) == 0 && v >= 0 && v < P * N;
    ok = ok && v == (v / N) * N + next[v / N];
    if (ok)
      next[v / N]++;
  }
  CU_ASSERT(ok);
  for (int i = 0; i < P; i++)
    EXPECT_EXIT(mproc_test_finish(p[i]), 0);
  CU_ASSERT_EQUAL(mproc_queue_qsize(q), 0);
  mproc_queue_free(q);
}

/* 16 MiB: four times the ring, so it streams through. */
static void test_queue_16mib_item(void)
{
  const int64_t len = 16 << 20;
  mproc_queue_t *q = new_queue(0);
  mproc_process_t *p = mproc_test_start(q_big, "oL", q, len);
  mproc_args_t *item = NULL;
  const unsigned char *data;
  size_t n = 0;
  int ok;

  CU_ASSERT_EQUAL(mproc_queue_get(q, 60, &item), 0);
  ok = item != NULL && mproc_args_parse(item, "y#", &data, &n) == 0 &&
       n == (size_t)len;
  for (size_t i = 0; ok && i < n; i++)
    ok = data[i] == (unsigned char)(i * 7);
  CU_ASSERT(ok);
  mproc_args_free(item);
  EXPECT_EXIT(mproc_test_finish(p), 0);
  mproc_queue_free(q);
}

#ifndef _WIN32
/* Wait (bounded) until @q holds @n items. */
static int wait_qsize(mproc_queue_t *q, long n)
{
  double end = mproc_test_now() + 30;

  while (mproc_queue_qsize(q) != n)
    if (mproc_test_now() > end)
      return 0;
  return 1;
}
#endif

/* A reader killed in the middle of an item that streams through the ring
 * must not leave its writer waiting for room forever: the writer's put
 * fails with MPROC_EBROKEN, and so does everything after. */
static void test_queue_reader_dies_mid_item(void)
{
#ifdef _WIN32
  printf("skipped: stopping a process mid-write needs SIGSTOP\n");
#else
  const int64_t len = 64 << 20; /* 16 rings */
  mproc_queue_t *q = new_queue(0);
  mproc_process_t *w, *r;

  w = mproc_test_start(q_big, "oL", q, len);
  /* The header is out and the ring full: the writer waits for room. */
  CU_ASSERT_FATAL(wait_qsize(q, 1));
  CU_ASSERT_EQUAL(kill((pid_t)mproc_process_pid(w), SIGSTOP), 0);
  r = mproc_test_start(q_get_one, "o", q);
  /* The reader has taken the header, drained the ring and waits for a
   * writer that does not move. */
  CU_ASSERT_FATAL(wait_qsize(q, 0));
  CU_ASSERT_EQUAL(mproc_process_kill(r), 0);
  EXPECT_EXIT(mproc_test_finish(r), -SIGKILL);
  CU_ASSERT_EQUAL(kill((pid_t)mproc_process_pid(w), SIGCONT), 0);
  EXPECT_EXIT(mproc_test_finish(w), 3);
  CU_ASSERT_EQUAL(mproc_queue_put(q, 0, "i", 1), MPROC_EBROKEN);
  mproc_queue_free(q);
#endif
}

/* CPython's test_task_done: four workers, join returns when all done. */
static void test_joinable_queue_workers(void)
{
  enum { W = 4, N = 100 };
  mproc_queue_t *jq = NULL, *out = new_queue(0);
  mproc_process_t *p[W];
  long total = 0, sum;
  mproc_args_t *item;

  CU_ASSERT_EQUAL_FATAL(mproc_joinable_queue_create(&jq, 0), 0);
  for (int i = 0; i < W; i++)
    p[i] = mproc_test_start(q_worker, "oo", jq, out);
  for (int i = 0; i < N; i++)
    CU_ASSERT_EQUAL(mproc_queue_put(jq, 0, "i", i), 0);
  CU_ASSERT_EQUAL(mproc_queue_join(jq, 60), 0);
  CU_ASSERT_EQUAL(mproc_queue_qsize(jq), 0);
  for (int i = 0; i < W; i++)
    CU_ASSERT_EQUAL(mproc_queue_put(jq, 0, "i", -1), 0);
  for (int i = 0; i < W; i++) {
    CU_ASSERT_EQUAL_FATAL(mproc_queue_get(out, 60, &item), 0);
    CU_ASSERT_EQUAL(mproc_args_parse(item, "l", &sum), 0);
    total += sum;
    mproc_args_free(item);
  }
  CU_ASSERT_EQUAL(total, N * (N - 1) / 2);
  for (int i = 0; i < W; i++)
    EXPECT_EXIT(mproc_test_finish(p[i]), 0);
  CU_ASSERT_EQUAL(mproc_queue_join(jq, 0), 0);
  CU_ASSERT_EQUAL(mproc_queue_task_done(jq), MPROC_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(mproc_last_error(), "too many times"));
  mproc_queue_free(jq);
  mproc_queue_free(out);
}

/* ---- lock tests ---- */

static void test_lock_semantics(void)
{
  mproc_lock_t *l = NULL;
  double t0;

  CU_ASSERT_EQUAL_FATAL(mproc_lock_create(&l), 0);
  CU_ASSERT_EQUAL(mproc_lock_release(l), MPROC_ESTATE);
  CU_ASSERT_EQUAL(mproc_lock_acquire(l, MPROC_FOREVER), 0);
  /* CPython's lock.acquire(False) on a held Lock is False. */
  CU_ASSERT_EQUAL(mproc_lock_acquire(l, 0), MPROC_ETIMEDOUT);
  t0 = mproc_test_now();
  CU_ASSERT_EQUAL(mproc_lock_acquire(l, 0.2), MPROC_ETIMEDOUT);
  CU_ASSERT(mproc_test_now() - t0 >= 0.19);
  CU_ASSERT_EQUAL(mproc_lock_acquire(l, MPROC_FOREVER), MPROC_EDEADLK);
  CU_ASSERT_EQUAL(mproc_lock_release(l), 0);
  CU_ASSERT_EQUAL(mproc_lock_release(l), MPROC_ESTATE);
  CU_ASSERT_EQUAL(mproc_object_kind(l), MPROC_KIND_LOCK);
  mproc_lock_free(l);
}

static void test_rlock_semantics(void)
{
  mproc_lock_t *l = NULL;

  CU_ASSERT_EQUAL_FATAL(mproc_rlock_create(&l), 0);
  CU_ASSERT_EQUAL(mproc_lock_release(l), MPROC_EPERM);
  CU_ASSERT_EQUAL(mproc_lock_acquire(l, MPROC_FOREVER), 0);
  CU_ASSERT_EQUAL(mproc_lock_acquire(l, 0), 0);
  CU_ASSERT_EQUAL(mproc_lock_acquire(l, MPROC_FOREVER), 0);
  CU_ASSERT_EQUAL(mproc_lock_release(l), 0);
  CU_ASSERT_EQUAL(mproc_lock_release(l), 0);
  CU_ASSERT_EQUAL(mproc_lock_release(l), 0);
  CU_ASSERT_EQUAL(mproc_lock_release(l), MPROC_EPERM);
  CU_ASSERT_PTR_NOT_NULL(strstr(mproc_last_error(), "un-acquired"));
  CU_ASSERT_EQUAL(mproc_object_kind(l), MPROC_KIND_RLOCK);
  mproc_lock_free(l);
}

static void test_lock_across_processes(void)
{
  mproc_lock_t *l = NULL;

  CU_ASSERT_EQUAL_FATAL(mproc_lock_create(&l), 0);
  CU_ASSERT_EQUAL(mproc_lock_acquire(l, MPROC_FOREVER), 0);
  EXPECT_EXIT(mproc_test_run(l_try, "o", l), 10);
  /* ... and through a child to a grandchild. */
  EXPECT_EXIT(mproc_test_run(o_relay, "o", l), 10);
  CU_ASSERT_EQUAL(mproc_lock_release(l), 0);
  EXPECT_EXIT(mproc_test_run(l_try, "o", l), 11);
  mproc_lock_free(l);
}

/* A holder killed with the lock: the next acquirer gets it and is told. */
static void test_lock_owner_died(void)
{
  mproc_lock_t *l = NULL;
  mproc_queue_t *q = new_queue(0);
  mproc_process_t *p;
  mproc_args_t *item = NULL;

  CU_ASSERT_EQUAL_FATAL(mproc_lock_create(&l), 0);
  p = mproc_test_start(l_hold, "oo", l, q);
  CU_ASSERT_EQUAL(mproc_queue_get(q, 60, &item), 0);
  mproc_args_free(item);
  CU_ASSERT_EQUAL(mproc_lock_acquire(l, 0), MPROC_ETIMEDOUT);
  CU_ASSERT_EQUAL(mproc_process_kill(p), 0);
  EXPECT_EXIT(mproc_test_finish(p), -SIGKILL);
  CU_ASSERT_EQUAL(mproc_lock_acquire(l, 10), MPROC_EOWNERDEAD);
  CU_ASSERT_EQUAL(mproc_lock_release(l), 0);
  CU_ASSERT_EQUAL(mproc_lock_acquire(l, 0), 0);
  CU_ASSERT_EQUAL(mproc_lock_release(l), 0);
  mproc_lock_free(l);
  mproc_queue_free(q);
}

/* Four processes add 1 under the lock, 300 times each. */
static void test_lock_counter(void)
{
  enum { P = 4, N = 300 };
  mproc_lock_t *l = NULL;
  mproc_queue_t *q = new_queue(0);
  mproc_process_t *p[P];
  int v = -1;

  CU_ASSERT_EQUAL_FATAL(mproc_lock_create(&l), 0);
  CU_ASSERT_EQUAL(mproc_queue_put(q, 0, "i", 0), 0);
  for (int i = 0; i < P; i++)
    p[i] = mproc_test_start(l_count, "ooi", l, q, N);
  for (int i = 0; i < P; i++)
    EXPECT_EXIT(mproc_test_finish(p[i]), 0);
  CU_ASSERT_EQUAL(get_int(q, 0, &v), 0);
  CU_ASSERT_EQUAL(v, P * N);
  mproc_lock_free(l);
  mproc_queue_free(q);
}

static void test_with_lock_break_releases(void)
{
  mproc_lock_t *l = NULL;
  int st = -1, runs = 0;

  CU_ASSERT_EQUAL_FATAL(mproc_lock_create(&l), 0);
  MPROC_WITH_LOCK(l, st)
  {
    runs++;
    break;
  }
  CU_ASSERT_EQUAL(st, 0);
  CU_ASSERT_EQUAL(runs, 1);
  CU_ASSERT_EQUAL(mproc_lock_acquire(l, 0), 0); /* it was released */
  CU_ASSERT_EQUAL(mproc_lock_release(l), 0);
  mproc_lock_free(l);
}

/* ---- objects as arguments ---- */

static void test_object_arguments(void)
{
  mproc_lock_t *l = NULL;
  mproc_process_t *p = NULL;

  CU_ASSERT_EQUAL_FATAL(mproc_lock_create(&l), 0);
  CU_ASSERT_EQUAL(mproc_process_create(&p, o_same, "oo", l, l), 0);
  CU_ASSERT_EQUAL(mproc_process_set_kwargs(p, "{s:o}", "lock", l), 0);
  /* The process keeps the lock alive: the caller's reference may go. */
  mproc_lock_free(l);
  CU_ASSERT_EQUAL(mproc_process_start(p), 0);
  EXPECT_EXIT(mproc_test_finish(p), 0);

  /* Not an object: refused when the process is created. */
  p = NULL;
  CU_ASSERT_EQUAL(mproc_process_create(&p, o_same, "o", (void *)"text"),
                  MPROC_ETYPE);
  CU_ASSERT_PTR_NULL(p);
  /* An unstarted process releases its objects when freed (the harness
   * checks that no descriptor is left). */
  CU_ASSERT_EQUAL(mproc_lock_create(&l), 0);
  CU_ASSERT_EQUAL(mproc_process_create(&p, o_same, "o", l), 0);
  mproc_lock_free(l);
  mproc_process_free(p);
}

void mproc_test_register_queues(void)
{
  static const mproc_test_case_t cases[] = {
      MPROC_TEST_CASE(test_queue_fifo_and_sizes),
      MPROC_TEST_CASE(test_queue_maxsize),
      MPROC_TEST_CASE(test_queue_get_timeout),
      MPROC_TEST_CASE(test_queue_closed_and_errors),
      MPROC_TEST_CASE(test_queue_producer_exits_after_put),
      MPROC_TEST_CASE(test_queue_many_producers),
      MPROC_TEST_CASE(test_queue_16mib_item),
      MPROC_TEST_CASE(test_queue_reader_dies_mid_item),
      MPROC_TEST_CASE(test_joinable_queue_workers),
      MPROC_TEST_CASE(test_lock_semantics),
      MPROC_TEST_CASE(test_rlock_semantics),
      MPROC_TEST_CASE(test_lock_across_processes),
      MPROC_TEST_CASE(test_lock_owner_died),
      MPROC_TEST_CASE(test_lock_counter),
      MPROC_TEST_CASE(test_with_lock_break_releases),
      MPROC_TEST_CASE(test_object_arguments),
      {NULL, NULL}};

  (void)mproc_test_add_suite("queues", cases);
}
