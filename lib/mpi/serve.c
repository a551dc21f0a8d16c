/*
 * A serving rank (1..N-1 of `mpirun -n N`): the pool's worker loop
 * (pool/worker.c) fed by messages from rank 0, one at a time, whatever
 * pool they come from. Results are gathered per batch and sent back in
 * one message when the batch is done (or when they grow large or old), so
 * a busy rank sends one message per batch, not one per task.
 *
 * Results leave without blocking: a message larger than MPI's eager limit
 * is not delivered until rank 0's one MPI thread takes it, and a rank
 * that waited for that (a blocking send) sat idle for milliseconds per
 * batch while the work for the next one was already there. A few result
 * messages may be in flight; their buffers are kept for reuse.
 */
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "object.h"
#include "platform.h"
#include "wire.h"

#define FLUSH_BYTES ((size_t)256 * 1024)
#define FLUSH_AGE 0.002 /* seconds a result may wait for its batch */

typedef struct sstage {
  struct sstage *next;
  uint32_t pool, id;
  unsigned char *buf;
  size_t len, cap;
} sstage_t;

/* The buffers of stages rank 0 is done with, kept for the next arrays
 * (a new buffer page-faults every page a slice touches, on every call):
 * a few, and only while they are small enough that keeping their touched
 * pages costs little. */
#define SPARES 4
#define SPARE_BYTES ((size_t)64 << 20)

typedef struct slice_out {
  uint32_t stage; /* 0: not a slice */
  uint64_t off, len;
} slice_out_t;

typedef struct cancel {
  uint32_t pool, slot, gen;
} cancel_t;

#define CANCELS 256
#define CANCEL_CHECK 0.001 /* seconds between looks for CANCEL */

#define SENDS 4 /* result messages in flight, at most */

typedef struct outbuf {
  unsigned char *buf;
  size_t cap;
  MPI_Request *reqs;
  int nreqs;
} outbuf_t;

typedef struct server {
  unsigned char *msg; /* the batch being run */
  int in_batch, skip; /* ... whose tasks were cancelled */
  cancel_t cancel[CANCELS];
  unsigned ncancel;
  double cancel_at;
  uint32_t pool, slot, gen, first, n;
  slice_out_t *sl;
  size_t sl_cap;
  unsigned char *res; /* results to send: header, records */
  size_t res_len, res_cap;
  double res_since;
  outbuf_t out[SENDS]; /* sending, oldest first from out_head */
  int out_head, nout;
  outbuf_t spare[SENDS]; /* sent: buffers to reuse */
  int nspare;
  sstage_t *stages;
  sstage_t *spares; /* buffers to reuse, with their cap */
  int nspares;
  size_t spare_bytes;
  w_backoff_t bo;
} server_t;

static void nap(double s)
{
  struct timespec ts;

  if (s <= 0) {
    sched_yield();
    return;
  }
  ts.tv_sec = (time_t)s;
  ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
  nanosleep(&ts, NULL);
}

static sstage_t *stage_find(server_t *sv, uint32_t pool, uint32_t id)
{
  for (sstage_t *s = sv->stages; s != NULL; s = s->next)
    if (s->pool == pool && s->id == id)
      return s;
  return NULL;
}

/* The smallest spare of @len bytes or more, taken off the list. */
static sstage_t *spare_take(server_t *sv, size_t len)
{
  sstage_t **best = NULL, *s;

  for (sstage_t **l = &sv->spares; *l != NULL; l = &(*l)->next)
    if ((*l)->cap >= len && (best == NULL || (*l)->cap < (*best)->cap))
      best = l;
  if (best == NULL)
    return NULL;
  s = *best;
  *best = s->next;
  s->next = NULL;
  sv->nspares--;
  sv->spare_bytes -= s->cap;
  return s;
}

