/*
 * libFuzzer target: arbitrary bytes as a framed bootstrap message (header
 * and payload), as a spawned child reads it. Any crash, leak, hang or
 * sanitizer report is a bug: the decoder must only ever return an error.
 */
#include <stddef.h>
#include <stdint.h>

#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  mproc__boot_t b;
  uint64_t len;

  if (size < MPROC__BOOT_HDR)
    return 0;
  if (mproc__boot_header(data, &len) == 0 && len <= size - MPROC__BOOT_HDR &&
      mproc__boot_decode(data + MPROC__BOOT_HDR, (size_t)len, &b) == 0)
    mproc__boot_clear(&b);
  /* The payload alone too, so the fuzzer need not find the header. */
  if (mproc__boot_decode(data, size, &b) == 0)
    mproc__boot_clear(&b);
  return 0;
}
