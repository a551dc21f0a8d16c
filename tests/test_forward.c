/*
 * Values a process forwards without knowing their type (the build unit
 * `O`, Py_BuildValue's O) and lists whose length is known only at run
 * time (`X*`): a worker echoes whatever it received, as CPython's
 * pool.apply(identity, (x,)) and a queue relay do.
 */
#include <stdio.h>
#include <string.h>

#include "harness.h"

#define BADARGS 99

/* Puts its second argument back on the queue, as it is. */
MPROC_TARGET(f_echo)
{
  mproc_queue_t *q;
  const mproc_value_t *v;

  if (mproc_args_parse(args, "oO", MPROC_KIND_QUEUE, &q, &v) != 0)
    return BADARGS;
  return mproc_queue_put(q, 60, "O", v) == 0 ? 0 : 1;
}

/* A pool task returning its argument (CPython's identity). */
MPROC_TARGET(f_identity)
{
  const mproc_value_t *v;

  if (mproc_args_parse(args, "O", &v) != 0)
    return mproc_fail("f_identity: %s", mproc_last_error());
  return mproc_return("O", v);
}

/* Puts lists whose length @n is known only here: [0..n-1] ("i*"), n
 * strings ("s*"), and every argument it received after n ("O*"). */
MPROC_TARGET(f_lists)
{
  mproc_queue_t *q;
  const mproc_value_t *rest[8];
  const char *words[] = {"zero", "one", "two", "three", NULL};
  int ints[64], n;
  size_t nrest = mproc_args_count(args) - 2;

  if (mproc_args_parse(args, "oi|OOOOOOOO", MPROC_KIND_QUEUE, &q, &n, &rest[0],
                       &rest[1], &rest[2], &rest[3], &rest[4], &rest[5],
                       &rest[6], &rest[7]) != 0 ||
      n < 0 || n > 64 || nrest > 8)
    return BADARGS;
  for (int i = 0; i < n; i++)
    ints[i] = i * i;
  if (mproc_queue_put(q, 60, "i*", (size_t)n, ints) != 0 ||
      mproc_queue_put(q, 60, "s*", (size_t)(n < 5 ? n : 5), words) != 0 ||
      mproc_queue_put(q, 60, "[iO*]", n, nrest, rest) != 0)
    return 1;
  return 0;
}

/* Tries to forward a list holding a Lock it received by inheritance:
 * 0 when refused with MPROC_ETYPE. */
MPROC_TARGET(f_forward_object)
{
  mproc_queue_t *q;
  const mproc_value_t *list;

  if (mproc_args_parse(args, "oO", MPROC_KIND_QUEUE, &q, &list) != 0)
    return BADARGS;
  if (mproc_value_type(mproc_value_at(list, 0)) != MPROC_T_OBJECT)
    return 2;
  return mproc_queue_put(q, 0, "O", list) == MPROC_ETYPE ? 0 : 1;
}

/* The mixed value every echo test sends: [7, "seven", {"d": 2.5, "n":
 * nil}, b"\0\1", true, [], -3]. */
#define MIXED_FMT "[is{s:d,s:N}y#p[]L]"
#define MIXED_ARGS 7, "seven", "d", 2.5, "n", "\0\1", (size_t)2, 1, (int64_t)-3

static void check_mixed(const mproc_value_t *v)
{
  const void *data = NULL;
  size_t len = 0;
  int64_t i = 0;
  double d = 0;
  int b = 0;

  CU_ASSERT_EQUAL_FATAL(mproc_value_type(v), MPROC_T_LIST);
  CU_ASSERT(mproc_value_len(v, &len) == 0 && len == 7);
  CU_ASSERT(mproc_value_int(mproc_value_at(v, 0), &i) == 0 && i == 7);
  CU_ASSERT(mproc_value_bytes(mproc_value_at(v, 1), &data, &len) == 0 &&
            len == 5 && memcmp(data, "seven", 5) == 0);
  CU_ASSERT(
      mproc_value_double(mproc_value_get(mproc_value_at(v, 2), "d"), &d) == 0 &&
      d == 2.5);
  CU_ASSERT_EQUAL(mproc_value_type(mproc_value_get(mproc_value_at(v, 2), "n")),
                  MPROC_T_NIL);
  CU_ASSERT(mproc_value_type(mproc_value_at(v, 3)) == MPROC_T_BYTES &&
            mproc_value_bytes(mproc_value_at(v, 3), &data, &len) == 0 &&
            len == 2 && memcmp(data, "\0\1", 2) == 0);
  CU_ASSERT(mproc_value_bool(mproc_value_at(v, 4), &b) == 0 && b == 1);
  CU_ASSERT(mproc_value_len(mproc_value_at(v, 5), &len) == 0 && len == 0);
  CU_ASSERT(mproc_value_int(mproc_value_at(v, 6), &i) == 0 && i == -3);
}

