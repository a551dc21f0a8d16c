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

  /* Formatted aside first: callers often wrap the previous message,
   * mproc__err(..., "...: %s", mproc_last_error()), and vsnprintf into
   * the buffer it reads from gives garbage (glibc: an empty string). */
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  memcpy(last_error, msg, sizeof msg);
  return code;
}

int mproc__err_os(const char *call, long oserr)
{
  char text[256];

  mproc__plat_strerror(oserr, text, sizeof text);
  return mproc__err(mproc__plat_errcode(oserr), "%s failed: %s (%ld)", call,
                    text, oserr);
}
