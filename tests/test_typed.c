/*
 * The type-checked argument form (MPROC_ARGS) wherever a format and its
 * arguments go, and proxies that read like Python (mproc_proxy_invoke and
 * the typed helpers). The compile-time half, a wrong type rejected, is
 * tests/compile/ (ctest's <method>.compile_args).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"

/* ---- targets ---- */

/* Checks every value MPROC_ARGS sent it, by format: 0 when all match. */
MPROC_TARGET(ty_check)
{
  const char *s, *nil, *kw;
  const void *raw;
  size_t rawlen, len;
  int64_t big;
  double d;
  int i, b, age = 0;
  mproc_queue_t *q;
  const mproc_value_t *list, *map;
  const char *const kwlist[] = {"i", "big",  "d",   "s",    "nil", "raw", "b",
                                "q", "list", "map", "name", "age", NULL};

  if (mproc_args_parse_kw(args, "iLdszy#poOO|si", kwlist, &i, &big, &d, &s,
                          &nil, &raw, &rawlen, &b, MPROC_KIND_QUEUE, &q, &list,
                          &map, &kw, &age) != 0)
    return mproc_fail("parse: %s", mproc_last_error());
  if (i != -3 || big != INT64_MAX || d != 2.5 || strcmp(s, "jason") != 0 ||
      nil != NULL || rawlen != 3 || memcmp(raw, "a\0b", 3) != 0 || b != 1)
    return mproc_fail("a scalar differs");
  if (mproc_value_len(list, &len) != 0 || len != 3 ||
      mproc_value_type(mproc_value_at(list, 2)) != MPROC_T_LIST ||
      mproc_value_get(map, "k") == NULL)
    return mproc_fail("a container differs");
  if (strcmp(kw, "egon") != 0 || age != 18)
    return mproc_fail("the keywords differ");
  return mproc_queue_put(q, MPROC_FOREVER, MPROC_ARGS("ok", (unsigned)7)) != 0;
}

/* A pool task: the square of its argument, returned with MPROC_ARGS. */
MPROC_TARGET(ty_square)
{
  int x;

  if (mproc_args_parse(args, "i", &x) != 0)
    return 1;
  return mproc_return(MPROC_ARGS(x * x));
}

/* A pool's initializer, and a task that gives what it was given. */
static int init_value;

MPROC_TARGET(ty_init)
{
  return mproc_args_parse(args, "i", &init_value) != 0;
}

MPROC_TARGET(ty_get_init)
{
  (void)args;
  return mproc_return(MPROC_ARGS(init_value));
}

/* Puts on the managed Queue @q with the typed helper, from a child. */
MPROC_TARGET(ty_proxy_put)
{
  mproc_proxy_t *q;

  if (mproc_args_parse(args, "o", MPROC_KIND_PROXY, &q) != 0)
    return 99;
  return mproc_proxy_queue_put(q, MPROC_FOREVER, MPROC_ARGS("from child"));
}

/* ---- MPROC_ARGS ---- */

static void test_typed_process_arguments(void)
{
  mproc_queue_t *q = NULL;
  mproc_process_t *p = NULL;
  mproc_args_t *item = NULL;
  const char *s;
  unsigned u = 0;

  CU_ASSERT_EQUAL_FATAL(mproc_queue_create(&q, 0), 0);
  CU_ASSERT_EQUAL_FATAL(
      mproc_process_create(
          &p, ty_check,
          MPROC_ARGS(-3, (int64_t)INT64_MAX, 2.5f, "jason", (char *)NULL,
                     MPROC_BYTES("a\0b", 3), MPROC_BOOL(5), q,
                     MPROC_LIST(1, "two", MPROC_LIST(3.0)),
                     MPROC_MAP("k", MPROC_NIL, "j", (short)2))),
      0);
  CU_ASSERT_EQUAL(
      mproc_process_set_kwargs(p, MPROC_KWARGS("name", "egon", "age", 18)), 0);
  CU_ASSERT_EQUAL(mproc_process_start(p), 0);
  EXPECT_EXIT(mproc_test_finish(p), 0);
  CU_ASSERT_EQUAL(mproc_queue_get(q, MPROC_TEST_JOIN_LIMIT, &item), 0);
  CU_ASSERT_EQUAL(mproc_args_parse(item, "sI", &s, &u), MPROC_EINVAL);
  CU_ASSERT_EQUAL(mproc_args_parse(item, "si", &s, &u), 0);
  CU_ASSERT_STRING_EQUAL(s, "ok");
  CU_ASSERT_EQUAL(u, 7);
  mproc_args_free(item);
  mproc_queue_free(q);
}