/* Keep @s's buffer for a later stage, or free it. */
static void spare_put(server_t *sv, sstage_t *s)
{
  if (sv->nspares < SPARES && s->cap <= SPARE_BYTES - sv->spare_bytes) {
    s->next = sv->spares;
    sv->spares = s;
    sv->nspares++;
    sv->spare_bytes += s->cap;
    return;
  }
  free(s->buf);
  free(s);
}

/* The stage a reference names, made at its full size when first seen. */
static sstage_t *stage_ref(server_t *sv, const unsigned char *ref,
                           size_t ref_len)
{
  sstage_t *s;
  uint32_t id;
  uint64_t len;

  if (ref_len != W_REF || ref[0] != 'M')
    return NULL;
  id = mproc__get_u32(ref + 1);
  len = mproc__get_u64(ref + 5);
  if ((s = stage_find(sv, sv->pool, id)) != NULL)
    return s->len == len ? s : NULL;
  if (len > SIZE_MAX)
    return NULL;
  if ((s = spare_take(sv, (size_t)len)) == NULL) {
    if ((s = calloc(1, sizeof *s)) == NULL)
      return NULL;
    /* Lazily mapped: only the slices' pages get memory. */
    s->cap = len > 0 ? (size_t)len : 1;
    s->buf = calloc(s->cap, 1);
    if (s->buf == NULL) {
      free(s);
      return NULL;
    }
  }
  s->pool = sv->pool;
  s->id = id;
  s->len = (size_t)len;
  s->next = sv->stages;
  sv->stages = s;
  return s;
}

static void stage_free(server_t *sv, uint32_t pool, uint32_t id)
{
  for (sstage_t **l = &sv->stages; *l != NULL; l = &(*l)->next)
    if ((*l)->pool == pool && (*l)->id == id) {
      sstage_t *s = *l;
      *l = s->next;
      spare_put(sv, s);
      return;
    }
}

static int res_grow(server_t *sv, size_t more)
{
  size_t need = sv->res_len + more, cap = sv->res_cap ? sv->res_cap : 65536;
  unsigned char *g;

  if (need <= sv->res_cap)
    return 0;
  while (cap < need)
    cap *= 2;
  if ((g = realloc(sv->res, cap)) == NULL)
    return mproc__err(MPROC_ENOMEM, "out of memory");
  sv->res = g;
  sv->res_cap = cap;
  return 0;
}

/* Let go of the result messages sent, oldest first; with @wait, wait
 * for the oldest one (the rest as far as they are done). */
static void reap(server_t *sv, int wait)
{
  while (sv->nout > 0) {
    outbuf_t *o = &sv->out[sv->out_head];
    int done = 0;
    if (wait) {
      MPI_Waitall(o->nreqs, o->reqs, MPI_STATUSES_IGNORE);
      done = 1;
      wait = 0;
    } else {
      MPI_Testall(o->nreqs, o->reqs, &done, MPI_STATUSES_IGNORE);
    }
    if (!done)
      return;
    free(o->reqs);
    if (sv->nspare < SENDS)
      sv->spare[sv->nspare++] = (outbuf_t){o->buf, o->cap, NULL, 0};
    else
      free(o->buf);
    sv->out_head = (sv->out_head + 1) % SENDS;
    sv->nout--;
  }
}

static void reap_all(server_t *sv)
{
  while (sv->nout > 0)
    reap(sv, 1);
}

/* Send the results gathered; @end: the batch is done (sent even when
 * empty, so that rank 0 knows). The buffer travels; a spare one, or a
 * new one, gathers the next results. */
