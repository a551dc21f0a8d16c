/*
 * Rank 0 of the MPI backend: the pool transport (pool/transport.h) whose
 * workers are the other ranks, and the one thread that talks to MPI.
 *
 * Every pool of the program shares the serving ranks: slot w of a pool is
 * served by rank 1 + w % (N - 1), and a rank runs the batches it gets in
 * the order they come, whichever pool sent them. The scheduler hands a
 * batch to send(), which queues it; the MPI thread sends it, receives
 * results and files them per slot, and wakes a pool's scheduler only when
 * that pool needs what came (the same rules as the local transport). The
 * MPI thread sleeps on a condition variable while nothing is expected,
 * and polls with a growing sleep (at most MPROC_MPI_BACKOFF) while
 * results are due.
 *
 * What a remote rank cannot do: a task once sent is not taken back
 * (reclaim() takes nothing), so queued work may wait behind a long task,
 * as with CPython; a timed-out task fails at once, but its rank runs it to
 * its end before it serves anything else.
 */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "platform.h"
#include "wire.h"

#define MARKS 8 /* batches in flight per slot, at most */
#define DEPTH 2 /* a slot asks for more below this many */

typedef struct inmsg {
  struct inmsg *next;
  unsigned char *buf;
  size_t off, len;
} inmsg_t;

typedef struct mark {
  uint32_t end;
  double sent;
} mark_t;

typedef struct mslot {
  int rank;
  uint32_t gen;
  int live;    /* started, not stopped */
  int stopped; /* stopped now (1: its end is to be told) */
  uint32_t limit, recvd;
  mark_t marks[MARKS];
  int mhead, nmarks;
  double last_arrival;
  int want_on;
  uint32_t want_seq;
  inmsg_t *in_head, *in_tail;
  size_t nin;
} mslot_t;

/* A typed array a call maps: the caller's own memory (the call waits
 * for its slices), which the batches read their input records from and
 * the results write their output records into. */
typedef struct stage {
  struct stage *next;
  uint32_t id;
  unsigned char *buf;
  size_t len;
  int owned; /* buf is ours (an empty array), not the caller's */
} stage_t;

typedef struct mtr {
  mproc__pool_tr_t base;
  struct mtr *next;
  uint32_t id;
  int n;
  mslot_t *s;
  int pending, all, woken;
  unsigned long events;
  pthread_cond_t cv;
  stage_t *stages;
  uint32_t next_stage;
  int init_wait, init_rc, init_rank;
  char init_msg[1024];
} mtr_t;

typedef struct outmsg {
  struct outmsg *next;
  int dest, tag;
  unsigned char *buf;
  size_t len;
  MPI_Request *reqs;
  int nreqs;
} outmsg_t;

/* The rank-0 state (plug.c sets rank, size, ok). */
static struct {
  pthread_mutex_t mu;
  pthread_cond_t cv; /* the MPI thread's */
  pthread_t th;
  int th_running, th_done, stopping, byes;
  outmsg_t *out_head, *out_tail, *sending;
  long expect; /* results and replies due */
  mtr_t *pools;
  uint32_t next_id;
  long *owed; /* per rank: batches of given-up slots it still has */
  long owed_total;
  int broken;           /* a spawned rank died: no rank serves any more */
  char broken_why[300]; /* what happened, for every failure after it */
} E = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

int mproc__mpi_rank, mproc__mpi_size;
int mproc__mpi_spawn(int n);                   /* plug.c */
int mproc__mpi_rank_gone(int rank, long *pid); /* plug.c */
MPI_Comm mproc__mpi_comm = MPI_COMM_NULL;
char mproc__mpi_bad[1024]; /* why pools cannot run, or "" */

static int32_t seq_diff(uint32_t a, uint32_t b)
{
  return (int32_t)(a - b);
}

static void abs_time(struct timespec *ts, double secs)
{
  clock_gettime(CLOCK_REALTIME, ts);
  if (secs < 0)
    secs = 0;
  if (secs > 3600)
    secs = 3600;
  ts->tv_sec += (time_t)secs;
  ts->tv_nsec += (long)((secs - (double)(time_t)secs) * 1e9);
  if (ts->tv_nsec >= 1000000000L) {
    ts->tv_sec++;
    ts->tv_nsec -= 1000000000L;
  }
}

