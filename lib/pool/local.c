/*
 * The Pool's local transport: worker processes on this machine, started
 * with the pool's start method, each with its own pair of SimpleQueue
 * rings (batches in, result records out), and one small shared control
 * block with a slot per worker.
 *
 * A slot's claim word holds the worker's next task number and the limit
 * of what it was given (next | limit << 32). The worker claims a task by
 * moving next with a compare-and-swap; the scheduler takes unstarted
 * tasks back by moving next up to limit the same way, so a task is either
 * started by the worker or taken back, never both and never neither, even
 * when the worker dies in between.
 *
 * Nobody makes a system call per task on a busy pool. The scheduler's
 * thread sleeps in mproc_wait() on the workers' sentinels and a doorbell
 * pipe; a worker rings the doorbell only when the scheduler says it
 * sleeps and needs what the worker has: a result someone waits for, a
 * request for work while work is pending, or an idle worker while another
 * one holds unstarted tasks. Whoever rings clears the sleeping flag, so
 * one ring wakes it once.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "chunk.h"
#include "object.h"
#include "platform.h"
#include "transport.h"

#define RING ((size_t)1 << 20) /* each queue's ring */
#define TERM_GRACE 1.0         /* terminate, then kill after this */
#define LIVE_CHECK 0.01        /* a busy scheduler still looks for deaths */
#define SHM_CACHE 4            /* blocks a worker keeps mapped */

typedef struct slot {
  _Alignas(64) atomic_ullong claim; /* next | limit << 32 */
  atomic_uint refill;               /* claiming this task asks for more */
  atomic_uint hungry;               /* asked for work (cleared on send) */
  atomic_uint idle;                 /* waits for a batch */
  atomic_uint want_on;              /* the scheduler wants the result of */
  atomic_uint want_seq;             /* ... this task */
  atomic_ullong started;            /* the running item's start (double) */
} slot_t;

typedef struct ctl {
  _Alignas(64) atomic_uint sleeping; /* the scheduler's thread sleeps */
  atomic_uint pending;               /* work waits for a worker */
  atomic_uint want;                  /* every result is wanted */
  atomic_uint timing;                /* record when items start */
  atomic_uint nhungry;               /* slots asking for work */
  _Alignas(64) slot_t slot[];
} ctl_t;

static uint32_t next_of(uint64_t c)
{
  return (uint32_t)c;
}

static uint32_t limit_of(uint64_t c)
{
  return (uint32_t)(c >> 32);
}

static uint64_t claim_word(uint32_t next, uint32_t limit)
{
  return (uint64_t)next | (uint64_t)limit << 32;
}

/* a - b as a signed distance in the 2^32 sequence. */
static int32_t seq_diff(uint32_t a, uint32_t b)
{
  return (int32_t)(a - b);
}

static double bits_to_double(uint64_t b)
{
  double d;
  memcpy(&d, &b, sizeof d);
  return d;
}

static uint64_t double_to_bits(double d)
{
  uint64_t b;
  memcpy(&b, &d, sizeof b);
  return b;
}

/* Whether the slot's worker waits for work with nothing left to run. */
static int slot_idle(slot_t *s)
{
  uint64_t c = atomic_load(&s->claim);

  return atomic_load(&s->idle) && next_of(c) == limit_of(c);
}

/* Whether some busy worker other than @me holds unstarted tasks (which an
 * idle worker could take). */
static int stealable(ctl_t *ctl, int n, int me)
{
  for (int k = 0; k < n; k++) {
    uint64_t c = atomic_load(&ctl->slot[k].claim);
    if (k != me && next_of(c) != limit_of(c) &&
        !atomic_load(&ctl->slot[k].idle))
      return 1;
  }
  return 0;
}

/* ================= the worker's side ================= */

typedef struct cached {
  mproc_shm_t *shm;
  unsigned long used;
} cached_t;

typedef struct wport {
  mproc_queue_t *tq, *rq;
  mproc_conn_t *bell;
  ctl_t *ctl;
  slot_t *me;
  int n, index;
  cached_t cache[SHM_CACHE];
  unsigned long tick;
} wport_t;

