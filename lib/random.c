/*
 * The one source of random bytes: authkeys, handshake challenges, the
 * forkserver's key and address, SharedMemory names.
 *
 * APR's apr_generate_random_bytes is the OS's CSPRNG on both platforms
 * (getrandom(2) in Debian's APR build on Linux, the CryptoAPI on
 * Windows), keeps no state that a fork could duplicate, and needs no
 * initialisation, so it is safe in a forked child and in the forkserver.
 * APR is already a dependency of every file here; a second library for
 * the same job is what this file replaces.
 */
#include <apr_general.h>

#include "internal.h"

int mproc__random(void *buf, size_t len)
{
  apr_status_t st = apr_generate_random_bytes(buf, len);

  if (st != APR_SUCCESS)
    return mproc__err(MPROC_EOS, "no random bytes from the OS (APR status %d)",
                      (int)st);
  return 0;
}
