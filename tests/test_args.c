/*
 * The value codec in depth, in-process: every build and parse unit, every
 * error path with the argument named in the message, nesting limits,
 * boundary and 16 MiB lengths, hostile MessagePack for the decoders, and
 * the bootstrap message field by field. (tests/test_codec.c covers the
 * children fed bad bootstrap messages.)
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "internal.h"

/* ---- helpers ---- */

/* Assert that @rc is @code and that the last error contains @needle,
 * showing the actual message when it does not. */
#define EXPECT_ERR(expr, code, needle)                                         \
  expect_err((expr), (code), (needle), #expr, __LINE__)

static void expect_err(int rc, int code, const char *needle, const char *expr,
                       int line)
{
  char msg[1024];
  int ok = rc == code && strstr(mproc_last_error(), needle) != NULL;

  snprintf(msg, sizeof msg, "%s: want %d and \"%s\", got %d and \"%s\"", expr,
           code, needle, rc, mproc_last_error());
  CU_assertImplementation(ok ? CU_TRUE : CU_FALSE, (unsigned)line, msg,
                          __FILE__, "", CU_FALSE);
}

static int encode_va(int kw, msgpack_sbuffer *out, const char *fmt, va_list *ap)
{
  return kw ? mproc__encode_kwargs(out, fmt, ap)
            : mproc__encode_args(out, fmt, ap);
}

/* Encode @fmt as arguments and decode them again; NULL on failure. */
static mproc_args_t *build(const char *fmt, ...)
{
  msgpack_sbuffer buf;
  mproc_args_t *a = NULL;
  va_list ap;
  int rc;

  msgpack_sbuffer_init(&buf);
  va_start(ap, fmt);
  rc = mproc__encode_args(&buf, fmt, &ap);
  va_end(ap);
  CU_ASSERT_EQUAL(rc, 0);
  if (rc == 0)
    CU_ASSERT_EQUAL(mproc__args_new(&a, buf.data, buf.size, NULL, 0), 0);
  msgpack_sbuffer_destroy(&buf);
  return a;
}

/* Positional arguments from @posfmt, then keyword arguments from @kwfmt,
 * the values of both in one list. */
static mproc_args_t *build_kw(const char *posfmt, const char *kwfmt, ...)
{
  msgpack_sbuffer pos, kw;
  mproc_args_t *a = NULL;
  va_list ap;
  int rc;

  msgpack_sbuffer_init(&pos);
  msgpack_sbuffer_init(&kw);
  va_start(ap, kwfmt);
  rc = mproc__encode_args(&pos, posfmt, &ap);
  if (rc == 0)
    rc = mproc__encode_kwargs(&kw, kwfmt, &ap);
  va_end(ap);
  CU_ASSERT_EQUAL(rc, 0);
  if (rc == 0)
    CU_ASSERT_EQUAL(mproc__args_new(&a, pos.data, pos.size, kw.data, kw.size),
                    0);
  msgpack_sbuffer_destroy(&pos);
  msgpack_sbuffer_destroy(&kw);
  return a;
}

/* The status of encoding @fmt (@kw: as keyword arguments). A failed
 * encode must leave what the buffer already held untouched. */
static int encode_rc(int kw, const char *fmt, ...)
{
  msgpack_sbuffer buf;
  va_list ap;
  int rc;

  msgpack_sbuffer_init(&buf);
  msgpack_sbuffer_write(&buf, "xyz", 3);
  va_start(ap, fmt);
  rc = encode_va(kw, &buf, fmt, &ap);
  va_end(ap);
  if (rc != 0)
    CU_ASSERT(buf.size == 3 && memcmp(buf.data, "xyz", 3) == 0);
  msgpack_sbuffer_destroy(&buf);
  return rc;
}

/* Decode raw positional bytes (an array) that must be accepted. */
static mproc_args_t *raw(const void *pos, size_t len)
{
  mproc_args_t *a = NULL;

  CU_ASSERT_EQUAL(mproc__args_new(&a, pos, len, NULL, 0), 0);
  return a;
}

/* One positional argument: a uint64 above INT64_MAX, a float32 1.5, an
 * extension value. Nothing mproc builds, but any MessagePack writer can. */
static const unsigned char big_u64[] = {0x91, 0xcf, 0xff, 0xff, 0xff,
                                        0xff, 0xff, 0xff, 0xff, 0xff};
static const unsigned char float32[] = {0x91, 0xca, 0x3f, 0xc0, 0x00, 0x00};
static const unsigned char ext[] = {0x91, 0xd4, 0x01, 0x00};

/* ---- building and parsing every unit ---- */

static void test_every_unit_roundtrip(void)
{
  static const char blob[3] = {'a', '\0', 'b'};
  mproc_args_t *a =
      build("i l L d p p s s# z z# y# N", INT_MIN, LONG_MAX, (int64_t)INT64_MIN,
            2.25, 7, 0, "text", blob, (size_t)3, (const char *)NULL, "zz",
            (size_t)1, blob, (size_t)3);
  int i = 0, p1 = 0, p2 = 1;
  long l = 0;
  int64_t L = 0;
  double d = 0;
  const char *s, *sh, *z = "set", *zh;
  const void *y;
  size_t shlen, zhlen, ylen;
  const mproc_value_t *nil;

  CU_ASSERT_PTR_NOT_NULL_FATAL(a);
  CU_ASSERT_EQUAL(mproc_args_count(a), 12);
  CU_ASSERT_EQUAL_FATAL(mproc_args_parse(a, "ilLdppss#zz#y#O:all", &i, &l, &L,
                                         &d, &p1, &p2, &s, &sh, &shlen, &z, &zh,
                                         &zhlen, &y, &ylen, &nil),
                        0);
  CU_ASSERT_EQUAL(i, INT_MIN);
  CU_ASSERT_EQUAL(l, LONG_MAX);
  CU_ASSERT_EQUAL(L, INT64_MIN);
  CU_ASSERT_DOUBLE_EQUAL(d, 2.25, 0);
  CU_ASSERT_EQUAL(p1, 1);
  CU_ASSERT_EQUAL(p2, 0);
  CU_ASSERT_STRING_EQUAL(s, "text");
  CU_ASSERT(shlen == 3 && memcmp(sh, blob, 3) == 0);
  CU_ASSERT_PTR_NULL(z);
  CU_ASSERT(zhlen == 1 && memcmp(zh, "z", 1) == 0);
  CU_ASSERT(ylen == 3 && memcmp(y, blob, 3) == 0);
  CU_ASSERT_EQUAL(mproc_value_type(nil), MPROC_T_NIL);
  CU_ASSERT_EQUAL(mproc_value_type(mproc_args_at(a, 3)), MPROC_T_DOUBLE);
  CU_ASSERT_EQUAL(mproc_value_type(mproc_args_at(a, 4)), MPROC_T_BOOL);
  CU_ASSERT_EQUAL(mproc_value_type(mproc_args_at(a, 8)), MPROC_T_NIL);
  CU_ASSERT_EQUAL(mproc_value_type(mproc_args_at(a, 10)), MPROC_T_BYTES);
  CU_ASSERT_PTR_NULL(mproc_args_at(a, 12));
  mproc__args_free(a);
}

/* The conversions PyArg_ParseTuple makes too: int to double, int and nil
 * to a truth value, str to bytes, bytes to s#, z with a string. */
static void test_parse_conversions(void)
{
  mproc_args_t *a = build("i i N s y# s", 3, -2, "str", "by", (size_t)2, "zs");
  const char *s, *z;
  const void *y;
  size_t n, m;
  double d;
  int p1, p2;

  CU_ASSERT_PTR_NOT_NULL_FATAL(a);
  CU_ASSERT_EQUAL_FATAL(
      mproc_args_parse(a, "dpp|y#s#z", &d, &p1, &p2, &y, &n, &s, &m, &z), 0);
  CU_ASSERT_DOUBLE_EQUAL(d, 3.0, 0);
  CU_ASSERT(p1 == 1 && p2 == 0);
  CU_ASSERT(n == 3 && memcmp(y, "str", 3) == 0);
  CU_ASSERT(m == 2 && memcmp(s, "by", 2) == 0);
  CU_ASSERT_STRING_EQUAL(z, "zs");
  mproc__args_free(a);
}

static void test_empty_and_null_formats(void)
{
  mproc_args_t *a = build(NULL);

  CU_ASSERT_PTR_NOT_NULL_FATAL(a);
  CU_ASSERT_EQUAL(mproc_args_count(a), 0);
  CU_ASSERT_EQUAL(mproc_args_parse(a, ""), 0);
  CU_ASSERT_EQUAL(mproc_args_parse(a, ":name"), 0);
  CU_ASSERT_PTR_NULL(mproc_args_kw(a, "x"));
  mproc__args_free(a);
  a = build("");
  CU_ASSERT_PTR_NOT_NULL_FATAL(a);
  CU_ASSERT_EQUAL(mproc_args_count(a), 0);
  mproc__args_free(a);
}

static void test_nested_values(void)
{
  mproc_args_t *a = build("[i, [s, {s:d}], []] {s:[N,p], s#:{}}", 1, "x", "k",
                          0.5, "l", 1, "key\0z", (size_t)5);
  const mproc_value_t *list, *map, *v, *k;
  const void *data;
  size_t n;
  double d;

  CU_ASSERT_PTR_NOT_NULL_FATAL(a);
  CU_ASSERT_EQUAL_FATAL(mproc_args_parse(a, "OO", &list, &map), 0);
  CU_ASSERT(mproc_value_len(list, &n) == 0 && n == 3);
  v = mproc_value_get(mproc_value_at(mproc_value_at(list, 1), 1), "k");
  CU_ASSERT(mproc_value_double(v, &d) == 0 && d == 0.5);
  CU_ASSERT(mproc_value_len(mproc_value_at(list, 2), &n) == 0 && n == 0);
  CU_ASSERT(mproc_value_len(map, &n) == 0 && n == 2);
  CU_ASSERT_EQUAL(mproc_value_type(mproc_value_get(map, "l")), MPROC_T_LIST);
  /* A key with a NUL byte (s#) is kept whole and never matches "key". */
  CU_ASSERT_EQUAL(mproc_value_entry(map, 1, &k, &v), 0);
  CU_ASSERT(mproc_value_bytes(k, &data, &n) == 0 && n == 5);
  CU_ASSERT_EQUAL(mproc_value_type(v), MPROC_T_MAP);
  CU_ASSERT_PTR_NULL(mproc_value_get(map, "key"));
  mproc__args_free(a);
}

/* msgpack-c unpacks at most 32 nested containers; the builder refuses
 * what a child could not decode, and the decoder refuses deeper input as
 * malformed, not as a lack of memory. */
static void test_nesting_limits(void)
{
  char fmt[80];
  unsigned char raw33[40];
  mproc_args_t *a = NULL;
  msgpack_zone zone;
  msgpack_object obj;
  size_t off = 0;

  /* 31 lists inside the implicit top-level one: 32 levels. */
  memset(fmt, '[', 31);
  memset(fmt + 31, ']', 31);
  fmt[62] = '\0';
  a = build(fmt);
  CU_ASSERT_PTR_NOT_NULL(a);
  mproc__args_free(a);
  memmove(fmt + 1, fmt, 63);
  fmt[0] = '[';
  strcat(fmt, "]");
  EXPECT_ERR(encode_rc(0, fmt), MPROC_EINVAL, "nested too deeply");
  /* Keyword arguments have no implicit level: 32 maps are fine. */
  CU_ASSERT_EQUAL(encode_rc(1,
                            "{s:{s:{s:{s:{s:{s:{s:{s:{s:{s:{s:{s:{s:{s:{s:{s:"
                            "{s:{s:{s:{s:{s:{s:{s:{s:{s:{s:{s:{s:{s:{s:{s:{}"
                            "}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}",
                            "a", "b", "c", "d", "e", "f", "g", "h", "i", "j",
                            "k", "l", "m", "n", "o", "p", "q", "r", "s", "t",
                            "u", "v", "w", "x", "y", "z", "A", "B", "C", "D",
                            "E"),
                  0);

  /* The same limit in msgpack-c and in the decoder's pre-check. */
  memset(raw33, 0x91, sizeof raw33);
  raw33[32] = 0x90; /* 33 nested lists */
  CU_ASSERT_EQUAL(mproc__msgpack_bounded(raw33 + 1, 32), 0);
  CU_ASSERT_EQUAL(mproc__msgpack_bounded(raw33, 33), -1);
  CU_ASSERT_FATAL(msgpack_zone_init(&zone, 1024));
  CU_ASSERT_EQUAL(msgpack_unpack((char *)raw33 + 1, 32, &off, &zone, &obj),
                  MSGPACK_UNPACK_SUCCESS);
  off = 0;
  CU_ASSERT_EQUAL(msgpack_unpack((char *)raw33, 33, &off, &zone, &obj),
                  MSGPACK_UNPACK_NOMEM_ERROR);
  msgpack_zone_destroy(&zone);
  EXPECT_ERR(mproc__args_new(&a, raw33, 33, NULL, 0), MPROC_ECODEC,
             "nested more than 32 deep");
  CU_ASSERT_PTR_NULL(a);
}

/* ---- build errors ---- */

static void test_build_errors(void)
{
  EXPECT_ERR(encode_rc(0, "iq", 1), MPROC_EINVAL, "position 1: unknown");
  EXPECT_ERR(encode_rc(0, "i#", 1), MPROC_EINVAL, "position 0: only");
  EXPECT_ERR(encode_rc(0, "[s##]", "a", (size_t)1), MPROC_EINVAL,
             "position 3: stray");
  EXPECT_ERR(encode_rc(0, "s##", "a", (size_t)1), MPROC_EINVAL,
             "position 2: stray");
  EXPECT_ERR(encode_rc(0, "[#]"), MPROC_EINVAL, "position 0: only");
  EXPECT_ERR(encode_rc(0, "[i}", 1), MPROC_EINVAL, "position 2: unbalanced");
  EXPECT_ERR(encode_rc(0, "i]", 1), MPROC_EINVAL, "unbalanced");
  EXPECT_ERR(encode_rc(0, "{s:i", "k", 1), MPROC_EINVAL, "unbalanced");
  EXPECT_ERR(encode_rc(0, "[{s:i]}", "k", 1), MPROC_EINVAL, "unbalanced");
  EXPECT_ERR(encode_rc(0, "{s:i,i:i}", "k", 1, 2, 3), MPROC_EINVAL,
             "position 5: map keys must be strings");
  EXPECT_ERR(encode_rc(0, "{z:i}", "k", 1), MPROC_EINVAL, "keys must be");
  EXPECT_ERR(encode_rc(0, "{s:i,s}", "k", 1, "j"), MPROC_EINVAL,
             "key:value pairs");
  EXPECT_ERR(encode_rc(0, "{s:i}", (const char *)NULL, 1), MPROC_EINVAL,
             "map key is NULL");
  EXPECT_ERR(encode_rc(0, "y", "x"), MPROC_EINVAL, "use 'y#'");
  EXPECT_ERR(encode_rc(0, "s#", (const char *)NULL, (size_t)1), MPROC_EINVAL,
             "NULL data");
  /* Refused from the length alone, before the data is read. */
  EXPECT_ERR(encode_rc(0, "y#", "x", (size_t)UINT32_MAX + 1), MPROC_EINVAL,
             "longer than 4 GiB");
  /* The error comes after values were packed: still nothing is left. */
  EXPECT_ERR(encode_rc(0, "ss[i,q]", "a", "b", 1), MPROC_EINVAL, "position 5");
  /* s#/z# with NULL and 0 is nil, y# with NULL and 0 empty bytes. */
  CU_ASSERT_EQUAL(encode_rc(0, "s#y#", (const char *)NULL, (size_t)0,
                            (const char *)NULL, (size_t)0),
                  0);
}

static void test_kwargs_build_errors(void)
{
  const char *msg = "keyword arguments must be one map";

  CU_ASSERT_EQUAL(encode_rc(1, " {s:i, s#:[i]} ", "a", 1, "bc", (size_t)2, 3),
                  0);
  EXPECT_ERR(encode_rc(1, NULL), MPROC_EINVAL, msg);
  EXPECT_ERR(encode_rc(1, ""), MPROC_EINVAL, msg);
  EXPECT_ERR(encode_rc(1, "i", 1), MPROC_EINVAL, msg);
  EXPECT_ERR(encode_rc(1, "[s]", "a"), MPROC_EINVAL, msg);
  EXPECT_ERR(encode_rc(1, "{s:i}{s:i}", "a", 1, "b", 2), MPROC_EINVAL, msg);
  EXPECT_ERR(encode_rc(1, "{s:i}i", "a", 1, 2), MPROC_EINVAL, msg);
  EXPECT_ERR(encode_rc(1, "{i:i}", 1, 2), MPROC_EINVAL, "keys must be");
  EXPECT_ERR(encode_rc(1, "{s:i", "a", 1), MPROC_EINVAL, "unbalanced");
}

/* ---- parse errors: each names the function and the argument ---- */

static void test_parse_type_errors(void)
{
  mproc_args_t *a = build("s i d [] y# N {}", "str", 5, 1.5, "b", (size_t)1);
  const mproc_value_t *o;
  const void *y;
  const char *s;
  size_t n;
  double d;
  int i;

  CU_ASSERT_PTR_NOT_NULL_FATAL(a);
  EXPECT_ERR(mproc_args_parse(a, "i|iidsy#sO:task", &i, &i, &i, &d, &s, &y, &n,
                              &s, &o),
             MPROC_ETYPE, "task() argument 1 must be int, not str");
  EXPECT_ERR(mproc_args_parse(a, "Oi|d:task", &o, &i, &d), MPROC_EINVAL,
             "task() takes at most 3 arguments (7 given)");
  EXPECT_ERR(mproc_args_parse(a, "Oii|OOOO:task", &o, &i, &i, &o, &o, &o, &o),
             MPROC_ETYPE, "task() argument 3 must be int, not float");
  EXPECT_ERR(mproc_args_parse(a, "OOs|OOOO:task", &o, &o, &s, &o, &o, &o, &o),
             MPROC_ETYPE, "task() argument 3 must be str, not float");
  EXPECT_ERR(mproc_args_parse(a, "dOOOOOO:task", &d, &o, &o, &o, &o, &o, &o),
             MPROC_ETYPE, "task() argument 1 must be float, not str");
  EXPECT_ERR(mproc_args_parse(a, "OOOpOOO:task", &o, &o, &o, &i, &o, &o, &o),
             MPROC_ETYPE, "task() argument 4 must be bool, not list");
  EXPECT_ERR(mproc_args_parse(a, "OOOOsOO:task", &o, &o, &o, &o, &s, &o, &o),
             MPROC_ETYPE, "task() argument 5 must be str, not bytes");
  EXPECT_ERR(
      mproc_args_parse(a, "Oy#OOOOO:task", &o, &y, &n, &o, &o, &o, &o, &o),
      MPROC_ETYPE, "task() argument 2 must be bytes, not int");
  EXPECT_ERR(mproc_args_parse(a, "OOOOOiO:task", &o, &o, &o, &o, &o, &i, &o),
             MPROC_ETYPE, "task() argument 6 must be int, not None");
  EXPECT_ERR(
      mproc_args_parse(a, "OOOOOOs#:task", &o, &o, &o, &o, &o, &o, &s, &n),
      MPROC_ETYPE, "task() argument 7 must be str, not dict");
  EXPECT_ERR(mproc_args_parse(a, "OOOzOOO:task", &o, &o, &o, &s, &o, &o, &o),
             MPROC_ETYPE, "task() argument 4 must be str, not list");
  /* Without ":name" the function is called "function". */
  EXPECT_ERR(mproc_args_parse(a, "iOOOOOO", &i, &o, &o, &o, &o, &o, &o),
             MPROC_ETYPE, "function() argument 1 must be int");
  mproc__args_free(a);
}

static void test_parse_count_and_format_errors(void)
{
  mproc_args_t *a = build("si", "egon", 18);
  const char *s;
  double d = 4.5;
  int i, j;

  CU_ASSERT_PTR_NOT_NULL_FATAL(a);
  EXPECT_ERR(mproc_args_parse(a, "s:task", &s), MPROC_EINVAL,
             "task() takes at most 1 argument (2 given)");
  EXPECT_ERR(mproc_args_parse(a, "sid:task", &s, &i, &d), MPROC_EINVAL,
             "task() missing required argument 3 (takes at least 3 "
             "arguments, 2 given)");
  CU_ASSERT_EQUAL(mproc_args_parse(a, "s|id:task", &s, &i, &d), 0);
  CU_ASSERT_DOUBLE_EQUAL(d, 4.5, 0); /* absent optional: untouched */
  CU_ASSERT_EQUAL(mproc_args_parse(a, "|si|", &s, &i), MPROC_EINVAL);
  EXPECT_ERR(mproc_args_parse(a, "|si|", &s, &i), MPROC_EINVAL,
             "position 3: a second '|'");
  EXPECT_ERR(mproc_args_parse(a, "sq", &s, &i), MPROC_EINVAL,
             "position 1: unknown format unit");
  EXPECT_ERR(mproc_args_parse(a, "si#", &s, &i, &j), MPROC_EINVAL,
             "only 's', 'y' and 'z' take '#'");
  EXPECT_ERR(mproc_args_parse(a, "#si", &s, &i), MPROC_EINVAL,
             "position 0: unknown format unit");
  EXPECT_ERR(mproc_args_parse(a, "sy", &s, &i), MPROC_EINVAL, "use 'y#'");
  EXPECT_ERR(mproc_args_parse(NULL, "s", &s), MPROC_EINVAL, "NULL");
  EXPECT_ERR(mproc_args_parse(a, NULL), MPROC_EINVAL, "NULL");
  mproc__args_free(a);
}

static void test_parse_embedded_nul(void)
{
  mproc_args_t *a = build("s#s#", "a\0b", (size_t)3, "", (size_t)0);
  const char *s, *e;
  size_t n;

  CU_ASSERT_PTR_NOT_NULL_FATAL(a);
  /* s promises a NUL-terminated string: one with a NUL inside is refused. */
  EXPECT_ERR(mproc_args_parse(a, "ss:task", &s, &e), MPROC_ETYPE,
             "task() argument 1: embedded null character");
  CU_ASSERT_EQUAL(mproc_args_parse(a, "s#s", &s, &n, &e), 0);
  CU_ASSERT_STRING_EQUAL(e, "");
  mproc__args_free(a);
}

static void test_parse_int_ranges(void)
{
  mproc_args_t *a = build("LLL", (int64_t)INT_MAX + 1, (int64_t)INT_MIN - 1,
                          (int64_t)INT64_MAX);
  int64_t L, v;
  int i;
  long l;

  CU_ASSERT_PTR_NOT_NULL_FATAL(a);
  EXPECT_ERR(mproc_args_parse(a, "i|LL:task", &i, &L, &L), MPROC_ERANGE,
             "task() argument 1: 2147483648 does not fit in int");
  EXPECT_ERR(mproc_args_parse(a, "Li|L:task", &L, &i, &L), MPROC_ERANGE,
             "task() argument 2: -2147483649 does not fit in int");
#if LONG_MAX == INT32_MAX /* Windows */
  EXPECT_ERR(mproc_args_parse(a, "l|LL:task", &l, &L, &L), MPROC_ERANGE,
             "task() argument 1: 2147483648 does not fit in long");
#else
  CU_ASSERT(mproc_args_parse(a, "LLl", &L, &L, &l) == 0 && l == INT64_MAX);
#endif
  mproc__args_free(a);

  /* A uint64 above INT64_MAX fits no mproc integer. */
  a = raw(big_u64, sizeof big_u64);
  CU_ASSERT_PTR_NOT_NULL_FATAL(a);
  EXPECT_ERR(mproc_args_parse(a, "L:task", &L), MPROC_ERANGE,
             "task() argument 1: 18446744073709551615 does not fit in int64_t");
  EXPECT_ERR(mproc_value_int(mproc_args_at(a, 0), &v), MPROC_ERANGE,
             "does not fit in int64");
  CU_ASSERT_EQUAL(mproc_value_type(mproc_args_at(a, 0)), MPROC_T_INT);
  mproc__args_free(a);
}

static void test_parse_keywords(void)
{
  static const char *const kwlist[] = {"name", "age", "city", NULL};
  mproc_args_t *a =
      build_kw("s", "{s:s,s:i}", "egon", "city", "Bonn", "age", 18);
  const char *name = NULL, *city = NULL;
  int age = 0, i;

  CU_ASSERT_PTR_NOT_NULL_FATAL(a);
  CU_ASSERT_EQUAL(
      mproc_args_parse_kw(a, "si|s:person", kwlist, &name, &age, &city), 0);
  CU_ASSERT_STRING_EQUAL(name, "egon");
  CU_ASSERT_EQUAL(age, 18);
  CU_ASSERT_STRING_EQUAL(city, "Bonn");
  CU_ASSERT_EQUAL(mproc_value_type(mproc_args_kw(a, "age")), MPROC_T_INT);
  CU_ASSERT_PTR_NULL(mproc_args_kw(a, "name"));
  CU_ASSERT_PTR_NULL(mproc_args_kw(a, NULL));
  /* Positional parsing does not see keywords. */
  EXPECT_ERR(mproc_args_parse(a, "si:person", &name, &age), MPROC_EINVAL,
             "missing required argument 2");
  EXPECT_ERR(mproc_args_parse_kw(a, "ss|s:person", kwlist, &name, &city, &city),
             MPROC_ETYPE,
             "person() argument 'age' (pos 2) must be str, not "
             "int");
  EXPECT_ERR(mproc_args_parse_kw(a, "si:person", kwlist, &name, &age),
             MPROC_EINVAL,
             "person() got an unexpected keyword argument "
             "'city'");
  mproc__args_free(a);

  a = build_kw("", "{s:s}", "city", "Rome");
  CU_ASSERT_PTR_NOT_NULL_FATAL(a);
  EXPECT_ERR(mproc_args_parse_kw(a, "si|s:person", kwlist, &name, &age, &city),
             MPROC_EINVAL, "person() missing required argument 'name' (pos 1)");
  mproc__args_free(a);

  a = build_kw("si", "{s:i}", "egon", 18, "age", 19);
  CU_ASSERT_PTR_NOT_NULL_FATAL(a);
  EXPECT_ERR(mproc_args_parse_kw(a, "s|is:person", kwlist, &name, &age, &city),
             MPROC_EINVAL,
             "argument for person() given by name ('age') and position (2)");
  EXPECT_ERR(
      mproc_args_parse_kw(a, "sii|i:person", kwlist, &name, &age, &i, &i),
      MPROC_EINVAL, "kwlist has fewer names");
  EXPECT_ERR(mproc_args_parse_kw(a, "si", NULL, &name, &age), MPROC_EINVAL,
             "NULL");
  mproc__args_free(a);
}

/* ---- reading values ---- */

static void test_value_accessors(void)
{
  mproc_args_t *a = build("p i d s y# [i] {s:i} N", 1, -3, 0.25, "str", "by",
                          (size_t)2, 9, "k", 4);
  const mproc_value_t *v[8], *k, *e;
  const void *data;
  size_t n;
  int64_t i;
  double d;
  int b;

  CU_ASSERT_PTR_NOT_NULL_FATAL(a);
  for (size_t j = 0; j < 8; j++)
    v[j] = mproc_args_at(a, j);
  CU_ASSERT_EQUAL(mproc_value_type(v[0]), MPROC_T_BOOL);
  CU_ASSERT_EQUAL(mproc_value_type(v[1]), MPROC_T_INT);
  CU_ASSERT_EQUAL(mproc_value_type(v[2]), MPROC_T_DOUBLE);
  CU_ASSERT_EQUAL(mproc_value_type(v[3]), MPROC_T_STR);
  CU_ASSERT_EQUAL(mproc_value_type(v[4]), MPROC_T_BYTES);
  CU_ASSERT_EQUAL(mproc_value_type(v[5]), MPROC_T_LIST);
  CU_ASSERT_EQUAL(mproc_value_type(v[6]), MPROC_T_MAP);
  CU_ASSERT_EQUAL(mproc_value_type(v[7]), MPROC_T_NIL);
  CU_ASSERT(mproc_value_bool(v[0], &b) == 0 && b == 1);
  CU_ASSERT(mproc_value_int(v[1], &i) == 0 && i == -3);
  CU_ASSERT(mproc_value_double(v[1], &d) == 0 && d == -3.0);
  CU_ASSERT(mproc_value_double(v[2], &d) == 0 && d == 0.25);
  CU_ASSERT(mproc_value_bytes(v[3], &data, &n) == 0 && n == 3);
  CU_ASSERT(mproc_value_bytes(v[4], &data, &n) == 0 && n == 2);
  CU_ASSERT(mproc_value_len(v[5], &n) == 0 && n == 1);
  CU_ASSERT(mproc_value_int(mproc_value_at(v[5], 0), &i) == 0 && i == 9);
  CU_ASSERT(mproc_value_int(mproc_value_get(v[6], "k"), &i) == 0 && i == 4);
  CU_ASSERT(mproc_value_entry(v[6], 0, &k, &e) == 0 &&
            mproc_value_type(k) == MPROC_T_STR);
  /* Wrong types and absent entries. */
  EXPECT_ERR(mproc_value_bool(v[1], &b), MPROC_ETYPE, "must be bool, not int");
  EXPECT_ERR(mproc_value_int(v[2], &i), MPROC_ETYPE, "must be int, not float");
  EXPECT_ERR(mproc_value_double(v[3], &d), MPROC_ETYPE, "not str");
  EXPECT_ERR(mproc_value_bytes(v[7], &data, &n), MPROC_ETYPE, "not None");
  EXPECT_ERR(mproc_value_len(v[3], &n), MPROC_ETYPE, "list or dict");
  EXPECT_ERR(mproc_value_entry(v[5], 0, &k, &e), MPROC_ETYPE, "dict");
  EXPECT_ERR(mproc_value_entry(v[6], 1, &k, &e), MPROC_ERANGE, "entry 1");
  EXPECT_ERR(mproc_value_int(NULL, &i), MPROC_ETYPE, "NULL");
  CU_ASSERT_PTR_NULL(mproc_value_at(v[5], 1));
  CU_ASSERT_PTR_NULL(mproc_value_at(v[6], 0));
  CU_ASSERT_PTR_NULL(mproc_value_get(v[6], "absent"));
  CU_ASSERT_PTR_NULL(mproc_value_get(v[5], "k"));
  CU_ASSERT_PTR_NULL(mproc_value_get(NULL, "k"));
  CU_ASSERT_EQUAL(mproc_args_count(NULL), 0);
  CU_ASSERT_PTR_NULL(mproc_args_at(NULL, 0));
  mproc__args_free(a);
}

/* Values other writers produce: float32, and extensions, which mproc
 * refuses in every reader. */
static void test_foreign_values(void)
{
  mproc_args_t *a = raw(float32, sizeof float32);
  const mproc_value_t *v, *o;
  const void *data;
  double d;
  int64_t i;
  size_t n;
  int b;

  CU_ASSERT_PTR_NOT_NULL_FATAL(a);
  CU_ASSERT_EQUAL(mproc_value_type(mproc_args_at(a, 0)), MPROC_T_DOUBLE);
  CU_ASSERT(mproc_args_parse(a, "d", &d) == 0 && d == 1.5);
  mproc__args_free(a);

  a = raw(ext, sizeof ext);
  CU_ASSERT_PTR_NOT_NULL_FATAL(a);
  v = mproc_args_at(a, 0);
  EXPECT_ERR(mproc_value_bool(v, &b), MPROC_ETYPE, "not extension");
  EXPECT_ERR(mproc_value_int(v, &i), MPROC_ETYPE, "not extension");
  EXPECT_ERR(mproc_value_double(v, &d), MPROC_ETYPE, "not extension");
  EXPECT_ERR(mproc_value_bytes(v, &data, &n), MPROC_ETYPE, "not extension");
  EXPECT_ERR(mproc_value_len(v, &n), MPROC_ETYPE, "not extension");
  EXPECT_ERR(mproc_args_parse(a, "p:f", &b), MPROC_ETYPE,
             "f() argument 1 must be bool, not extension");
  CU_ASSERT_EQUAL(mproc_args_parse(a, "O", &o), 0);
  mproc__args_free(a);
}

/* ---- decoding hostile bytes ---- */

static void expect_bad_args(const void *pos, size_t poslen, const void *kw,
                            size_t kwlen, const char *needle, int line)
{
  mproc_args_t *a = (mproc_args_t *)&a;
  int rc = mproc__args_new(&a, pos, poslen, kw, kwlen);

  expect_err(rc, MPROC_ECODEC, needle, "mproc__args_new", line);
  CU_ASSERT_PTR_NULL(a);
}
#define EXPECT_BAD_ARGS(pos, kw, needle)                                       \
  expect_bad_args(pos, sizeof pos, kw, sizeof kw, needle, __LINE__)

static void test_args_new_rejects(void)
{
  static const unsigned char list[] = {0x91, 0x01},
                             map[] = {0x81, 0xa1, 'k', 0x01};
  static const unsigned char nil[] = {0xc0}, reserved[] = {0x91, 0xc1};
  static const unsigned char int_key[] = {0x81, 0x01, 0x01};
  static const unsigned char trailing[] = {0x91, 0x01, 0x02};
  static const unsigned char cut[] = {0x92, 0x01};
  static const unsigned char arr32[] = {0xdd, 0xff, 0xff, 0xff, 0xff, 0x01};
  static const unsigned char str32[] = {0x91, 0xdb, 0xff, 0xff, 0xff, 0xff};
  static const unsigned char map16[] = {0xde, 0x00, 0x02, 0xa1, 'a', 0x01};
  mproc_args_t *a = (mproc_args_t *)&a;

  EXPECT_BAD_ARGS(map, map, "arguments: not a list");
  EXPECT_BAD_ARGS(nil, map, "arguments: not a list");
  EXPECT_BAD_ARGS(list, list, "keyword arguments: not a map");
  EXPECT_BAD_ARGS(list, nil, "keyword arguments: not a map");
  EXPECT_BAD_ARGS(list, int_key, "keyword arguments: keys must be strings");
  EXPECT_BAD_ARGS(trailing, map, "arguments: 1 bytes after the value");
  EXPECT_BAD_ARGS(list, trailing, "keyword arguments");
  EXPECT_BAD_ARGS(cut, map, "arguments: truncated");
  EXPECT_BAD_ARGS(reserved, map, "arguments");
  EXPECT_BAD_ARGS(arr32, map, "truncated");
  EXPECT_BAD_ARGS(str32, map, "truncated");
  EXPECT_BAD_ARGS(list, map16, "keyword arguments: truncated");
  EXPECT_ERR(mproc__args_new(&a, NULL, 0, NULL, 0), MPROC_ECODEC,
             "arguments: no data");
  CU_ASSERT_PTR_NULL(a);
  EXPECT_ERR(mproc__args_new(&a, list, 0, NULL, 0), MPROC_ECODEC, "no data");
  /* kwlen 0 means no keyword arguments, whatever the pointer. */
  CU_ASSERT_EQUAL(mproc__args_new(&a, list, sizeof list, map, 0), 0);
  CU_ASSERT_PTR_NULL(mproc_args_kw(a, "k"));
  mproc__args_free(a);
  mproc__args_free(NULL);
}

/* Encode @fmt (@kw: as keyword arguments) into @out, which must work. */
static void encode_to(msgpack_sbuffer *out, int kw, const char *fmt, ...)
{
  va_list ap;

  msgpack_sbuffer_init(out);
  va_start(ap, fmt);
  CU_ASSERT_EQUAL(encode_va(kw, out, fmt, &ap), 0);
  va_end(ap);
}

/* Every strict prefix of a valid encoding is refused, and the pre-check
 * agrees with msgpack-c on each. */
static void test_args_every_prefix(void)
{
  static char long_str[300];
  msgpack_sbuffer pos, kw;
  mproc_args_t *a = NULL;

  memset(long_str, 'x', sizeof long_str);
  encode_to(&pos, 0, "[i,s#]{s:y#}dL", -1, long_str, sizeof long_str, "k", "yy",
            (size_t)2, 0.5, (int64_t)INT64_MIN);
  encode_to(&kw, 1, "{s:[N,p],s:s}", "a", 1, "b", "c");
  for (size_t n = 0; n < pos.size; n++) {
    CU_ASSERT_EQUAL(mproc__msgpack_bounded(pos.data, n), -1);
    CU_ASSERT_EQUAL(mproc__args_new(&a, pos.data, n, kw.data, kw.size),
                    MPROC_ECODEC);
  }
  for (size_t n = 1; n < kw.size; n++)
    CU_ASSERT_EQUAL(mproc__args_new(&a, pos.data, pos.size, kw.data, n),
                    MPROC_ECODEC);
  CU_ASSERT_PTR_NULL(a);
  CU_ASSERT_EQUAL(mproc__args_new(&a, pos.data, pos.size, kw.data, kw.size), 0);
  mproc__args_free(a);
  msgpack_sbuffer_destroy(&pos);
  msgpack_sbuffer_destroy(&kw);
}

/* ---- lengths ---- */

/* Lengths on each side of MessagePack's header size changes (fixstr 31,
 * str8 255, str16 65535) survive s, s#, y#, as keys and values. */
static void test_boundary_lengths(void)
{
  static const size_t lens[] = {0, 1, 31, 32, 255, 256, 65535, 65536, 70000};
  char *buf = malloc(70001);

  CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
  for (size_t j = 0; j < sizeof lens / sizeof lens[0]; j++) {
    size_t len = lens[j], n1 = 0, n2 = 0;
    const char *s = NULL, *s2 = NULL;
    const void *y = NULL;
    mproc_args_t *a;

    memset(buf, 'a' + (int)(j % 26), len);
    buf[len] = '\0';
    a = build_kw("s y# s#", "{s#:i}", buf, buf, len, buf, len, buf, len, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_EQUAL_FATAL(mproc_args_parse(a, "sy#s#", &s, &y, &n1, &s2, &n2),
                          0);
    CU_ASSERT(s != NULL && strlen(s) == len && memcmp(s, buf, len) == 0);
    CU_ASSERT(n1 == len && memcmp(y, buf, len) == 0);
    CU_ASSERT(n2 == len && memcmp(s2, buf, len) == 0);
    CU_ASSERT_PTR_NOT_NULL(mproc_args_kw(a, buf));
    mproc__args_free(a);
  }
  free(buf);
}

static void test_16mib_bytes(void)
{
  size_t len = (size_t)16 << 20;
  unsigned char *big = malloc(len);
  const void *y;
  const char *s;
  size_t n, m;
  mproc_args_t *a;

  CU_ASSERT_PTR_NOT_NULL_FATAL(big);
  for (size_t i = 0; i < len; i++)
    big[i] = (unsigned char)(i * 131 + (i >> 13));
  a = build("y#s#", big, len, big, len);
  CU_ASSERT_PTR_NOT_NULL(a);
  if (a != NULL) {
    CU_ASSERT_EQUAL(mproc_args_parse(a, "y#s#", &y, &n, &s, &m), 0);
    CU_ASSERT(n == len && memcmp(y, big, len) == 0);
    CU_ASSERT(m == len && memcmp(s, big, len) == 0);
    mproc__args_free(a);
  }
  free(big);
}

/* ---- the bootstrap message ---- */

static unsigned char boot_key[32] = {9, 8, 7};
static int64_t boot_ident[3] = {1, 4, 2};

/* A valid message's fields with arguments and keyword arguments. */
static void fill_boot(mproc__boot_t *b, msgpack_sbuffer *args,
                      msgpack_sbuffer *kw)
{
  memset(b, 0, sizeof *b);
  encode_to(args, 0, "si[d]", "egon", 18, 1.5);
  encode_to(kw, 1, "{s:s}", "city", "Bonn");
  b->target = "t_value";
  b->name = "Process-1:4:2";
  b->authkey = boot_key;
  b->authkey_len = sizeof boot_key;
  b->identity = boot_ident;
  b->identity_len = 3;
  b->parent_pid = 4321;
  b->parent_name = "Process-1:4";
  b->daemon = 0;
  b->method = MPROC_FORKSERVER;
  b->args = args->data;
  b->args_len = args->size;
  b->kwargs = kw->data;
  b->kwargs_len = kw->size;
}

static int is_cleared(const mproc__boot_t *b)
{
  static const mproc__boot_t zero;
  return memcmp(b, &zero, sizeof zero) == 0;
}

static void test_boot_roundtrip_with_kwargs(void)
{
  msgpack_sbuffer args, kw, msg;
  mproc__boot_t in, out;
  static const char *const kwlist[] = {"name", "age", "scores", "city", NULL};
  const char *name = NULL, *city = NULL;
  const mproc_value_t *scores;
  mproc_args_t *a = NULL;
  uint64_t len;
  int age = 0;

  fill_boot(&in, &args, &kw);
  msgpack_sbuffer_init(&msg);
  msgpack_sbuffer_write(&msg, "prefix", 6); /* encode appends */
  CU_ASSERT_EQUAL_FATAL(mproc__boot_encode(&in, &msg), 0);
  CU_ASSERT_EQUAL(mproc__boot_header((const unsigned char *)msg.data + 6, &len),
                  0);
  CU_ASSERT_EQUAL_FATAL(len, msg.size - 6 - MPROC__BOOT_HDR);
  CU_ASSERT_EQUAL_FATAL(
      mproc__boot_decode(msg.data + 6 + MPROC__BOOT_HDR, len, &out), 0);
  CU_ASSERT_STRING_EQUAL(out.target, "t_value");
  CU_ASSERT_STRING_EQUAL(out.name, "Process-1:4:2");
  CU_ASSERT_STRING_EQUAL(out.parent_name, "Process-1:4");
  CU_ASSERT(out.identity_len == 3 && out.identity[2] == 2);
  CU_ASSERT(out.authkey_len == 32 && memcmp(out.authkey, boot_key, 32) == 0);
  CU_ASSERT(out.parent_pid == 4321 && out.daemon == 0);
  CU_ASSERT_EQUAL(out.method, MPROC_FORKSERVER);
  CU_ASSERT_PTR_NULL(out.fn);
  CU_ASSERT_EQUAL_FATAL(
      mproc__args_new(&a, out.args, out.args_len, out.kwargs, out.kwargs_len),
      0);
  CU_ASSERT_EQUAL(mproc_args_parse_kw(a, "siO|s:t_value", kwlist, &name, &age,
                                      &scores, &city),
                  0);
  CU_ASSERT_STRING_EQUAL(name, "egon");
  CU_ASSERT_EQUAL(age, 18);
  CU_ASSERT_STRING_EQUAL(city, "Bonn");
  mproc__args_free(a);
  mproc__boot_clear(&out);
  CU_ASSERT(is_cleared(&out));
  msgpack_sbuffer_destroy(&msg);
  msgpack_sbuffer_destroy(&args);
  msgpack_sbuffer_destroy(&kw);
}

static int encode_status(const mproc__boot_t *b)
{
  msgpack_sbuffer msg;
  int rc;

  msgpack_sbuffer_init(&msg);
  msgpack_sbuffer_write(&msg, "x", 1);
  rc = mproc__boot_encode(b, &msg);
  if (rc != 0)
    CU_ASSERT_EQUAL(msg.size, 1); /* nothing half-written */
  msgpack_sbuffer_destroy(&msg);
  return rc;
}

/* The parent refuses what the child would refuse and a user can set. */
static void test_boot_encode_limits(void)
{
  static unsigned char key[1025];
  static int64_t ident[65];
  msgpack_sbuffer args, kw;
  mproc__boot_t b;

  for (size_t i = 0; i < 65; i++)
    ident[i] = (int64_t)i + 1;
  fill_boot(&b, &args, &kw);
  b.authkey = key;
  b.authkey_len = 1024;
  b.identity = ident;
  b.identity_len = 64;
  CU_ASSERT_EQUAL(encode_status(&b), 0);
  b.authkey_len = 0;
  b.identity_len = 0;
  CU_ASSERT_EQUAL(encode_status(&b), 0);
  b.authkey_len = 1025;
  EXPECT_ERR(encode_status(&b), MPROC_EINVAL, "authkey is longer than 1024");
  b.authkey_len = 32;
  b.identity_len = 65;
  EXPECT_ERR(encode_status(&b), MPROC_EINVAL, "more than 64 deep");
  b.identity_len = 2;
  b.args_len = (size_t)UINT32_MAX + 1; /* refused before it is read */
  EXPECT_ERR(encode_status(&b), MPROC_EINVAL, "larger than 4 GiB");
  msgpack_sbuffer_destroy(&args);
  msgpack_sbuffer_destroy(&kw);
}

/* A valid message re-packed with field @key's value replaced by @val
 * (NULL: the field dropped; a key not there is added), then decoded. */
static int decode_altered(const char *key, const msgpack_object *val,
                          mproc__boot_t *out)
{
  msgpack_sbuffer args, kw, msg, alt;
  msgpack_object obj;
  msgpack_packer pk;
  msgpack_zone zone;
  mproc__boot_t in;
  size_t off = 0, klen = strlen(key);
  uint32_t n, found = 0;
  int rc = -1000;

  fill_boot(&in, &args, &kw);
  msgpack_sbuffer_init(&msg);
  msgpack_sbuffer_init(&alt);
  msgpack_zone_init(&zone, 4096);
  if (mproc__boot_encode(&in, &msg) != 0 ||
      msgpack_unpack(msg.data + MPROC__BOOT_HDR, msg.size - MPROC__BOOT_HDR,
                     &off, &zone, &obj) != MSGPACK_UNPACK_SUCCESS)
    goto out;
  n = obj.via.map.size;
  for (uint32_t i = 0; i < n; i++)
    found += obj.via.map.ptr[i].key.via.str.size == klen &&
             memcmp(obj.via.map.ptr[i].key.via.str.ptr, key, klen) == 0;
  msgpack_packer_init(&pk, &alt, msgpack_sbuffer_write);
  msgpack_pack_map(&pk, n - (found && !val) + (!found && val));
  for (uint32_t i = 0; i < n; i++) {
    const msgpack_object_kv *kv = &obj.via.map.ptr[i];
    int match = kv->key.via.str.size == klen &&
                memcmp(kv->key.via.str.ptr, key, klen) == 0;
    if (match && val == NULL)
      continue;
    msgpack_pack_object(&pk, kv->key);
    msgpack_pack_object(&pk, match ? *val : kv->val);
  }
  if (!found && val != NULL) {
    msgpack_pack_str_with_body(&pk, key, klen);
    msgpack_pack_object(&pk, *val);
  }
  rc = mproc__boot_decode(alt.data, alt.size, out);
out:
  msgpack_zone_destroy(&zone);
  msgpack_sbuffer_destroy(&alt);
  msgpack_sbuffer_destroy(&msg);
  msgpack_sbuffer_destroy(&args);
  msgpack_sbuffer_destroy(&kw);
  return rc;
}

#define OBJ_INT(v)                                                             \
  ((v) < 0 ? (msgpack_object){.type = MSGPACK_OBJECT_NEGATIVE_INTEGER,         \
                              .via.i64 = (v)}                                  \
           : (msgpack_object){.type = MSGPACK_OBJECT_POSITIVE_INTEGER,         \
                              .via.u64 = (uint64_t)(v)})
#define OBJ_STR(s, n)                                                          \
  ((msgpack_object){.type = MSGPACK_OBJECT_STR, .via.str = {(n), (s)}})
#define OBJ_BIN(s, n)                                                          \
  ((msgpack_object){.type = MSGPACK_OBJECT_BIN, .via.bin = {(n), (s)}})
#define OBJ_ARRAY(p, n)                                                        \
  ((msgpack_object){.type = MSGPACK_OBJECT_ARRAY, .via.array = {(n), (p)}})

typedef struct boot_case {
  const char *key;
  msgpack_object val;
  int drop;
  const char *needle; /* NULL: the message is still valid */
} boot_case_t;

static void test_boot_field_errors(void)
{
  static char big[1025];
  static const char not_list[] = {0x01}, empty_list[] = {(char)0x90};
  static msgpack_object idents[65], bad_ident[2];
  msgpack_object nil = {.type = MSGPACK_OBJECT_NIL};
  msgpack_object truth = {.type = MSGPACK_OBJECT_BOOLEAN, .via.boolean = 1};
  msgpack_object fl = {.type = MSGPACK_OBJECT_FLOAT64, .via.f64 = 1.0};
  msgpack_object huge = {.type = MSGPACK_OBJECT_POSITIVE_INTEGER,
                         .via.u64 = UINT64_MAX};
  msgpack_object map = {.type = MSGPACK_OBJECT_MAP};
  const boot_case_t cases[] = {
      {"v", nil, 1, "field 'v' is missing"},
      {"v", OBJ_INT(2), 0, "version 2, this program reads version 1"},
      {"v", OBJ_STR("1", 1), 0, "field 'v' must be an integer"},
      {"target", nil, 1, "field 'target' is missing"},
      {"target", OBJ_INT(1), 0, "field 'target' must be a string"},
      {"target", OBJ_STR("", 0), 0, "field 'target' must not be empty"},
      {"target", OBJ_STR("a\0b", 3), 0, "field 'target' contains a NUL"},
      {"name", nil, 0, "field 'name' must be a string"},
      {"name", OBJ_BIN("n", 1), 0, "field 'name' must be a string"},
      {"pname", nil, 1, "field 'pname' is missing"},
      {"pname", OBJ_STR("", 0), 0, NULL},
      {"authkey", OBJ_STR("k", 1), 0, "field 'authkey' must be bytes"},
      {"authkey", OBJ_BIN(big, 1025), 0, "field 'authkey' is too long"},
      {"authkey", OBJ_BIN(big, 1024), 0, NULL},
      {"authkey", OBJ_BIN(big, 0), 0, NULL},
      {"ident", nil, 1, "field 'ident' is missing"},
      {"ident", map, 0, "field 'ident' must be a list"},
      {"ident", OBJ_ARRAY(idents, 65), 0, "field 'ident' is too long"},
      {"ident", OBJ_ARRAY(idents, 64), 0, NULL},
      {"ident", OBJ_ARRAY(idents, 0), 0, NULL},
      {"ident", OBJ_ARRAY(bad_ident, 1), 0, "'ident' must hold positive"},
      {"ident", OBJ_ARRAY(bad_ident + 1, 1), 0, "'ident' must hold positive"},
      {"ppid", OBJ_INT(-1), 0, "field 'ppid' is out of range"},
      {"ppid", huge, 0, "field 'ppid' must be an integer"},
      {"ppid", fl, 0, "field 'ppid' must be an integer"},
      {"daemon", nil, 1, "field 'daemon' is missing"},
      {"daemon", OBJ_INT(1), 0, "field 'daemon' must be a bool"},
      {"method", OBJ_INT(0), 0, "field 'method' is out of range"},
      {"method", OBJ_INT(4), 0, "field 'method' is out of range"},
      {"method", truth, 0, "field 'method' must be an integer"},
      {"args", nil, 1, "field 'args' is missing"},
      {"args", OBJ_ARRAY(idents, 0), 0, "field 'args' must be bytes"},
      {"args", OBJ_BIN(not_list, 1), 0, "bootstrap message: arguments: not a"},
      {"args", OBJ_BIN(not_list, 0), 0, "bootstrap message: arguments: no"},
      {"kwargs", OBJ_BIN(empty_list, 1), 0, "keyword arguments: not a map"},
      {"kwargs", OBJ_BIN(big, 0), 0, NULL},
      {"kwargs", nil, 1, "field 'kwargs' is missing"},
      {"unknown", OBJ_INT(1), 0, NULL},
  };
  mproc__boot_t out;

  for (size_t i = 0; i < 65; i++)
    idents[i] = OBJ_INT((int64_t)i + 1);
  bad_ident[0] = OBJ_INT(0);
  bad_ident[1] = OBJ_INT(-1);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const boot_case_t *c = &cases[i];
    int rc = decode_altered(c->key, c->drop ? NULL : &c->val, &out);
    char what[80];

    snprintf(what, sizeof what, "case %zu (%s)", i, c->key);
    if (c->needle == NULL) {
      expect_err(rc, 0, "", what, __LINE__);
      mproc__boot_clear(&out);
    } else {
      expect_err(rc, MPROC_ECODEC, c->needle, what, __LINE__);
      CU_ASSERT(is_cleared(&out));
    }
  }
}

static void test_boot_message_level_errors(void)
{
  static const unsigned char not_map[] = {0x91, 0x01};
  mproc__boot_t in, out;
  msgpack_sbuffer args, kw, msg;

  EXPECT_ERR(mproc__boot_decode(not_map, sizeof not_map, &out), MPROC_ECODEC,
             "bootstrap message: not a map");
  CU_ASSERT(is_cleared(&out));
  EXPECT_ERR(mproc__boot_decode(NULL, 0, &out), MPROC_ECODEC,
             "bootstrap message");
  EXPECT_ERR(mproc__boot_decode(not_map, 0, &out), MPROC_ECODEC,
             "bootstrap message");
  fill_boot(&in, &args, &kw);
  msgpack_sbuffer_init(&msg);
  CU_ASSERT_EQUAL_FATAL(mproc__boot_encode(&in, &msg), 0);
  msgpack_sbuffer_write(&msg, "\xc0", 1); /* one more object after the map */
  EXPECT_ERR(mproc__boot_decode(msg.data + MPROC__BOOT_HDR,
                                msg.size - MPROC__BOOT_HDR, &out),
             MPROC_ECODEC, "bootstrap message: trailing bytes");
  CU_ASSERT(is_cleared(&out));
  msgpack_sbuffer_destroy(&msg);
  msgpack_sbuffer_destroy(&args);
  msgpack_sbuffer_destroy(&kw);
}

static void test_boot_header(void)
{
  unsigned char hdr[MPROC__BOOT_HDR] = "MPB1";
  uint64_t len = 0, max = MPROC__BOOT_MAX;

  for (int i = 0; i < 8; i++)
    hdr[4 + i] = (unsigned char)(max >> (56 - 8 * i));
  CU_ASSERT(mproc__boot_header(hdr, &len) == 0 && len == MPROC__BOOT_MAX);
  hdr[11]++;
  EXPECT_ERR(mproc__boot_header(hdr, &len), MPROC_ECODEC, "too large");
  memset(hdr + 4, 0xff, 8);
  EXPECT_ERR(mproc__boot_header(hdr, &len), MPROC_ECODEC, "too large");
  memset(hdr + 4, 0, 8);
  CU_ASSERT(mproc__boot_header(hdr, &len) == 0 && len == 0);
  hdr[3] = '2';
  EXPECT_ERR(mproc__boot_header(hdr, &len), MPROC_ECODEC, "bad magic");
}

/* Every truncation is refused; every corruption is refused or still a
 * valid message, never a crash or a leak (ASan checks the last two). */
static void test_boot_truncated_and_corrupted(void)
{
  static const unsigned char masks[] = {0xff, 0x01, 0x80, 0x20};
  msgpack_sbuffer args, kw, msg;
  mproc__boot_t in, out;
  size_t len;
  char *payload;

  fill_boot(&in, &args, &kw);
  msgpack_sbuffer_init(&msg);
  CU_ASSERT_EQUAL_FATAL(mproc__boot_encode(&in, &msg), 0);
  payload = msg.data + MPROC__BOOT_HDR;
  len = msg.size - MPROC__BOOT_HDR;
  for (size_t cut = 0; cut < len; cut++) {
    CU_ASSERT_EQUAL(mproc__boot_decode(payload, cut, &out), MPROC_ECODEC);
    CU_ASSERT(is_cleared(&out));
  }
  CU_ASSERT_PTR_NOT_NULL(strstr(mproc_last_error(), "bootstrap message"));
  for (size_t at = 0; at < len; at++)
    for (size_t m = 0; m < sizeof masks; m++) {
      int rc;
      payload[at] ^= (char)masks[m];
      rc = mproc__boot_decode(payload, len, &out);
      CU_ASSERT(rc == 0 || rc == MPROC_ECODEC);
      CU_ASSERT(rc == 0 || is_cleared(&out));
      mproc__boot_clear(&out);
      payload[at] ^= (char)masks[m];
    }
  msgpack_sbuffer_destroy(&msg);
  msgpack_sbuffer_destroy(&args);
  msgpack_sbuffer_destroy(&kw);
}

/* Large arguments travel inside the message as bytes. */
static void test_boot_16mib_args(void)
{
  size_t big_len = (size_t)16 << 20;
  char *big = calloc(1, big_len);
  msgpack_sbuffer args, kw, msg, bigargs;
  mproc__boot_t in, out;
  mproc_args_t *a = NULL;
  const void *y;
  size_t n;

  CU_ASSERT_PTR_NOT_NULL_FATAL(big);
  big[big_len - 1] = 'z';
  fill_boot(&in, &args, &kw);
  encode_to(&bigargs, 0, "y#", big, big_len);
  in.args = bigargs.data;
  in.args_len = bigargs.size;
  msgpack_sbuffer_init(&msg);
  CU_ASSERT_EQUAL_FATAL(mproc__boot_encode(&in, &msg), 0);
  CU_ASSERT_EQUAL_FATAL(mproc__boot_decode(msg.data + MPROC__BOOT_HDR,
                                           msg.size - MPROC__BOOT_HDR, &out),
                        0);
  CU_ASSERT_EQUAL(mproc__args_new(&a, out.args, out.args_len, NULL, 0), 0);
  CU_ASSERT(a != NULL && mproc_args_parse(a, "y#", &y, &n) == 0 &&
            n == big_len && memcmp(y, big, big_len) == 0);
  mproc__args_free(a);
  mproc__boot_clear(&out);
  msgpack_sbuffer_destroy(&msg);
  msgpack_sbuffer_destroy(&bigargs);
  msgpack_sbuffer_destroy(&args);
  msgpack_sbuffer_destroy(&kw);
  free(big);
}

void mproc_test_register_args(void)
{
  static const mproc_test_case_t cases[] = {
      MPROC_TEST_CASE(test_every_unit_roundtrip),
      MPROC_TEST_CASE(test_parse_conversions),
      MPROC_TEST_CASE(test_empty_and_null_formats),
      MPROC_TEST_CASE(test_nested_values),
      MPROC_TEST_CASE(test_nesting_limits),
      MPROC_TEST_CASE(test_build_errors),
      MPROC_TEST_CASE(test_kwargs_build_errors),
      MPROC_TEST_CASE(test_parse_type_errors),
      MPROC_TEST_CASE(test_parse_count_and_format_errors),
      MPROC_TEST_CASE(test_parse_embedded_nul),
      MPROC_TEST_CASE(test_parse_int_ranges),
      MPROC_TEST_CASE(test_parse_keywords),
      MPROC_TEST_CASE(test_value_accessors),
      MPROC_TEST_CASE(test_foreign_values),
      MPROC_TEST_CASE(test_args_new_rejects),
      MPROC_TEST_CASE(test_args_every_prefix),
      MPROC_TEST_CASE(test_boundary_lengths),
      MPROC_TEST_CASE(test_16mib_bytes),
      MPROC_TEST_CASE(test_boot_roundtrip_with_kwargs),
      MPROC_TEST_CASE(test_boot_encode_limits),
      MPROC_TEST_CASE(test_boot_field_errors),
      MPROC_TEST_CASE(test_boot_message_level_errors),
      MPROC_TEST_CASE(test_boot_header),
      MPROC_TEST_CASE(test_boot_truncated_and_corrupted),
      MPROC_TEST_CASE(test_boot_16mib_args),
      {NULL, NULL}};

  (void)mproc_test_add_suite("args", cases);
}