static void ring_bell(wport_t *p)
{
  if (atomic_exchange(&p->ctl->sleeping, 0))
    (void)mproc_conn_send_bytes(p->bell, "!", 1, 0, MPROC_ALL);
}

/* Ask for work; wake the scheduler when it has some to give (or, for an
 * idle worker, when another worker holds tasks that could move here). */
static void ask_for_work(wport_t *p, int idle)
{
  if (!atomic_exchange(&p->me->hungry, 1))
    atomic_fetch_add(&p->ctl->nhungry, 1);
  if (atomic_load(&p->ctl->sleeping) &&
      (atomic_load(&p->ctl->pending) ||
       (idle && stealable(p->ctl, p->n, p->index))))
    ring_bell(p);
}

static int port_recv(void *ctx, void **batch, size_t *len)
{
  wport_t *p = ctx;
  uint64_t c = atomic_load(&p->me->claim);
  int rc;

  if (next_of(c) == limit_of(c) &&
      mproc_queue_qsize(p->tq) == 0) { /* nothing left: idle */
    atomic_store(&p->me->idle, 1);
    ask_for_work(p, 1);
  }
  rc = mproc__queue_get_raw(p->tq, MPROC_FOREVER, batch, len);
  atomic_store(&p->me->idle, 0);
  return rc;
}

static void port_release(void *ctx, void *batch)
{
  (void)ctx;
  mproc__args_buffer_free(batch);
}

static void port_item_started(void *ctx)
{
  wport_t *p = ctx;

  atomic_store(&p->me->started, double_to_bits(mproc__plat_now()));
}

static int port_claim(void *ctx, uint32_t seq)
{
  wport_t *p = ctx;
  uint64_t c = atomic_load(&p->me->claim);

  /* The start time is written first: a scheduler that sees the claim
   * sees a start time no older than it. */
  if (atomic_load(&p->ctl->timing))
    port_item_started(p);
  do {
    if (next_of(c) != seq || seq_diff(limit_of(c), seq) <= 0)
      return 0; /* taken back */
  } while (!atomic_compare_exchange_weak(&p->me->claim, &c,
                                         claim_word(seq + 1, limit_of(c))));
  if (seq == atomic_load(&p->me->refill))
    ask_for_work(p, 0);
  return 1;
}

static int port_post(void *ctx, uint32_t seq, const mproc__iov_t *iov, size_t n)
{
  wport_t *p = ctx;
  uint64_t cap;
  int rc = mproc__queue_put_iov(p->rq, MPROC_FOREVER, iov, n);

  if (rc == 0 && atomic_load(&p->ctl->sleeping) &&
      (atomic_load(&p->ctl->want) ||
       (atomic_load(&p->me->want_on) &&
        seq_diff(seq, atomic_load(&p->me->want_seq)) >= 0) ||
       mproc__queue_bytes(p->rq, &cap) > cap / 2))
    ring_bell(p);
  return rc;
}

/* A reference is a block's name (NUL-terminated) and a u64 offset. */
static int port_resolve(void *ctx, const unsigned char *ref, size_t ref_len,
                        size_t len, void **addr)
{
  wport_t *p = ctx;
  const char *name = (const char *)ref;
  size_t nl = ref_len >= 9 ? strnlen(name, ref_len - 8) : ref_len;
  cached_t *c = NULL, *lru = &p->cache[0];
  uint64_t off;

  if (nl + 9 != ref_len)
    return mproc__err(MPROC_ECODEC, "pool: bad array reference");
  off = mproc__get_u64(ref + nl + 1);
  for (int i = 0; i < SHM_CACHE && c == NULL; i++) {
    if (p->cache[i].shm != NULL &&
        strcmp(mproc_shm_name(p->cache[i].shm), name) == 0)
      c = &p->cache[i];
    else if (p->cache[i].used < lru->used)
      lru = &p->cache[i];
  }
  if (c == NULL) {
    c = lru;
    mproc_shm_free(c->shm); /* the least recently used goes */
    c->shm = NULL;
    int rc = mproc_shm_open(&c->shm, name, 0, 0);
    if (rc != 0)
      return rc;
  }
  c->used = ++p->tick;
  if (off > mproc_shm_size(c->shm) || len > mproc_shm_size(c->shm) - off)
    return mproc__err(MPROC_ERANGE, "pool: array outside its block");
  *addr = (char *)mproc_shm_buf(c->shm) + off;
  return 0;
}