static int flush(server_t *sv, int end)
{
  outbuf_t *o;
  int rc;

  if (sv->res_len <= W_HDR && !end)
    return 0;
  if (sv->res == NULL && (rc = res_grow(sv, 0)) != 0)
    return rc;
  w_put_hdr(sv->res, W_RESULTS, sv->pool, sv->slot, sv->gen,
            sv->res_len - W_HDR);
  if (end)
    sv->res[1] = W_END;
  reap(sv, sv->nout == SENDS);
  o = &sv->out[(sv->out_head + sv->nout) % SENDS];
  rc = w_isend(0, W_TAG_FIRST, sv->res, sv->res_len, &o->reqs, &o->nreqs);
  sv->res_len = W_HDR;
  if (rc != 0)
    return rc;
  o->buf = sv->res;
  o->cap = sv->res_cap;
  sv->nout++;
  sv->res = NULL;
  sv->res_cap = 0;
  if (sv->nspare > 0) {
    sv->nspare--;
    sv->res = sv->spare[sv->nspare].buf;
    sv->res_cap = sv->spare[sv->nspare].cap;
  }
  return 0; /* without a buffer now, the next post or flush makes one */
}

/* Copy each SLICE task's input records into its stage and note where its
 * output goes. */
static void take_slices(server_t *sv, const unsigned char *b, size_t blen,
                        const unsigned char *extra, size_t xlen)
{
  uint32_t first, n, flags;
  size_t off = MPROC__BATCH_HDR, xat = 0;
  mproc__task_view_t t;

  if (mproc__batch_read(b, blen, &first, &n, &flags) != 0)
    return;
  if (n > sv->sl_cap) {
    slice_out_t *g = realloc(sv->sl, n * sizeof *g);
    if (g == NULL)
      return;
    sv->sl = g;
    sv->sl_cap = n;
  }
  memset(sv->sl, 0, n * sizeof *sv->sl);
  for (uint32_t i = 0; i < n; i++) {
    if (mproc__task_read(b, blen, &off, &t) != 0)
      return;
    if (t.kind != MPROC__TASK_SLICE || t.len < 24 + 2 + 2 * W_REF)
      continue;
    uint64_t at = mproc__get_u64(t.payload),
             isz = mproc__get_u64(t.payload + 8),
             osz = mproc__get_u64(t.payload + 16);
    const unsigned char *p = t.payload + 24;
    sstage_t *in, *out;
    if (p[0] != W_REF || p[1 + W_REF] != W_REF)
      continue;
    in = stage_ref(sv, p + 1, W_REF);
    out = stage_ref(sv, p + 2 + W_REF, W_REF);
    uint64_t ib = (uint64_t)t.count * isz, ob = (uint64_t)t.count * osz;
    if (in == NULL || out == NULL || ib > xlen - xat || at * isz > in->len ||
        ib > in->len - at * isz || at * osz > out->len ||
        ob > out->len - at * osz)
      continue; /* resolve() then fails the slice */
    memcpy(in->buf + at * isz, extra + xat, (size_t)ib);
    xat += (size_t)ib;
    sv->sl[i] = (slice_out_t){out->id, at * osz, ob};
  }
}

static void run_init(server_t *sv, const unsigned char *body, size_t len)
{
  unsigned char reply[W_HDR + 4 + 1024];
  char msg[1024] = "";
  size_t nl = len > 0 ? body[0] : 0;
  char name[256];
  mproc_target_fn fn = NULL;
  mproc_args_t *ia = NULL;
  int rc = MPROC_ECODEC;

  if (len >= 1 + nl) {
    memcpy(name, body + 1, nl);
    name[nl] = '\0';
    fn = mproc__target_lookup(name);
    if (fn == NULL) {
      rc = MPROC_ENOTREG;
      snprintf(msg, sizeof msg, "initializer '%s' is not registered", name);
    } else if ((rc = mproc__args_new(&ia, body + 1 + nl, len - 1 - nl, NULL,
                                     0)) != 0) {
      snprintf(msg, sizeof msg, "bad initializer arguments: %s",
               mproc_last_error());
    } else {
      rc = fn(ia);
      mproc_args_free(ia);
      if (rc != 0)
        snprintf(msg, sizeof msg, "%s",
                 mproc__current_failure() != NULL
                     ? mproc__current_failure()
                     : "the initializer returned non-zero");
      if (rc > 0)
        rc = MPROC_ETASK;
    }
  }
  w_put_hdr(reply, W_REPLY, sv->pool, 0, 0, 4 + strlen(msg));
  mproc__put_u32(reply + W_HDR, (uint32_t)rc);
  memcpy(reply + W_HDR + 4, msg, strlen(msg));
  (void)w_send(0, reply, W_HDR + 4 + strlen(msg));
}