/* Queue a message (taken) for the MPI thread. Under E.mu. */
static void post_tag(int dest, int tag, unsigned char *buf, size_t len)
{
  outmsg_t *o = calloc(1, sizeof *o);

  if (o == NULL) {
    w_buf_put(buf);
    return;
  }
  o->dest = dest;
  o->tag = tag;
  o->buf = buf;
  o->len = len;
  if (E.out_tail != NULL)
    E.out_tail->next = o;
  else
    E.out_head = o;
  E.out_tail = o;
  pthread_cond_signal(&E.cv);
}

static void post_out(int dest, unsigned char *buf, size_t len)
{
  post_tag(dest, W_TAG_FIRST, buf, len);
}

static int small_msg(int dest, int kind, uint32_t pool, uint32_t slot,
                     uint32_t gen)
{
  unsigned char *b = w_buf_get(W_HDR);

  if (b == NULL)
    return mproc__err(MPROC_ENOMEM, "out of memory");
  w_put_hdr(b, kind, pool, slot, gen, 0);
  post_tag(dest, kind == W_CANCEL ? W_TAG_CANCEL : W_TAG_FIRST, b, W_HDR);
  return 0;
}

/* ---- per slot ---- */

/* A rank that still runs the tasks of a slot given up (a timeout, a
 * terminate) gets no new work until it is done with them. */
static int rank_free(int r)
{
  return E.owed == NULL || E.owed[r] <= 0;
}

static int hungry_slot(const mslot_t *s)
{
  return s->live && s->nmarks < DEPTH && rank_free(s->rank);
}

static void inbox_free(mslot_t *s)
{
  while (s->in_head != NULL) {
    inmsg_t *m = s->in_head;
    s->in_head = m->next;
    w_buf_put(m->buf);
    free(m);
  }
  s->in_tail = NULL;
  s->nin = 0;
}

static void slot_reset(mslot_t *s)
{
  inbox_free(s);
  s->limit = s->recvd = 0;
  s->mhead = s->nmarks = 0;
  s->want_on = 0;
  s->stopped = 0;
  s->last_arrival = 0;
}

/* Whether the scheduler needs to run now. Under E.mu. */
static int due(mtr_t *t)
{
  if (t->woken)
    return 1;
  for (int w = 0; w < t->n; w++) {
    mslot_t *s = &t->s[w];
    if (s->stopped == 1)
      return 1;
    if (s->in_head != NULL &&
        (t->all || s->nin > 64 ||
         (s->want_on && seq_diff(s->recvd, s->want_seq) > 0)))
      return 1;
    if (t->pending && hungry_slot(s))
      return 1;
  }
  return 0;
}

static mtr_t *find_pool(uint32_t id)
{
  for (mtr_t *t = E.pools; t != NULL; t = t->next)
    if (t->id == id)
      return t;
  return NULL;
}

static stage_t *find_stage(mtr_t *t, uint32_t id)
{
  for (stage_t *s = t->stages; s != NULL; s = s->next)
    if (s->id == id)
      return s;
  return NULL;
}

/* ---- the MPI thread: what comes in (under E.mu) ---- */

static void got_results(unsigned char *m, size_t len, const w_hdr_t *h,
                        int from)
{
  mtr_t *t = find_pool(h->pool);
  mslot_t *s = t != NULL && h->slot < (uint32_t)t->n ? &t->s[h->slot] : NULL;
  size_t at = W_HDR, count = 0;
  int keep = s != NULL && s->gen == h->gen && s->live, any = 0;
  uint32_t last = 0;

  while (at + 4 <= len) {
    uint32_t rl = mproc__get_u32(m + at), seq;
    int st;
    uint32_t vals;
    if (rl > len - at - 4 || len - at - 4 - rl < 20)
      break;
    const unsigned char *rec = m + at + 4, *tail = rec + rl;
    uint32_t sid = mproc__get_u32(tail);
    uint64_t off = mproc__get_u64(tail + 4), ol = mproc__get_u64(tail + 12);
    if (ol > len - at - 4 - rl - 20)
      break;
    count++;
    if (keep && mproc__result_read(rec, rl, &seq, &st, &vals) == 0) {
      stage_t *sg = sid != 0 ? find_stage(t, sid) : NULL;
      if (sg != NULL && off <= sg->len && ol <= sg->len - off)
        memcpy(sg->buf + off, tail + 20, (size_t)ol);
      last = seq;
      any = 1;
    }
    at += 4 + rl + 20 + (size_t)ol;
  }
  /* A given-up slot's tasks stopped being due when it was stopped. */
  if (keep)
    E.expect -= (long)count;
  if (!keep && (h->flags & W_END) && E.owed != NULL && from > 0 &&
      from < mproc__mpi_size && E.owed[from] > 0) {
    E.owed[from]--;
    E.owed_total--;
  }
  if (!keep || !any) {
    w_buf_put(m);
    return;
  }
  inmsg_t *im = calloc(1, sizeof *im);
  if (im == NULL) {
    w_buf_put(m); /* lost: the tasks never come back (out of memory) */
    return;
  }
  im->buf = m;
  im->off = W_HDR;
  im->len = len;
  if (s->in_tail != NULL)
    s->in_tail->next = im;
  else
    s->in_head = im;
  s->in_tail = im;
  s->nin++;
  s->recvd = last + 1;
  s->last_arrival = mproc__plat_now();
  while (s->nmarks > 0 && seq_diff(s->recvd, s->marks[s->mhead].end) >= 0) {
    s->mhead = (s->mhead + 1) % MARKS;
    s->nmarks--;
  }
  t->events++;
  if (due(t))
    pthread_cond_broadcast(&t->cv);
}