/* The worker process. */
MPROC_TARGET(mproc__pool_worker)
{
  wport_t p = {0};
  mproc_shared_t *ctl;
  const char *init;
  const void *init_args;
  size_t init_len;
  long maxtasks;
  int rc;

  if (mproc_args_parse(args, "ooooiizy#l", MPROC_KIND_SIMPLE_QUEUE, &p.tq,
                       MPROC_KIND_SIMPLE_QUEUE, &p.rq, MPROC_KIND_CONNECTION,
                       &p.bell, MPROC_KIND_ARRAY, &ctl, &p.index, &p.n, &init,
                       &init_args, &init_len, &maxtasks) != 0)
    return MPROC_EXIT_BOOTSTRAP;
  p.ctl = mproc_shared_ptr(ctl);
  p.me = &p.ctl->slot[p.index];
  if (init != NULL) {
    mproc_target_fn fn = mproc__target_lookup(init);
    mproc_args_t *ia = NULL;
    if (fn == NULL || mproc__args_new(&ia, init_args, init_len, NULL, 0) != 0)
      return MPROC_EXIT_NOTARGET;
    rc = fn(ia);
    mproc_args_free(ia);
    if (rc != 0) { /* as CPython's worker, which dies with the exception */
      MPROC__LOG(MPROC_LOG_WARNING, "pool initializer %s failed: %s", init,
                 mproc__current_failure() != NULL ? mproc__current_failure()
                                                  : "non-zero return");
      return rc;
    }
  }
  mproc__pool_port_t port = {
      &p,         port_recv,         port_release,
      port_claim, port_item_started, (int)atomic_load(&p.ctl->timing),
      port_post,  port_resolve};
  rc = mproc__pool_worker_loop(&port, maxtasks);
  for (int i = 0; i < SHM_CACHE; i++)
    mproc_shm_free(p.cache[i].shm);
  return rc == 0 ? 0 : 1;
}

/* ================= the scheduler's side ================= */

typedef struct lworker {
  mproc_process_t *proc;
  mproc_queue_t *tq, *rq;
  int ended;    /* its end was seen */
  int reported; /* ... and told to the scheduler */
  int stop;     /* how it was stopped (the stop op's @hard), -1: not */
} lworker_t;

typedef struct stage {
  mproc_shm_t *shm;
  int busy;
} stage_t;

typedef struct local {
  mproc__pool_tr_t base;
  mproc__pool_tr_config_t cfg;
  char prefix[32];
  long named;
  lworker_t *w;
  mproc_shared_t *ctl_v;
  ctl_t *ctl;
  mproc_conn_t *bell_r, *bell_w;
  mproc_waitable_t *objs;
  int *ready, *who;
  double last_check;
  stage_t *stages; /* typed arrays' staging blocks */
  size_t nstages;
} local_t;

#define L(t) ((local_t *)(t))

static void forget(local_t *l, int w)
{
  lworker_t *lw = &l->w[w];
  slot_t *s;

  mproc_process_free(lw->proc);
  mproc_queue_free(lw->tq);
  mproc_queue_free(lw->rq);
  memset(lw, 0, sizeof *lw);
  lw->stop = -1;
  if (l->ctl == NULL) /* a create that failed before the control block */
    return;
  s = &l->ctl->slot[w];
  if (atomic_exchange(&s->hungry, 0))
    atomic_fetch_sub(&l->ctl->nhungry, 1);
  atomic_store(&s->claim, 0);
  atomic_store(&s->refill, 0);
  atomic_store(&s->idle, 0);
  atomic_store(&s->want_on, 0);
  atomic_store(&s->started, 0);
}

