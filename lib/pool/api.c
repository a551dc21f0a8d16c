/*
 * The Pool's entry points: apply, map, starmap, imap, the typed-array
 * map, and reading results. Each turns a call into a job and its tasks
 * for the scheduler (sched.c) and waits on it as the call asks.
 */
#include <stdlib.h>
#include <string.h>

#include "object.h"
#include "platform.h"
#include "sched.h"

/* ---- apply ---- */

static int check_pool(mproc_pool_t *pool, mproc_target_fn fn)
{
  if (pool == NULL || fn == NULL)
    return mproc__err(MPROC_EINVAL, "Pool: NULL pool or function");
  return 0;
}

static void set_callbacks(mproc__job_t *j, const mproc_callbacks_t *cb)
{
  if (cb != NULL && (cb->on_result != NULL || cb->on_error != NULL ||
                     cb->on_progress != NULL)) {
    j->cb = *cb;
    j->has_cb = 1;
  }
}

/* Encode a call's arguments (and keywords) and submit it (locked). */
static int submit_call(mproc_pool_t *pool, mproc_async_t **ar,
                       const mproc_callbacks_t *cb, mproc_target_fn fn,
                       const char *fmt, const char *kwfmt, va_list *ap)
{
  msgpack_sbuffer *b = mproc__pool_scratch(pool);
  const char *fname;
  mproc__job_t *j;
  mproc__task_t *t;
  int rc;

  if ((rc = mproc__pool_fname(pool, fn, &fname)) != 0 ||
      (rc = mproc__encode_args(b, fmt, ap)) != 0 ||
      (kwfmt != NULL && (rc = mproc__encode_kwargs(b, kwfmt, ap)) != 0))
    return rc;
  j = mproc__job_new(MPROC__J_APPLY, 1, 1);
  if (j == NULL)
    return mproc__err(MPROC_ENOMEM, "out of memory");
  t = mproc__task_new(j, 0, MPROC__TASK_CALL, fname, 1, b->data, b->size, 1);
  *ar = t != NULL ? mproc__async_new(j) : NULL;
  if (*ar == NULL) {
    mproc__task_free(t);
    mproc__job_unref(j);
    return mproc__err(MPROC_ENOMEM, "out of memory");
  }
  set_callbacks(j, cb);
  rc = mproc__pool_submit(pool, j, t, 1);
  mproc__job_unref(j); /* the handle and the pool hold it */
  return rc;
}

static int apply_v(mproc_pool_t *pool, mproc_async_t **ar,
                   const mproc_callbacks_t *cb, mproc_target_fn fn,
                   const char *fmt, const char *kwfmt, va_list *ap)
{
  int rc;

  if (ar == NULL)
    return mproc__err(MPROC_EINVAL, "apply_async: NULL result");
  *ar = NULL;
  if ((rc = check_pool(pool, fn)) != 0)
    return rc;
  mproc__pool_lock();
  rc = submit_call(pool, ar, cb, fn, fmt, kwfmt, ap);
  mproc__pool_unlock();
  if (rc != 0 && *ar != NULL) {
    mproc_async_free(*ar);
    *ar = NULL;
  }
  return rc;
}

int mproc_pool_apply_async(mproc_pool_t *pool, mproc_async_t **ar,
                           const mproc_callbacks_t *cb, mproc_target_fn fn,
                           const char *fmt, ...)
{
  va_list ap;
  int rc;

  va_start(ap, fmt);
  rc = apply_v(pool, ar, cb, fn, fmt, NULL, &ap);
  va_end(ap);
  return rc;
}

int mproc_pool_apply_async_kw(mproc_pool_t *pool, mproc_async_t **ar,
                              const mproc_callbacks_t *cb, mproc_target_fn fn,
                              const char *fmt, const char *kwfmt, ...)
{
  va_list ap;
  int rc;

  if (kwfmt == NULL)
    return mproc__err(MPROC_EINVAL, "apply_async: NULL keyword format");
  va_start(ap, kwfmt);
  rc = apply_v(pool, ar, cb, fn, fmt, kwfmt, &ap);
  va_end(ap);
  return rc;
}