static void got_reply(unsigned char *m, size_t len, const w_hdr_t *h, int from)
{
  mtr_t *t = find_pool(h->pool);

  E.expect--;
  if (t != NULL && t->init_wait > 0) {
    int rc = len >= W_HDR + 4 ? (int)mproc__get_u32(m + W_HDR) : MPROC_ECODEC;
    if (rc != 0 && t->init_rc == 0) {
      size_t ml = len - W_HDR - 4;
      if (ml >= sizeof t->init_msg)
        ml = sizeof t->init_msg - 1;
      memcpy(t->init_msg, m + W_HDR + 4, ml);
      t->init_msg[ml] = '\0';
      t->init_rc = rc;
      t->init_rank = from;
    }
    t->init_wait--;
    pthread_cond_broadcast(&t->cv);
  }
  w_buf_put(m);
}

static void got(unsigned char *m, size_t len, int from)
{
  w_hdr_t h;

  w_get_hdr(m, &h);
  pthread_mutex_lock(&E.mu);
  if (h.kind == W_RESULTS)
    got_results(m, len, &h, from);
  else if (h.kind == W_REPLY)
    got_reply(m, len, &h, from);
  else {
    if (h.kind == W_BYE)
      E.byes++;
    w_buf_put(m);
  }
  pthread_mutex_unlock(&E.mu);
}

/* ---- the MPI thread ---- */

/* A serving rank died (spawn mode; under mpirun, mpirun ends the job).
 * Open MPI 4.1 ends the job's other ranks with it and has no way to go
 * on (no ULFM): every slot of every pool ends now, its running task
 * failing with MPROC_EWORKER, and nothing is sent any more. Under E.mu. */
static void rank_died(int rank, long pid)
{
  snprintf(E.broken_why, sizeof E.broken_why,
           "MPI rank %d (pid %ld) died; Open MPI ends the other spawned "
           "ranks with it and cannot go on without them (no ULFM)",
           rank, pid);
  E.broken = 1;
  for (mtr_t *t = E.pools; t != NULL; t = t->next) {
    for (int w = 0; w < t->n; w++) {
      mslot_t *s = &t->s[w];
      if (!s->live)
        continue;
      E.expect -= (long)(s->limit - s->recvd);
      s->live = 0;
      s->gen++;
      s->stopped = 1;
    }
    t->woken = 1;
    t->events++;
    pthread_cond_broadcast(&t->cv);
  }
  E.owed_total = 0;
}

/* While results are due, every CHECK_EVERY seconds: whether a spawned
 * rank on this machine is gone. Under E.mu. */
#define CHECK_EVERY 0.25
static void check_ranks(double *last)
{
  double now = mproc__plat_now();
  long pid = 0;

  if (now - *last < CHECK_EVERY)
    return;
  *last = now;
  for (int r = 1; r < mproc__mpi_size && !E.broken; r++)
    if (mproc__mpi_rank_gone(r, &pid))
      rank_died(r, pid);
}

