/*
 * The Pool's chunk codec (see chunk.h): task and result envelopes, the
 * items of a map, a worker's results (mproc_return, mproc_fail), and the
 * value lists a caller gets, spliced from result bytes.
 *
 * The per-item paths are the hot ones: an item is packed straight into
 * the items buffer, a result straight into its chunk's result buffer, and
 * a map's list is the chunks' result bytes laid one after another under
 * one array header. Formats of one scalar unit ("i", "d", ...) are packed
 * directly; anything else goes through the argument codec.
 */
#include <stdlib.h>
#include <string.h>

#include "chunk.h"
#include "object.h"

/* ---- envelopes ---- */

void mproc__batch_header(unsigned char hdr[MPROC__BATCH_HDR], uint32_t first,
                         uint32_t n, uint32_t flags)
{
  memset(hdr, 0, MPROC__BATCH_HDR);
  hdr[0] = MPROC__BATCH_VERSION;
  mproc__put_u32(hdr + 4, first);
  mproc__put_u32(hdr + 8, n);
  mproc__put_u32(hdr + 12, flags);
}

int mproc__batch_read(const unsigned char *p, size_t len, uint32_t *first,
                      uint32_t *n, uint32_t *flags)
{
  if (len < MPROC__BATCH_HDR || p[0] != MPROC__BATCH_VERSION)
    return mproc__err(MPROC_ECODEC, "pool: malformed batch");
  *first = mproc__get_u32(p + 4);
  *n = mproc__get_u32(p + 8);
  *flags = mproc__get_u32(p + 12);
  return 0;
}

size_t mproc__task_header(unsigned char *out, int kind, const char *name,
                          uint32_t count, uint64_t payload_len)
{
  size_t nl = strlen(name), at;
  int chunk = kind == MPROC__TASK_CHUNK || kind == MPROC__TASK_STAR;

  if (nl > 255)
    nl = 255; /* names are checked before; never cut in practice */
  memset(out, 0, MPROC__TASK_HDR);
  out[0] = (unsigned char)kind;
  out[1] = (unsigned char)nl;
  mproc__put_u32(out + 4, count);
  mproc__put_u64(out + 8, payload_len + (chunk ? 5 : 0));
  memcpy(out + MPROC__TASK_HDR, name, nl);
  at = MPROC__TASK_HDR + nl;
  if (chunk) /* the items become one array: one decode per chunk */
    at += mproc__array_header(out + at, count);
  return at;
}

int mproc__task_read(const unsigned char *p, size_t len, size_t *off,
                     mproc__task_view_t *t)
{
  size_t at = *off, nl;
  uint64_t plen;

  if (len - at < MPROC__TASK_HDR)
    return mproc__err(MPROC_ECODEC, "pool: task cut short");
  t->kind = p[at];
  nl = p[at + 1];
  t->count = mproc__get_u32(p + at + 4);
  plen = mproc__get_u64(p + at + 8);
  at += MPROC__TASK_HDR;
  if (len - at < nl || plen > len - at - nl)
    return mproc__err(MPROC_ECODEC, "pool: task cut short");
  memcpy(t->name, p + at, nl);
  t->name[nl] = '\0';
  t->payload = p + at + nl;
  t->len = (size_t)plen;
  *off = at + nl + (size_t)plen;
  return 0;
}

void mproc__result_header(unsigned char hdr[MPROC__RESULT_HDR], uint32_t seq,
                          int status, uint32_t values)
{
  memset(hdr, 0, MPROC__RESULT_HDR);
  mproc__put_u32(hdr, seq);
  mproc__put_u32(hdr + 4, (uint32_t)status);
  mproc__put_u32(hdr + 8, values);
}

int mproc__result_read(const unsigned char *rec, size_t len, uint32_t *seq,
                       int *status, uint32_t *values)
{
  if (len < MPROC__RESULT_HDR)
    return MPROC_ECODEC;
  *seq = mproc__get_u32(rec);
  *status = (int)mproc__get_u32(rec + 4);
  *values = mproc__get_u32(rec + 8);
  return 0;
}

size_t mproc__array_header(unsigned char out[5], uint32_t n)
{
  out[0] = 0xdd; /* array 32, big-endian count, as MessagePack has it */
  out[1] = (unsigned char)(n >> 24);
  out[2] = (unsigned char)(n >> 16);
  out[3] = (unsigned char)(n >> 8);
  out[4] = (unsigned char)n;
  return 5;
}

/* ---- one value from a format ---- */

/* Pack a format of one scalar unit straight away: 1 when @fmt is one,
 * 0 to take the codec's general path. @rc gets the packer's status. */
static int pack_scalar(msgpack_packer *pk, const char *fmt, va_list *ap,
                       int *rc)
{
  if (fmt == NULL || fmt[0] == '\0' || fmt[1] != '\0')
    return 0;
  switch (fmt[0]) {
  case 'i':
    *rc = msgpack_pack_int(pk, va_arg(*ap, int));
    return 1;
  case 'l':
    *rc = msgpack_pack_long(pk, va_arg(*ap, long));
    return 1;
  case 'L':
    *rc = msgpack_pack_int64(pk, va_arg(*ap, int64_t));
    return 1;
  case 'd':
    *rc = msgpack_pack_double(pk, va_arg(*ap, double));
    return 1;
  case 'p':
    *rc = va_arg(*ap, int) ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
    return 1;
  case 'N':
    *rc = msgpack_pack_nil(pk);
    return 1;
  default:
    return 0;
  }
}