static mproc_queue_t *new_queue(void)
{
  mproc_queue_t *q = NULL;

  CU_ASSERT_EQUAL_FATAL(mproc_queue_create(&q, 0), 0);
  return q;
}

/* A child echoes a value it knows nothing about. */
static void test_echo_through_a_process(void)
{
  mproc_queue_t *q = new_queue();
  mproc_args_t *item = NULL;
  const mproc_value_t *v;

  EXPECT_EXIT(mproc_test_run(f_echo, "o" MIXED_FMT, q, MIXED_ARGS), 0);
  CU_ASSERT_EQUAL_FATAL(mproc_queue_get(q, 60, &item), 0);
  CU_ASSERT_EQUAL(mproc_args_count(item), 1);
  CU_ASSERT_EQUAL_FATAL(mproc_args_parse(item, "O", &v), 0);
  check_mixed(v);
  mproc_args_free(item);
  mproc_queue_free(q);
}

/* CPython's pool.apply(identity, (x,)). */
static void test_echo_through_a_pool(void)
{
  mproc_pool_options_t opts = {.processes = 1};
  mproc_pool_t *pool = NULL;
  mproc_args_t *r = NULL;
  const mproc_value_t *v;

  CU_ASSERT_EQUAL_FATAL(mproc_pool_create(&pool, &opts), 0);
  CU_ASSERT_EQUAL(mproc_pool_apply(pool, &r, f_identity, MIXED_FMT, MIXED_ARGS),
                  0);
  CU_ASSERT_EQUAL_FATAL(mproc_args_parse(r, "O", &v), 0);
  check_mixed(v);
  mproc_args_free(r);
  CU_ASSERT_EQUAL(mproc_pool_close(pool), 0);
  CU_ASSERT_EQUAL(mproc_pool_join(pool), 0);
  mproc_pool_free(pool);
}

static void expect_ints(mproc_args_t *item, int n)
{
  const mproc_value_t *v = NULL;
  size_t len = 0;
  int64_t x = -1;

  CU_ASSERT_EQUAL_FATAL(mproc_args_parse(item, "O", &v), 0);
  CU_ASSERT(mproc_value_len(v, &len) == 0 && len == (size_t)n);
  for (int i = 0; i < n; i++)
    CU_ASSERT(mproc_value_int(mproc_value_at(v, (size_t)i), &x) == 0 &&
              x == i * i);
}

/* Lists of a length chosen at run time, in a child. */
static void test_lists_of_run_time_length(void)
{
  mproc_queue_t *q = new_queue();
  mproc_args_t *item = NULL;
  const mproc_value_t *v = NULL;
  const void *data;
  size_t len = 0;
  int64_t n = 0;

  EXPECT_EXIT(
      mproc_test_run(f_lists, "oi" MIXED_FMT "s", q, 4, MIXED_ARGS, "last"), 0);
  CU_ASSERT_EQUAL_FATAL(mproc_queue_get(q, 60, &item), 0);
  expect_ints(item, 4);
  mproc_args_free(item);
  CU_ASSERT_EQUAL_FATAL(mproc_queue_get(q, 60, &item), 0);
  CU_ASSERT_EQUAL(mproc_args_parse(item, "O", &v), 0);
  CU_ASSERT(mproc_value_len(v, &len) == 0 && len == 4);
  CU_ASSERT(mproc_value_bytes(mproc_value_at(v, 3), &data, &len) == 0 &&
            len == 5 && memcmp(data, "three", 5) == 0);
  mproc_args_free(item);
  /* [4, [<mixed>, "last"]] */
  CU_ASSERT_EQUAL_FATAL(mproc_queue_get(q, 60, &item), 0);
  CU_ASSERT_EQUAL_FATAL(mproc_args_parse(item, "O", &v), 0);
  CU_ASSERT(mproc_value_int(mproc_value_at(v, 0), &n) == 0 && n == 4);
  CU_ASSERT(mproc_value_len(mproc_value_at(v, 1), &len) == 0 && len == 2);
  check_mixed(mproc_value_at(mproc_value_at(v, 1), 0));
  CU_ASSERT(mproc_value_bytes(mproc_value_at(mproc_value_at(v, 1), 1), &data,
                              &len) == 0 &&
            len == 4 && memcmp(data, "last", 4) == 0);
  mproc_args_free(item);
  mproc_queue_free(q);
}