static void *mpi_thread(void *arg)
{
  w_backoff_t bo;
  double checked = mproc__plat_now();

  (void)arg;
  w_backoff_reset(&bo);
  pthread_mutex_lock(&E.mu);
  for (;;) {
    outmsg_t *out = E.out_head;
    int busy = 0, more;
    E.out_head = E.out_tail = NULL;
    pthread_mutex_unlock(&E.mu);
    /* Start what was queued. */
    while (out != NULL) {
      outmsg_t *o = out;
      out = o->next;
      o->next = NULL;
      if (w_isend(o->dest, o->tag, o->buf, o->len, &o->reqs, &o->nreqs) != 0) {
        w_buf_put(o->buf);
        free(o);
        continue;
      }
      o->next = E.sending;
      E.sending = o;
      busy = 1;
    }
    /* Let go of what was sent. */
    for (outmsg_t **l = &E.sending; *l != NULL;) {
      int done = 0;
      MPI_Testall((*l)->nreqs, (*l)->reqs, &done, MPI_STATUSES_IGNORE);
      if (done) {
        outmsg_t *o = *l;
        *l = o->next;
        free(o->reqs);
        w_buf_put(o->buf);
        free(o);
      } else {
        l = &(*l)->next;
      }
    }
    /* Take what came. */
    for (int k = 0; k < 64; k++) {
      unsigned char *m;
      size_t len;
      int from;
      if (w_try_recv(MPI_ANY_SOURCE, &m, &len, &from) <= 0)
        break;
      got(m, len, from);
      busy = 1;
    }
    pthread_mutex_lock(&E.mu);
    if (E.stopping && E.out_head == NULL && E.sending == NULL &&
        E.byes >= mproc__mpi_size - 1)
      break;
    if (busy || E.out_head != NULL) {
      w_backoff_reset(&bo);
      continue;
    }
    more = E.expect > 0 || E.owed_total > 0 || E.sending != NULL || E.stopping;
    if (more)
      check_ranks(&checked);
    if (E.broken)
      break; /* nothing will come: what is in flight stays there */
    if (!more) {
      pthread_cond_wait(&E.cv, &E.mu); /* nothing to wait for */
      w_backoff_reset(&bo);
    } else {
      double d = w_backoff_next(&bo);
      if (d <= 0) {
        pthread_mutex_unlock(&E.mu);
        sched_yield();
        pthread_mutex_lock(&E.mu);
      } else {
        struct timespec ts;
        abs_time(&ts, d);
        pthread_cond_timedwait(&E.cv, &E.mu, &ts);
      }
    }
  }
  E.th_done = 1;
  pthread_mutex_unlock(&E.mu);
  return NULL;
}

/* Start the MPI thread once. Under E.mu. */
static int thread_up(void)
{
  if (E.th_running)
    return 0;
  if (pthread_create(&E.th, NULL, mpi_thread, NULL) != 0)
    return mproc__err(MPROC_EOS, "MPI backend: cannot start its thread");
  E.th_running = 1;
  return 0;
}

/* At exit on rank 0: stop the serving ranks and wait for their answers
 * (@grace seconds at most: a rank still running a task that never
 * returns cannot answer). 0, or -1 when some did not answer, -2 when
 * ranks died (spawn mode: MPI cannot be finalized then). */
int mproc__mpi_root_stop(double grace)
{
  struct timespec ts;
  int rc = 0;

  pthread_mutex_lock(&E.mu);
  if (E.broken) {
    pthread_mutex_unlock(&E.mu);
    return -2; /* no rank to stop, and MPI cannot be finalized */
  }
  if (thread_up() != 0) {
    pthread_mutex_unlock(&E.mu);
    return -1;
  }
  for (int r = 1; r < mproc__mpi_size; r++)
    small_msg(r, W_STOP, 0, 0, 0);
  E.stopping = 1;
  pthread_cond_signal(&E.cv);
  pthread_mutex_unlock(&E.mu);
  abs_time(&ts, grace);
  /* The thread ends once every rank said BYE. */
  for (;;) {
    pthread_mutex_lock(&E.mu);
    int done = E.th_done;
    pthread_mutex_unlock(&E.mu);
    if (done)
      break;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    if (now.tv_sec > ts.tv_sec ||
        (now.tv_sec == ts.tv_sec && now.tv_nsec >= ts.tv_nsec)) {
      rc = -1;
      break;
    }
    struct timespec nap = {0, 2000000};
    nanosleep(&nap, NULL);
  }
  if (rc == 0) {
    pthread_join(E.th, NULL);
    E.th_running = 0;
  }
  return rc;
}

/* ================= the transport ================= */

#define T(x) ((mtr_t *)(x))