static int apply_sync(mproc_pool_t *pool, mproc_args_t **result,
                      mproc_target_fn fn, const char *fmt, const char *kwfmt,
                      va_list *ap)
{
  mproc_async_t *ar = NULL;
  mproc_args_t *dropped = NULL;
  int rc;

  /* A NULL @result waits and drops the value, as a Python caller that
   * ignores apply()'s return. */
  if (result == NULL)
    result = &dropped;
  *result = NULL;
  rc = apply_v(pool, &ar, NULL, fn, fmt, kwfmt, ap);
  if (rc == 0)
    rc = mproc_async_get(ar, MPROC_FOREVER, result);
  mproc_async_free(ar);
  mproc_args_free(dropped);
  return rc;
}

int mproc_pool_apply(mproc_pool_t *pool, mproc_args_t **result,
                     mproc_target_fn fn, const char *fmt, ...)
{
  va_list ap;
  int rc;

  va_start(ap, fmt);
  rc = apply_sync(pool, result, fn, fmt, NULL, &ap);
  va_end(ap);
  return rc;
}

int mproc_pool_apply_kw(mproc_pool_t *pool, mproc_args_t **result,
                        mproc_target_fn fn, const char *fmt, const char *kwfmt,
                        ...)
{
  va_list ap;
  int rc;

  if (kwfmt == NULL)
    return mproc__err(MPROC_EINVAL, "apply: NULL keyword format");
  va_start(ap, kwfmt);
  rc = apply_sync(pool, result, fn, fmt, kwfmt, &ap);
  va_end(ap);
  return rc;
}

/* ---- map ---- */

/* CPython's default: ceil(n / (4 x workers)); imap's is 1. */
static size_t default_chunksize(mproc_pool_t *pool, size_t n, int kind)
{
  size_t w4 = (size_t)mproc__pool_workers(pool) * 4, cs;

  if (kind == MPROC__J_IMAP)
    return 1;
  cs = n / w4 + (n % w4 != 0);
  return cs > 0 ? cs : 1;
}

/* The tasks of @j: one per chunk of @items, whose bytes are at @base
 * (the job's copy of them). */
static int chunk_tasks(mproc__job_t *j, const mproc_items_t *items,
                       const unsigned char *base, const char *fname, int star,
                       mproc__task_t **head)
{
  mproc__task_t *t = j->nchunks > 0 ? mproc__tasks_new(j->nchunks) : NULL;
  size_t at = 0;

  *head = t;
  if (t == NULL && j->nchunks > 0)
    return mproc__err(MPROC_ENOMEM, "out of memory");
  for (size_t c = 0; c < j->nchunks; c++, t++) {
    size_t first = c * j->chunksize;
    size_t count =
        j->nitems - first < j->chunksize ? j->nitems - first : j->chunksize;
    size_t end = mproc__items_offset(items, first + count, first, at);
    t->job = j;
    t->idx = (uint32_t)c;
    t->kind = star ? MPROC__TASK_STAR : MPROC__TASK_CHUNK;
    t->fname = fname;
    t->count = (uint32_t)count;
    t->payload = base + at;
    t->len = end - at;
    t->next = c + 1 < j->nchunks ? t + 1 : NULL;
    at = end;
  }
  return 0;
}

/* A map job over @items, submitted (locked). The job keeps its own copy
 * of the items' bytes, one copy of the whole buffer: a map returns at its
 * first failing chunk, as CPython's does, and its other chunks may still
 * be sent (or sent again, taken back from a busy worker) after the
 * caller has freed the items. */
