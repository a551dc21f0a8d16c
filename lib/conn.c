/*
 * Pipe and Connection. The framing is CPython's, so that bytes sent with
 * send_bytes() are read by a Python peer's recv_bytes() and back: a
 * big-endian signed 32-bit length, or -1 and a big-endian 64-bit length
 * for messages above 2 GiB - 1, then the bytes. Values (send/recv) are
 * MessagePack argument lists inside such a message.
 *
 * Reads go through a buffer kept in the connection, so a stream of small
 * messages costs about one read() each and a message is never merged
 * with the next. A stream that ends or goes bad in the middle of a
 * message leaves the connection unusable (later calls say so), never
 * half a message.
 */
#include <stdlib.h>
#include <string.h>

#include "object.h"
#include "platform.h"

#define RBUF 65536
#define SMALL 16384 /* messages up to this size go out in one write */
#define GROW_FROM ((size_t)1 << 20) /* receive buffers start at most here */
#define CONN_EXTRA_VERSION 1

struct mproc_conn {
  mproc__obj_t hdr;
  intptr_t h;
  int readable, writable;
  int closed;
  const char *broken;  /* why the stream is unusable, or NULL */
  unsigned char *rbuf; /* read-ahead: rbuf[rpos .. rlen) */
  size_t rpos, rlen;
  void *pending; /* a message recv_bytes_into could not take */
  size_t pending_len;
  double deadline; /* reads fail with ETIMEDOUT after it (handshakes) */
};

static void conn_release(mproc_conn_t *c)
{
  if (!c->closed)
    mproc__plat_handle_close(c->h);
  c->closed = 1;
  free(c->rbuf);
  c->rbuf = NULL;
  c->rpos = c->rlen = 0;
  free(c->pending);
  c->pending = NULL;
}

static void conn_destroy(mproc__obj_t *o)
{
  mproc_conn_t *c = (mproc_conn_t *)o;

  conn_release(c);
  free(c);
}

static int conn_export(mproc__obj_t *o, mproc__export_t *ex)
{
  mproc_conn_t *c = (mproc_conn_t *)o;

  if (c->closed)
    return mproc__err(MPROC_ECLOSED, "Connection: handle is closed");
  ex->handles[0] = c->h;
  ex->nhandles = 1;
  ex->extra[0] = CONN_EXTRA_VERSION;
  ex->extra[1] = (unsigned char)(c->readable | c->writable << 1);
  ex->extra_len = 2;
  return 0;
}

static int conn_import(mproc__obj_t **out, const intptr_t *handles, size_t n,
                       const void *extra, size_t extra_len);

const mproc__obj_ops_t mproc__conn_ops = {MPROC_KIND_CONNECTION, conn_export,
                                          conn_import, conn_destroy, NULL};
MPROC__OBJ_REGISTER(mproc__conn_ops)

static mproc_conn_t *conn_new(intptr_t h, int readable, int writable)
{
  mproc_conn_t *c = calloc(1, sizeof *c);

  if (c == NULL)
    return NULL;
  mproc__obj_init(&c->hdr, &mproc__conn_ops);
  c->h = h;
  c->readable = readable;
  c->writable = writable;
  c->deadline = MPROC__NEVER;
  return c;
}

int mproc__conn_wrap(mproc_conn_t **out, intptr_t h)
{
  *out = conn_new(h, 1, 1);
  if (*out == NULL) {
    mproc__plat_handle_close(h);
    return mproc__err(MPROC_ENOMEM, "out of memory");
  }
  return 0;
}

void mproc__conn_set_deadline(mproc_conn_t *c, double deadline)
{
  c->deadline = deadline;
}

static int conn_import(mproc__obj_t **out, const intptr_t *handles, size_t n,
                       const void *extra, size_t extra_len)
{
  const unsigned char *e = extra;
  mproc_conn_t *c;

  if (n != 1 || extra_len != 2 || e[0] != CONN_EXTRA_VERSION || e[1] == 0 ||
      e[1] > 3)
    return mproc__err(MPROC_ECODEC,
                      "Connection: bad description from the parent");
  c = conn_new(handles[0], e[1] & 1, (e[1] >> 1) & 1);
  if (c == NULL)
    return mproc__err(MPROC_ENOMEM, "out of memory");
  mproc__plat_handle_own(handles[0]);
  *out = &c->hdr;
  return 0;
}