static int m_start(mproc__pool_tr_t *tr, int w)
{
  mtr_t *t = T(tr);
  mslot_t *s = &t->s[w];

  pthread_mutex_lock(&E.mu);
  if (E.broken) {
    /* No rank can serve again: MPROC_ECLOSED tells the scheduler so. */
    pthread_mutex_unlock(&E.mu);
    return mproc__err(MPROC_ECLOSED, "Pool: %s", E.broken_why);
  }
  slot_reset(s);
  s->gen++;
  s->live = 1;
  pthread_mutex_unlock(&E.mu);
  return 0;
}

/* The input records of each SLICE task of the batch, to go after it. */
static size_t slice_bytes(mtr_t *t, const unsigned char *b, size_t blen,
                          unsigned char *to)
{
  uint32_t first, n, flags;
  size_t off = MPROC__BATCH_HDR, total = 0;
  mproc__task_view_t v;

  if (mproc__batch_read(b, blen, &first, &n, &flags) != 0)
    return 0;
  for (uint32_t i = 0; i < n; i++) {
    if (mproc__task_read(b, blen, &off, &v) != 0)
      break;
    if (v.kind != MPROC__TASK_SLICE || v.len < 24 + 2 + 2 * W_REF ||
        v.payload[24] != W_REF || v.payload[24 + 1 + W_REF] != W_REF)
      continue;
    uint64_t at = mproc__get_u64(v.payload),
             isz = mproc__get_u64(v.payload + 8);
    stage_t *sg = find_stage(t, mproc__get_u32(v.payload + 25 + 1));
    uint64_t ib = (uint64_t)v.count * isz;
    if (sg == NULL || at * isz > sg->len || ib > sg->len - at * isz)
      continue; /* the rank fails the slice: its array did not arrive */
    if (to != NULL)
      memcpy(to + total, sg->buf + at * isz, (size_t)ib);
    total += (size_t)ib;
  }
  return total;
}

static int m_send(mproc__pool_tr_t *tr, int w, uint32_t first, uint32_t n,
                  const mproc__iov_t *iov, size_t niov)
{
  mtr_t *t = T(tr);
  mslot_t *s = &t->s[w];
  size_t blen = 0, at = W_HDR + 8, extra;
  unsigned char *m;

  for (size_t k = 0; k < niov; k++)
    blen += iov[k].len;
  pthread_mutex_lock(&E.mu);
  if (!s->live) {
    pthread_mutex_unlock(&E.mu);
    return mproc__err(MPROC_EBROKEN, "pool: the worker is gone");
  }
  if (s->nmarks >= MARKS || !rank_free(s->rank)) {
    pthread_mutex_unlock(&E.mu);
    return mproc__err(MPROC_EFULL, "pool: the rank is busy");
  }
  m = w_buf_get(W_HDR + 8 + blen);
  if (m == NULL) {
    pthread_mutex_unlock(&E.mu);
    return mproc__err(MPROC_EFULL, "out of memory");
  }
  for (size_t k = 0; k < niov; k++) {
    memcpy(m + at, iov[k].base, iov[k].len);
    at += iov[k].len;
  }
  extra = slice_bytes(t, m + W_HDR + 8, blen, NULL);
  if (extra > 0) {
    unsigned char *g = w_buf_get(W_HDR + 8 + blen + extra);
    if (g != NULL)
      memcpy(g, m, W_HDR + 8 + blen);
    w_buf_put(m);
    if (g == NULL) {
      pthread_mutex_unlock(&E.mu);
      return mproc__err(MPROC_EFULL, "out of memory");
    }
    m = g;
    slice_bytes(t, m + W_HDR + 8, blen, m + W_HDR + 8 + blen);
  }
  w_put_hdr(m, W_BATCH, t->id, (uint32_t)w, s->gen, 8 + blen + extra);
  mproc__put_u64(m + W_HDR, blen);
  s->limit = first + n;
  s->marks[(s->mhead + s->nmarks) % MARKS] =
      (mark_t){first + n, mproc__plat_now()};
  s->nmarks++;
  E.expect += n;
  post_out(s->rank, m, W_HDR + 8 + blen + extra);
  pthread_mutex_unlock(&E.mu);
  return 0;
}

static void m_reclaim(mproc__pool_tr_t *tr, int w, uint32_t *from, uint32_t *to)
{
  mslot_t *s = &T(tr)->s[w];

  /* A task sent is the rank's: nothing comes back unstarted. But when
   * the slot was given up (its task timed out), what it held behind that
   * task goes to other slots (the rank may still run it: its result is
   * dropped). */
  pthread_mutex_lock(&E.mu);
  *from = *to = s->limit;
  if (!s->live && s->stopped != 0 && s->recvd != s->limit)
    *from = s->recvd + 1;
  pthread_mutex_unlock(&E.mu);
}

