/*
 * The two platform functions error.c needs, for the fuzz targets only
 * (they link the codec without a backend).
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
