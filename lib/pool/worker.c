/*
 * The Pool's worker loop, the same on every transport: take a batch, run
 * each task the transport lets it claim, post one result record per task.
 *
 * A task's payload is decoded in one pass into a zone that is reused from
 * task to task, so a chunk of items costs no allocation per item; each
 * item's result is appended to one buffer per task (mproc_return writes
 * there), which is posted as the record's payload.
 */
#include <stdlib.h>
#include <string.h>

#include "chunk.h"
#include "object.h"
#include "transport.h"

typedef struct run {
  const mproc__pool_port_t *port;
  msgpack_zone zone;   /* a task's decoded payload */
  mproc_args_t view;   /* the arguments a target sees */
  msgpack_sbuffer out; /* a task's result values */
  char fn_name[256];   /* the last function looked up */
  mproc_target_fn fn;
} run_t;

static int post(run_t *r, uint32_t seq, int status, uint32_t values,
                const void *payload, size_t len)
{
  unsigned char hdr[MPROC__RESULT_HDR];
  mproc__iov_t iov[2] = {{hdr, sizeof hdr}, {payload, len}};

  mproc__result_header(hdr, seq, status, values);
  return r->port->post(r->port->ctx, seq, iov, len > 0 ? 2 : 1);
}

static int post_failure(run_t *r, uint32_t seq, int status, char *msg)
{
  const char *m = msg != NULL ? msg : "out of memory in the worker";
  int rc = post(r, seq, status, 0, m, strlen(m));

  free(msg);
  return rc;
}

static mproc_target_fn lookup(run_t *r, const char *name)
{
  if (r->fn == NULL || strcmp(name, r->fn_name) != 0) {
    r->fn = mproc__target_lookup(name);
    snprintf(r->fn_name, sizeof r->fn_name, "%s", name);
  }
  return r->fn;
}

/* Drop what parsing one item left in the view: copied strings, proxies. */
static void view_reset(mproc_args_t *v)
{
  if (v->zone.chunk_list.free != v->zone.chunk_size)
    msgpack_zone_clear(&v->zone);
  for (size_t i = 0; i < v->nvalues; i++)
    mproc__obj_unref(v->values[i]);
  free(v->values);
  v->values = NULL;
  v->nvalues = 0;
}

/* Run @fn on the view; 0, or the failure's message in *@fail. */
static int run_item(run_t *r, mproc_target_fn fn, const char *name, char **fail)
{
  int rc, returned;
  char *f;

  if (r->port->timing)
    r->port->item_started(r->port->ctx);
  mproc__result_begin(&r->out);
  rc = fn(&r->view);
  f = mproc__result_end(&returned);
  view_reset(&r->view);
  if (rc == 0 && returned >= 0) {
    free(f);
    return 0;
  }
  if (f != NULL)
    *fail = f;
  else if (rc == 0)
    *fail = mproc__format(MPROC_ERROR_MAX,
                          "out of memory giving the result of %s", name);
  else if (rc < 0)
    *fail = mproc__format(MPROC_ERROR_MAX, "%s: %s", name, mproc_last_error());
  else
    *fail = mproc__format(MPROC_ERROR_MAX, "target %s returned %d", name, rc);
  return MPROC_ETASK;
}

/* Decode one MessagePack object of the payload at *@off into the zone. */
static int unpack_at(run_t *r, const mproc__task_view_t *t, size_t *off,
                     msgpack_object *o)
{
  msgpack_unpack_return u =
      msgpack_unpack((const char *)t->payload, t->len, off, &r->zone, o);

  /* EXTRA_BYTES: more objects follow (a call's keyword map). */
  return u == MSGPACK_UNPACK_SUCCESS || u == MSGPACK_UNPACK_EXTRA_BYTES
             ? 0
             : MPROC_ECODEC;
}

static int run_call(run_t *r, const mproc__task_view_t *t, uint32_t seq,
                    mproc_target_fn fn)
{
  msgpack_object args, kw = {.type = MSGPACK_OBJECT_NIL};
  size_t off = 0;
  char *fail = NULL;
  int rc;

  msgpack_zone_clear(&r->zone);
  if (unpack_at(r, t, &off, &args) != 0 || args.type != MSGPACK_OBJECT_ARRAY ||
      (off < t->len &&
       (unpack_at(r, t, &off, &kw) != 0 || kw.type != MSGPACK_OBJECT_MAP)))
    return post_failure(r, seq, MPROC_ECODEC,
                        mproc__format(MPROC_ERROR_MAX, "malformed task"));
  r->view.pos = args;
  r->view.kw = kw;
  r->out.size = 0;
  rc = run_item(r, fn, t->name, &fail);
  if (rc != 0)
    return post_failure(r, seq, rc, fail);
  return post(r, seq, 0, 1, r->out.data, r->out.size);
}