static int l_start(mproc__pool_tr_t *t, int w)
{
  local_t *l = L(t);
  lworker_t *lw = &l->w[w];
  mproc_process_t *p = NULL;
  char name[64];
  int rc;

  forget(l, w);
  if ((rc = mproc__simple_queue_create_ring(&lw->tq, RING)) != 0 ||
      (rc = mproc__simple_queue_create_ring(&lw->rq, RING)) != 0)
    goto fail;
  rc = mproc_context_process(l->cfg.context, &p, mproc__pool_worker,
                             "ooooiizy#l", lw->tq, lw->rq, l->bell_w, l->ctl_v,
                             w, l->cfg.n, l->cfg.init_name,
                             l->cfg.init_args ? l->cfg.init_args : "",
                             l->cfg.init_len, l->cfg.maxtasks);
  if (rc != 0)
    goto fail;
  snprintf(name, sizeof name, "%s-%ld", l->prefix, ++l->named);
  mproc_process_set_name(p, name);
  mproc_process_set_daemon(p, 1);
  if ((rc = mproc_process_start(p)) != 0)
    goto fail;
  lw->proc = p;
  return 0;
fail:
  mproc_process_free(p);
  forget(l, w);
  return rc;
}

static int l_send(mproc__pool_tr_t *t, int w, uint32_t first, uint32_t n,
                  const mproc__iov_t *iov, size_t niov)
{
  local_t *l = L(t);
  slot_t *s = &l->ctl->slot[w];
  uint64_t c;
  int rc;

  if (l->w[w].proc == NULL || l->w[w].ended)
    return mproc__err(MPROC_EBROKEN, "pool: the worker is gone");
  /* Cleared first: a request the worker makes after this one sticks. */
  if (atomic_exchange(&s->hungry, 0))
    atomic_fetch_sub(&l->ctl->nhungry, 1);
  atomic_store(&s->refill, first + n - 1 - n / 4);
  c = atomic_load(&s->claim);
  while (!atomic_compare_exchange_weak(&s->claim, &c,
                                       claim_word(next_of(c), first + n)))
    ;
  rc = mproc__queue_put_iov(l->w[w].tq, 0, iov, niov);
  if (rc != 0) { /* not sent: nothing of it can have been claimed */
    c = atomic_load(&s->claim);
    while (!atomic_compare_exchange_weak(&s->claim, &c,
                                         claim_word(next_of(c), first)))
      ;
  }
  return rc;
}

static void l_reclaim(mproc__pool_tr_t *t, int w, uint32_t *from, uint32_t *to)
{
  slot_t *s = &L(t)->ctl->slot[w];
  uint64_t c = atomic_load(&s->claim);

  while (!atomic_compare_exchange_weak(&s->claim, &c,
                                       claim_word(limit_of(c), limit_of(c))))
    ;
  *from = next_of(c);
  *to = limit_of(c);
}

static uint32_t l_next(mproc__pool_tr_t *t, int w)
{
  return next_of(atomic_load(&L(t)->ctl->slot[w].claim));
}

static double l_started_at(mproc__pool_tr_t *t, int w)
{
  return bits_to_double(atomic_load(&L(t)->ctl->slot[w].started));
}

static int l_hungry(mproc__pool_tr_t *t, int w)
{
  ctl_t *ctl = L(t)->ctl;

  if (w < 0)
    return (int)atomic_load(&ctl->nhungry);
  return (int)atomic_load(&ctl->slot[w].hungry);
}

static int l_idle(mproc__pool_tr_t *t, int w)
{
  return slot_idle(&L(t)->ctl->slot[w]);
}

static void l_hint(mproc__pool_tr_t *t, int pending, int all)
{
  ctl_t *ctl = L(t)->ctl;

  atomic_store(&ctl->pending, pending != 0);
  atomic_store(&ctl->want, all != 0);
}

static void l_want(mproc__pool_tr_t *t, int w, int on, uint32_t seq)
{
  slot_t *s = &L(t)->ctl->slot[w];

  /* The number first: a worker that sees @on sees the right one. */
  atomic_store(&s->want_seq, seq);
  atomic_store(&s->want_on, on != 0);
}

