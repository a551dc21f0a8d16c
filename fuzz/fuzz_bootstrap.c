/*
 * libFuzzer target: arbitrary bytes as a framed bootstrap message (header
 * and payload), as a spawned child reads it. Any crash, leak, hang or
 * sanitizer report is a bug: the decoder must only ever return an error.
 * A message that decodes must also survive encoding and decoding again
 * unchanged, or the parent could send what the child reads differently.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static int same_bytes(const void *a, size_t alen, const void *b, size_t blen)
{
  return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

static int same_boot(const mproc__boot_t *a, const mproc__boot_t *b)
{
  return strcmp(a->target, b->target) == 0 && strcmp(a->name, b->name) == 0 &&
         strcmp(a->parent_name, b->parent_name) == 0 &&
         same_bytes(a->authkey, a->authkey_len, b->authkey, b->authkey_len) &&
         same_bytes(a->identity, a->identity_len * sizeof *a->identity,
                    b->identity, b->identity_len * sizeof *b->identity) &&
         same_bytes(a->args, a->args_len, b->args, b->args_len) &&
         same_bytes(a->kwargs, a->kwargs_len, b->kwargs, b->kwargs_len) &&
         a->parent_pid == b->parent_pid && a->daemon == b->daemon &&
         a->method == b->method && a->has_report == b->has_report &&
         a->report == b->report && a->log_level == b->log_level;
}

static void check_roundtrip(const mproc__boot_t *b)
{
  msgpack_sbuffer msg;
  mproc__boot_t again;

  msgpack_sbuffer_init(&msg);
  if (mproc__boot_encode(b, &msg) != 0 ||
      mproc__boot_decode(msg.data + MPROC__BOOT_HDR, msg.size - MPROC__BOOT_HDR,
                         &again) != 0)
    abort();
  if (!same_boot(b, &again))
    abort();
  mproc__boot_clear(&again);
  msgpack_sbuffer_destroy(&msg);
}

static void try_decode(const void *payload, size_t len)
{
  mproc__boot_t b;

  if (mproc__boot_decode(payload, len, &b) == 0) {
    check_roundtrip(&b);
    mproc__boot_clear(&b);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  uint64_t len;

  if (size >= MPROC__BOOT_HDR && mproc__boot_header(data, &len) == 0 &&
      len <= size - MPROC__BOOT_HDR)
    try_decode(data + MPROC__BOOT_HDR, (size_t)len);
  /* The payload alone too, so the fuzzer need not find the header. */
  try_decode(data, size);
  return 0;
}
