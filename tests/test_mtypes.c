/*
 * Managed types beyond the containers' basics, after CPython's
 * _TestContainers (test_list, slices, +=, *=), _TestLock, _TestSemaphore,
 * _TestCondition and _TestBarrier run against a SyncManager, and
 * BaseManager.register(typeid, callable): a type of the program's own,
 * used here and from another program that does not register it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "mcalls.h"

#define BADARGS 99
#define LIMIT 30.0

/* ---- a registered type: a counter ---- */

typedef struct counter {
  int64_t value;
} counter_t;

/* Counter([start]): start >= 0. */
static int counter_create(void **self, mproc_args_t *args)
{
  counter_t *c;
  int start = 0;

  if (mproc_args_parse(args, "|i", &start) != 0)
    return mproc_reply_error(NULL, MPROC_ETYPE, "%s", mproc_last_error());
  if (start < 0)
    return mproc_reply_error(NULL, MPROC_EINVAL,
                             "ValueError: start must be >= 0");
  if ((c = malloc(sizeof *c)) == NULL)
    return mproc_reply_error(NULL, MPROC_ENOMEM, "out of memory");
  c->value = start;
  *self = c;
  return 0;
}

static void counter_destroy(void *self)
{
  free(self);
}

static int counter_add(void *self, mproc_args_t *args, mproc_reply_t *r)
{
  int n;

  (void)r;
  if (mproc_args_parse(args, "i", &n) != 0)
    return mproc_reply_error(r, MPROC_ETYPE, "%s", mproc_last_error());
  ((counter_t *)self)->value += n;
  return 0;
}

static int counter_get(void *self, mproc_args_t *args, mproc_reply_t *r)
{
  (void)args;
  return mproc_reply(r, "L", ((counter_t *)self)->value);
}

/* Gives back its argument, whatever it is. */
static int counter_echo(void *self, mproc_args_t *args, mproc_reply_t *r)
{
  const mproc_value_t *v;

  (void)self;
  if (mproc_args_parse(args, "O", &v) != 0)
    return mproc_reply_error(r, MPROC_EINVAL, "%s", mproc_last_error());
  return mproc_reply(r, "O", v);
}

static int counter_pair(void *self, mproc_args_t *args, mproc_reply_t *r)
{
  (void)args;
  return mproc_reply(r, "Ls", ((counter_t *)self)->value, "pair");
}

static int counter_missing(void *self, mproc_args_t *args, mproc_reply_t *r)
{
  (void)self;
  (void)args;
  return mproc_reply_error(r, MPROC_ENOTFOUND, "KeyError: 'nothing'");
}

static int counter_broken(void *self, mproc_args_t *args, mproc_reply_t *r)
{
  (void)self;
  (void)args;
  (void)r;
  return 3;
}

static const mproc_method_t counter_methods[] = {{"add", counter_add},
                                                 {"get", counter_get},
                                                 {"echo", counter_echo},
                                                 {"pair", counter_pair},
                                                 {"missing", counter_missing},
                                                 {"broken", counter_broken},
                                                 {NULL, NULL}};

static const mproc_mtype_t counter_type = {"Counter", counter_create,
                                           counter_destroy, counter_methods};
MPROC_MANAGED_TYPE(counter_type)

/* ---- helpers ---- */

static mproc_manager_t *start_manager(void)
{
  mproc_manager_t *m = NULL;
  int rc = mproc_manager(&m);

  CU_ASSERT_EQUAL(rc, 0);
  if (rc != 0)
    printf("\n  manager: %s\n", mproc_last_error());
  return m;
}

static mproc_proxy_t *new_object(mproc_manager_t *m, int type, const char *fmt,
                                 ...)
{
  mproc_proxy_t *p = NULL;
  va_list ap;
  int rc;

  va_start(ap, fmt);
  /* mproc_manager_object_args has no va_list form: build by hand. */
  if (fmt == NULL)
    rc = mproc_manager_object(m, &p, type, NULL);
  else if (strcmp(fmt, "i*") == 0) {
    size_t n = va_arg(ap, size_t);
    const int *a = va_arg(ap, const int *);
    rc = mproc_manager_object_args(m, &p, type, NULL, "i*", n, a);
  } else if (strcmp(fmt, "o") == 0)
    rc = mproc_manager_object_args(m, &p, type, NULL, "o", va_arg(ap, void *));
  else
    rc = mproc_manager_object_args(m, &p, type, NULL, fmt, va_arg(ap, int));
  va_end(ap);
  EXPECT_STATUS(rc, 0);
  return p;
}

/* The result of a call, a list, as ints into @out (at most @cap); the
 * length, or -1 when the call failed or gave something else. */
static long call_ints(mproc_proxy_t *p, const char *method, int64_t *out,
                      size_t cap, const char *fmt, ...)
{
  mproc_args_t *r = NULL;
  const mproc_value_t *v;
  size_t n = 0;
  va_list ap;
  int rc;

  va_start(ap, fmt);
  rc = mproc_proxy_callv(p, &r, method, fmt, ap);
  va_end(ap);
  if (rc != 0 || mproc_args_parse(r, "O", &v) != 0 ||
      mproc_value_len(v, &n) != 0 || n > cap) {
    printf("\n  %s: %s\n", method, rc ? mproc_last_error() : "not a list");
    mproc_args_free(r);
    return -1;
  }
  for (size_t i = 0; i < n; i++)
    out[i] = int_at(v, i);
  mproc_args_free(r);
  return (long)n;
}