static uint32_t m_next(mproc__pool_tr_t *tr, int w)
{
  mslot_t *s = &T(tr)->s[w];
  uint32_t r;

  /* Known from results only: the first without one counts as started. */
  pthread_mutex_lock(&E.mu);
  r = s->recvd == s->limit ? s->recvd : s->recvd + 1;
  pthread_mutex_unlock(&E.mu);
  return r;
}

static double m_started_at(mproc__pool_tr_t *tr, int w)
{
  mslot_t *s = &T(tr)->s[w];
  double r = 0;

  pthread_mutex_lock(&E.mu);
  if (s->recvd != s->limit && s->nmarks > 0) {
    r = s->marks[s->mhead].sent;
    if (s->last_arrival > r)
      r = s->last_arrival;
  }
  pthread_mutex_unlock(&E.mu);
  return r;
}

static int m_hungry(mproc__pool_tr_t *tr, int w)
{
  mtr_t *t = T(tr);
  int r = 0;

  pthread_mutex_lock(&E.mu);
  if (w >= 0)
    r = hungry_slot(&t->s[w]);
  else
    for (int k = 0; k < t->n; k++)
      r += hungry_slot(&t->s[k]);
  pthread_mutex_unlock(&E.mu);
  return r;
}

static int m_idle(mproc__pool_tr_t *tr, int w)
{
  mslot_t *s = &T(tr)->s[w];
  int r;

  pthread_mutex_lock(&E.mu);
  r = s->live && s->recvd == s->limit && rank_free(s->rank);
  pthread_mutex_unlock(&E.mu);
  return r;
}

static void m_hint(mproc__pool_tr_t *tr, int pending, int all)
{
  mtr_t *t = T(tr);

  pthread_mutex_lock(&E.mu);
  t->pending = pending != 0;
  t->all = all != 0;
  pthread_mutex_unlock(&E.mu);
}

static void m_want(mproc__pool_tr_t *tr, int w, int on, uint32_t seq)
{
  mslot_t *s = &T(tr)->s[w];

  pthread_mutex_lock(&E.mu);
  s->want_on = on != 0;
  s->want_seq = seq;
  pthread_mutex_unlock(&E.mu);
}

static size_t m_poll(mproc__pool_tr_t *tr, int w, mproc__pool_rec_fn fn,
                     void *ctx)
{
  mslot_t *s = &T(tr)->s[w];
  inmsg_t *list;
  size_t n = 0;

  pthread_mutex_lock(&E.mu);
  list = s->in_head;
  s->in_head = s->in_tail = NULL;
  s->nin = 0;
  pthread_mutex_unlock(&E.mu);
  while (list != NULL) {
    inmsg_t *im = list;
    size_t at = im->off;
    list = im->next;
    while (at + 4 <= im->len) {
      uint32_t rl = mproc__get_u32(im->buf + at);
      uint64_t ol = mproc__get_u64(im->buf + at + 4 + rl + 12);
      fn(ctx, w, im->buf + at + 4, rl);
      n++;
      at += 4 + rl + 20 + (size_t)ol;
    }
    w_buf_put(im->buf);
    free(im);
  }
  return n;
}

static int m_ended(mproc__pool_tr_t *tr, char *why, size_t cap)
{
  mtr_t *t = T(tr);
  int r = -1;

  pthread_mutex_lock(&E.mu);
  for (int w = 0; w < t->n && r < 0; w++)
    if (t->s[w].stopped == 1) {
      t->s[w].stopped = 2;
      if (E.broken)
        snprintf(why, cap, "worker %d: %s", w, E.broken_why);
      else
        snprintf(why, cap,
                 "worker %d (MPI rank %d) was given up: a rank cannot be "
                 "stopped, it runs its task to the end first",
                 w, t->s[w].rank);
      r = w;
    }
  pthread_mutex_unlock(&E.mu);
  return r;
}