static int map_job(mproc_pool_t *pool, mproc__job_t **out, int kind,
                   const mproc_callbacks_t *cb, mproc_target_fn fn,
                   const mproc_items_t *items, size_t chunksize, int star)
{
  size_t n = mproc_items_count(items), len;
  const unsigned char *base = mproc__items_data(items, &len);
  mproc__task_t *tasks = NULL;
  const char *fname;
  mproc__job_t *j;
  int rc;

  if ((rc = mproc__pool_fname(pool, fn, &fname)) != 0)
    return rc;
  if (n > UINT32_MAX)
    return mproc__err(MPROC_EINVAL, "map: more than 2^32 - 1 items");
  j = mproc__job_new(kind, n,
                     chunksize ? chunksize : default_chunksize(pool, n, kind));
  if (j == NULL)
    return mproc__err(MPROC_ENOMEM, "out of memory");
  set_callbacks(j, cb);
  if (len > 0) {
    if ((j->items_copy = malloc(len)) == NULL) {
      mproc__job_unref(j);
      return mproc__err(MPROC_ENOMEM, "out of memory");
    }
    memcpy(j->items_copy, base, len);
    base = j->items_copy;
  }
  if ((rc = chunk_tasks(j, items, base, fname, star, &tasks)) != 0 ||
      (rc = mproc__pool_submit(pool, j, tasks, j->nchunks)) != 0) {
    mproc__job_unref(j);
    return rc;
  }
  *out = j;
  return 0;
}

static int map_async(mproc_pool_t *pool, mproc_async_t **ar,
                     const mproc_callbacks_t *cb, mproc_target_fn fn,
                     const mproc_items_t *items, size_t chunksize, int star)
{
  mproc__job_t *j = NULL;
  int rc;

  if (ar == NULL)
    return mproc__err(MPROC_EINVAL, "map_async: NULL result");
  *ar = NULL;
  if ((rc = check_pool(pool, fn)) != 0)
    return rc;
  if (items == NULL)
    return mproc__err(MPROC_EINVAL, "map: NULL items");
  mproc__pool_lock();
  rc = map_job(pool, &j, MPROC__J_MAP, cb, fn, items, chunksize, star);
  if (rc == 0) {
    if (j->nchunks == 0) /* nothing to wait for: an empty list at once */
      mproc__job_settle_empty(j);
    *ar = mproc__async_new(j);
    if (*ar == NULL)
      rc = mproc__err(MPROC_ENOMEM, "out of memory");
    mproc__job_unref(j);
  }
  mproc__pool_unlock();
  return rc;
}

int mproc_pool_map_async(mproc_pool_t *pool, mproc_async_t **ar,
                         const mproc_callbacks_t *cb, mproc_target_fn fn,
                         const mproc_items_t *items, size_t chunksize)
{
  return map_async(pool, ar, cb, fn, items, chunksize, 0);
}

int mproc_pool_starmap_async(mproc_pool_t *pool, mproc_async_t **ar,
                             const mproc_callbacks_t *cb, mproc_target_fn fn,
                             const mproc_items_t *items, size_t chunksize)
{
  return map_async(pool, ar, cb, fn, items, chunksize, 1);
}

static int map_sync(mproc_pool_t *pool, mproc_args_t **result,
                    mproc_target_fn fn, const mproc_items_t *items,
                    size_t chunksize, int star)
{
  mproc_async_t *ar = NULL;
  int rc;

  if (result == NULL)
    return mproc__err(MPROC_EINVAL, "map: NULL result");
  *result = NULL;
  rc = map_async(pool, &ar, NULL, fn, items, chunksize, star);
  if (rc == 0)
    rc = mproc_async_get(ar, MPROC_FOREVER, result);
  mproc_async_free(ar);
  return rc;
}

int mproc_pool_map(mproc_pool_t *pool, mproc_args_t **result,
                   mproc_target_fn fn, const mproc_items_t *items,
                   size_t chunksize)
{
  return map_sync(pool, result, fn, items, chunksize, 0);
}

int mproc_pool_starmap(mproc_pool_t *pool, mproc_args_t **result,
                       mproc_target_fn fn, const mproc_items_t *items,
                       size_t chunksize)
{
  return map_sync(pool, result, fn, items, chunksize, 1);
}

/* ---- AsyncResult ---- */

int mproc_async_wait(mproc_async_t *ar, double timeout)
{
  double deadline = mproc__deadline(timeout);
  int rc;

  if (ar == NULL)
    return mproc__err(MPROC_EINVAL, "AsyncResult: NULL");
  mproc__pool_lock();
  rc = mproc__job_wait(ar->job, deadline);
  mproc__pool_unlock();
  return rc == 0 ? 0 : mproc__err(MPROC_ETIMEDOUT, "result not ready in time");
}

