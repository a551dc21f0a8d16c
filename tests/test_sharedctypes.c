/*
 * Value and Array with CPython's arguments: initial contents, lock=False
 * (raw) and lock=<a Lock or RLock> shared by several objects, after
 * CPython's _TestValue and _TestArray.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"

#define BADARGS 99

/* CPython's codes_values: type, first value, second value. */
static const struct {
  mproc_ctype_t t;
  double first, second;
} codes_values[] = {
    {MPROC_C_INT, 4343, 24234},
    {MPROC_C_DOUBLE, 3.625, -4.25},
    {MPROC_C_SHORT, -232, 234},
    {MPROC_C_INT64, 8589934592.0 /* 2**33 */, 17179869184.0 /* 2**34 */},
    {MPROC_C_CHAR, 'x', 'y'},
};
#define NCODES (sizeof codes_values / sizeof codes_values[0])

/* Writes @x into the element @p of type @t. */
static void put(mproc_ctype_t t, void *p, double x)
{
  switch (t) {
  case MPROC_C_INT:
    *(int *)p = (int)x;
    break;
  case MPROC_C_DOUBLE:
    *(double *)p = x;
    break;
  case MPROC_C_SHORT:
    *(short *)p = (short)x;
    break;
  case MPROC_C_INT64:
    *(int64_t *)p = (int64_t)x;
    break;
  default:
    *(char *)p = (char)x;
    break;
  }
}

static double get(mproc_ctype_t t, const void *p)
{
  switch (t) {
  case MPROC_C_INT:
    return *(const int *)p;
  case MPROC_C_DOUBLE:
    return *(const double *)p;
  case MPROC_C_SHORT:
    return *(const short *)p;
  case MPROC_C_INT64:
    return (double)*(const int64_t *)p;
  default:
    return *(const char *)p;
  }
}

/* CPython's _TestValue._test: each value becomes its second value. */
MPROC_TARGET(sc_set_values)
{
  mproc_shared_t *v[NCODES];

  if (mproc_args_parse(args, "ooooo", MPROC_KIND_VALUE, &v[0], MPROC_KIND_VALUE,
                       &v[1], MPROC_KIND_VALUE, &v[2], MPROC_KIND_VALUE, &v[3],
                       MPROC_KIND_VALUE, &v[4]) != 0)
    return BADARGS;
  for (size_t i = 0; i < NCODES; i++) {
    if (mproc_shared_ctype(v[i]) != codes_values[i].t)
      return 1;
    put(codes_values[i].t, mproc_shared_ptr(v[i]), codes_values[i].second);
  }
  return 0;
}

/* CPython's _TestArray.f: running sums in place. */
MPROC_TARGET(sc_prefix_sums)
{
  mproc_shared_t *a;
  int *seq;

  if (mproc_args_parse(args, "o", MPROC_KIND_ARRAY, &a) != 0)
    return BADARGS;
  seq = mproc_shared_ptr(a);
  for (size_t i = 1; i < mproc_shared_len(a); i++)
    seq[i] += seq[i - 1];
  return 0;
}

/* Upper-cases an Array('c') in place; 1 unless it held "hello world". */
MPROC_TARGET(sc_upper)
{
  mproc_shared_t *a;
  char *s;

  if (mproc_args_parse(args, "o", MPROC_KIND_ARRAY, &a) != 0)
    return BADARGS;
  s = mproc_shared_ptr(a);
  if (mproc_shared_len(a) != 11 || memcmp(s, "hello world", 11) != 0)
    return 1;
  for (size_t i = 0; i < 11; i++)
    if (s[i] >= 'a' && s[i] <= 'z')
      s[i] = (char)(s[i] - 'a' + 'A');
  return 0;
}

/* Tries the lock of the second Value without waiting: 10 busy, 11
 * acquired (and released). With @keep, acquires the first Value's lock
 * and returns holding it. */
MPROC_TARGET(sc_try_lock)
{
  mproc_shared_t *v1, *v2;
  int keep, rc;

  if (mproc_args_parse(args, "ooi", MPROC_KIND_VALUE, &v1, MPROC_KIND_VALUE,
                       &v2, &keep) != 0)
    return BADARGS;
  if (keep)
    return mproc_lock_acquire(mproc_shared_lock(v1), 60) == 0 ? 12 : 1;
  rc = mproc_lock_acquire(mproc_shared_lock(v2), 0);
  if (rc == 0)
    mproc_lock_release(mproc_shared_lock(v2));
  return rc == MPROC_ETIMEDOUT ? 10 : rc == 0 ? 11 : 1;
}