/* Append the value @fmt builds to @out as mproc_return() gives it: one
 * unit: that value; none: nil; several: the list. On failure @out is as
 * it was. */
static int append_value(msgpack_sbuffer *out, const char *fmt, va_list *ap)
{
  size_t start = out->size;
  msgpack_packer pk;
  unsigned char h;
  int rc = 0;

  msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
  if (pack_scalar(&pk, fmt, ap, &rc)) {
    if (rc != 0) {
      out->size = start;
      return mproc__err(MPROC_ENOMEM, "out of memory");
    }
    return 0;
  }
  rc = mproc__encode_args(out, fmt, ap);
  if (rc != 0)
    return rc;
  h = (unsigned char)out->data[start];
  if (h == 0x91) {
    memmove(out->data + start, out->data + start + 1, out->size - start - 1);
    out->size--;
  } else if (h == 0x90) {
    out->data[start] = (char)0xc0;
  }
  return 0;
}

/* ---- items ---- */

/* Items lie one after another in one buffer. Where each begins is
 * recorded for every STRIDE-th item only (an array of offsets would cost
 * more than the items themselves); a chunk boundary in between is found
 * by stepping over the items from the nearest known one. */
#define STRIDE 64

struct mproc_items {
  msgpack_sbuffer buf; /* the items' encodings, one after another */
  size_t *mark;        /* item k * STRIDE begins at buf[mark[k]] */
  size_t nmarks, cap;
  size_t n;
  int has_kw;
};

int mproc_items_create(mproc_items_t **out)
{
  mproc_items_t *it;

  if (out == NULL)
    return mproc__err(MPROC_EINVAL, "items: NULL output");
  it = calloc(1, sizeof *it);
  if (it == NULL)
    return mproc__err(MPROC_ENOMEM, "out of memory");
  msgpack_sbuffer_init(&it->buf);
  *out = it;
  return 0;
}

/* Record where item n begins, when it is a STRIDE-th one. */
static int items_mark(mproc_items_t *it)
{
  if (it->n % STRIDE != 0 || it->nmarks > it->n / STRIDE)
    return 0;
  if (it->nmarks == it->cap) {
    size_t cap = it->cap ? it->cap * 2 : 64;
    size_t *m = realloc(it->mark, cap * sizeof *m);
    if (m == NULL)
      return mproc__err(MPROC_ENOMEM, "out of memory");
    it->mark = m;
    it->cap = cap;
  }
  it->mark[it->nmarks++] = it->buf.size;
  return 0;
}

/* The general path: the codec packs a list; one value is asked for, so
 * its one-element header is dropped. */
static int items_add_general(mproc_items_t *it, const char *fmt, va_list *ap)
{
  size_t start = it->buf.size;
  int rc = mproc__encode_args(&it->buf, fmt, ap);

  if (rc != 0)
    return rc;
  if (it->buf.size - start < 2 || (unsigned char)it->buf.data[start] != 0x91) {
    it->buf.size = start;
    return mproc__err(MPROC_EINVAL,
                      "items: \"%s\" must build exactly one value (use [...] "
                      "for a tuple)",
                      fmt);
  }
  memmove(it->buf.data + start, it->buf.data + start + 1,
          it->buf.size - start - 1);
  it->buf.size--;
  return 0;
}

int mproc_items_add(mproc_items_t *it, const char *fmt, ...)
{
  size_t start;
  msgpack_packer pk;
  va_list ap;
  int rc = 0;

  if (it == NULL || fmt == NULL)
    return mproc__err(MPROC_EINVAL, "items: NULL argument");
  if ((rc = items_mark(it)) != 0)
    return rc;
  start = it->buf.size;
  msgpack_packer_init(&pk, &it->buf, msgpack_sbuffer_write);
  va_start(ap, fmt);
  if (pack_scalar(&pk, fmt, &ap, &rc)) {
    if (rc != 0) {
      it->buf.size = start;
      rc = mproc__err(MPROC_ENOMEM, "out of memory");
    }
  } else {
    rc = items_add_general(it, fmt, &ap);
  }
  va_end(ap);
  if (rc == 0)
    it->n++;
  return rc;
}