int mproc_async_get(mproc_async_t *ar, double timeout, mproc_args_t **result)
{
  int rc;

  if (result == NULL)
    return mproc__err(MPROC_EINVAL, "AsyncResult.get: NULL result");
  *result = NULL;
  rc = mproc_async_wait(ar, timeout);
  if (rc != 0)
    return rc;
  /* Done: nothing changes the job any more, so the list is made (and a
   * map's spliced and decoded) without the lock. */
  return mproc__job_result(ar->job, result);
}

int mproc_async_ready(mproc_async_t *ar)
{
  int r;

  if (ar == NULL)
    return mproc__err(MPROC_EINVAL, "AsyncResult: NULL");
  mproc__pool_lock();
  r = ar->job->done;
  mproc__pool_unlock();
  return r;
}

int mproc_async_successful(mproc_async_t *ar)
{
  int r;

  if (ar == NULL)
    return mproc__err(MPROC_EINVAL, "AsyncResult: NULL");
  mproc__pool_lock();
  r = !ar->job->done ? MPROC_ESTATE : ar->job->status == 0;
  mproc__pool_unlock();
  if (r == MPROC_ESTATE)
    return mproc__err(MPROC_ESTATE, "result is not ready");
  return r;
}

/* ---- imap ---- */

int mproc_pool_imap(mproc_pool_t *pool, mproc_imap_t **it, mproc_target_fn fn,
                    const mproc_items_t *items, size_t chunksize, int ordered)
{
  mproc__job_t *j = NULL;
  mproc_imap_t *i;
  int rc;

  if (it == NULL)
    return mproc__err(MPROC_EINVAL, "imap: NULL iterator");
  *it = NULL;
  if ((rc = check_pool(pool, fn)) != 0)
    return rc;
  if (items == NULL)
    return mproc__err(MPROC_EINVAL, "map: NULL items");
  if ((i = malloc(sizeof *i)) == NULL)
    return mproc__err(MPROC_ENOMEM, "out of memory");
  mproc__pool_lock();
  rc = map_job(pool, &j, MPROC__J_IMAP, NULL, fn, items, chunksize, 0);
  if (rc == 0)
    j->ordered = ordered;
  mproc__pool_unlock();
  if (rc != 0) {
    free(i);
    return rc;
  }
  i->job = j;
  *it = i;
  return 0;
}

/* The next value of chunk @c from the iterator's position. */
static int imap_value(mproc__job_t *j, size_t c, mproc_args_t **result)
{
  const unsigned char *v = j->vals + j->chunk[c].off + j->next_off;
  size_t left = j->chunk[c].len - j->next_off;
  size_t len = left > 0 ? mproc__msgpack_len(v, left) : 0;
  int rc;

  if (len == 0)
    return mproc__err(MPROC_ECODEC, "imap: malformed result from a worker");
  rc = mproc__values_list(result, &(mproc__iov_t){v, len}, 1, 1);
  j->next_off += len;
  if (++j->next_pos >= j->chunksize || j->next_off >= j->chunk[c].len) {
    j->next_chunk++;
    j->next_pos = j->next_off = 0;
  }
  return rc;
}

/* What imap can give now: 1 with *@rc set, or 0 (not ready). */
static int imap_step(mproc__job_t *j, mproc_args_t **result, int *rc)
{
  size_t c;

  if (j->next_chunk >= j->nchunks) {
    *rc = mproc__err(MPROC_ESTOP, "no more results");
    return 1;
  }
  if (j->ordered) {
    c = j->next_chunk;
    if (!j->chunk[c].back)
      return 0;
  } else {
    if (j->next_chunk >= j->narrived)
      return 0;
    c = j->arrival[j->next_chunk];
  }
  if (j->chunk[c].status != 0) {
    /* A failed chunk is reported once, then iteration goes on. */
    const char *m = j->cmsg != NULL ? j->cmsg[c] : NULL;
    *rc = mproc__err(j->chunk[c].status, "%s", m != NULL ? m : "failed");
    j->next_chunk++;
    j->next_pos = j->next_off = 0;
    return 1;
  }
  *rc = imap_value(j, c, result);
  return 1;
}

