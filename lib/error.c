/*
 * Status codes and the per-thread last-error message.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "platform.h"

/* Each thread keeps the detail of its own last error, so that threads
 * calling the library at once never read each other's messages. */
static _Thread_local char last_error[512];

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
  return last_error[0] ? last_error : "no error";
}

int mproc__err(int code, const char *fmt, ...)
{
  char msg[sizeof last_error];
  va_list ap;

  /* Formatted aside first: an argument may be the message itself
   * (mproc_last_error() given a prefix), and vsnprintf must not read the
   * buffer it writes. */
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  memcpy(last_error, msg, strlen(msg) + 1);
  return code;
}

int mproc__err_os(const char *call, long oserr)
{
  char text[256];

  mproc__plat_strerror(oserr, text, sizeof text);
  return mproc__err(mproc__plat_errcode(oserr), "%s failed: %s (%ld)", call,
                    text, oserr);
}