/* Messages, queue items, pool tasks, items and results. */
/* Initializer arguments: the format lives in the options, the values
 * follow mproc_pool_create(). */
static void test_typed_pool_initargs(void)
{
  mproc_pool_options_t o = {
      .processes = 1, .initializer = ty_init, .initargs = MPROC_ARGS_FORMAT};
  mproc_pool_t *pool = NULL;
  mproc_args_t *got = NULL;
  int v = 0;

  CU_ASSERT_EQUAL_FATAL(mproc_pool_create(&pool, &o, MPROC_ARG_VALUES(41)), 0);
  CU_ASSERT_EQUAL(mproc_pool_apply(pool, &got, ty_get_init, NULL), 0);
  CU_ASSERT_EQUAL(mproc_args_parse(got, "i", &v), 0);
  CU_ASSERT_EQUAL(v, 41);
  mproc_args_free(got);
  CU_ASSERT_EQUAL(mproc_pool_close(pool), 0);
  CU_ASSERT_EQUAL(mproc_pool_join(pool), 0);
  mproc_pool_free(pool);
}

static void test_typed_everywhere(void)
{
  mproc_conn_t *a = NULL, *b = NULL;
  mproc_pool_t *pool = NULL;
  mproc_items_t *items = NULL;
  mproc_args_t *got = NULL;
  const mproc_value_t *v;
  int64_t n;
  int x, y;

  CU_ASSERT_EQUAL_FATAL(mproc_pipe(&a, &b, 1), 0);
  CU_ASSERT_EQUAL(mproc_conn_send(a, MPROC_ARGS(1, 2)), 0);
  CU_ASSERT_EQUAL(mproc_conn_recv(b, &got), 0);
  CU_ASSERT_EQUAL(mproc_args_parse(got, "ii", &x, &y), 0);
  CU_ASSERT(x == 1 && y == 2);
  mproc_args_free(got);
  mproc_conn_free(a);
  mproc_conn_free(b);

  CU_ASSERT_EQUAL_FATAL(mproc_pool_create(&pool, NULL), 0);
  CU_ASSERT_EQUAL(mproc_pool_apply(pool, &got, ty_square, MPROC_ARGS(12)), 0);
  CU_ASSERT_EQUAL(mproc_args_parse(got, "i", &x), 0);
  CU_ASSERT_EQUAL(x, 144);
  mproc_args_free(got);
  CU_ASSERT_EQUAL_FATAL(mproc_items_create(&items), 0);
  for (int i = 0; i < 10; i++)
    CU_ASSERT_EQUAL(mproc_items_add(items, MPROC_ARGS(i)), 0);
  CU_ASSERT_EQUAL(mproc_items_add(items, MPROC_ARGS(1, 2)), MPROC_EINVAL);
  CU_ASSERT_EQUAL(mproc_pool_map(pool, &got, ty_square, items, 0), 0);
  CU_ASSERT_EQUAL(mproc_args_count(got), 10);
  v = mproc_args_at(got, 9);
  CU_ASSERT_EQUAL(mproc_value_int(v, &n), 0);
  CU_ASSERT_EQUAL(n, 81);
  mproc_args_free(got);
  mproc_items_free(items);
  CU_ASSERT_EQUAL(mproc_pool_close(pool), 0);
  CU_ASSERT_EQUAL(mproc_pool_join(pool), 0);
  mproc_pool_free(pool);
}