int mproc_imap_next(mproc_imap_t *it, double timeout, mproc_args_t **result)
{
  double deadline = mproc__deadline(timeout);
  int rc = 0;

  if (it == NULL || result == NULL)
    return mproc__err(MPROC_EINVAL, "imap: NULL argument");
  *result = NULL;
  mproc__pool_lock();
  while (!imap_step(it->job, result, &rc)) {
    if (mproc__job_wait_step(it->job, deadline) == MPROC_ETIMEDOUT) {
      if (!imap_step(it->job, result, &rc))
        rc = mproc__err(MPROC_ETIMEDOUT, "imap: no result in time");
      break;
    }
  }
  mproc__pool_unlock();
  return rc;
}

void mproc_imap_free(mproc_imap_t *it)
{
  if (it == NULL)
    return;
  mproc__pool_lock();
  mproc__job_unref(it->job);
  mproc__pool_unlock();
  free(it);
}

/* ---- typed arrays ---- */

int mproc_register_batch(const char *name, mproc_batch_fn fn)
{
  char full[256];

  if (name == NULL || name[0] == '\0' || fn == NULL)
    return mproc__err(MPROC_EINVAL, "mproc_register_batch: name and function "
                                    "must be given");
  if (strlen(name) > sizeof full - 7)
    return mproc__err(MPROC_EINVAL, "mproc_register_batch: name too long");
  snprintf(full, sizeof full, "batch:%s", name);
  return mproc_register(full, (mproc_target_fn)(void (*)(void))fn);
}

/* The array's tasks: one slice of @chunksize records per task, naming
 * the input and output by the transport's references. */
static int slice_tasks(mproc__job_t *j, const char *fname, size_t in_size,
                       size_t out_size, const unsigned char *in_ref,
                       size_t in_len, const unsigned char *out_ref,
                       size_t out_len, mproc__task_t **head)
{
  unsigned char p[24 + 2 + 2 * MPROC__POOL_REF_MAX];
  size_t plen = 24 + 2 + in_len + out_len;
  mproc__task_t **link = head;

  mproc__put_u64(p + 8, in_size);
  mproc__put_u64(p + 16, out_size);
  p[24] = (unsigned char)in_len;
  memcpy(p + 25, in_ref, in_len);
  p[25 + in_len] = (unsigned char)out_len;
  memcpy(p + 26 + in_len, out_ref, out_len);
  *head = NULL;
  for (size_t c = 0; c < j->nchunks; c++) {
    size_t first = c * j->chunksize;
    size_t count =
        j->nitems - first < j->chunksize ? j->nitems - first : j->chunksize;
    mproc__put_u64(p, first);
    *link = mproc__task_new(j, (uint32_t)c, MPROC__TASK_SLICE, fname,
                            (uint32_t)count, p, plen, 1);
    if (*link == NULL) {
      mproc__task_list_free(*head);
      return mproc__err(MPROC_ENOMEM, "out of memory");
    }
    link = &(*link)->next;
  }
  return 0;
}

typedef struct array_call {
  const void *in;
  size_t n, in_size, in_bytes;
  void *out;
  size_t out_size, out_bytes;
  size_t chunksize;
  const char *fname;
  void *in_staged, *out_staged;
} array_call_t;

static int array_check(mproc_pool_t *pool, mproc_batch_fn fn, array_call_t *a)
{
  const char *name;

  if (pool == NULL || fn == NULL)
    return mproc__err(MPROC_EINVAL, "map_array: NULL pool or function");
  name = mproc_target_name((mproc_target_fn)(void (*)(void))fn);
  if (name == NULL || strncmp(name, "batch:", 6) != 0)
    return mproc__err(MPROC_ENOTREG, "map_array: the function is not a "
                                     "registered batch function (define it "
                                     "with MPROC_BATCH)");
  if (a->n > 0 &&
      (a->in == NULL || a->in_size == 0 || (a->out == NULL && a->out_size > 0)))
    return mproc__err(MPROC_EINVAL,
                      "map_array: NULL input, zero record size, or NULL "
                      "output with a non-zero output record size");
  if ((a->in_size && a->n > SIZE_MAX / a->in_size) ||
      (a->out_size && a->n > SIZE_MAX / a->out_size) ||
      a->chunksize > UINT32_MAX || a->n / a->chunksize >= UINT32_MAX)
    return mproc__err(MPROC_ERANGE, "map_array: the arrays are too large");
  a->in_bytes = a->n * a->in_size;
  a->out_bytes = a->n * a->out_size;
  a->fname = name;
  return 0;
}