typedef struct poll_ctx {
  mproc__pool_rec_fn fn;
  void *ctx;
  int w;
} poll_ctx_t;

static void poll_one(void *ctx, const void *msg, size_t len)
{
  poll_ctx_t *pc = ctx;

  pc->fn(pc->ctx, pc->w, msg, len);
}

static size_t l_poll(mproc__pool_tr_t *t, int w, mproc__pool_rec_fn fn,
                     void *ctx)
{
  lworker_t *lw = &L(t)->w[w];
  poll_ctx_t pc = {fn, ctx, w};
  int got;

  if (lw->rq == NULL)
    return 0;
  got = mproc__queue_drain(lw->rq, poll_one, &pc);
  return got > 0 ? (size_t)got : 0;
}

/* Why worker @lw ended, after reaping it. */
static void end_reason(lworker_t *lw, char *why, size_t cap)
{
  int code = 0;

  mproc_process_join(lw->proc, 0.5);
  if (mproc_process_is_alive(lw->proc) == 1) {
    mproc_process_kill(lw->proc);
    mproc_process_join(lw->proc, MPROC_FOREVER);
  }
  mproc_process_exitcode(lw->proc, &code);
  if (code < 0)
    snprintf(why, cap, "worker %s (pid %ld) died: killed by signal %d",
             mproc_process_name(lw->proc), mproc_process_pid(lw->proc), -code);
  else if (code == 0)
    snprintf(why, cap, "worker %s (pid %ld) exited", /* maxtasksperchild */
             mproc_process_name(lw->proc), mproc_process_pid(lw->proc));
  else
    snprintf(why, cap, "worker %s (pid %ld) died: exit code %d",
             mproc_process_name(lw->proc), mproc_process_pid(lw->proc), code);
}

static int l_ended(mproc__pool_tr_t *t, char *why, size_t cap)
{
  local_t *l = L(t);

  for (int w = 0; w < l->cfg.n; w++) {
    lworker_t *lw = &l->w[w];
    if (lw->proc != NULL && lw->ended && !lw->reported) {
      lw->reported = 1;
      end_reason(lw, why, cap);
      return w;
    }
  }
  return -1;
}

/* Whether a worker has something the scheduler should see now. */
static int visible_work(local_t *l)
{
  ctl_t *ctl = l->ctl;
  int want = (int)atomic_load(&ctl->want);
  int pending = (int)atomic_load(&ctl->pending);
  uint64_t cap;

  for (int w = 0; w < l->cfg.n; w++) {
    lworker_t *lw = &l->w[w];
    if (lw->proc == NULL)
      continue;
    if (lw->ended && !lw->reported)
      return 1;
    if (mproc_queue_qsize(lw->rq) > 0 &&
        (want || mproc__queue_bytes(lw->rq, &cap) > cap / 2 ||
         (atomic_load(&ctl->slot[w].want_on) &&
          seq_diff(next_of(atomic_load(&ctl->slot[w].claim)),
                   atomic_load(&ctl->slot[w].want_seq)) > 0)))
      return 1;
    if (pending && atomic_load(&ctl->slot[w].hungry))
      return 1;
    if (slot_idle(&ctl->slot[w]) && stealable(ctl, l->cfg.n, w))
      return 1;
  }
  return 0;
}

/* Wait on the doorbell and the live workers' sentinels; mark the ended. */
static void wait_objects(local_t *l, double timeout)
{
  size_t n = 0;
  int rc;

  l->objs[n++] = MPROC_WAITABLE_CONN(l->bell_r);
  for (int w = 0; w < l->cfg.n; w++)
    if (l->w[w].proc != NULL && !l->w[w].ended) {
      l->who[n] = w;
      l->objs[n++] = MPROC_WAITABLE_PROCESS(l->w[w].proc);
    }
  rc = mproc_wait(l->objs, n, timeout, l->ready);
  for (size_t i = 1; rc > 0 && i < n; i++)
    if (l->ready[i])
      l->w[l->who[i]].ended = 1;
  while (mproc_conn_poll(l->bell_r, 0) == 1) {
    void *b = NULL;
    size_t len;
    if (mproc_conn_recv_bytes(l->bell_r, 64, &b, &len) != 0)
      break;
    free(b);
  }
  l->last_check = mproc__plat_now();
}