/* Every array unit, and an empty list, in this process. */
static void test_array_units(void)
{
  mproc_queue_t *q = new_queue();
  mproc_args_t *item = NULL;
  const mproc_value_t *v = NULL;
  long l[] = {-1, 2};
  int64_t L[] = {INT64_MIN, INT64_MAX}, x = 0;
  double d[] = {0.5, -1.5}, y = 0;
  int p[] = {0, 5}, b = -1;
  const char *s[] = {"a", NULL};
  size_t len = 9;

  CU_ASSERT_EQUAL(mproc_queue_put(q, 0, "i*l*L*d*p*s*", (size_t)0, NULL,
                                  (size_t)2, l, (size_t)2, L, (size_t)2, d,
                                  (size_t)2, p, (size_t)2, s),
                  0);
  CU_ASSERT_EQUAL_FATAL(mproc_queue_get(q, 0, &item), 0);
  CU_ASSERT_EQUAL(mproc_args_count(item), 6);
  v = mproc_args_at(item, 0);
  CU_ASSERT(mproc_value_len(v, &len) == 0 && len == 0);
  CU_ASSERT(mproc_value_int(mproc_value_at(mproc_args_at(item, 1), 0), &x) ==
                0 &&
            x == -1);
  CU_ASSERT(mproc_value_int(mproc_value_at(mproc_args_at(item, 2), 0), &x) ==
                0 &&
            x == INT64_MIN);
  CU_ASSERT(mproc_value_int(mproc_value_at(mproc_args_at(item, 2), 1), &x) ==
                0 &&
            x == INT64_MAX);
  CU_ASSERT(mproc_value_double(mproc_value_at(mproc_args_at(item, 3), 1), &y) ==
                0 &&
            y == -1.5);
  CU_ASSERT(mproc_value_bool(mproc_value_at(mproc_args_at(item, 4), 1), &b) ==
                0 &&
            b == 1);
  CU_ASSERT_EQUAL(mproc_value_type(mproc_value_at(mproc_args_at(item, 5), 1)),
                  MPROC_T_NIL);
  mproc_args_free(item);
  mproc_queue_free(q);
}

/* Bad uses: a clear status, and nothing sent. */
static void test_forward_errors(void)
{
  mproc_queue_t *q = new_queue();
  mproc_lock_t *l = NULL;
  mproc_args_t *item = NULL;
  const mproc_value_t *v = NULL;
  int ints[] = {1};

  CU_ASSERT_EQUAL(mproc_queue_put(q, 0, "O", NULL), MPROC_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(mproc_last_error(), "'O'"));
  CU_ASSERT_EQUAL(mproc_queue_put(q, 0, "y*", (size_t)1, ints), MPROC_EINVAL);
  CU_ASSERT_EQUAL(mproc_queue_put(q, 0, "i*", (size_t)1, NULL), MPROC_EINVAL);
  CU_ASSERT_EQUAL(mproc_queue_qsize(q), 0);
  /* A value nested 31 deep goes alone (32 with the item's list), not
   * inside one more list. */
  CU_ASSERT_EQUAL(mproc_queue_put(q, 0,
                                  "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[i]]]]]]]"
                                  "]]]]]]]]]]]]]]]]]]]]]]]]",
                                  1),
                  0);
  CU_ASSERT_EQUAL_FATAL(mproc_queue_get(q, 0, &item), 0);
  CU_ASSERT_EQUAL_FATAL(mproc_args_parse(item, "O", &v), 0);
  CU_ASSERT_EQUAL(mproc_queue_put(q, 0, "O", v), 0);
  CU_ASSERT_EQUAL(mproc_queue_put(q, 0, "[O]", v), MPROC_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(mproc_last_error(), "nested"));
  CU_ASSERT_EQUAL(mproc_queue_put(q, 0, "O*", (size_t)1, &v), MPROC_EINVAL);
  mproc_args_free(item);
  CU_ASSERT_EQUAL(mproc_queue_qsize(q), 1);
  /* An object received by inheritance cannot travel inside a value. */
  CU_ASSERT_EQUAL_FATAL(mproc_lock_create(&l), 0);
  EXPECT_EXIT(mproc_test_run(f_forward_object, "o[o]", q, l), 0);
  mproc_lock_free(l);
  mproc_queue_free(q);
}

void mproc_test_register_forward(void)
{
  static const mproc_test_case_t cases[] = {
      MPROC_TEST_CASE(test_echo_through_a_process),
      MPROC_TEST_CASE(test_echo_through_a_pool),
      MPROC_TEST_CASE(test_lists_of_run_time_length),
      MPROC_TEST_CASE(test_array_units),
      MPROC_TEST_CASE(test_forward_errors),
      {NULL, NULL}};

  (void)mproc_test_add_suite("forward", cases);
}