int mproc_pipe(mproc_conn_t **c1, mproc_conn_t **c2, int duplex)
{
  intptr_t a, b;
  int rc;

  if (c1 == NULL || c2 == NULL)
    return mproc__err(MPROC_EINVAL, "Pipe: NULL output");
  *c1 = *c2 = NULL;
  if ((rc = mproc__init()) != 0)
    return rc;
  if ((rc = mproc__plat_pipe(duplex, &a, &b)) != 0)
    return rc;
  *c1 = conn_new(a, 1, duplex);
  *c2 = conn_new(b, duplex, 1);
  if (*c1 == NULL || *c2 == NULL) {
    if (*c1 == NULL)
      mproc__plat_handle_close(a);
    if (*c2 == NULL)
      mproc__plat_handle_close(b);
    mproc_conn_free(*c1);
    mproc_conn_free(*c2);
    *c1 = *c2 = NULL;
    return mproc__err(MPROC_ENOMEM, "out of memory");
  }
  return 0;
}

static int check(mproc_conn_t *c, const char *what, int need_read,
                 int need_write)
{
  mproc__obj_t *o = mproc__obj_check(c);

  if (o == NULL || o->ops != &mproc__conn_ops)
    return mproc__err(MPROC_EINVAL, "%s: not a Connection", what);
  if (c->closed)
    return mproc__err(MPROC_ECLOSED, "%s: handle is closed", what);
  if (need_read && !c->readable)
    return mproc__err(MPROC_EPERM, "%s: connection is write-only", what);
  if (need_write && !c->writable)
    return mproc__err(MPROC_EPERM, "%s: connection is read-only", what);
  if (need_read && c->broken != NULL)
    return mproc__err(MPROC_ECODEC, "%s: connection is unusable: %s", what,
                      c->broken);
  return 0;
}

/* ---- sending ---- */

static size_t put_header(unsigned char *hdr, size_t len)
{
  if (len <= 0x7fffffff) {
    for (int i = 0; i < 4; i++)
      hdr[i] = (unsigned char)(len >> (24 - 8 * i));
    return 4;
  }
  memset(hdr, 0xff, 4);
  for (int i = 0; i < 8; i++)
    hdr[4 + i] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
  return 12;
}

static int send_frame(mproc_conn_t *c, const void *buf, size_t len)
{
  unsigned char small[SMALL + 12];
  unsigned char hdr[12];
  size_t n = put_header(hdr, len);
  int rc;

  if (len <= SMALL) {
    memcpy(small, hdr, n);
    if (len > 0)
      memcpy(small + n, buf, len);
    return mproc__plat_pipe_write(c->h, small, n + len);
  }
  rc = mproc__plat_pipe_write(c->h, hdr, n);
  if (rc == 0)
    rc = mproc__plat_pipe_write(c->h, buf, len);
  return rc;
}

int mproc_conn_send_bytes(mproc_conn_t *c, const void *buf, size_t len,
                          size_t offset, size_t size)
{
  int rc = check(c, "send_bytes", 0, 1);

  if (rc != 0)
    return rc;
  if (buf == NULL && len > 0)
    return mproc__err(MPROC_EINVAL, "send_bytes: NULL buffer");
  if (offset > len)
    return mproc__err(MPROC_EINVAL, "buffer length < offset");
  if (size == MPROC_ALL)
    size = len - offset;
  else if (size > len - offset)
    return mproc__err(MPROC_EINVAL, "buffer length < offset + size");
  return send_frame(c, size ? (const char *)buf + offset : "", size);
}