/* The arguments of a starmap item: a list, or a keyword item's list and
 * map. */
static int star_args(run_t *r, const msgpack_object *item)
{
  size_t off = 0;

  r->view.kw.type = MSGPACK_OBJECT_NIL;
  if (item->type == MSGPACK_OBJECT_ARRAY) {
    r->view.pos = *item;
    return 0;
  }
  if (item->type != MSGPACK_OBJECT_EXT ||
      item->via.ext.type != MPROC__EXT_KW_ITEM)
    return MPROC_ETASK;
  if (msgpack_unpack(item->via.ext.ptr, item->via.ext.size, &off, &r->zone,
                     &r->view.pos) != MSGPACK_UNPACK_EXTRA_BYTES ||
      msgpack_unpack(item->via.ext.ptr, item->via.ext.size, &off, &r->zone,
                     &r->view.kw) != MSGPACK_UNPACK_SUCCESS ||
      r->view.pos.type != MSGPACK_OBJECT_ARRAY ||
      r->view.kw.type != MSGPACK_OBJECT_MAP)
    return MPROC_ECODEC;
  return 0;
}

static int run_chunk(run_t *r, const mproc__task_view_t *t, uint32_t seq,
                     mproc_target_fn fn)
{
  msgpack_object items, wrap;
  size_t off = 0;
  char *fail = NULL;
  int star = t->kind == MPROC__TASK_STAR, rc = 0;

  msgpack_zone_clear(&r->zone);
  if (unpack_at(r, t, &off, &items) != 0 ||
      items.type != MSGPACK_OBJECT_ARRAY || items.via.array.size != t->count)
    return post_failure(r, seq, MPROC_ECODEC,
                        mproc__format(MPROC_ERROR_MAX, "malformed chunk"));
  r->out.size = 0;
  for (uint32_t i = 0; i < t->count && rc == 0; i++) {
    const msgpack_object *item = &items.via.array.ptr[i];
    if (star) {
      rc = star_args(r, item);
      if (rc != 0)
        fail = mproc__format(MPROC_ERROR_MAX,
                             "starmap: an item is not a list of arguments");
    } else if (item->type == MSGPACK_OBJECT_EXT &&
               item->via.ext.type == MPROC__EXT_KW_ITEM) {
      rc = MPROC_ETASK;
      fail = mproc__format(MPROC_ERROR_MAX,
                           "map: an item with keyword arguments needs starmap");
    } else {
      wrap = *item;
      r->view.pos.type = MSGPACK_OBJECT_ARRAY;
      r->view.pos.via.array.size = 1;
      r->view.pos.via.array.ptr = &wrap;
      r->view.kw.type = MSGPACK_OBJECT_NIL;
    }
    if (rc == 0)
      rc = run_item(r, fn, t->name, &fail);
  }
  if (rc != 0)
    return post_failure(r, seq, rc == MPROC_ECODEC ? MPROC_ETASK : rc, fail);
  return post(r, seq, 0, t->count, r->out.data, r->out.size);
}

/* ---- typed arrays ---- */

/* @a * @b into *@out; 0 when it overflows. */
static int mul_ok(uint64_t a, uint64_t b, uint64_t *out)
{
  if (a != 0 && b > UINT64_MAX / a)
    return 0;
  *out = a * b;
  return 1;
}

/* Resolve the reference at *@off of a slice payload to the address of
 * @bytes bytes. */
static int slice_ref(run_t *r, const mproc__task_view_t *t, size_t *off,
                     uint64_t bytes, unsigned char **addr)
{
  size_t len;
  void *p = NULL;

  if (*off >= t->len || (len = t->payload[*off]) > t->len - *off - 1 ||
      bytes > SIZE_MAX)
    return MPROC_ECODEC;
  if (r->port->resolve(r->port->ctx, t->payload + *off + 1, len, (size_t)bytes,
                       &p) != 0)
    return MPROC_ECODEC;
  *off += 1 + len;
  *addr = p;
  return 0;
}