int mproc_items_add_kw(mproc_items_t *it, const char *fmt, const char *kwfmt,
                       ...)
{
  size_t start = 0;
  msgpack_sbuffer body;
  msgpack_packer pk;
  va_list ap;
  int rc;

  if (it == NULL || kwfmt == NULL)
    return mproc__err(MPROC_EINVAL, "items: NULL argument");
  if ((rc = items_mark(it)) != 0)
    return rc;
  msgpack_sbuffer_init(&body);
  va_start(ap, kwfmt);
  rc = mproc__encode_args(&body, fmt, &ap);
  if (rc == 0)
    rc = mproc__encode_kwargs(&body, kwfmt, &ap);
  va_end(ap);
  start = it->buf.size;
  msgpack_packer_init(&pk, &it->buf, msgpack_sbuffer_write);
  if (rc == 0 && (body.size > UINT32_MAX ||
                  msgpack_pack_ext(&pk, body.size, MPROC__EXT_KW_ITEM) != 0 ||
                  msgpack_pack_ext_body(&pk, body.data, body.size) != 0)) {
    it->buf.size = start;
    rc = mproc__err(MPROC_ENOMEM, "items: keyword item too large");
  }
  msgpack_sbuffer_destroy(&body);
  if (rc == 0) {
    it->n++;
    it->has_kw = 1;
  }
  return rc;
}

size_t mproc_items_count(const mproc_items_t *it)
{
  return it != NULL ? it->n : 0;
}

void mproc_items_free(mproc_items_t *it)
{
  if (it == NULL)
    return;
  msgpack_sbuffer_destroy(&it->buf);
  free(it->mark);
  free(it);
}

const unsigned char *mproc__items_data(const mproc_items_t *it, size_t *len)
{
  *len = it->buf.size;
  return (const unsigned char *)it->buf.data;
}

size_t mproc__items_offset(const mproc_items_t *it, size_t i, size_t from,
                           size_t from_off)
{
  const unsigned char *d = (const unsigned char *)it->buf.data;
  size_t at = from_off;

  if (i >= it->n)
    return it->buf.size;
  if (i < from || i % STRIDE < i - from) { /* the mark is nearer */
    from = i / STRIDE * STRIDE;
    at = it->mark[i / STRIDE];
  }
  for (; from < i; from++)
    at += mproc__msgpack_len(d + at, it->buf.size - at);
  return at;
}

int mproc__items_has_kw(const mproc_items_t *it)
{
  return it->has_kw;
}

/* ---- in a worker: the running item's result ---- */

static _Thread_local msgpack_sbuffer *result_out;
static _Thread_local size_t result_start;
static _Thread_local int result_given;
static _Thread_local char *result_failure;

void mproc__result_begin(msgpack_sbuffer *out)
{
  result_out = out;
  result_start = out->size;
  result_given = 0;
  if (result_failure != NULL) {
    free(result_failure);
    result_failure = NULL;
  }
}

char *mproc__result_end(int *returned)
{
  char *f = result_failure;

  *returned = result_given;
  if (!result_given && result_out != NULL &&
      msgpack_sbuffer_write(result_out, "\xc0", 1) != 0)
    *returned = -1;
  result_out = NULL;
  result_failure = NULL;
  return f;
}

/* A packer that only checks: outside a task the value is dropped. */
static int discard(void *data, const char *buf, size_t len)
{
  (void)data;
  (void)buf;
  (void)len;
  return 0;
}

int mproc_return(const char *fmt, ...)
{
  msgpack_sbuffer scratch;
  msgpack_packer pk;
  va_list ap;
  int rc = 0;

  va_start(ap, fmt);
  if (result_out != NULL) {
    result_out->size = result_start; /* a later call replaces */
    rc = append_value(result_out, fmt, &ap);
    result_given = rc == 0;
  } else {
    msgpack_packer_init(&pk, NULL, discard);
    if (!pack_scalar(&pk, fmt, &ap, &rc)) {
      msgpack_sbuffer_init(&scratch);
      rc = mproc__encode_args(&scratch, fmt, &ap);
      msgpack_sbuffer_destroy(&scratch);
    }
  }
  va_end(ap);
  return rc;
}

int mproc_fail(const char *fmt, ...)
{
  va_list ap;
  char *msg;

  va_start(ap, fmt);
  msg = mproc__vformat(MPROC_ERROR_MAX, fmt != NULL ? fmt : "task failed", ap);
  va_end(ap);
  mproc__err(MPROC_ETASK, "%s", msg != NULL ? msg : "task failed");
  /* Kept for the task's result, or, in a Process's target, for the
   * report its failing child prints (mproc__current_failure). */
  free(result_failure);
  result_failure = msg;
  return 1;
}

const char *mproc__current_failure(void)
{
  return result_failure;
}

/* ---- in the parent: lists ---- */

int mproc__values_list(mproc_args_t **out, const mproc__iov_t *parts,
                       size_t nparts, size_t n)
{
  size_t total = 5, at;
  unsigned char *buf;

  *out = NULL;
  if (n > UINT32_MAX)
    return mproc__err(MPROC_ERANGE, "pool: more than 2^32 - 1 results");
  for (size_t i = 0; i < nparts; i++)
    total += parts[i].len;
  buf = mproc__args_buffer(total);
  if (buf == NULL)
    return mproc__err(MPROC_ENOMEM, "out of memory");
  at = mproc__array_header(buf, (uint32_t)n);
  for (size_t i = 0; i < nparts; i++) {
    if (parts[i].len > 0)
      memcpy(buf + at, parts[i].base, parts[i].len);
    at += parts[i].len;
  }
  return mproc__args_take_buffer(out, buf, total);
}