/* What the compiler cannot check is checked at run time, with a message
 * naming the value. */
static void test_typed_runtime_errors(void)
{
  mproc_queue_t *q = NULL;
  mproc_process_t *p = NULL;
  int not_an_object = 0;

  CU_ASSERT_EQUAL_FATAL(mproc_queue_create(&q, 0), 0);
  CU_ASSERT_EQUAL(mproc_queue_put(q, 0, MPROC_ARGS(MPROC_MAP(1, 2))),
                  MPROC_ETYPE);
  CU_ASSERT_PTR_NOT_NULL(strstr(mproc_last_error(), "map keys must be"));
  CU_ASSERT_EQUAL(mproc_queue_put(q, 0, MPROC_ARGS(MPROC_BYTES(NULL, 3))),
                  MPROC_EINVAL);
  CU_ASSERT_EQUAL(
      mproc_queue_put(q, 0, MPROC_ARGS(1, MPROC_OBJ(&not_an_object))),
      MPROC_ETYPE);
  CU_ASSERT_PTR_NOT_NULL(strstr(mproc_last_error(), "value 2"));
  /* An inherited object goes only in a process's arguments, as `o`. */
  CU_ASSERT_EQUAL(mproc_queue_put(q, 0, MPROC_ARGS(q)), MPROC_ETYPE);
  CU_ASSERT_EQUAL(mproc_queue_qsize(q), 0);
  CU_ASSERT_EQUAL(mproc_process_create(&p, ty_check, MPROC_ARGS(1)), 0);
  CU_ASSERT_EQUAL(mproc_process_set_kwargs(p, MPROC_ARGS(1)), MPROC_EINVAL);
  mproc_process_free(p);
  mproc_queue_free(q);
}

/* Puts @inner wrapped in @depth lists (each list lives in its frame
 * while the deeper calls run: a compound literal's lifetime). */
static int put_nested(mproc_queue_t *q, int depth, mproc_arg_t inner)
{
  if (depth == 0)
    return mproc_queue_put(q, 0, MPROC_ARGS(inner));
  return put_nested(q, depth - 1, MPROC_LIST(inner));
}

/* Nesting deeper than a child can decode is refused, as with formats. */
static void test_typed_depth(void)
{
  mproc_queue_t *q = NULL;

  CU_ASSERT_EQUAL_FATAL(mproc_queue_create(&q, 0), 0);
  CU_ASSERT_EQUAL(put_nested(q, 40, MPROC_ARG(1)), MPROC_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(mproc_last_error(), "nested too deeply"));
  CU_ASSERT_EQUAL(put_nested(q, 20, MPROC_ARG(1)), 0);
  CU_ASSERT_EQUAL(mproc_queue_qsize(q), 1);
  mproc_queue_free(q);
}

/* ---- proxies ---- */

static mproc_manager_t *manager(void)
{
  mproc_manager_t *m = NULL;

  CU_ASSERT_EQUAL(mproc_manager(&m), 0);
  return m;
}