/* ---- cancelled slots ---- */

static int cancelled(server_t *sv)
{
  unsigned n = sv->ncancel < CANCELS ? sv->ncancel : CANCELS;

  for (unsigned i = 0; i < n; i++) {
    cancel_t *c = &sv->cancel[i];
    if (c->pool == sv->pool && c->slot == sv->slot &&
        (int32_t)(sv->gen - c->gen) <= 0)
      return 1;
  }
  return 0;
}

/* Take the CANCEL messages there are (their own tag: they pass batches
 * still queued). */
static void take_cancels(server_t *sv)
{
  int flag = 1;
  MPI_Status st;
  unsigned char h[W_HDR];
  w_hdr_t hd;

  sv->cancel_at = mproc__plat_now();
  while (MPI_Iprobe(0, W_TAG_CANCEL, mproc__mpi_comm, &flag, &st) ==
             MPI_SUCCESS &&
         flag) {
    MPI_Recv(h, W_HDR, MPI_BYTE, 0, W_TAG_CANCEL, mproc__mpi_comm,
             MPI_STATUS_IGNORE);
    w_get_hdr(h, &hd);
    sv->cancel[sv->ncancel++ % CANCELS] = (cancel_t){hd.pool, hd.slot, hd.gen};
  }
}

/* ---- the port the worker loop runs on ---- */

static int s_recv(void *ctx, void **batch, size_t *len)
{
  server_t *sv = ctx;
  unsigned char *m;
  size_t ml;
  int from, got;
  w_hdr_t h;

  if (sv->in_batch) {
    sv->in_batch = 0;
    (void)flush(sv, 1);
  }
  w_backoff_reset(&sv->bo);
  for (;;) {
    take_cancels(sv);
    reap(sv, 0);
    got = w_try_recv(0, &m, &ml, &from);
    if (got < 0)
      return got;
    if (got == 0) {
      nap(w_backoff_next(&sv->bo));
      continue;
    }
    w_backoff_reset(&sv->bo);
    w_get_hdr(m, &h);
    sv->pool = h.pool;
    switch (h.kind) {
    case W_STOP: {
      unsigned char bye[W_HDR];
      w_buf_put(m);
      reap_all(sv);
      w_put_hdr(bye, W_BYE, 0, 0, 0, 0);
      (void)w_send(0, bye, sizeof bye);
      return MPROC_ESTOP;
    }
    case W_INIT:
      run_init(sv, m + W_HDR, ml - W_HDR);
      break;
    case W_FREE:
      stage_free(sv, h.pool, h.slot);
      break;
    case W_BATCH: {
      uint64_t bl = ml >= W_HDR + 8 ? mproc__get_u64(m + W_HDR) : 0;
      if (bl > ml - W_HDR - 8 || bl < MPROC__BATCH_HDR)
        break; /* malformed: dropped */
      sv->msg = m;
      sv->slot = h.slot;
      sv->gen = h.gen;
      if (mproc__batch_read(m + W_HDR + 8, (size_t)bl, &sv->first, &sv->n,
                            &(uint32_t){0}) != 0)
        sv->n = 0;
      take_slices(sv, m + W_HDR + 8, (size_t)bl, m + W_HDR + 8 + bl,
                  ml - W_HDR - 8 - (size_t)bl);
      sv->in_batch = 1;
      sv->skip = cancelled(sv);
      *batch = m + W_HDR + 8;
      *len = (size_t)bl;
      return 0;
    }
    default:
      break;
    }
    w_buf_put(m);
  }
}

static void s_release(void *ctx, void *batch)
{
  server_t *sv = ctx;

  (void)batch;
  w_buf_put(sv->msg);
  sv->msg = NULL;
}

