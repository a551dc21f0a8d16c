/*
 * Calling a manager's proxies from a test: statuses as exit codes, the
 * status assertion, and calls whose one result is parsed. Shared by the
 * manager suites.
 */
#ifndef MPROC_TEST_MCALLS_H
#define MPROC_TEST_MCALLS_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"

/* A status as a child's exit code: 0, or 130 + |status| (131..160, clear
 * of the library's own 120 and 121). */
static inline int code_of(int status)
{
  return status == 0 ? 0 : 130 - status;
}

/* Assert a status, saying in the failure what it was and why. */
#define EXPECT_STATUS(expr, want)                                              \
  expect_status((expr), (want), #expr, __FILE__, __LINE__)

static inline void expect_status(int got, int want, const char *what,
                                 const char *file, int line)
{
  char msg[900];

  snprintf(msg, sizeof msg, "status %d (%s: %s), expected %d: %s", got,
           mproc_strerror(got), got != 0 ? mproc_last_error() : "-", want,
           what);
  CU_assertImplementation(got == want, (unsigned)line, msg, file, "", CU_FALSE);
}

/* ---- calls ---- */

/* Call and parse the single result with @rfmt (one unit and its
 * pointer); the call's status, or MPROC_ETYPE when the result did not
 * parse. */
static inline int call_parse(mproc_proxy_t *p, const char *method,
                             const char *rfmt, void *out, const char *fmt, ...)
{
  mproc_args_t *r = NULL;
  va_list ap;
  int rc;

  va_start(ap, fmt);
  rc = mproc_proxy_callv(p, &r, method, fmt, ap);
  va_end(ap);
  if (rc == 0 && (r == NULL || mproc_args_count(r) != 1 ||
                  mproc_args_parse(r, rfmt, out) != 0))
    rc = MPROC_ETYPE;
  mproc_args_free(r);
  return rc;
}

/* A call whose result is an int (INT64_MIN when it failed or was not an
 * int; the failure is asserted). */
static inline int64_t call_int(mproc_proxy_t *p, const char *method,
                               const char *fmt, ...)
{
  mproc_args_t *r = NULL;
  int64_t v = INT64_MIN;
  va_list ap;
  int rc;

  va_start(ap, fmt);
  rc = mproc_proxy_callv(p, &r, method, fmt, ap);
  va_end(ap);
  CU_ASSERT_EQUAL(rc, 0);
  if (rc != 0)
    printf("\n  %s: %s\n", method, mproc_last_error());
  if (rc == 0 && mproc_value_int(mproc_args_at(r, 0), &v) != 0)
    v = INT64_MIN;
  mproc_args_free(r);
  return v;
}

/* A call whose result is a bool: 1 or 0, -1 when it failed or was not a
 * bool. */
static inline int call_bool(mproc_proxy_t *p, const char *method,
                            const char *fmt, ...)
{
  mproc_args_t *r = NULL;
  int v = -1;
  va_list ap;
  int rc;

  va_start(ap, fmt);
  rc = mproc_proxy_callv(p, &r, method, fmt, ap);
  va_end(ap);
  CU_ASSERT_EQUAL(rc, 0);
  if (rc != 0)
    printf("\n  %s: %s\n", method, mproc_last_error());
  if (rc == 0 && (mproc_value_type(mproc_args_at(r, 0)) != MPROC_T_BOOL ||
                  mproc_value_bool(mproc_args_at(r, 0), &v) != 0))
    v = -1;
  mproc_args_free(r);
  return v;
}

/* Whether the string result of a call is @want. */
static inline int call_str_is(mproc_proxy_t *p, const char *method,
                              const char *want, const char *fmt, ...)
{
  mproc_args_t *r = NULL;
  const char *s = NULL;
  va_list ap;
  int rc, ok;

  va_start(ap, fmt);
  rc = mproc_proxy_callv(p, &r, method, fmt, ap);
  va_end(ap);
  ok = rc == 0 && mproc_args_parse(r, "s", &s) == 0 && strcmp(s, want) == 0;
  mproc_args_free(r);
  return ok;
}

/* Whether a call succeeds with the result nil (CPython's None). */
static inline int call_nil(mproc_proxy_t *p, const char *method,
                           const char *fmt, ...)
{
  mproc_args_t *r = NULL;
  va_list ap;
  int rc, ok;

  va_start(ap, fmt);
  rc = mproc_proxy_callv(p, &r, method, fmt, ap);
  va_end(ap);
  ok = rc == 0 && r != NULL && mproc_args_count(r) == 1 &&
       mproc_value_type(mproc_args_at(r, 0)) == MPROC_T_NIL;
  if (!ok)
    printf("\n  %s: %s\n", method, rc != 0 ? mproc_last_error() : "not nil");
  mproc_args_free(r);
  return ok;
}

/* The status of a call expected to fail, its result discarded. */
static inline int call_status(mproc_proxy_t *p, const char *method,
                              const char *fmt, ...)
{
  mproc_args_t *r = NULL;
  va_list ap;
  int rc;

  va_start(ap, fmt);
  rc = mproc_proxy_callv(p, &r, method, fmt, ap);
  va_end(ap);
  mproc_args_free(r);
  return rc;
}

/* An int of a list value (INT64_MIN when it is none). */
static inline int64_t int_at(const mproc_value_t *list, size_t i)
{
  int64_t v = INT64_MIN;

  if (mproc_value_int(mproc_value_at(list, i), &v) != 0)
    return INT64_MIN;
  return v;
}

static inline int str_is(const mproc_value_t *v, const char *want)
{
  const void *data;
  size_t len;

  return v != NULL && mproc_value_type(v) == MPROC_T_STR &&
         mproc_value_bytes(v, &data, &len) == 0 && len == strlen(want) &&
         memcmp(data, want, len) == 0;
}

#endif /* MPROC_TEST_MCALLS_H */