static void test_proxy_helpers_dict_list(void)
{
  mproc_manager_t *m = manager();
  mproc_proxy_t *d = NULL, *l = NULL;
  char *s = NULL;
  int age = 0;

  CU_ASSERT_PTR_NOT_NULL_FATAL(m);
  CU_ASSERT_EQUAL(mproc_manager_object(m, &d, MPROC_MANAGED_DICT, NULL), 0);
  CU_ASSERT_EQUAL(mproc_manager_object(m, &l, MPROC_MANAGED_LIST, NULL), 0);

  CU_ASSERT_EQUAL(mproc_proxy_dict_set(d, "age", "i", 18), 0);
  CU_ASSERT_EQUAL(mproc_proxy_dict_set(d, "name", MPROC_ARGS("egon")), 0);
  CU_ASSERT_EQUAL(mproc_proxy_dict_get(d, "age", "i", &age), 0);
  CU_ASSERT_EQUAL(age, 18);
  CU_ASSERT_EQUAL(mproc_proxy_dict_get(d, "name", "s", &s), 0);
  CU_ASSERT_PTR_NOT_NULL_FATAL(s);
  CU_ASSERT_STRING_EQUAL(s, "egon");
  mproc_free(s);
  CU_ASSERT_EQUAL(mproc_proxy_dict_get(d, "nope", "s", &s), MPROC_ENOTFOUND);
  CU_ASSERT_PTR_NULL(s);
  CU_ASSERT_EQUAL(mproc_proxy_dict_get(d, "name", "i", &age), MPROC_ETYPE);
  CU_ASSERT_EQUAL(mproc_proxy_dict_set(d, "two", "ii", 1, 2), MPROC_EINVAL);
  CU_ASSERT_EQUAL(mproc_proxy_len(d), 2);

  CU_ASSERT_EQUAL(mproc_proxy_list_append(l, "s", "a"), 0);
  CU_ASSERT_EQUAL(mproc_proxy_list_append(l, MPROC_ARGS(2)), 0);
  CU_ASSERT_EQUAL(mproc_proxy_len(l), 2);
  CU_ASSERT_EQUAL(mproc_proxy_list_get(l, -1, "i", &age), 0);
  CU_ASSERT_EQUAL(age, 2);
  CU_ASSERT_EQUAL(mproc_proxy_list_get(l, 5, "i", &age), MPROC_ERANGE);

  /* A helper of another type is refused before anything is sent. */
  CU_ASSERT_EQUAL(mproc_proxy_list_append(d, "i", 1), MPROC_ETYPE);
  CU_ASSERT_PTR_NOT_NULL(strstr(mproc_last_error(), "a dict, not a list"));
  CU_ASSERT_EQUAL(mproc_proxy_queue_qsize(l), MPROC_ETYPE);

  mproc_proxy_free(d);
  mproc_proxy_free(l);
  mproc_manager_free(m);
}

static void test_proxy_helpers_queue_value_lock(void)
{
  mproc_manager_t *m = manager();
  mproc_proxy_t *q = NULL, *v = NULL, *lk = NULL;
  char *s = NULL;
  double x = 0;

  CU_ASSERT_PTR_NOT_NULL_FATAL(m);
  CU_ASSERT_EQUAL(mproc_manager_object(m, &q, MPROC_MANAGED_QUEUE, NULL), 0);
  CU_ASSERT_EQUAL(mproc_manager_object(m, &v, MPROC_MANAGED_VALUE, NULL), 0);
  CU_ASSERT_EQUAL(mproc_manager_object(m, &lk, MPROC_MANAGED_LOCK, NULL), 0);

  /* From a child, as the seed's writer does. */
  EXPECT_EXIT(mproc_test_run(ty_proxy_put, "o", q), 0);
  CU_ASSERT_EQUAL(mproc_proxy_queue_put(q, 0, "s", "mine"), 0);
  CU_ASSERT_EQUAL(mproc_proxy_queue_qsize(q), 2);
  CU_ASSERT_EQUAL(mproc_proxy_queue_get(q, 5.0, "s", &s), 0);
  CU_ASSERT_STRING_EQUAL(s, "from child");
  mproc_free(s);
  CU_ASSERT_EQUAL(mproc_proxy_queue_get(q, MPROC_FOREVER, "s", &s), 0);
  CU_ASSERT_STRING_EQUAL(s, "mine");
  mproc_free(s);
  CU_ASSERT_EQUAL(mproc_proxy_queue_get(q, 0, "s", &s), MPROC_EEMPTY);
  CU_ASSERT_EQUAL(mproc_proxy_queue_get(q, 0.05, "s", &s), MPROC_EEMPTY);

  CU_ASSERT_EQUAL(mproc_proxy_value_set(v, "d", 2.5), 0);
  CU_ASSERT_EQUAL(mproc_proxy_value_get(v, "d", &x), 0);
  CU_ASSERT_EQUAL(x, 2.5);

  CU_ASSERT_EQUAL(mproc_proxy_lock_acquire(lk, MPROC_FOREVER), 0);
  CU_ASSERT_EQUAL(mproc_proxy_lock_acquire(lk, 0), MPROC_ETIMEDOUT);
  CU_ASSERT_EQUAL(mproc_proxy_lock_acquire(lk, 0.05), MPROC_ETIMEDOUT);
  CU_ASSERT_EQUAL(mproc_proxy_lock_release(lk), 0);
  CU_ASSERT_EQUAL(mproc_proxy_lock_release(lk), MPROC_ESTATE);

  mproc_proxy_free(q);
  mproc_proxy_free(v);
  mproc_proxy_free(lk);
  mproc_manager_free(m);
}