/* Whether the list behind @p is @want (its whole slice, l[:]). */
static int list_is(mproc_proxy_t *p, const int64_t *want, size_t n)
{
  int64_t got[64];
  long len = call_ints(p, "__getitem__", got, 64, "[NN]");

  return len == (long)n && (n == 0 || memcmp(got, want, n * sizeof *want) == 0);
}

/* ---- list ---- */

/* CPython's _TestContainers.test_list. */
static void test_list(void)
{
  static const int ten[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  static const int64_t range10[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  static const int64_t twice[] = {0, 1, 2, 3, 4, 0, 1, 2, 3, 4};
  static const int64_t plus[] = {0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 5, 6};
  mproc_manager_t *m = start_manager();
  mproc_proxy_t *a, *b, *e, *f, *inner;
  mproc_args_t *r = NULL;
  int64_t got[16];

  if (m == NULL)
    return;
  a = new_object(m, MPROC_MANAGED_LIST, "i*", (size_t)10, ten);
  b = new_object(m, MPROC_MANAGED_LIST, NULL);
  CU_ASSERT(list_is(a, range10, 10));
  CU_ASSERT(list_is(b, NULL, 0));
  CU_ASSERT(call_nil(b, "extend", "i*", (size_t)5, ten));
  CU_ASSERT(list_is(b, range10, 5));
  CU_ASSERT_EQUAL(call_int(b, "__getitem__", "i", 2), 2);
  CU_ASSERT_EQUAL(call_ints(b, "__getitem__", got, 16, "[ii]", 2, 10), 3);
  CU_ASSERT(got[0] == 2 && got[1] == 3 && got[2] == 4);
  CU_ASSERT(call_nil(b, "__imul__", "i", 2)); /* b *= 2 */
  CU_ASSERT(list_is(b, twice, 10));
  CU_ASSERT_EQUAL(call_ints(b, "__add__", got, 16, "[ii]", 5, 6), 12);
  CU_ASSERT_EQUAL(memcmp(got, plus, sizeof plus), 0);
  CU_ASSERT(list_is(a, range10, 10));
  /* e = list([a, b]): the elements are the proxies. */
  e = new_object(m, MPROC_MANAGED_LIST, NULL);
  CU_ASSERT(call_nil(e, "extend", "[oo]", a, b));
  CU_ASSERT_EQUAL(mproc_proxy_call(e, &r, "__getitem__", "i", 1), 0);
  CU_ASSERT_EQUAL(mproc_args_parse(r, "o", MPROC_KIND_PROXY, &inner), 0);
  CU_ASSERT(list_is(inner, twice, 10));
  mproc_args_free(r);
  /* f = list([a]); a.append('hello'): f[0] sees it. */
  f = new_object(m, MPROC_MANAGED_LIST, NULL);
  CU_ASSERT(call_nil(f, "append", "o", a));
  CU_ASSERT(call_nil(a, "append", "s", "hello"));
  CU_ASSERT_EQUAL(mproc_proxy_call(f, &r, "__getitem__", "i", 0), 0);
  CU_ASSERT_EQUAL(mproc_args_parse(r, "o", MPROC_KIND_PROXY, &inner), 0);
  CU_ASSERT_EQUAL(call_int(inner, "__len__", NULL), 11);
  CU_ASSERT(call_str_is(inner, "__getitem__", "hello", "i", -1));
  mproc_args_free(r);
  /* b += [7] */
  CU_ASSERT(call_nil(b, "__iadd__", "[i]", 7));
  CU_ASSERT_EQUAL(call_int(b, "__getitem__", "i", -1), 7);
  mproc_proxy_free(a);
  mproc_proxy_free(b);
  mproc_proxy_free(e);
  mproc_proxy_free(f);
  mproc_manager_free(m);
}

/* Slices as Python takes them: l[2:7:2], l[::-1], l[-3:], assignments
 * and deletions, and their errors. */
static void test_list_slices(void)
{
  static const int ten[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  static const int64_t rev[] = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0};
  mproc_manager_t *m = start_manager();
  mproc_proxy_t *l;
  int64_t got[16];

  if (m == NULL)
    return;
  l = new_object(m, MPROC_MANAGED_LIST, "i*", (size_t)10, ten);
  CU_ASSERT_EQUAL(call_ints(l, "__getitem__", got, 16, "[iii]", 2, 7, 2), 3);
  CU_ASSERT(got[0] == 2 && got[1] == 4 && got[2] == 6);
  CU_ASSERT_EQUAL(call_ints(l, "__getitem__", got, 16, "[NNi]", -1), 10);
  CU_ASSERT_EQUAL(memcmp(got, rev, sizeof rev), 0);
  CU_ASSERT_EQUAL(call_ints(l, "__getitem__", got, 16, "[iN]", -3), 3);
  CU_ASSERT(got[0] == 7 && got[2] == 9);
  CU_ASSERT_EQUAL(call_ints(l, "__getitem__", got, 16, "[ii]", 8, 2), 0);
  CU_ASSERT_EQUAL(call_ints(l, "__getitem__", got, 16, "[iN]", 100), 0);
  CU_ASSERT_EQUAL(call_ints(l, "__getitem__", got, 16, "[iii]", 8, 1, -3), 3);
  CU_ASSERT(got[0] == 8 && got[1] == 5 && got[2] == 2);
  /* l[0:2] = [10, 11, 12]: the list grows by one. */
  CU_ASSERT(call_nil(l, "__setitem__", "[ii][iii]", 0, 2, 10, 11, 12));
  CU_ASSERT_EQUAL(call_int(l, "__len__", NULL), 11);
  CU_ASSERT_EQUAL(call_ints(l, "__getitem__", got, 16, "[ii]", 0, 4), 4);
  CU_ASSERT(got[0] == 10 && got[2] == 12 && got[3] == 2);
  /* l[::5] = [-1, -2, -3] (11 elements: indexes 0, 5, 10) */
  CU_ASSERT(call_nil(l, "__setitem__", "[NNi][iii]", 5, -1, -2, -3));
  CU_ASSERT_EQUAL(call_int(l, "__getitem__", "i", 10), -3);
  EXPECT_STATUS(call_status(l, "__setitem__", "[NNi][i]", 5, 1), MPROC_EINVAL);
  EXPECT_STATUS(call_status(l, "__getitem__", "[NNi]", 0), MPROC_EINVAL);
  EXPECT_STATUS(call_status(l, "__getitem__", "[sN]", "x"), MPROC_ETYPE);
  EXPECT_STATUS(call_status(l, "__getitem__", "[i]", 1), MPROC_ETYPE);
  EXPECT_STATUS(call_status(l, "__setitem__", "[ii]i", 0, 1, 5), MPROC_ETYPE);
  /* del l[::2], then del l[1:3] */
  CU_ASSERT(call_nil(l, "__delitem__", "[NNi]", 2));
  CU_ASSERT_EQUAL(call_int(l, "__len__", NULL), 5);
  CU_ASSERT(call_nil(l, "__delitem__", "[ii]", 1, 3));
  CU_ASSERT_EQUAL(call_ints(l, "__getitem__", got, 16, "[NN]"), 3);
  CU_ASSERT(got[0] == 11 && got[1] == 6 && got[2] == 8);
  CU_ASSERT(call_nil(l, "__delitem__", "[NNi]", -1));
  CU_ASSERT_EQUAL(call_int(l, "__len__", NULL), 0);
  mproc_proxy_free(l);
  mproc_manager_free(m);
}

/* sort(): Python's order and stability; a list that cannot be ordered is
 * left as it was. */
static void test_list_sort(void)
{
  mproc_manager_t *m = start_manager();
  mproc_proxy_t *l;
  mproc_args_t *r = NULL;
  const mproc_value_t *v;
  double d = 0;
  int b = 0;

  if (m == NULL)
    return;
  l = new_object(m, MPROC_MANAGED_LIST, NULL);
  CU_ASSERT(call_nil(l, "extend", "[idip]", 3, 1.5, 2, 1));
  CU_ASSERT(call_nil(l, "sort", NULL));
  CU_ASSERT_EQUAL(mproc_proxy_call(l, &r, "__getitem__", "[NN]"), 0);
  CU_ASSERT_EQUAL_FATAL(mproc_args_parse(r, "O", &v), 0);
  CU_ASSERT(mproc_value_bool(mproc_value_at(v, 0), &b) == 0 && b == 1);
  CU_ASSERT(mproc_value_double(mproc_value_at(v, 1), &d) == 0 && d == 1.5);
  CU_ASSERT_EQUAL(int_at(v, 3), 3);
  mproc_args_free(r);
  CU_ASSERT(call_nil(l, "sort", "p", 1)); /* reverse=True */
  CU_ASSERT_EQUAL(call_int(l, "__getitem__", "i", 0), 3);
  CU_ASSERT_EQUAL(call_int(l, "__getitem__", "i", 1), 2);
  /* Equal elements keep their order: 1, 1.0, True. */
  CU_ASSERT(call_nil(l, "clear", NULL));
  CU_ASSERT(call_nil(l, "extend", "[i d p i]", 1, 1.0, 1, 0));
  CU_ASSERT(call_nil(l, "sort", NULL));
  CU_ASSERT_EQUAL(mproc_proxy_call(l, &r, "__getitem__", "[NN]"), 0);
  CU_ASSERT_EQUAL_FATAL(mproc_args_parse(r, "O", &v), 0);
  CU_ASSERT_EQUAL(int_at(v, 0), 0);
  CU_ASSERT_EQUAL(mproc_value_type(mproc_value_at(v, 1)), MPROC_T_INT);
  CU_ASSERT_EQUAL(mproc_value_type(mproc_value_at(v, 2)), MPROC_T_DOUBLE);
  CU_ASSERT_EQUAL(mproc_value_type(mproc_value_at(v, 3)), MPROC_T_BOOL);
  mproc_args_free(r);
  /* Strings, and lists lexicographically. */
  CU_ASSERT(call_nil(l, "clear", NULL));
  CU_ASSERT(call_nil(l, "extend", "[sss]", "pear", "apple", "fig"));
  CU_ASSERT(call_nil(l, "sort", NULL));
  CU_ASSERT(call_str_is(l, "__getitem__", "apple", "i", 0));
  CU_ASSERT(call_str_is(l, "__getitem__", "pear", "i", 2));
  CU_ASSERT(call_nil(l, "clear", NULL));
  CU_ASSERT(call_nil(l, "extend", "[[ii][i][ii]]", 1, 2, 1, 0, 5));
  CU_ASSERT(call_nil(l, "sort", NULL));
  CU_ASSERT_EQUAL(call_int(l, "__len__", NULL), 3);
  CU_ASSERT_EQUAL(mproc_proxy_call(l, &r, "__getitem__", "i", 0), 0);
  CU_ASSERT(mproc_args_parse(r, "O", &v) == 0 && int_at(v, 1) == 5);
  mproc_args_free(r);
  /* int and str: TypeError, nothing moved. */
  CU_ASSERT(call_nil(l, "clear", NULL));
  CU_ASSERT(call_nil(l, "extend", "[isi]", 2, "a", 1));
  EXPECT_STATUS(call_status(l, "sort", NULL), MPROC_ETYPE);
  CU_ASSERT_PTR_NOT_NULL(strstr(mproc_last_error(), "not supported"));
  CU_ASSERT_EQUAL(call_int(l, "__getitem__", "i", 0), 2);
  CU_ASSERT_EQUAL(call_int(l, "__getitem__", "i", 2), 1);
  mproc_proxy_free(l);
  mproc_manager_free(m);
}

/* ---- synchronisation types ---- */

/* Tries the managed lock @l without blocking: 10 when busy, 11 when it
 * got it (and released it); with @keep, takes it and returns holding it
 * (its connection ends with the process). */
MPROC_TARGET(mt_try)
{
  mproc_proxy_t *l;
  int keep, got = -1;

  if (mproc_args_parse(args, "oi", MPROC_KIND_PROXY, &l, &keep) != 0)
    return BADARGS;
  if (keep)
    return call_parse(l, "acquire", "p", &got, NULL) == 0 && got ? 12 : 1;
  if (call_parse(l, "acquire", "p", &got, "p", 0) != 0)
    return 1;
  if (got && mproc_proxy_call(l, NULL, "release", NULL) != 0)
    return 2;
  return got ? 11 : 10;
}

/* CPython's _TestLock.test_rlock on a SyncManager's RLock. */
static void test_managed_rlock(void)
{
  mproc_manager_t *m = start_manager();
  mproc_proxy_t *l;

  if (m == NULL)
    return;
  l = new_object(m, MPROC_MANAGED_RLOCK, NULL);
  CU_ASSERT_STRING_EQUAL(mproc_proxy_typeid(l), "RLock");
  for (int i = 0; i < 3; i++)
    CU_ASSERT_EQUAL(call_bool(l, "acquire", NULL), 1);
  EXPECT_EXIT(mproc_test_run(mt_try, "oi", l, 0), 10);
  for (int i = 0; i < 3; i++)
    CU_ASSERT(call_nil(l, "release", NULL));
  EXPECT_STATUS(call_status(l, "release", NULL), MPROC_EPERM);
  EXPECT_EXIT(mproc_test_run(mt_try, "oi", l, 0), 11);
  /* Held by a child whose connection ended: handed over. */
  EXPECT_EXIT(mproc_test_run(mt_try, "oi", l, 1), 12);
  EXPECT_STATUS(call_status(l, "acquire", "pd", 1, LIMIT), MPROC_EOWNERDEAD);
  EXPECT_STATUS(call_status(l, "release", NULL), 0);
  EXPECT_STATUS(call_status(l, "locked", NULL), MPROC_ENOMETHOD);
  mproc_proxy_free(l);
  mproc_manager_free(m);
}

/* Releases the managed semaphore @s @n times. */
MPROC_TARGET(mt_release)
{
  mproc_proxy_t *s;
  int n;

  if (mproc_args_parse(args, "oi", MPROC_KIND_PROXY, &s, &n) != 0)
    return BADARGS;
  for (int i = 0; i < n; i++)
    if (mproc_proxy_call(s, NULL, "release", NULL) != 0)
      return 1;
  return 0;
}

/* CPython's _TestSemaphore (test_semaphore, test_bounded_semaphore,
 * test_timeout) on a SyncManager's semaphores. */
static void test_managed_semaphores(void)
{
  mproc_manager_t *m = start_manager();
  mproc_proxy_t *s, *bs, *bad = NULL;
  mproc_process_t *p;
  double t0;

  if (m == NULL)
    return;
  s = new_object(m, MPROC_MANAGED_SEMAPHORE, "i", 2);
  CU_ASSERT_EQUAL(call_bool(s, "acquire", NULL), 1);
  CU_ASSERT_EQUAL(call_int(s, "get_value", NULL), 1);
  CU_ASSERT_EQUAL(call_bool(s, "acquire", NULL), 1);
  CU_ASSERT_EQUAL(call_bool(s, "acquire", "p", 0), 0);
  t0 = mproc_test_now();
  CU_ASSERT_EQUAL(call_bool(s, "acquire", "pd", 1, 0.2), 0);
  CU_ASSERT(mproc_test_now() - t0 >= 0.19);
  EXPECT_STATUS(call_status(s, "acquire", "pd", 0, 1.0), MPROC_EINVAL);
  CU_ASSERT(call_nil(s, "release", NULL));
  CU_ASSERT(call_nil(s, "release", "i", 3));
  CU_ASSERT_EQUAL(call_int(s, "get_value", NULL), 4);
  EXPECT_STATUS(call_status(s, "release", "i", 0), MPROC_EINVAL);
  /* Woken by a child's releases. */
  for (int i = 0; i < 4; i++)
    CU_ASSERT_EQUAL(call_bool(s, "acquire", NULL), 1);
  p = mproc_test_start(mt_release, "oi", s, 3);
  for (int i = 0; i < 3; i++)
    CU_ASSERT_EQUAL(call_bool(s, "acquire", "pd", 1, LIMIT), 1);
  EXPECT_EXIT(mproc_test_finish(p), 0);
  bs = new_object(m, MPROC_MANAGED_BOUNDED_SEMAPHORE, "i", 2);
  EXPECT_STATUS(call_status(bs, "release", NULL), MPROC_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(mproc_last_error(), "too many"));
  CU_ASSERT_EQUAL(call_bool(bs, "acquire", NULL), 1);
  CU_ASSERT(call_nil(bs, "release", NULL));
  EXPECT_STATUS(mproc_manager_object_args(m, &bad, MPROC_MANAGED_SEMAPHORE,
                                          NULL, "i", -1),
                MPROC_EINVAL);
  mproc_proxy_free(s);
  mproc_proxy_free(bs);
  mproc_manager_free(m);
}

/* CPython's condition test child: says it sleeps, waits, says it woke. */
MPROC_TARGET(mt_cond_waiter)
{
  mproc_proxy_t *c;
  mproc_semaphore_t *sleeping, *woken;
  int notified = 0;

  if (mproc_args_parse(args, "ooo", MPROC_KIND_PROXY, &c, MPROC_KIND_SEMAPHORE,
                       &sleeping, MPROC_KIND_SEMAPHORE, &woken) != 0)
    return BADARGS;
  if (mproc_proxy_call(c, NULL, "acquire", NULL) != 0)
    return 1;
  mproc_semaphore_release(sleeping);
  if (call_parse(c, "wait", "p", &notified, "d", LIMIT) != 0 || !notified)
    return 2;
  mproc_semaphore_release(woken);
  return mproc_proxy_call(c, NULL, "release", NULL) == 0 ? 0 : 3;
}

/* CPython's test_notify and test_notify_all on a SyncManager's
 * Condition; the notifier's own wait does not take the wake-up. */
static void test_managed_condition(void)
{
  enum { N = 3 };
  mproc_manager_t *m = start_manager();
  mproc_proxy_t *c, *lock, *c2, *d, *bad = NULL;
  mproc_semaphore_t *sleeping = NULL, *woken = NULL;
  mproc_process_t *p[N];

  if (m == NULL)
    return;
  CU_ASSERT_EQUAL_FATAL(mproc_semaphore_create(&sleeping, 0), 0);
  CU_ASSERT_EQUAL_FATAL(mproc_semaphore_create(&woken, 0), 0);
  c = new_object(m, MPROC_MANAGED_CONDITION, NULL);
  EXPECT_STATUS(call_status(c, "wait", "d", 0.01), MPROC_EPERM);
  EXPECT_STATUS(call_status(c, "notify", NULL), MPROC_EPERM);
  CU_ASSERT_EQUAL(call_bool(c, "acquire", NULL), 1);
  CU_ASSERT_EQUAL(call_bool(c, "wait", "d", 0.05), 0);
  CU_ASSERT(call_nil(c, "release", NULL));
  for (int i = 0; i < N; i++)
    p[i] = mproc_test_start(mt_cond_waiter, "ooo", c, sleeping, woken);
  for (int i = 0; i < N; i++)
    CU_ASSERT_EQUAL(mproc_semaphore_acquire(sleeping, LIMIT), 0);
  /* Each child holds the lock until it is inside wait. */
  CU_ASSERT_EQUAL(call_bool(c, "acquire", NULL), 1);
  CU_ASSERT(call_nil(c, "notify", NULL));
  CU_ASSERT_EQUAL(call_bool(c, "wait", "d", 0.05), 0);
  CU_ASSERT(call_nil(c, "release", NULL));
  CU_ASSERT_EQUAL(mproc_semaphore_acquire(woken, LIMIT), 0);
  CU_ASSERT_EQUAL(mproc_semaphore_acquire(woken, 0.3), MPROC_ETIMEDOUT);
  CU_ASSERT_EQUAL(call_bool(c, "acquire", NULL), 1);
  CU_ASSERT(call_nil(c, "notify_all", NULL));
  CU_ASSERT(call_nil(c, "release", NULL));
  for (int i = 0; i < N - 1; i++)
    CU_ASSERT_EQUAL(mproc_semaphore_acquire(woken, LIMIT), 0);
  for (int i = 0; i < N; i++)
    EXPECT_EXIT(mproc_test_finish(p[i]), 0);
  /* Condition(lock) uses that lock; another type is refused. */
  lock = new_object(m, MPROC_MANAGED_LOCK, NULL);
  c2 = new_object(m, MPROC_MANAGED_CONDITION, "o", lock);
  CU_ASSERT_EQUAL(call_bool(c2, "acquire", NULL), 1);
  CU_ASSERT_EQUAL(call_bool(lock, "locked", NULL), 1);
  CU_ASSERT(call_nil(c2, "release", NULL));
  CU_ASSERT_EQUAL(call_bool(lock, "locked", NULL), 0);
  d = new_object(m, MPROC_MANAGED_DICT, NULL);
  EXPECT_STATUS(
      mproc_manager_object_args(m, &bad, MPROC_MANAGED_CONDITION, NULL, "o", d),
      MPROC_ETYPE);
  mproc_proxy_free(c);
  mproc_proxy_free(c2);
  mproc_proxy_free(lock);
  mproc_proxy_free(d);
  mproc_semaphore_free(sleeping);
  mproc_semaphore_free(woken);
  mproc_manager_free(m);
}

/* Waits on the managed barrier; exits with its index, or 20 when
 * broken. */
MPROC_TARGET(mt_barrier_wait)
{
  mproc_proxy_t *b;
  int64_t index = -1;
  int rc;

  if (mproc_args_parse(args, "o", MPROC_KIND_PROXY, &b) != 0)
    return BADARGS;
  rc = call_parse(b, "wait", "L", &index, "d", LIMIT);
  return rc == MPROC_EBROKEN ? 20 : rc != 0 ? 1 : (int)index;
}

/* Wait until the managed barrier @b has @n parties waiting. */
static int await_waiting(mproc_proxy_t *b, int64_t n)
{
  double deadline = mproc_test_now() + LIMIT;
  int64_t got = -1;

  while (call_parse(b, "__getattribute__", "L", &got, "s", "n_waiting") == 0 &&
         got != n && mproc_test_now() < deadline)
    mproc_test_sleep_ms(5);
  return got == n;
}

/* CPython's _TestBarrier basics (indexes, abort, reset, attributes,
 * default timeout) on a SyncManager's Barrier. */
static void test_managed_barrier(void)
{
  mproc_manager_t *m = start_manager();
  mproc_proxy_t *b, *bt, *bad = NULL;
  mproc_process_t *p[2];
  int64_t v = -1;
  int seen[3] = {0}, code, index = -1;
  double t0;

  if (m == NULL)
    return;
  b = new_object(m, MPROC_MANAGED_BARRIER, "i", 3);
  CU_ASSERT_EQUAL(call_int(b, "__getattribute__", "s", "parties"), 3);
  CU_ASSERT_EQUAL(call_bool(b, "__getattribute__", "s", "broken"), 0);
  EXPECT_STATUS(call_status(b, "__getattribute__", "s", "_count"),
                MPROC_ENOTFOUND);
  for (int i = 0; i < 2; i++)
    p[i] = mproc_test_start(mt_barrier_wait, "o", b);
  CU_ASSERT(await_waiting(b, 2));
  CU_ASSERT_EQUAL(call_parse(b, "wait", "i", &index, NULL), 0);
  CU_ASSERT(index >= 0 && index < 3);
  if (index >= 0 && index < 3)
    seen[index]++;
  for (int i = 0; i < 2; i++) {
    code = mproc_test_finish(p[i]);
    CU_ASSERT(code >= 0 && code < 3);
    if (code >= 0 && code < 3)
      seen[code]++;
  }
  CU_ASSERT(seen[0] == 1 && seen[1] == 1 && seen[2] == 1);
  /* abort breaks a waiting party; reset mends the barrier. */
  p[0] = mproc_test_start(mt_barrier_wait, "o", b);
  CU_ASSERT(await_waiting(b, 1));
  CU_ASSERT(call_nil(b, "abort", NULL));
  EXPECT_EXIT(mproc_test_finish(p[0]), 20);
  CU_ASSERT_EQUAL(call_bool(b, "__getattribute__", "s", "broken"), 1);
  EXPECT_STATUS(call_status(b, "wait", NULL), MPROC_EBROKEN);
  CU_ASSERT(call_nil(b, "reset", NULL));
  CU_ASSERT_EQUAL(call_bool(b, "__getattribute__", "s", "broken"), 0);
  CU_ASSERT_EQUAL(call_parse(b, "__getattribute__", "L", &v, "s", "n_waiting"),
                  0);
  CU_ASSERT_EQUAL(v, 0);
  /* Barrier(2, None, 0.2): wait() times out after the default. */
  bt = NULL;
  EXPECT_STATUS(mproc_manager_object_args(m, &bt, MPROC_MANAGED_BARRIER, NULL,
                                          "iNd", 2, 0.2),
                0);
  t0 = mproc_test_now();
  EXPECT_STATUS(call_status(bt, "wait", NULL), MPROC_EBROKEN);
  CU_ASSERT(mproc_test_now() - t0 >= 0.19);
  EXPECT_STATUS(mproc_manager_object_args(m, &bad, MPROC_MANAGED_BARRIER, NULL,
                                          "is", 2, "action"),
                MPROC_ENOSYS);
  EXPECT_STATUS(
      mproc_manager_object_args(m, &bad, MPROC_MANAGED_BARRIER, NULL, "i", 0),
      MPROC_EINVAL);
  mproc_proxy_free(b);
  mproc_proxy_free(bt);
  mproc_manager_free(m);
}

/* SyncManager.Array(typecode, sequence): typed elements. */
static void test_managed_array(void)
{
  static const int three[] = {1, 2, 3};
  mproc_manager_t *m = start_manager();
  mproc_proxy_t *a, *f, *bad = NULL;
  int64_t got[4];
  double d = 0;

  if (m == NULL)
    return;
  EXPECT_STATUS(mproc_manager_object_args(m, &a, MPROC_MANAGED_ARRAY, NULL,
                                          "si*", "i", (size_t)3, three),
                0);
  CU_ASSERT_EQUAL(call_int(a, "__len__", NULL), 3);
  CU_ASSERT_EQUAL(call_int(a, "__getitem__", "i", -1), 3);
  EXPECT_STATUS(call_status(a, "__getitem__", "i", 3), MPROC_ERANGE);
  CU_ASSERT(call_nil(a, "__setitem__", "ii", 0, 10));
  CU_ASSERT(call_nil(a, "__setitem__", "[ii][ii]", 1, 3, 20, 30));
  CU_ASSERT_EQUAL(call_ints(a, "__getitem__", got, 4, "[NN]"), 3);
  CU_ASSERT(got[0] == 10 && got[1] == 20 && got[2] == 30);
  EXPECT_STATUS(call_status(a, "__setitem__", "is", 0, "x"), MPROC_ETYPE);
  EXPECT_STATUS(call_status(a, "__setitem__", "iL", 0, (int64_t)1 << 40),
                MPROC_ERANGE);
  EXPECT_STATUS(call_status(a, "append", "i", 1), MPROC_ENOMETHOD);
  mproc_proxy_free(a);
  /* Array('f', [0.1]) keeps a float's precision; an int converts. */
  EXPECT_STATUS(mproc_manager_object_args(m, &f, MPROC_MANAGED_ARRAY, NULL,
                                          "s[di]", "f", 0.1, 2),
                0);
  CU_ASSERT_EQUAL(call_parse(f, "__getitem__", "d", &d, "i", 0), 0);
  CU_ASSERT(d == (double)0.1f);
  CU_ASSERT_EQUAL(call_parse(f, "__getitem__", "d", &d, "i", 1), 0);
  CU_ASSERT(d == 2.0);
  mproc_proxy_free(f);
  EXPECT_STATUS(mproc_manager_object_args(m, &bad, MPROC_MANAGED_ARRAY, NULL,
                                          "s[i]", "x", 1),
                MPROC_EINVAL);
  EXPECT_STATUS(mproc_manager_object_args(m, &bad, MPROC_MANAGED_ARRAY, NULL,
                                          "s[i]", "b", 200),
                MPROC_ERANGE);
  mproc_manager_free(m);
}

/* ---- registered types ---- */

/* Adds @n to the registered Counter it is given. */
MPROC_TARGET(mt_counter_add)
{
  mproc_proxy_t *c;
  int n;

  if (mproc_args_parse(args, "oi", MPROC_KIND_PROXY, &c, &n) != 0)
    return BADARGS;
  return code_of(mproc_proxy_call(c, NULL, "add", "i", n));
}

/* CPython's BaseManager.register(typeid, callable): the server owns
 * objects of the program's own type; clients call their methods. */
static void test_registered_type(void)
{
  mproc_manager_t *m = start_manager();
  mproc_proxy_t *c = NULL, *c1 = NULL, *c2 = NULL, *bad = NULL;
  mproc_args_t *r = NULL;
  const mproc_value_t *v;
  int64_t n = 0;

  if (m == NULL)
    return;
  EXPECT_STATUS(mproc_manager_instance(m, &c, "Counter", NULL, "i", 5), 0);
  CU_ASSERT_EQUAL(mproc_proxy_type(c), MPROC_MANAGED_REGISTERED);
  CU_ASSERT_STRING_EQUAL(mproc_proxy_typeid(c), "Counter");
  CU_ASSERT(call_nil(c, "add", "i", 3));
  CU_ASSERT_EQUAL(call_int(c, "get", NULL), 8);
  EXPECT_EXIT(mproc_test_run(mt_counter_add, "oi", c, 10), 0);
  CU_ASSERT_EQUAL(call_int(c, "get", NULL), 18);
  /* Results: a value given back as it came, several as a list. */
  CU_ASSERT_EQUAL(mproc_proxy_call(c, &r, "echo", "[s{s:i}]", "x", "k", 1), 0);
  CU_ASSERT(mproc_args_parse(r, "O", &v) == 0 &&
            mproc_value_type(v) == MPROC_T_LIST &&
            str_is(mproc_value_at(v, 0), "x"));
  mproc_args_free(r);
  CU_ASSERT_EQUAL(mproc_proxy_call(c, &r, "pair", NULL), 0);
  CU_ASSERT(mproc_args_parse(r, "O", &v) == 0 && int_at(v, 0) == 18 &&
            str_is(mproc_value_at(v, 1), "pair"));
  mproc_args_free(r);
  /* Errors: the method's own, a failing method, no such method. */
  EXPECT_STATUS(call_status(c, "missing", NULL), MPROC_ENOTFOUND);
  CU_ASSERT_PTR_NOT_NULL(strstr(mproc_last_error(), "KeyError: 'nothing'"));
  EXPECT_STATUS(call_status(c, "broken", NULL), MPROC_ETASK);
  CU_ASSERT_PTR_NOT_NULL(strstr(mproc_last_error(), "Counter.broken"));
  EXPECT_STATUS(call_status(c, "add", "s", "x"), MPROC_ETYPE);
  EXPECT_STATUS(call_status(c, "reset", NULL), MPROC_ENOMETHOD);
  /* A named instance is one object for every client. */
  EXPECT_STATUS(mproc_manager_instance(m, &c1, "Counter", "c1", NULL), 0);
  EXPECT_STATUS(mproc_manager_instance(m, &c2, "Counter", "c1", "i", 99), 0);
  CU_ASSERT(call_nil(c1, "add", "i", 2));
  CU_ASSERT(call_parse(c2, "get", "L", &n, NULL) == 0 && n == 2);
  EXPECT_STATUS(mproc_manager_object(m, &bad, MPROC_MANAGED_DICT, "c1"),
                MPROC_ETYPE);
  EXPECT_STATUS(mproc_manager_instance(m, &bad, "Nope", NULL, NULL),
                MPROC_ENOTREG);
  EXPECT_STATUS(mproc_manager_instance(m, &bad, "Counter", NULL, "i", -1),
                MPROC_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(mproc_last_error(), "start must be"));
  EXPECT_STATUS(mproc_manager_instance(m, &bad, "", NULL, NULL), MPROC_EINVAL);
  CU_ASSERT_PTR_NULL(bad);
  mproc_proxy_free(c);
  mproc_proxy_free(c1);
  mproc_proxy_free(c2);
  mproc_manager_free(m);
}

static void test_register_errors(void)
{
  static const mproc_method_t none[] = {{NULL, NULL}};
  static const mproc_method_t unnamed[] = {{"", counter_get}, {NULL, NULL}};
  static const mproc_mtype_t other = {"Counter", NULL, NULL, none};
  static const mproc_mtype_t empty = {"", NULL, NULL, none};
  static const mproc_mtype_t bad_method = {"Bad", NULL, NULL, unnamed};
  static const mproc_mtype_t no_methods = {"NoMethods", NULL, NULL, NULL};

  CU_ASSERT_EQUAL(mproc_manager_register(&counter_type), 0);
  CU_ASSERT_EQUAL(mproc_manager_register(&other), MPROC_EINVAL);
  CU_ASSERT_EQUAL(mproc_manager_register(&empty), MPROC_EINVAL);
  CU_ASSERT_EQUAL(mproc_manager_register(&bad_method), MPROC_EINVAL);
  CU_ASSERT_EQUAL(mproc_manager_register(&no_methods), MPROC_EINVAL);
  CU_ASSERT_EQUAL(mproc_manager_register(NULL), MPROC_EINVAL);
}

/* A remote client from another program, which never registered the
 * type, uses it by its typeid. */
static void test_registered_type_from_another_program(void)
{
  static const char key[] = "registered-type-key";
  const char *argv[] = {MPROC_TEST_MANAGER_CLIENT, NULL, key, NULL};
  mproc_manager_options_t o;
  mproc_manager_t *m = NULL;
  mproc_proxy_t *shared = NULL;
  char address[600];
  int code = -1;

  memset(&o, 0, sizeof o);
  o.address = "127.0.0.1:0";
  o.authkey = key;
  o.authkey_len = strlen(key);
  CU_ASSERT_EQUAL_FATAL(mproc_manager_create(&m, &o), 0);
  EXPECT_STATUS(mproc_manager_start(m), 0);
  if (mproc_manager_address(m) == NULL) {
    mproc_manager_free(m);
    return;
  }
  snprintf(address, sizeof address, "%s", mproc_manager_address(m));
  argv[1] = address;
  EXPECT_STATUS(mproc_manager_instance(m, &shared, "Counter", "shared", NULL),
                0);
  CU_ASSERT_EQUAL(
      mproc_test_run_program(MPROC_TEST_MANAGER_CLIENT, argv, &code), 0);
  CU_ASSERT_EQUAL(code, 0);
  CU_ASSERT_EQUAL(call_int(shared, "get", NULL), 1);
  mproc_proxy_free(shared);
  mproc_manager_free(m);
}

void mproc_test_register_mtypes(void)
{
  static const mproc_test_case_t cases[] = {
      MPROC_TEST_CASE(test_list),
      MPROC_TEST_CASE(test_list_slices),
      MPROC_TEST_CASE(test_list_sort),
      MPROC_TEST_CASE(test_managed_rlock),
      MPROC_TEST_CASE(test_managed_semaphores),
      MPROC_TEST_CASE(test_managed_condition),
      MPROC_TEST_CASE(test_managed_barrier),
      MPROC_TEST_CASE(test_managed_array),
      MPROC_TEST_CASE(test_registered_type),
      MPROC_TEST_CASE(test_register_errors),
      MPROC_TEST_CASE(test_registered_type_from_another_program),
      {NULL, NULL}};

  (void)mproc_test_add_suite("mtypes", cases);
}