static void value_test(int raw)
{
  mproc_shared_t *v[NCODES] = {NULL};
  unsigned char init[8];

  for (size_t i = 0; i < NCODES; i++) {
    mproc_shared_options_t o = {.init = init, .raw = raw};
    put(codes_values[i].t, init, codes_values[i].first);
    CU_ASSERT_EQUAL_FATAL(mproc_shared_value_new(&v[i], codes_values[i].t, &o),
                          0);
    CU_ASSERT_EQUAL(get(codes_values[i].t, mproc_shared_ptr(v[i])),
                    codes_values[i].first);
    CU_ASSERT_EQUAL(mproc_shared_lock(v[i]) == NULL, raw);
  }
  EXPECT_EXIT(
      mproc_test_run(sc_set_values, "ooooo", v[0], v[1], v[2], v[3], v[4]), 0);
  for (size_t i = 0; i < NCODES; i++) {
    CU_ASSERT_EQUAL(get(codes_values[i].t, mproc_shared_ptr(v[i])),
                    codes_values[i].second);
    mproc_shared_free(v[i]);
  }
}

/* CPython's test_value: Value(code, value) for each code. */
static void test_value(void)
{
  value_test(0);
}

/* CPython's test_rawvalue. */
static void test_rawvalue(void)
{
  value_test(1);
}

static void array_test(int raw)
{
  int seq[] = {680, 626, 934, 821, 150, 233, 548, 982, 714, 831};
  mproc_shared_options_t o = {.init = seq, .raw = raw};
  mproc_shared_t *arr = NULL;
  int *a;

  CU_ASSERT_EQUAL_FATAL(mproc_shared_array_new(&arr, MPROC_C_INT, 10, &o), 0);
  a = mproc_shared_ptr(arr);
  CU_ASSERT_EQUAL(mproc_shared_len(arr), 10);
  CU_ASSERT_EQUAL(a[3], seq[3]);
  CU_ASSERT_EQUAL(memcmp(a + 2, seq + 2, 5 * sizeof *a), 0);
  /* arr[4:8] = seq[4:8] = [1, 2, 3, 4] */
  for (int i = 4; i < 8; i++)
    a[i] = seq[i] = i - 3;
  CU_ASSERT_EQUAL(memcmp(a, seq, sizeof seq), 0);
  for (int i = 1; i < 10; i++)
    seq[i] += seq[i - 1];
  EXPECT_EXIT(mproc_test_run(sc_prefix_sums, "o", arr), 0);
  CU_ASSERT_EQUAL(memcmp(a, seq, sizeof seq), 0);
  mproc_shared_free(arr);
}

/* CPython's test_array: Array('i', seq). */
static void test_array(void)
{
  array_test(0);
}

/* CPython's test_rawarray. */
static void test_rawarray(void)
{
  array_test(1);
}

/* Array('c', b"hello world"), changed by a child. */
static void test_array_of_chars(void)
{
  mproc_shared_options_t o = {.init = "hello world"};
  mproc_shared_t *arr = NULL;

  CU_ASSERT_EQUAL_FATAL(mproc_shared_array_new(&arr, MPROC_C_CHAR, 11, &o), 0);
  EXPECT_EXIT(mproc_test_run(sc_upper, "o", arr), 0);
  CU_ASSERT_EQUAL(memcmp(mproc_shared_ptr(arr), "HELLO WORLD", 11), 0);
  mproc_shared_free(arr);
}