static int l_wait(mproc__pool_tr_t *t, double deadline, int nap)
{
  local_t *l = L(t);
  double now = mproc__plat_now();

  atomic_store(&l->ctl->sleeping, 1);
  if (!nap && visible_work(l)) {
    atomic_store(&l->ctl->sleeping, 0);
    if (now - l->last_check >= LIVE_CHECK)
      wait_objects(l, 0);
    return 1;
  }
  wait_objects(l, deadline - now);
  atomic_store(&l->ctl->sleeping, 0);
  return 0;
}

static void l_wake(mproc__pool_tr_t *t)
{
  (void)mproc_conn_send_bytes(L(t)->bell_w, "!", 1, 0, MPROC_ALL);
}

static void l_stop(mproc__pool_tr_t *t, int w, int hard)
{
  lworker_t *lw = &L(t)->w[w];
  unsigned char hdr[MPROC__BATCH_HDR];

  if (lw->proc == NULL || lw->stop >= 0)
    return;
  lw->stop = hard;
  if (hard == 2) {
    mproc_process_kill(lw->proc);
  } else if (hard == 1) {
    mproc_process_terminate(lw->proc);
  } else {
    mproc__batch_header(hdr, 0, 0, MPROC__BATCH_STOP);
    if (mproc__queue_put_iov(lw->tq, MPROC_FOREVER,
                             &(mproc__iov_t){hdr, sizeof hdr}, 1) != 0)
      mproc_process_terminate(lw->proc);
  }
}

static void l_join(mproc__pool_tr_t *t, int w)
{
  local_t *l = L(t);
  lworker_t *lw = &l->w[w];

  if (lw->proc == NULL)
    return;
  if (mproc_process_join(lw->proc, lw->stop > 0 ? TERM_GRACE : MPROC_FOREVER) ==
      MPROC_ETIMEDOUT) {
    mproc_process_kill(lw->proc);
    mproc_process_join(lw->proc, MPROC_FOREVER);
  }
  forget(l, w);
}

/* ---- typed arrays: staging blocks ---- */

static int make_ref(const char *name, size_t off, unsigned char *ref,
                    size_t *ref_len)
{
  size_t nl = strlen(name);

  if (nl + 9 > MPROC__POOL_REF_MAX)
    return mproc__err(MPROC_EINVAL, "pool: block name too long");
  memcpy(ref, name, nl + 1);
  mproc__put_u64(ref + nl + 1, off);
  *ref_len = nl + 9;
  return 0;
}

/* A free staging block of at least @len bytes. Blocks are kept for the
 * next call (their pages stay mapped, so a repeated map costs no page
 * faults); one too small is replaced; concurrent calls add blocks. */
static int stage_get(local_t *l, size_t len, stage_t **out)
{
  stage_t *s = NULL;
  int rc;

  for (size_t i = 0; i < l->nstages; i++) {
    stage_t *c = &l->stages[i];
    if (c->busy)
      continue;
    if (mproc_shm_size(c->shm) >= len) {
      *out = c;
      return 0;
    }
    s = c;
  }
  if (s != NULL) { /* replace a block too small */
    mproc_shm_unlink(s->shm);
    mproc_shm_free(s->shm);
    s->shm = NULL;
  } else {
    stage_t *grown = realloc(l->stages, (l->nstages + 1) * sizeof *grown);
    if (grown == NULL)
      return mproc__err(MPROC_ENOMEM, "out of memory");
    l->stages = grown;
    s = &l->stages[l->nstages];
    memset(s, 0, sizeof *s);
  }
  rc = mproc_shm_open(&s->shm, NULL, 1, len > 0 ? len : 1);
  if (rc != 0)
    return rc; /* an empty entry is never counted */
  if (s == &l->stages[l->nstages])
    l->nstages++;
  *out = s;
  return 0;
}