static int s_claim(void *ctx, uint32_t seq)
{
  server_t *sv = ctx;

  (void)seq;
  /* A slot given up (terminate, a timeout) runs nothing more. */
  if (!sv->skip && mproc__plat_now() - sv->cancel_at > CANCEL_CHECK) {
    take_cancels(sv);
    sv->skip = cancelled(sv);
  }
  return !sv->skip;
}

static void s_item_started(void *ctx)
{
  (void)ctx;
}

static int s_post(void *ctx, uint32_t seq, const mproc__iov_t *iov, size_t n)
{
  server_t *sv = ctx;
  size_t rl = 0, at;
  uint32_t i = seq - sv->first;
  slice_out_t so = {0, 0, 0};
  sstage_t *st = NULL;
  int rc;

  for (size_t k = 0; k < n; k++)
    rl += iov[k].len;
  if (i < sv->n && sv->sl != NULL && i < sv->sl_cap && sv->sl[i].stage != 0 &&
      rl >= MPROC__RESULT_HDR &&
      mproc__get_u32((const unsigned char *)iov[0].base + 4) == 0 &&
      (st = stage_find(sv, sv->pool, sv->sl[i].stage)) != NULL)
    so = sv->sl[i];
  if ((rc = res_grow(sv, 4 + rl + 20 + (size_t)so.len)) != 0)
    return rc;
  if (sv->res_len == W_HDR)
    sv->res_since = mproc__plat_now();
  at = sv->res_len;
  mproc__put_u32(sv->res + at, (uint32_t)rl);
  at += 4;
  for (size_t k = 0; k < n; k++) {
    memcpy(sv->res + at, iov[k].base, iov[k].len);
    at += iov[k].len;
  }
  mproc__put_u32(sv->res + at, so.stage);
  mproc__put_u64(sv->res + at + 4, so.off);
  mproc__put_u64(sv->res + at + 12, so.len);
  at += 20;
  if (so.len > 0) {
    memcpy(sv->res + at, st->buf + so.off, (size_t)so.len);
    at += (size_t)so.len;
  }
  sv->res_len = at;
  /* The batch's last result goes with its end, in one message. */
  if (i + 1 != sv->n && (sv->res_len >= FLUSH_BYTES ||
                         mproc__plat_now() - sv->res_since > FLUSH_AGE))
    return flush(sv, 0);
  return 0;
}

static int s_resolve(void *ctx, const unsigned char *ref, size_t ref_len,
                     size_t len, void **addr)
{
  server_t *sv = ctx;
  sstage_t *s = ref_len == W_REF && ref[0] == 'M'
                    ? stage_find(sv, sv->pool, mproc__get_u32(ref + 1))
                    : NULL;

  if (s == NULL)
    return mproc__err(MPROC_ECODEC, "pool: the slice's array did not arrive");
  if (len > s->len)
    return mproc__err(MPROC_ERANGE, "pool: array outside its block");
  *addr = s->buf;
  return 0;
}

void mproc__mpi_serve(void)
{
  server_t sv;
  mproc__pool_port_t port = {&sv, s_recv, s_release, s_claim, s_item_started,
                             0,   s_post, s_resolve};

  memset(&sv, 0, sizeof sv);
  sv.res_len = W_HDR;
  /* A loop that ends on an error (out of memory) starts again: the rank
   * must answer STOP, or the job cannot end. */
  while (res_grow(&sv, 0) != 0 || mproc__pool_worker_loop(&port, 0) != 0)
    nap(0.01);
  reap_all(&sv);
  while (sv.nspare > 0)
    free(sv.spare[--sv.nspare].buf);
  while (sv.stages != NULL)
    stage_free(&sv, sv.stages->pool, sv.stages->id);
  while (sv.spares != NULL) {
    sstage_t *s = sv.spares;
    sv.spares = s->next;
    free(s->buf);
    free(s);
  }
  free(sv.res);
  free(sv.sl);
}