/* n = q.qsize(), item = q.get(True, 5.0), in one statement each. */
static void test_proxy_invoke(void)
{
  mproc_manager_t *m = manager();
  mproc_proxy_t *q = NULL;
  const mproc_value_t *v;
  char *s = NULL;
  long n = -1;

  CU_ASSERT_PTR_NOT_NULL_FATAL(m);
  CU_ASSERT_EQUAL(mproc_manager_object(m, &q, MPROC_MANAGED_QUEUE, NULL), 0);
  CU_ASSERT_EQUAL(mproc_proxy_invoke(q, "put", NULL, "s", "jason"), 0);
  CU_ASSERT_EQUAL(mproc_proxy_invoke(q, "put", NULL, MPROC_ARGS("egon")), 0);
  CU_ASSERT_EQUAL(mproc_proxy_invoke(q, "qsize", "l", &n, NULL), 0);
  CU_ASSERT_EQUAL(n, 2);
  CU_ASSERT_EQUAL(mproc_proxy_invoke(q, "get", "s", &s, "pd", 1, 5.0), 0);
  CU_ASSERT_STRING_EQUAL(s, "jason");
  mproc_free(s);
  CU_ASSERT_EQUAL(mproc_proxy_invoke(q, "get", "s", &s, MPROC_ARGS(1, 5.0)), 0);
  CU_ASSERT_STRING_EQUAL(s, "egon");
  mproc_free(s);
  /* The result would outlive the reply: refused, nothing sent. */
  CU_ASSERT_EQUAL(mproc_proxy_invoke(q, "qsize", "O", &v, NULL), MPROC_EINVAL);
  CU_ASSERT_EQUAL(mproc_proxy_invoke(q, "get_nowait", "s", &s, NULL),
                  MPROC_EEMPTY);
  CU_ASSERT_PTR_NULL(s);
  CU_ASSERT_EQUAL(mproc_proxy_invoke(q, "no_such", NULL, NULL),
                  MPROC_ENOMETHOD);
  mproc_proxy_free(q);
  mproc_manager_free(m);
}

void mproc_test_register_typed(void)
{
  static const mproc_test_case_t cases[] = {
      MPROC_TEST_CASE(test_typed_process_arguments),
      MPROC_TEST_CASE(test_typed_everywhere),
      MPROC_TEST_CASE(test_typed_pool_initargs),
      MPROC_TEST_CASE(test_typed_runtime_errors),
      MPROC_TEST_CASE(test_typed_depth),
      MPROC_TEST_CASE(test_proxy_helpers_dict_list),
      MPROC_TEST_CASE(test_proxy_helpers_queue_value_lock),
      MPROC_TEST_CASE(test_proxy_invoke),
      {NULL, NULL}};

  (void)mproc_test_add_suite("typed", cases);
}
