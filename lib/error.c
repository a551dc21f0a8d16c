/*
 * Status codes and the per-thread last-error message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "platform.h"

/* Each thread keeps the detail of its own last error, so that threads
 * calling the library at once never read each other's messages. Most
 * fit the fixed buffer; a longer one (a task's failure message, say)
 * lives on the heap, up to MPROC_ERROR_MAX bytes, until the thread's
 * next error replaces it. */
#define SHORT 512
static _Thread_local char last_error[SHORT];
static _Thread_local char *long_error;

const char *mproc_strerror(int status)
{
  switch (status) {
  case MPROC_OK:
    return "success";
#define MPROC__ERR_CASE(name, value, msg)                                      \
  case MPROC_##name:                                                           \
    return msg;
    MPROC_ERRNO_MAP(MPROC__ERR_CASE)
#undef MPROC__ERR_CASE
  default:
    return "unknown error";
  }
}

const char *mproc_last_error(void)
{
  if (long_error != NULL)
    return long_error;
  return last_error[0] ? last_error : "no error";
}

char *mproc__vformat(size_t max, const char *fmt, va_list ap)
{
  va_list again;
  char *text = NULL;
  int n;

  va_copy(again, ap);
  n = vsnprintf(NULL, 0, fmt, ap);
  if (n >= 0) {
    size_t len = (size_t)n < max ? (size_t)n : max;
    if ((text = malloc(len + 1)) != NULL)
      vsnprintf(text, len + 1, fmt, again);
  }
  va_end(again);
  return text;
}

char *mproc__format(size_t max, const char *fmt, ...)
{
  va_list ap;
  char *text;

  va_start(ap, fmt);
  text = mproc__vformat(max, fmt, ap);
  va_end(ap);
  return text;
}

/* The arguments may point into the current message (a caller that adds
 * a prefix to the last error), so the new text is made apart first and
 * the old one dropped last. */
int mproc__err(int code, const char *fmt, ...)
{
  char text[SHORT], *longer = NULL;
  va_list ap, again;

  va_start(ap, fmt);
  va_copy(again, ap);
  if (vsnprintf(text, sizeof text, fmt, ap) >= (int)sizeof text)
    longer = mproc__vformat(MPROC_ERROR_MAX, fmt, again);
  va_end(again);
  va_end(ap);
  memcpy(last_error, text, sizeof text);
  free(long_error);
  long_error = longer;
  return code;
}

int mproc__err_os(const char *call, long oserr)
{
  char text[256];

  mproc__plat_strerror(oserr, text, sizeof text);
  return mproc__err(mproc__plat_errcode(oserr), "%s failed: %s (%ld)", call,
                    text, oserr);
}