static int m_wait(mproc__pool_tr_t *tr, double deadline, int nap)
{
  mtr_t *t = T(tr);
  unsigned long ev;
  int r = 0;

  pthread_mutex_lock(&E.mu);
  if (!nap && due(t)) {
    t->woken = 0;
    pthread_mutex_unlock(&E.mu);
    return 1;
  }
  ev = t->events;
  while (!t->woken && !(t->events != ev && due(t))) {
    double left = deadline - mproc__plat_now();
    struct timespec ts;
    if (left <= 0)
      break;
    abs_time(&ts, left);
    pthread_cond_timedwait(&t->cv, &E.mu, &ts);
  }
  t->woken = 0;
  pthread_mutex_unlock(&E.mu);
  return r;
}

static void m_wake(mproc__pool_tr_t *tr)
{
  mtr_t *t = T(tr);

  pthread_mutex_lock(&E.mu);
  t->woken = 1;
  pthread_cond_broadcast(&t->cv);
  pthread_mutex_unlock(&E.mu);
}

static void m_stop(mproc__pool_tr_t *tr, int w, int hard)
{
  mslot_t *s = &T(tr)->s[w];

  pthread_mutex_lock(&E.mu);
  if (s->live) {
    if (hard && s->nmarks > 0) {
      /* The rank skips what it has not started; what it still sends
       * for this slot is dropped. */
      small_msg(s->rank, W_CANCEL, T(tr)->id, (uint32_t)w, s->gen);
      if (E.owed != NULL) {
        E.owed[s->rank] += s->nmarks;
        E.owed_total += s->nmarks;
      }
    }
    E.expect -= (long)(s->limit - s->recvd);
    s->live = 0;
    s->gen++;
    s->stopped = hard ? 1 : 2;
  }
  pthread_mutex_unlock(&E.mu);
}

static void m_join(mproc__pool_tr_t *tr, int w)
{
  mslot_t *s = &T(tr)->s[w];

  pthread_mutex_lock(&E.mu);
  slot_reset(s);
  s->live = 0;
  pthread_mutex_unlock(&E.mu);
}

static int m_array_ref(mproc__pool_tr_t *tr, const void *p, size_t len,
                       int copy, unsigned char *ref, size_t *ref_len,
                       void **staged)
{
  mtr_t *t = T(tr);
  stage_t *s = calloc(1, sizeof *s);

  /* The slices travel in the batches and their results: they are read
   * from and written to the caller's arrays themselves, which the call
   * keeps while its slices are out; nothing is staged (*staged is the
   * array: the caller copies nothing). */
  (void)copy;
  if (s == NULL)
    return mproc__err(MPROC_ENOMEM, "out of memory");
  s->buf = (unsigned char *)(uintptr_t)p;
  if (p == NULL || len == 0) {
    s->owned = 1;
    if ((s->buf = malloc(1)) == NULL) {
      free(s);
      return mproc__err(MPROC_ENOMEM, "out of memory");
    }
  }
  s->len = len;
  pthread_mutex_lock(&E.mu);
  s->id = ++t->next_stage;
  if (s->id == 0)
    s->id = ++t->next_stage;
  s->next = t->stages;
  t->stages = s;
  pthread_mutex_unlock(&E.mu);
  ref[0] = 'M';
  mproc__put_u32(ref + 1, s->id);
  mproc__put_u64(ref + 5, len);
  *ref_len = W_REF;
  *staged = s->buf;
  return 0;
}

static void m_array_done(mproc__pool_tr_t *tr, void *staged)
{
  mtr_t *t = T(tr);

  pthread_mutex_lock(&E.mu);
  for (stage_t **l = &t->stages; *l != NULL; l = &(*l)->next)
    if ((*l)->buf == staged) {
      stage_t *s = *l;
      *l = s->next;
      for (int r = 1; r < mproc__mpi_size && r <= t->n; r++)
        small_msg(r, W_FREE, t->id, s->id, 0);
      if (s->owned)
        free(s->buf);
      free(s);
      break;
    }
  pthread_mutex_unlock(&E.mu);
}

static long m_pid(mproc__pool_tr_t *tr, int w)
{
  (void)tr;
  (void)w;
  return -1;
}

static void m_destroy(mproc__pool_tr_t *tr)
{
  mtr_t *t = T(tr);

  pthread_mutex_lock(&E.mu);
  for (mtr_t **l = &E.pools; *l != NULL; l = &(*l)->next)
    if (*l == t) {
      *l = t->next;
      break;
    }
  for (int w = 0; w < t->n; w++)
    inbox_free(&t->s[w]);
  while (t->stages != NULL) {
    stage_t *s = t->stages;
    t->stages = s->next;
    for (int r = 1; r < mproc__mpi_size && r <= t->n; r++)
      small_msg(r, W_FREE, t->id, s->id, 0);
    if (s->owned)
      free(s->buf);
    free(s);
  }
  pthread_mutex_unlock(&E.mu);
  pthread_cond_destroy(&t->cv);
  free(t->s);
  free(t);
}

