/*
 * The platform functions the codec needs (error.c, object.c, codec.c),
 * for the fuzz targets only (they link the codec without a backend).
 */
#include <stdio.h>
#include <string.h>

#include "platform.h"

void mproc__plat_strerror(long oserr, char *buf, size_t len)
{
  snprintf(buf, len, "error %ld", oserr);
}

int mproc__plat_errcode(long oserr)
{
  (void)oserr;
  return MPROC_EOS;
}

void mproc__plat_handle_close(intptr_t h)
{
  (void)h; /* the fuzzers pass no real handles */
}

double mproc__plat_now(void)
{
  return 0.0;
}
