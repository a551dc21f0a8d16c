/* The library's version, as compiled (see include/mproc/version.h). */
#include "mproc.h"

#define MPROC__STR(x) #x
#define MPROC__XSTR(x) MPROC__STR(x)

unsigned mproc_version(void)
{
  return MPROC_VERSION_HEX;
}

const char *mproc_version_string(void)
{
  return MPROC__XSTR(MPROC_VERSION_MAJOR) "." MPROC__XSTR(
      MPROC_VERSION_MINOR) "." MPROC__XSTR(MPROC_VERSION_PATCH);
}