int mproc_conn_send(mproc_conn_t *c, const char *fmt, ...)
{
  msgpack_sbuffer buf;
  va_list ap;
  int rc = check(c, "send", 0, 1);

  if (rc != 0)
    return rc;
  msgpack_sbuffer_init(&buf);
  va_start(ap, fmt);
  rc = mproc__encode_args(&buf, fmt, &ap);
  va_end(ap);
  if (rc == 0)
    rc = send_frame(c, buf.data, buf.size);
  msgpack_sbuffer_destroy(&buf);
  return rc;
}

/* ---- receiving ---- */

/* Under a deadline, wait for bytes before a read that could block: a
 * peer that stalls (even in the middle of a message) cannot hold the
 * reader past it. */
static int await_bytes(mproc_conn_t *c)
{
  intptr_t h = c->h;
  int is_pipe = 1, ready = 0, rc;

  if (c->deadline >= MPROC__NEVER)
    return 0;
  rc = mproc__plat_wait_handles(&h, &is_pipe, 1, c->deadline, &ready);
  if (rc < 0)
    return rc;
  if (!ready) {
    c->broken = "the peer sent nothing in time";
    return mproc__err(MPROC_ETIMEDOUT, "recv: %s", c->broken);
  }
  return 0;
}

/* Make @n bytes available at rbuf[rpos]: 0; 1 at EOF before any of
 * them; MPROC_ECODEC at EOF in the middle. */
static int fill(mproc_conn_t *c, size_t n, int at_boundary)
{
  size_t got;
  int rc;

  if (c->rlen - c->rpos >= n)
    return 0;
  if (c->rbuf == NULL && (c->rbuf = malloc(RBUF)) == NULL)
    return mproc__err(MPROC_ENOMEM, "out of memory");
  memmove(c->rbuf, c->rbuf + c->rpos, c->rlen - c->rpos);
  c->rlen -= c->rpos;
  c->rpos = 0;
  while (c->rlen < n) {
    if ((rc = await_bytes(c)) != 0)
      return rc;
    rc = mproc__plat_pipe_read(c->h, c->rbuf + c->rlen, RBUF - c->rlen, &got);
    if (rc != 0)
      return rc;
    if (got == 0) {
      if (at_boundary && c->rlen == 0)
        return 1;
      c->broken = "the stream ended in the middle of a message";
      return mproc__err(MPROC_ECODEC, "recv: %s", c->broken);
    }
    c->rlen += got;
  }
  return 0;
}

/* Read @len bytes into @dst: from the buffer first, then straight from
 * the pipe (large messages do not pass through the buffer). */
static int read_body(mproc_conn_t *c, unsigned char *dst, size_t len)
{
  size_t have = c->rlen - c->rpos, got;
  int rc;

  if (have > len)
    have = len;
  if (have > 0)
    memcpy(dst, c->rbuf + c->rpos, have);
  c->rpos += have;
  dst += have;
  len -= have;
  if (len > 0 && len < RBUF / 2) {
    if ((rc = fill(c, len, 0)) != 0)
      return rc;
    memcpy(dst, c->rbuf + c->rpos, len);
    c->rpos += len;
    return 0;
  }
  while (len > 0) {
    if ((rc = await_bytes(c)) != 0)
      return rc;
    rc = mproc__plat_pipe_read(c->h, dst, len, &got);
    if (rc != 0)
      return rc;
    if (got == 0) {
      c->broken = "the stream ended in the middle of a message";
      return mproc__err(MPROC_ECODEC, "recv: %s", c->broken);
    }
    dst += got;
    len -= got;
  }
  return 0;
}

/* Read a @len byte body into a new buffer that grows as the bytes come:
 * a peer announcing gigabytes it never sends costs a chunk, not the
 * announced size. */
static int read_growing(mproc_conn_t *c, size_t len, unsigned char **out)
{
  size_t cap = len < GROW_FROM ? len : GROW_FROM, done = 0;
  unsigned char *buf = malloc(cap ? cap : 1), *bigger;
  int rc;

  for (;;) {
    if (buf == NULL) {
      c->broken = "out of memory receiving a message";
      return mproc__err(MPROC_ENOMEM, "out of memory");
    }
    rc = read_body(c, buf + done, cap - done);
    if (rc != 0) {
      free(buf);
      return rc;
    }
    done = cap;
    if (done == len)
      break;
    cap = len - cap < cap ? len : cap * 2;
    bigger = realloc(buf, cap);
    if (bigger == NULL)
      free(buf);
    buf = bigger;
  }
  *out = buf;
  return 0;
}