/* Make the arrays reachable, submit the slices, wait (locked). */
static int array_run(mproc_pool_t *pool, array_call_t *a, mproc__job_t **out)
{
  mproc__pool_tr_t *tr = mproc__pool_transport(pool);
  unsigned char in_ref[MPROC__POOL_REF_MAX], out_ref[MPROC__POOL_REF_MAX];
  size_t in_len, out_len;
  mproc__task_t *tasks = NULL;
  mproc__job_t *j;
  int rc;

  if ((rc = tr->ops->array_ref(tr, a->in, a->in_bytes, 1, in_ref, &in_len,
                               &a->in_staged)) != 0)
    return rc;
  if (a->out_bytes == 0) { /* no output: any reference will do */
    memcpy(out_ref, in_ref, in_len);
    out_len = in_len;
  } else if ((rc = tr->ops->array_ref(tr, a->out, a->out_bytes, 0, out_ref,
                                      &out_len, &a->out_staged)) != 0) {
    return rc;
  }
  j = mproc__job_new(MPROC__J_ARRAY, a->n, a->chunksize);
  if (j == NULL)
    return mproc__err(MPROC_ENOMEM, "out of memory");
  if ((rc = slice_tasks(j, a->fname, a->in_size, a->out_size, in_ref, in_len,
                        out_ref, out_len, &tasks)) != 0 ||
      (rc = mproc__pool_submit(pool, j, tasks, j->nchunks)) != 0) {
    mproc__job_unref(j);
    return rc;
  }
  mproc__job_wait(j, MPROC__NEVER);
  *out = j;
  return 0;
}

int mproc_pool_map_array(mproc_pool_t *pool, mproc_batch_fn fn, const void *in,
                         size_t n, size_t in_size, void *out, size_t out_size,
                         size_t chunksize)
{
  array_call_t a = {in, n,         in_size, 0,    out, out_size,
                    0,  chunksize, NULL,    NULL, NULL};
  mproc__pool_tr_t *tr;
  mproc__job_t *j = NULL;
  int rc;

  if (a.chunksize == 0 && pool != NULL)
    a.chunksize = default_chunksize(pool, n, MPROC__J_MAP);
  if ((rc = array_check(pool, fn, &a)) != 0 || n == 0)
    return rc;
  tr = mproc__pool_transport(pool);
  mproc__pool_lock();
  rc = array_run(pool, &a, &j);
  mproc__pool_unlock();
  /* Every slice is back: nothing writes the staged output any more. Slices
   * that succeeded hold their results even when another one failed. A
   * transport that ships the records itself staged nothing: its "staging"
   * is the array. */
  if (j != NULL && a.out_staged != NULL && a.out_staged != out &&
      a.out_bytes > 0)
    memcpy(out, a.out_staged, a.out_bytes);
  mproc__pool_lock();
  if (a.in_staged != NULL) {
    tr->ops->array_done(tr, a.in_staged);
    if (a.in_staged != in)
      mproc__pool_count_staged(pool, a.in_bytes);
  }
  if (a.out_staged != NULL) {
    tr->ops->array_done(tr, a.out_staged);
    if (a.out_staged != out)
      mproc__pool_count_staged(pool, a.out_bytes);
  }
  if (j != NULL && (rc = j->status) != 0)
    mproc__err(rc, "%s", j->msg != NULL ? j->msg : "failed");
  mproc__job_unref(j);
  mproc__pool_unlock();
  return rc;
}