static int l_array_ref(mproc__pool_tr_t *t, const void *p, size_t len, int copy,
                       unsigned char *ref, size_t *ref_len, void **staged)
{
  local_t *l = L(t);
  char name[40];
  size_t off;
  stage_t *s = NULL;
  int rc;

  *staged = NULL;
  if (mproc__shm_locate(p, len, name, sizeof name, &off) == 0)
    return make_ref(name, off, ref, ref_len); /* in place */
  if ((rc = stage_get(l, len, &s)) != 0)
    return rc;
  if ((rc = make_ref(mproc_shm_name(s->shm), 0, ref, ref_len)) != 0)
    return rc;
  if (copy && len > 0)
    memcpy(mproc_shm_buf(s->shm), p, len);
  s->busy = 1;
  *staged = mproc_shm_buf(s->shm);
  return 0;
}

static void l_array_done(mproc__pool_tr_t *t, void *staged)
{
  local_t *l = L(t);

  for (size_t i = 0; i < l->nstages; i++)
    if (mproc_shm_buf(l->stages[i].shm) == staged)
      l->stages[i].busy = 0;
}

static long l_pid(mproc__pool_tr_t *t, int w)
{
  lworker_t *lw = &L(t)->w[w];

  return lw->proc != NULL ? mproc_process_pid(lw->proc) : -1;
}

static void l_destroy(mproc__pool_tr_t *t)
{
  local_t *l = L(t);

  if (l == NULL)
    return;
  for (int w = 0; l->w != NULL && w < l->cfg.n; w++)
    forget(l, w);
  for (size_t i = 0; i < l->nstages; i++) {
    mproc_shm_unlink(l->stages[i].shm);
    mproc_shm_free(l->stages[i].shm);
  }
  free(l->stages);
  free(l->w);
  free(l->objs);
  free(l->ready);
  free(l->who);
  mproc_conn_free(l->bell_r);
  mproc_conn_free(l->bell_w);
  mproc_shared_free(l->ctl_v);
  free(l);
}

static const mproc__pool_tr_ops_t local_ops = {
    .start = l_start,
    .send = l_send,
    .reclaim = l_reclaim,
    .next = l_next,
    .started_at = l_started_at,
    .hungry = l_hungry,
    .idle = l_idle,
    .hint = l_hint,
    .want = l_want,
    .poll = l_poll,
    .ended = l_ended,
    .wait = l_wait,
    .wake = l_wake,
    .stop = l_stop,
    .join = l_join,
    .array_ref = l_array_ref,
    .array_done = l_array_done,
    .pid = l_pid,
    .destroy = l_destroy,
};

int mproc__pool_local_create(mproc__pool_tr_t **out,
                             const mproc__pool_tr_config_t *cfg,
                             const char *name_prefix)
{
  size_t n = (size_t)cfg->n;
  local_t *l = calloc(1, sizeof *l);
  int rc;

  *out = NULL;
  if (l == NULL)
    return mproc__err(MPROC_ENOMEM, "out of memory");
  l->base.ops = &local_ops;
  l->cfg = *cfg;
  snprintf(l->prefix, sizeof l->prefix, "%s", name_prefix);
  l->w = calloc(n, sizeof *l->w);
  l->objs = calloc(n + 1, sizeof *l->objs);
  l->ready = calloc(n + 1, sizeof *l->ready);
  l->who = calloc(n + 1, sizeof *l->who);
  if (l->w == NULL || l->objs == NULL || l->ready == NULL || l->who == NULL) {
    l_destroy(&l->base);
    return mproc__err(MPROC_ENOMEM, "out of memory");
  }
  for (size_t w = 0; w < n; w++)
    l->w[w].stop = -1;
  if ((rc = mproc_pipe(&l->bell_r, &l->bell_w, 0)) != 0 ||
      (rc = mproc_shared_array_create(&l->ctl_v, MPROC_C_UBYTE,
                                      sizeof(ctl_t) + n * sizeof(slot_t), 0)) !=
          0) {
    l_destroy(&l->base);
    return rc;
  }
  l->ctl = mproc_shared_ptr(l->ctl_v);
  atomic_store(&l->ctl->timing, cfg->timing != 0);
  *out = &l->base;
  return 0;
}