/* Read one whole message into a new buffer. */
static int recv_frame(mproc_conn_t *c, size_t maxlength, void **out,
                      size_t *outlen)
{
  uint64_t len = 0;
  unsigned char *buf = NULL;
  int rc;

  if (c->pending != NULL) {
    *out = c->pending;
    *outlen = c->pending_len;
    c->pending = NULL;
    return 0;
  }
  rc = fill(c, 4, 1);
  if (rc == 1)
    return mproc__err(MPROC_EEOF, "recv: end of file");
  if (rc != 0)
    return rc;
  for (int i = 0; i < 4; i++)
    len = len << 8 | c->rbuf[c->rpos + i];
  c->rpos += 4;
  if (len == 0xffffffffu) {
    if ((rc = fill(c, 8, 0)) != 0)
      return rc;
    len = 0;
    for (int i = 0; i < 8; i++)
      len = len << 8 | c->rbuf[c->rpos + i];
    c->rpos += 8;
  } else if (len > 0x7fffffff) {
    c->broken = "a message had a negative length";
    return mproc__err(MPROC_ECODEC, "recv: %s", c->broken);
  }
  if (len > maxlength || len > SIZE_MAX / 2) {
    c->broken = "a message was longer than the maximum length";
    return mproc__err(MPROC_EINVAL, "bad message length");
  }
  rc = read_growing(c, (size_t)len, &buf);
  if (rc != 0)
    return rc;
  *out = buf;
  *outlen = (size_t)len;
  return 0;
}

int mproc_conn_recv_bytes(mproc_conn_t *c, size_t maxlength, void **buf,
                          size_t *len)
{
  int rc = check(c, "recv_bytes", 1, 0);

  if (rc != 0)
    return rc;
  if (buf == NULL || len == NULL)
    return mproc__err(MPROC_EINVAL, "recv_bytes: NULL output");
  *buf = NULL;
  *len = 0;
  if (c->pending != NULL && c->pending_len > maxlength)
    return mproc__err(MPROC_EINVAL, "bad message length");
  return recv_frame(c, maxlength, buf, len);
}

int mproc_conn_recv_bytes_into(mproc_conn_t *c, void *buf, size_t cap,
                               size_t offset, size_t *len)
{
  void *msg;
  size_t n;
  int rc = check(c, "recv_bytes_into", 1, 0);

  if (rc != 0)
    return rc;
  if ((buf == NULL && cap > 0) || len == NULL)
    return mproc__err(MPROC_EINVAL, "recv_bytes_into: NULL argument");
  if (offset > cap)
    return mproc__err(MPROC_EINVAL, "negative offset");
  if ((rc = recv_frame(c, MPROC_ALL, &msg, &n)) != 0)
    return rc;
  *len = n;
  if (n > cap - offset) {
    /* Kept whole for the next receive (CPython hands it over in the
     * BufferTooShort exception). */
    c->pending = msg;
    c->pending_len = n;
    return mproc__err(MPROC_ETOOSHORT,
                      "buffer too short: the message has %zu bytes, "
                      "%zu fit",
                      n, cap - offset);
  }
  if (n > 0)
    memcpy((char *)buf + offset, msg, n);
  free(msg);
  return 0;
}

int mproc_conn_recv(mproc_conn_t *c, mproc_args_t **out)
{
  void *buf;
  size_t len;
  int rc = check(c, "recv", 1, 0);

  if (rc != 0)
    return rc;
  if (out == NULL)
    return mproc__err(MPROC_EINVAL, "recv: NULL output");
  *out = NULL;
  if ((rc = recv_frame(c, MPROC_ALL, &buf, &len)) != 0)
    return rc;
  return mproc__args_take(out, buf, len);
}