/* CPython's test_getobj_getlock and test_getobj_getlock_obj. */
static void test_getlock(void)
{
  mproc_shared_t *v = NULL;
  mproc_lock_t *lock = NULL;
  mproc_semaphore_t *notalock = NULL;
  int five = 5, ten[10] = {0};

  CU_ASSERT_EQUAL_FATAL(mproc_lock_create(&lock), 0);
  CU_ASSERT_EQUAL_FATAL(mproc_semaphore_create(&notalock, 1), 0);
  /* Value('i', 5): a lock of its own, an RLock. */
  CU_ASSERT_EQUAL_FATAL(
      mproc_shared_value_new(&v, MPROC_C_INT,
                             &(mproc_shared_options_t){.init = &five}),
      0);
  CU_ASSERT_EQUAL(mproc_object_kind(mproc_shared_lock(v)), MPROC_KIND_RLOCK);
  CU_ASSERT_EQUAL(*(int *)mproc_shared_ptr(v), 5);
  mproc_shared_free(v);
  /* A NULL options pointer is the default too. */
  CU_ASSERT_EQUAL_FATAL(mproc_shared_value_new(&v, MPROC_C_INT, NULL), 0);
  CU_ASSERT_PTR_NOT_NULL(mproc_shared_lock(v));
  CU_ASSERT_EQUAL(*(int *)mproc_shared_ptr(v), 0);
  mproc_shared_free(v);
  /* Value('i', 5, lock=lock): that very lock. */
  CU_ASSERT_EQUAL_FATAL(
      mproc_shared_value_new(
          &v, MPROC_C_INT,
          &(mproc_shared_options_t){.init = &five, .lock = lock}),
      0);
  CU_ASSERT_PTR_EQUAL(mproc_shared_lock(v), lock);
  mproc_shared_free(v);
  /* Array('i', range(10), lock=lock) */
  CU_ASSERT_EQUAL_FATAL(mproc_shared_array_new(&v, MPROC_C_INT, 10,
                                               &(mproc_shared_options_t){
                                                   .init = ten, .lock = lock}),
                        0);
  CU_ASSERT_PTR_EQUAL(mproc_shared_lock(v), lock);
  mproc_shared_free(v);
  /* lock=False */
  CU_ASSERT_EQUAL_FATAL(
      mproc_shared_value_new(&v, MPROC_C_INT,
                             &(mproc_shared_options_t){.raw = 1}),
      0);
  CU_ASSERT_PTR_NULL(mproc_shared_lock(v));
  mproc_shared_free(v);
  /* lock='notalock': refused; lock and raw together too. */
  v = NULL;
  CU_ASSERT_EQUAL(
      mproc_shared_value_new(
          &v, MPROC_C_INT, &(mproc_shared_options_t){.lock = (void *)notalock}),
      MPROC_ETYPE);
  CU_ASSERT_EQUAL(mproc_shared_array_new(
                      &v, MPROC_C_INT, 10,
                      &(mproc_shared_options_t){.lock = (void *)"notalock"}),
                  MPROC_ETYPE);
  CU_ASSERT_EQUAL(
      mproc_shared_value_new(&v, MPROC_C_INT,
                             &(mproc_shared_options_t){.raw = 1, .lock = lock}),
      MPROC_EINVAL);
  CU_ASSERT_EQUAL(mproc_shared_array_new(&v, MPROC_C_INT, 0, NULL),
                  MPROC_EINVAL);
  CU_ASSERT_PTR_NULL(v);
  mproc_semaphore_free(notalock);
  mproc_lock_free(lock);
}

/* Two Values sharing one RLock are guarded by the same lock in a child
 * too, and a child that returns holding it through one hands it over
 * through the other. */
static void test_values_share_a_lock(void)
{
  mproc_shared_t *v1 = NULL, *v2 = NULL;
  mproc_lock_t *lock = NULL;

  CU_ASSERT_EQUAL_FATAL(mproc_rlock_create(&lock), 0);
  CU_ASSERT_EQUAL_FATAL(
      mproc_shared_value_new(&v1, MPROC_C_INT,
                             &(mproc_shared_options_t){.lock = lock}),
      0);
  CU_ASSERT_EQUAL_FATAL(
      mproc_shared_value_new(&v2, MPROC_C_DOUBLE,
                             &(mproc_shared_options_t){.lock = lock}),
      0);
  mproc_lock_free(lock); /* the Values hold it */
  CU_ASSERT_EQUAL(mproc_lock_acquire(mproc_shared_lock(v1), 0), 0);
  EXPECT_EXIT(mproc_test_run(sc_try_lock, "ooi", v1, v2, 0), 10);
  CU_ASSERT_EQUAL(mproc_lock_release(mproc_shared_lock(v1)), 0);
  EXPECT_EXIT(mproc_test_run(sc_try_lock, "ooi", v1, v2, 0), 11);
  EXPECT_EXIT(mproc_test_run(sc_try_lock, "ooi", v1, v2, 1), 12);
  CU_ASSERT_EQUAL(mproc_lock_acquire(mproc_shared_lock(v2), 30),
                  MPROC_EOWNERDEAD);
  CU_ASSERT_EQUAL(mproc_lock_release(mproc_shared_lock(v2)), 0);
  mproc_shared_free(v1);
  mproc_shared_free(v2);
}

void mproc_test_register_sharedctypes(void)
{
  static const mproc_test_case_t cases[] = {
      MPROC_TEST_CASE(test_value),
      MPROC_TEST_CASE(test_rawvalue),
      MPROC_TEST_CASE(test_array),
      MPROC_TEST_CASE(test_rawarray),
      MPROC_TEST_CASE(test_array_of_chars),
      MPROC_TEST_CASE(test_getlock),
      MPROC_TEST_CASE(test_values_share_a_lock),
      {NULL, NULL}};

  (void)mproc_test_add_suite("sharedctypes", cases);
}