static int run_slice(run_t *r, const mproc__task_view_t *t, uint32_t seq,
                     mproc_target_fn as_target)
{
  mproc_batch_fn fn = (mproc_batch_fn)(void (*)(void))as_target;
  uint64_t first, isz, osz, end, in_bytes, out_bytes;
  unsigned char *in = NULL, *out = NULL;
  size_t off = 24;
  char *fail = NULL, *f;
  int rc, returned;

  if (t->len < 24)
    return post_failure(r, seq, MPROC_ECODEC,
                        mproc__format(MPROC_ERROR_MAX, "malformed slice"));
  first = mproc__get_u64(t->payload);
  isz = mproc__get_u64(t->payload + 8);
  osz = mproc__get_u64(t->payload + 16);
  end = first + t->count;
  if (end < first || !mul_ok(end, isz, &in_bytes) ||
      !mul_ok(end, osz, &out_bytes) ||
      slice_ref(r, t, &off, in_bytes, &in) != 0 ||
      slice_ref(r, t, &off, out_bytes, &out) != 0)
    return post_failure(
        r, seq, MPROC_ECODEC,
        mproc__format(MPROC_ERROR_MAX,
                      "records [%llu, %llu): cannot reach the arrays: %s",
                      (unsigned long long)first, (unsigned long long)end,
                      mproc_last_error()));
  if (r->port->timing)
    r->port->item_started(r->port->ctx);
  mproc__result_begin(&r->out);
  rc = fn(in + first * isz, out + first * osz, t->count);
  f = mproc__result_end(&returned);
  if (rc == 0) {
    free(f);
    return post(r, seq, 0, 0, NULL, 0);
  }
  fail = f != NULL ? f
                   : mproc__format(MPROC_ERROR_MAX,
                                   "%s returned %d for records [%llu, %llu)",
                                   t->name + 6, rc, (unsigned long long)first,
                                   (unsigned long long)end);
  return post_failure(r, seq, MPROC_ETASK, fail);
}

/* ---- the loop ---- */

static int run_task(run_t *r, const mproc__task_view_t *t, uint32_t seq)
{
  mproc_target_fn fn = lookup(r, t->name);

  if (fn == NULL)
    return post_failure(
        r, seq, MPROC_ENOTREG,
        mproc__format(MPROC_ERROR_MAX,
                      "function '%s' is not registered in the worker",
                      t->name));
  switch (t->kind) {
  case MPROC__TASK_CALL:
    return run_call(r, t, seq, fn);
  case MPROC__TASK_CHUNK:
  case MPROC__TASK_STAR:
    return run_chunk(r, t, seq, fn);
  case MPROC__TASK_SLICE:
    return run_slice(r, t, seq, fn);
  default:
    return post_failure(r, seq, MPROC_ECODEC,
                        mproc__format(MPROC_ERROR_MAX, "unknown task kind"));
  }
}

/* Run the tasks of one batch this worker may claim; the count run goes
 * to *@done. 1 when told to stop or out of tasks, 0 to go on, or an
 * error. */
static int run_batch(run_t *r, const unsigned char *b, size_t len, long *done,
                     long maxtasks)
{
  uint32_t first, n, flags;
  size_t off = MPROC__BATCH_HDR;
  mproc__task_view_t t;
  int rc = mproc__batch_read(b, len, &first, &n, &flags);

  if (rc != 0)
    return rc;
  if (flags & MPROC__BATCH_STOP)
    return 1;
  for (uint32_t i = 0; i < n; i++) {
    if ((rc = mproc__task_read(b, len, &off, &t)) != 0)
      return rc;
    if (!r->port->claim(r->port->ctx, first + i))
      continue;
    if ((rc = run_task(r, &t, first + i)) != 0)
      return rc;
    if (maxtasks > 0 && ++*done >= maxtasks)
      return 1;
  }
  return 0;
}

int mproc__pool_worker_loop(const mproc__pool_port_t *port, long maxtasks)
{
  run_t r;
  long done = 0;
  int rc = 0;

  memset(&r, 0, sizeof r);
  r.port = port;
  r.view.kw.type = MSGPACK_OBJECT_NIL;
  if (!msgpack_zone_init(&r.zone, 256 * 1024))
    return mproc__err(MPROC_ENOMEM, "out of memory");
  if (!msgpack_zone_init(&r.view.zone, 256)) {
    msgpack_zone_destroy(&r.zone);
    return mproc__err(MPROC_ENOMEM, "out of memory");
  }
  msgpack_sbuffer_init(&r.out);
  while (rc == 0) {
    void *b = NULL;
    size_t len = 0;
    rc = port->recv(port->ctx, &b, &len);
    if (rc == 0) {
      rc = run_batch(&r, b, len, &done, maxtasks);
      port->release(port->ctx, b);
    }
  }
  msgpack_sbuffer_destroy(&r.out);
  msgpack_zone_destroy(&r.view.zone);
  msgpack_zone_destroy(&r.zone);
  return rc == 1 || rc == MPROC_ESTOP ? 0 : rc;
}