int mproc_conn_poll(mproc_conn_t *c, double timeout)
{
  intptr_t h;
  int is_pipe = 1, ready = 0;
  int rc = check(c, "poll", 1, 0);

  if (rc != 0)
    return rc;
  if (c->pending != NULL || c->rlen > c->rpos)
    return 1;
  h = c->h;
  rc = mproc__plat_wait_handles(&h, &is_pipe, 1, mproc__deadline(timeout),
                                &ready);
  return rc < 0 ? rc : ready;
}

int mproc_conn_writable(const mproc_conn_t *c)
{
  return c != NULL && c->writable;
}

int mproc_conn_readable(const mproc_conn_t *c)
{
  return c != NULL && c->readable;
}

mproc_sentinel_t mproc_conn_fileno(const mproc_conn_t *c)
{
  return c != NULL && !c->closed ? c->h : -1;
}

int mproc_conn_close(mproc_conn_t *c)
{
  mproc__obj_t *o = mproc__obj_check(c);

  if (o == NULL || o->ops != &mproc__conn_ops)
    return mproc__err(MPROC_EINVAL, "close: not a Connection");
  conn_release(c);
  return 0;
}

void mproc_conn_free(mproc_conn_t *c)
{
  if (c != NULL)
    mproc__obj_unref(&c->hdr);
}

/* ---- wait ---- */

static int waitable_handle(const mproc_waitable_t *w, intptr_t *h, int *is_pipe,
                           int *ready_now)
{
  mproc_conn_t *c;
  mproc_sentinel_t s;
  int rc;

  *is_pipe = 0;
  *ready_now = 0;
  switch (w->type) {
  case MPROC_WAIT_CONN:
    c = w->obj;
    if ((rc = check(c, "wait", 1, 0)) != 0)
      return rc;
    *h = c->h;
    *is_pipe = 1;
    *ready_now = c->pending != NULL || c->rlen > c->rpos;
    return 0;
  case MPROC_WAIT_PROCESS:
    if ((rc = mproc_process_sentinel(w->obj, &s)) != 0)
      return rc;
    *h = s;
    /* A process known to have ended is ready, even if its sentinel (the
     * forkserver's report) has not arrived yet. */
    *ready_now = mproc_process_is_alive(w->obj) == 0;
    return 0;
  case MPROC_WAIT_SENTINEL:
    *h = w->sentinel;
    return 0;
  default:
    return mproc__err(MPROC_EINVAL, "wait: unknown waitable type %d", w->type);
  }
}

int mproc_wait(const mproc_waitable_t *objs, size_t n, double timeout,
               int *ready)
{
  intptr_t *h = NULL;
  int *is_pipe = NULL, now, count = 0, rc = 0;

  if ((objs == NULL && n > 0) || ready == NULL)
    return mproc__err(MPROC_EINVAL, "wait: NULL argument");
  h = calloc(n ? n : 1, sizeof *h);
  is_pipe = calloc(n ? n : 1, sizeof *is_pipe);
  if (h == NULL || is_pipe == NULL)
    rc = mproc__err(MPROC_ENOMEM, "out of memory");
  for (size_t i = 0; i < n && rc == 0; i++) {
    rc = waitable_handle(&objs[i], &h[i], &is_pipe[i], &now);
    ready[i] = now;
    count += now;
  }
  /* Buffered data is ready now: report it (and whatever else is) without
   * blocking. */
  if (rc == 0)
    rc = mproc__plat_wait_handles(
        h, is_pipe, n, count > 0 ? 0 : mproc__deadline(timeout), ready);
  if (rc >= 0) {
    count = 0;
    for (size_t i = 0; i < n; i++) {
      if (objs[i].type == MPROC_WAIT_CONN) {
        mproc_conn_t *c = objs[i].obj;
        ready[i] |= c->pending != NULL || c->rlen > c->rpos;
      } else if (objs[i].type == MPROC_WAIT_PROCESS) {
        ready[i] |= mproc_process_is_alive(objs[i].obj) == 0;
      }
      count += ready[i] != 0;
    }
    rc = count;
  }
  free(h);
  free(is_pipe);
  return rc;
}