static const mproc__pool_tr_ops_t ops = {
    m_start, m_send,      m_reclaim,    m_next,  m_started_at, m_hungry, m_idle,
    m_hint,  m_want,      m_poll,       m_ended, m_wait,       m_wake,   m_stop,
    m_join,  m_array_ref, m_array_done, m_pid,   m_destroy};

/* Run the initializer on every rank the pool uses; 0, or why not. */
static int run_initializer(mtr_t *t, const mproc__pool_tr_config_t *cfg)
{
  size_t nl = strlen(cfg->init_name);
  int ranks = t->n < mproc__mpi_size - 1 ? t->n : mproc__mpi_size - 1;

  pthread_mutex_lock(&E.mu);
  for (int r = 1; r <= ranks; r++) {
    size_t len = W_HDR + 1 + nl + cfg->init_len;
    unsigned char *m = w_buf_get(len);
    if (m == NULL)
      break;
    w_put_hdr(m, W_INIT, t->id, 0, 0, len - W_HDR);
    m[W_HDR] = (unsigned char)nl;
    memcpy(m + W_HDR + 1, cfg->init_name, nl);
    if (cfg->init_len > 0)
      memcpy(m + W_HDR + 1 + nl, cfg->init_args, cfg->init_len);
    t->init_wait++;
    E.expect++;
    post_out(r, m, len);
  }
  while (t->init_wait > 0)
    pthread_cond_wait(&t->cv, &E.mu);
  pthread_mutex_unlock(&E.mu);
  if (t->init_rc != 0)
    return mproc__err(t->init_rc < 0 ? t->init_rc : MPROC_ETASK,
                      "Pool: the initializer %s failed on MPI rank %d: %s",
                      cfg->init_name, t->init_rank, t->init_msg);
  return 0;
}

int mproc__mpi_create(mproc__pool_tr_t **out,
                      const mproc__pool_tr_config_t *cfg)
{
  mtr_t *t;
  int rc;

  /* Not under mpirun -n N (N >= 2): spawn mode starts the ranks. */
  if ((rc = mproc__mpi_spawn(cfg->n)) != 0)
    return rc;
  if (mproc__mpi_bad[0] != '\0')
    return mproc__err(MPROC_ENOTREG, "Pool: %s", mproc__mpi_bad);
  if (mproc__mpi_rank != 0)
    return mproc__err(MPROC_ESTATE, "Pool: only MPI rank 0 runs pools");
  if (cfg->maxtasks > 0)
    return mproc__err(MPROC_EINVAL, "Pool: maxtasksperchild cannot be used "
                                    "with the MPI backend");
  if ((t = calloc(1, sizeof *t)) == NULL ||
      (t->s = calloc((size_t)cfg->n, sizeof *t->s)) == NULL) {
    free(t);
    return mproc__err(MPROC_ENOMEM, "out of memory");
  }
  t->base.ops = &ops;
  t->n = cfg->n;
  for (int w = 0; w < t->n; w++)
    t->s[w].rank = 1 + w % (mproc__mpi_size - 1);
  pthread_cond_init(&t->cv, NULL);
  pthread_mutex_lock(&E.mu);
  if (E.owed == NULL &&
      (E.owed = calloc((size_t)mproc__mpi_size, sizeof *E.owed)) == NULL)
    rc = mproc__err(MPROC_ENOMEM, "out of memory");
  else
    rc = thread_up();
  if (rc == 0 && E.stopping)
    rc = mproc__err(MPROC_ESTATE, "Pool: the MPI ranks were stopped (exit)");
  if (rc == 0 && E.broken)
    rc = mproc__err(MPROC_EWORKER, "Pool: %s", E.broken_why);
  if (rc == 0) {
    t->id = ++E.next_id;
    t->next = E.pools;
    E.pools = t;
  }
  pthread_mutex_unlock(&E.mu);
  if (rc == 0 && cfg->init_name != NULL)
    rc = run_initializer(t, cfg);
  if (rc != 0) {
    if (t->id != 0)
      m_destroy(&t->base);
    else {
      pthread_cond_destroy(&t->cv);
      free(t->s);
      free(t);
    }
    return rc;
  }
  *out = &t->base;
  return 0;
}
