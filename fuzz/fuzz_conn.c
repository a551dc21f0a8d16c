/*
 * libFuzzer target: arbitrary bytes as the stream a Connection reads
 * (the peer's side of the pipe), delivered in chunks of varying sizes,
 * through every receiving call: recv (then the value readers), recv_bytes
 * with a maximum length, recv_bytes_into with a small buffer. The pipe
 * is this file's stand-in for the platform's, so the real framing and
 * decoding code runs on the input.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "internal.h"
#include "platform.h"

static const uint8_t *in;
static size_t in_len, in_pos;
static uint8_t chunk_seed;

/* ---- the stand-in platform ---- */

int mproc__plat_pipe(int duplex, intptr_t *r, intptr_t *w)
{
  (void)duplex;
  *r = 3;
  *w = 4;
  return 0;
}

int mproc__plat_pipe_read(intptr_t h, void *buf, size_t cap, size_t *got)
{
  size_t n = (size_t)(chunk_seed++ % 7) + 1; /* short reads, like a pipe */

  (void)h;
  if (n > cap)
    n = cap;
  if (n > in_len - in_pos)
    n = in_len - in_pos;
  memcpy(buf, in + in_pos, n);
  in_pos += n;
  *got = n;
  return 0;
}

int mproc__plat_pipe_write(intptr_t h, const void *buf, size_t len)
{
  (void)h;
  (void)buf;
  (void)len;
  return 0;
}

int mproc__plat_wait_handles(const intptr_t *h, const int *is_pipe, size_t n,
                             double deadline, int *ready)
{
  (void)h;
  (void)is_pipe;
  (void)deadline;
  for (size_t i = 0; i < n; i++)
    ready[i] = 1;
  return (int)n;
}

void mproc__plat_handle_own(intptr_t h)
{
  (void)h;
}

int mproc__init(void)
{
  return 0;
}

int mproc_process_sentinel(const mproc_process_t *p, mproc_sentinel_t *out)
{
  (void)p;
  *out = 0;
  return 0;
}

int mproc_process_is_alive(mproc_process_t *p)
{
  (void)p;
  return 0;
}

/* ---- the target ---- */

static void read_values(mproc_args_t *a)
{
  const mproc_value_t *v;
  const void *data;
  size_t n;
  int64_t i;

  for (size_t k = 0; (v = mproc_args_at(a, k)) != NULL; k++) {
    (void)mproc_value_type(v);
    (void)mproc_value_int(v, &i);
    (void)mproc_value_bytes(v, &data, &n);
    (void)mproc_value_len(v, &n);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  mproc_conn_t *r = NULL, *w = NULL;
  char small[16];
  void *buf;
  size_t len;
  int rc = 0;

  if (size < 1)
    return 0;
  chunk_seed = data[0];
  in = data + 1;
  in_len = size - 1;
  in_pos = 0;
  if (mproc_pipe(&r, &w, 0) != 0)
    return 0;
  for (int round = 0; rc == 0 || rc == MPROC_ETOOSHORT; round++) {
    mproc_args_t *a = NULL;
    switch ((data[0] + round) % 3) {
    case 0:
      rc = mproc_conn_recv(r, &a);
      if (rc == 0)
        read_values(a);
      mproc_args_free(a);
      break;
    case 1:
      rc = mproc_conn_recv_bytes(r, 1u << (data[0] % 20), &buf, &len);
      if (rc == 0)
        mproc_free(buf);
      break;
    default:
      rc =
          mproc_conn_recv_bytes_into(r, small, sizeof small, data[0] % 8, &len);
      break;
    }
    (void)mproc_conn_poll(r, 0);
  }
  mproc_conn_free(r);
  mproc_conn_free(w);
  return 0;
}
