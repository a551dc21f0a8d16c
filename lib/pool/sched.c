/*
 * The Pool's scheduler: jobs and their tasks, batching, results,
 * callbacks, worker lifecycle and faults, over a transport
 * (transport.h). It never sees how bytes move or what a worker is.
 *
 * Tasks wait in one pending list and are handed out in batches: a
 * worker that asks for work (it is low or idle) gets a fair share of
 * what is pending, so tasks submitted while workers are busy travel
 * together, and a worker is topped up before it runs dry. A worker that
 * waits idle while another one holds unstarted tasks (behind a long or
 * hung task) takes them: the scheduler reclaims them and hands them out
 * again. When a worker dies, only the task it was running fails
 * (MPROC_EWORKER); what it held unstarted goes to the others. With a
 * task timeout, a task running past it fails with MPROC_ETIMEDOUT and its
 * worker is killed and replaced.
 *
 * One thread per pool (the result thread) sleeps in the transport's
 * wait() and runs everything that cannot wait for a caller: deaths,
 * timeouts, callbacks, restarts. Callers submit and take results
 * themselves under the lock, so a busy pool needs that thread rarely.
 */
#include <apr_pools.h>
#include <apr_thread_cond.h>
#include <apr_thread_mutex.h>
#include <apr_thread_proc.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "object.h"
#include "platform.h"
#include "sched.h"

/* The result thread looks around anyway this often (seconds). A test
 * makes it an hour (mproc__pool_set_idle_wake), so that a wake-up the
 * protocol misses shows as a hang instead of a second's delay. */
static double idle_wake = 1.0;
#define IDLE_WAKE idle_wake
#define STALE_WAIT 0.05  /* unstarted this long, a worker's tasks may move */
#define NAP 0.001        /* ... and waits this long for a settling */
#define BATCH_TASKS 4096 /* tasks in one batch at most */
#define BATCH_BYTES                                                            \
  (256 << 10)         /* bytes of one batch, beyond its first task             \
                       */
#define FREE_MAX 4096 /* records kept for reuse, per kind */

enum { RUN, CLOSE, TERMINATE };

/* ---- the one lock ---- */

static apr_pool_t *g_pool;
static apr_thread_mutex_t *g_mu;
static apr_thread_cond_t *g_cv;

MPROC__CTOR(pool_library_init)
{
  if (apr_initialize() != APR_SUCCESS ||
      apr_pool_create(&g_pool, NULL) != APR_SUCCESS ||
      apr_thread_mutex_create(&g_mu, APR_THREAD_MUTEX_DEFAULT, g_pool) !=
          APR_SUCCESS ||
      apr_thread_cond_create(&g_cv, g_pool) != APR_SUCCESS)
    g_mu = NULL;
}

void mproc__pool_lock(void)
{
  apr_thread_mutex_lock(g_mu);
}

void mproc__pool_unlock(void)
{
  apr_thread_mutex_unlock(g_mu);
}

static void wake_waiters(void)
{
  apr_thread_cond_broadcast(g_cv);
}

/* Wait on the condition until @deadline; MPROC_ETIMEDOUT once it passed. */
static int cv_wait(double deadline)
{
  if (deadline >= MPROC__NEVER) {
    apr_thread_cond_wait(g_cv, g_mu);
    return 0;
  }
  double left = deadline - mproc__plat_now();
  if (left <= 0)
    return MPROC_ETIMEDOUT;
  apr_thread_cond_timedwait(g_cv, g_mu, (apr_interval_time_t)(left * 1e6) + 1);
  return 0;
}

/* ---- the pool ---- */

typedef struct fire {
  mproc__job_t *job;
  int what; /* 0 result, 1 error, 2 progress */
  size_t done, total;
  struct fire *next;
} fire_t;

typedef struct wslot {
  int alive;                  /* a worker runs in the slot */
  int dying;                  /* killed (timeout): give it nothing */
  mproc__task_t *head, *tail; /* given, in order, not back */
  uint32_t limit;             /* the next number to give */
  long given;                 /* tasks given to this worker */
  double fed_at;              /* when it was last given a batch */
  int stalled;                /* its tasks were taken unstarted */
} wslot_t;

struct mproc_pool {
  int n, state, thread_running, joined;
  mproc__pool_tr_t *tr;
  wslot_t *w;
  mproc__task_t *pend_head, *pend_tail;
  size_t npending;
  size_t unfinished;     /* tasks submitted and not settled */
  size_t cb_jobs;        /* jobs with callbacks not settled */
  size_t waiters;        /* threads waiting for a job of this pool */
  mproc__job_t **waited; /* ... the jobs they wait for */
  size_t nwaited, waited_cap;
  int hint_pending, hint_all, wants_set;
  fire_t *fire; /* callbacks due, newest first */
  apr_pool_t *ap;
  apr_thread_t *thread;
  long maxtasks;
  double timeout;
  long pid; /* the process that made it */
  mproc_pool_t *next_live;
  /* building batches */
  unsigned char *hdrs;
  size_t hdrs_cap;
  mproc__iov_t *iov;
  size_t iov_cap;
  msgpack_sbuffer scratch;
  /* a cache of the last function's name */
  mproc_target_fn last_fn;
  const char *last_name;
  char *init_name;
  void *init_args;
  size_t init_len;
  mproc__pool_stats_t stats;
};

static mproc_pool_t *live_pools; /* for the exit handler */
static atomic_int exiting;
static _Thread_local mproc_pool_t *in_result_thread;

/* ---- hints and callbacks ---- */

/* Where a job's tasks are: noted as they are given and come back. */
static mproc__job_w_t *job_on(mproc_pool_t *pool, mproc__job_t *j, int w)
{
  if (j->chunk == &j->chunk1) { /* one task: no array */
    j->on = &j->on1;
    j->on1_w = w;
    return &j->on1;
  }
  if (j->on == NULL && (j->on = calloc((size_t)pool->n, sizeof *j->on)) == NULL)
    return NULL;
  return &j->on[w];
}

static void job_given(mproc_pool_t *pool, mproc__task_t *t)
{
  mproc__job_w_t *o = job_on(pool, t->job, t->worker);

  if (o != NULL) {
    o->out++;
    o->last = t->seq;
  }
}

static mproc__job_w_t *job_back(mproc__task_t *t)
{
  mproc__job_t *j = t->job;
  mproc__job_w_t *o = j->on == &j->on1 ? &j->on1
                      : j->on != NULL  ? &j->on[t->worker]
                                       : NULL;

  if (o != NULL && o->out > 0)
    o->out--;
  return o;
}

/* What the transport should wake the scheduler for: every result when
 * callbacks are due, imap is read or the pool closes; else, per worker,
 * the earliest of "the last task a waited-for job has there". */
static void update_wants(mproc_pool_t *pool, int all)
{
  const mproc__pool_tr_ops_t *ops = pool->tr->ops;

  if (pool->nwaited == 0 || all) {
    if (pool->wants_set)
      for (int w = 0; w < pool->n; w++)
        ops->want(pool->tr, w, 0, 0);
    pool->wants_set = 0;
    return;
  }
  for (int w = 0; w < pool->n; w++) {
    int on = 0;
    uint32_t seq = 0;
    for (size_t k = 0; k < pool->nwaited; k++) {
      mproc__job_t *j = pool->waited[k];
      mproc__job_w_t *o = j->on == &j->on1 ? (j->on1_w == w ? &j->on1 : NULL)
                          : j->on != NULL  ? &j->on[w]
                                           : NULL;
      if (o != NULL && o->out > 0 && (!on || (int32_t)(o->last - seq) < 0)) {
        on = 1;
        seq = o->last;
      }
    }
    ops->want(pool->tr, w, on, seq);
  }
  pool->wants_set = 1;
}

/* Tell the transport what the scheduler needs. */
static void update_hints(mproc_pool_t *pool)
{
  int pending = pool->npending > 0;
  int all = pool->cb_jobs > 0 || pool->state != RUN;

  for (size_t k = 0; k < pool->nwaited && !all; k++)
    all = pool->waited[k]->kind == MPROC__J_IMAP;
  if (pending != pool->hint_pending || all != pool->hint_all) {
    pool->hint_pending = pending;
    pool->hint_all = all;
    pool->tr->ops->hint(pool->tr, pending, all);
  }
  if (pool->nwaited > 0 || pool->wants_set)
    update_wants(pool, all);
}

static void fire_add(mproc_pool_t *pool, mproc__job_t *j, int what, size_t done,
                     size_t total)
{
  fire_t *f = malloc(sizeof *f);

  if (f == NULL) { /* no callback then, but never a hang */
    if (what != 2) {
      j->done = 1;
      wake_waiters();
    }
    return;
  }
  f->job = j;
  f->what = what;
  f->done = done;
  f->total = total;
  f->next = pool->fire;
  j->refs++;
  pool->fire = f;
  if (in_result_thread != pool)
    pool->tr->ops->wake(pool->tr);
}

/* Run the callbacks due (oldest first), without the lock. Only the
 * result thread runs them, as CPython's result handler does. */
static void fire_run(mproc_pool_t *pool)
{
  fire_t *rev = NULL, *list = pool->fire;

  pool->fire = NULL;
  while (list != NULL) {
    fire_t *f = list;
    list = f->next;
    f->next = rev;
    rev = f;
  }
  mproc__pool_unlock();
  for (fire_t *f = rev; f != NULL; f = f->next) {
    mproc__job_t *j = f->job;
    if (f->what == 2 && j->cb.on_progress != NULL) {
      j->cb.on_progress(f->done, f->total, j->cb.ud);
    } else if (f->what == 1 && j->cb.on_error != NULL) {
      j->cb.on_error(j->status, j->msg ? j->msg : "", j->cb.ud);
    } else if (f->what == 0 && j->cb.on_result != NULL) {
      mproc_args_t *r = NULL;
      if (mproc__job_result(j, &r) == 0)
        j->cb.on_result(r, j->cb.ud);
      mproc_args_free(r);
    }
  }
  mproc__pool_lock();
  /* Ready only now, as in CPython: the callbacks run before get()
   * returns. */
  while (rev != NULL) {
    fire_t *f = rev;
    rev = f->next;
    if (f->what != 2) {
      f->job->done = 1;
      wake_waiters();
    }
    mproc__job_unref(f->job);
    free(f);
  }
}

/* ---- results ---- */

/* The job's outcome is known: callers may see it (after callbacks). */
static void job_settle(mproc_pool_t *pool, mproc__job_t *j, int what)
{
  j->settled = 1;
  if (j->has_cb) {
    pool->cb_jobs--;
    fire_add(pool, j, what, 0, 0);
  } else {
    j->done = 1;
    if (j->waiters > 0)
      wake_waiters();
  }
}

/* Chunk @c of @j is back: its @nvalues values (@len bytes at @v), or
 * failure @status/@msg. */
static void chunk_back(mproc_pool_t *pool, mproc__job_t *j, size_t c,
                       const void *v, size_t len, uint32_t nvalues, int status,
                       const char *msg)
{
  if (j->chunk[c].back) /* twice: ignore */
    return;
  if (status == 0 && mproc__job_keep_values(j, c, v, len) != 0) {
    status = MPROC_ENOMEM;
    msg = "out of memory keeping a result";
  }
  j->chunk[c].back = 1;
  pool->unfinished--;
  j->chunks_back++;
  if (j->arrival != NULL)
    j->arrival[j->narrived++] = c;
  if (status == 0) {
    j->items_back += nvalues;
  } else {
    mproc__job_keep_failure(j, c, status, msg);
    /* map fails at its first failing chunk; an array waits for every
     * slice (workers may still write into its memory). */
    if (!j->settled && (j->kind == MPROC__J_MAP || j->kind == MPROC__J_APPLY))
      job_settle(pool, j, 1);
  }
  if (j->kind == MPROC__J_MAP && j->has_cb && j->cb.on_progress != NULL &&
      status == 0)
    fire_add(pool, j, 2, j->items_back, j->nitems);
  if (j->chunks_back == j->nchunks && !j->settled)
    job_settle(pool, j, j->status != 0);
  if (j->kind == MPROC__J_IMAP && j->waiters > 0)
    wake_waiters();
  if (j->chunks_back == j->nchunks) {
    j->pool = NULL;
    mproc__job_unref(j); /* the pool's: no chunk of it is out any more */
  }
}

/* Task @t is back: its values, or its failure. */
static void task_back(mproc_pool_t *pool, mproc__task_t *t, const void *v,
                      size_t len, uint32_t nvalues, int status, const char *msg)
{
  mproc__job_t *j = t->job;
  uint32_t idx = t->idx;
  int settled = t->settled;

  /* A settled task (timed out) may have outlived its job. */
  if (!settled && t->worker >= 0)
    job_back(t);
  mproc__task_free(t); /* first: the last chunk may free the job's tasks */
  if (!settled)
    chunk_back(pool, j, idx, v, len, nvalues, status, msg);
}

/* A result record from worker @w (the transport's poll callback). */
static void on_record(void *ctx, int w, const void *rec, size_t len)
{
  mproc_pool_t *pool = ctx;
  wslot_t *s = &pool->w[w];
  mproc__task_t *t = s->head;
  const char *payload = (const char *)rec + MPROC__RESULT_HDR;
  uint32_t seq, values;
  int status;

  /* Records come in the order tasks were given; anything else is not
   * ours (a stray from a worker already handled). */
  if (t == NULL || mproc__result_read(rec, len, &seq, &status, &values) != 0 ||
      seq != t->seq)
    return;
  s->head = t->next;
  if (s->head == NULL)
    s->tail = NULL;
  len -= MPROC__RESULT_HDR;
  if (status == 0) {
    task_back(pool, t, payload, len, values, 0, NULL);
    return;
  }
  char *m = malloc(len + 1);
  if (m != NULL) {
    memcpy(m, payload, len);
    m[len] = '\0';
  }
  task_back(pool, t, NULL, 0, 0, status < 0 ? status : MPROC_ETASK,
            m != NULL ? m : "task failed");
  free(m);
}

/* Take every result posted; how many. */
static size_t drain(mproc_pool_t *pool)
{
  size_t got = 0;

  for (int w = 0; w < pool->n; w++)
    if (pool->w[w].head != NULL)
      got += pool->tr->ops->poll(pool->tr, w, on_record, pool);
  return got;
}

/* ---- handing out work ---- */

static void pending_push_front(mproc_pool_t *pool, mproc__task_t *first,
                               mproc__task_t *last, size_t n)
{
  last->next = pool->pend_head;
  pool->pend_head = first;
  if (pool->pend_tail == NULL)
    pool->pend_tail = last;
  pool->npending += n;
}

/* Move @w's tasks from number @from on back to the pending list (they
 * were reclaimed: they never started). */
static void take_back(mproc_pool_t *pool, int w, uint32_t from)
{
  wslot_t *s = &pool->w[w];
  mproc__task_t **link = &s->head, *first, *last = NULL;
  size_t n = 0;

  while (*link != NULL && (int32_t)((*link)->seq - from) < 0) {
    last = *link;
    link = &(*link)->next;
  }
  first = *link;
  if (first == NULL)
    return;
  *link = NULL;
  s->tail = last;
  for (mproc__task_t *t = first; t != NULL; t = t->next) {
    mproc__job_w_t *o = job_back(t);
    /* What the worker still holds of that job has started: a thread
     * waiting for the job is woken when the last task left there is
     * back (the job's own last one may lie further back, behind tasks
     * taken earlier: that number would never come). */
    if (o != NULL && o->out > 0 && s->tail != NULL)
      o->last = s->tail->seq;
    n++;
    t->worker = -1;
    if (t->next == NULL)
      last = t;
  }
  pending_push_front(pool, first, last, n);
  s->given -= (long)n; /* they will not run there: its task budget */
  pool->stats.reclaimed += n;
}

static int grow(void **buf, size_t *cap, size_t need, size_t elem)
{
  void *p;

  if (need <= *cap)
    return 0;
  p = realloc(*buf, need * elem);
  if (p == NULL)
    return mproc__err(MPROC_ENOMEM, "out of memory");
  *buf = p;
  *cap = need;
  return 0;
}

/* How many pending tasks one batch takes: @share at most, within the
 * batch limits and the worker's task budget. */
static size_t batch_size(mproc_pool_t *pool, wslot_t *s, size_t share, int idle)
{
  size_t bytes = 0, k = 0;

  if (share > BATCH_TASKS)
    share = BATCH_TASKS;
  if (pool->maxtasks > 0 && share > (size_t)(pool->maxtasks - s->given))
    share = (size_t)(pool->maxtasks - s->given);
  for (mproc__task_t *t = pool->pend_head; t != NULL && k < share;
       t = t->next) {
    bytes += t->len;
    if (k > 0 && bytes > BATCH_BYTES)
      break;
    k++;
  }
  /* A task bigger than a batch goes alone, to an idle worker. */
  if (k == 1 && pool->pend_head->len > BATCH_BYTES && !idle)
    return 0;
  return k;
}

/* Send the first @k pending tasks to worker @w as one batch; on success
 * they leave the pending list, numbered, as the list @*first. */
static int send_batch(mproc_pool_t *pool, int w, size_t k,
                      mproc__task_t **first)
{
  wslot_t *s = &pool->w[w];
  unsigned char *h;
  size_t at = MPROC__BATCH_HDR, niov = 1;
  mproc__task_t *t = pool->pend_head, *last = NULL;
  int rc;

  if ((rc = grow((void **)&pool->hdrs, &pool->hdrs_cap,
                 MPROC__BATCH_HDR + k * (MPROC__TASK_HDR + 260), 1)) != 0 ||
      (rc = grow((void **)&pool->iov, &pool->iov_cap, 1 + 2 * k,
                 sizeof *pool->iov)) != 0)
    return rc;
  h = pool->hdrs;
  mproc__batch_header(h, s->limit, (uint32_t)k, 0);
  pool->iov[0] = (mproc__iov_t){h, MPROC__BATCH_HDR};
  for (size_t i = 0; i < k; i++, t = t->next) {
    size_t hl = mproc__task_header(h + at, t->kind, t->fname, t->count, t->len);
    pool->iov[niov++] = (mproc__iov_t){h + at, hl};
    pool->iov[niov++] = (mproc__iov_t){t->payload, t->len};
    at += hl;
  }
  rc = pool->tr->ops->send(pool->tr, w, s->limit, (uint32_t)k, pool->iov, niov);
  if (rc != 0)
    return rc;
  *first = t = pool->pend_head;
  for (size_t i = 0; i < k; i++, t = t->next) {
    t->seq = s->limit++;
    t->worker = w;
    job_given(pool, t);
    last = t;
  }
  pool->pend_head = t;
  if (t == NULL)
    pool->pend_tail = NULL;
  last->next = NULL;
  pool->npending -= k;
  return 0;
}

/* Give worker @w a batch of at most @share pending tasks. */
static void feed(mproc_pool_t *pool, int w, size_t share, int idle)
{
  wslot_t *s = &pool->w[w];
  mproc__task_t *first = NULL, *last;
  size_t k = batch_size(pool, s, share, idle);

  if (k == 0 || send_batch(pool, w, k, &first) != 0)
    return;
  for (last = first; last->next != NULL; last = last->next)
    ;
  if (s->tail != NULL)
    s->tail->next = first;
  else
    s->head = first;
  s->tail = last;
  s->given += (long)k;
  s->fed_at = mproc__plat_now();
  pool->stats.batches++;
  if (k > pool->stats.max_batch)
    pool->stats.max_batch = k;
}

/* Whether @w's first task has started (it runs one now). */
static int running(mproc_pool_t *pool, int w)
{
  wslot_t *s = &pool->w[w];

  return s->head != NULL && !s->head->settled &&
         (int32_t)(pool->tr->ops->next(pool->tr, w) - s->head->seq) > 0;
}

/* Whether an idle worker may take @w's unstarted tasks: @w is busy with
 * one (behind a long or hung task), or has not started any of them for
 * a while (a worker still starting, or stuck in its initializer). A
 * worker just given a batch keeps it: it is waking up. */
static int stealable(mproc_pool_t *pool, int w, double now)
{
  wslot_t *s = &pool->w[w];

  return s->alive && s->head != NULL &&
         (running(pool, w) || now - s->fed_at > STALE_WAIT);
}

/* For an idle worker: reclaim the unstarted tasks of the worker that
 * holds the most and may lose them. How many came back to pending. */
static size_t steal(mproc_pool_t *pool, int thief)
{
  double now = mproc__plat_now();
  int victim = -1;
  uint32_t most = 0, from, to;

  for (int w = 0; w < pool->n; w++) {
    wslot_t *s = &pool->w[w];
    if (w == thief || !stealable(pool, w, now))
      continue;
    uint32_t left = s->limit - pool->tr->ops->next(pool->tr, w);
    if (left > most && left <= (uint32_t)INT32_MAX) {
      most = left;
      victim = w;
    }
  }
  if (victim < 0)
    return 0;
  /* One that started none of them gets no more until it shows up idle. */
  pool->w[victim].stalled = !running(pool, victim);
  pool->tr->ops->reclaim(pool->tr, victim, &from, &to);
  take_back(pool, victim, from);
  return to - from;
}

/* Whether worker @w may get work (0), and whether it wants some now. */
static int wants_work(mproc_pool_t *pool, int w, int *idle)
{
  wslot_t *s = &pool->w[w];

  if (!s->alive || s->dying ||
      (pool->maxtasks > 0 && s->given >= pool->maxtasks))
    return 0;
  if (s->stalled) {
    if (!pool->tr->ops->idle(pool->tr, w))
      return 0;
    s->stalled = 0;
  }
  *idle = s->head == NULL || pool->tr->ops->idle(pool->tr, w);
  return *idle || pool->tr->ops->hungry(pool->tr, w);
}

/* Hand pending work to the workers that want it, a fair share each; an
 * idle worker with nothing pending takes half of what waits behind a
 * busy worker. */
static void dispatch(mproc_pool_t *pool)
{
  size_t wanting = 0, share;
  int idle;

  for (int w = 0; w < pool->n; w++)
    wanting += wants_work(pool, w, &idle);
  share = wanting > 0 ? (pool->npending + wanting - 1) / wanting : 0;
  for (int w = 0; w < pool->n && wanting > 0; w++) {
    if (!wants_work(pool, w, &idle))
      continue;
    if (pool->npending > 0) {
      feed(pool, w, share, idle);
    } else if (idle) {
      size_t got = steal(pool, w);
      if (got > 0)
        feed(pool, w, (got + 1) / 2, idle);
    }
  }
  update_hints(pool);
}

int mproc__pool_submit(mproc_pool_t *pool, mproc__job_t *j, mproc__task_t *head,
                       size_t n)
{
  mproc__task_t *last = head;
  size_t before = pool->npending;

  if (pool->state != RUN) {
    mproc__task_list_free(head);
    return mproc__err(MPROC_ESTATE, "Pool not running");
  }
  if (n == 0) {
    j->settled = j->done = 1;
    return 0;
  }
  while (last->next != NULL)
    last = last->next;
  j->refs++;
  j->pool = pool;
  if (j->has_cb)
    pool->cb_jobs++;
  pool->unfinished += n;
  if (pool->pend_tail != NULL)
    pool->pend_tail->next = head;
  else
    pool->pend_head = head;
  pool->pend_tail = last;
  pool->npending += n;
  /* Work left pending by the last dispatch means no worker wanted it;
   * only one that asked since can take more. */
  if (before == 0 || pool->tr->ops->hungry(pool->tr, -1) > 0)
    dispatch(pool);
  else
    update_hints(pool);
  return 0;
}

/* ---- faults ---- */

/* Worker @w ended: what it posted counts, the task it was running fails,
 * what it held unstarted goes back to pending. */
/* Fail the tasks no worker holds with @status, @why. */
static void fail_pending(mproc_pool_t *pool, int status, const char *why)
{
  mproc__task_t *t;

  while ((t = pool->pend_head) != NULL) {
    pool->pend_head = t->next;
    task_back(pool, t, NULL, 0, 0, status, why);
  }
  pool->pend_tail = NULL;
  pool->npending = 0;
}

/* Start a worker in the empty slot @w; 1 when it started. A transport
 * that says MPROC_ECLOSED can never start one again (the MPI ranks are
 * gone): what waits for a worker fails, instead of waiting for ever. */
static int start_replacement(mproc_pool_t *pool, int w)
{
  int rc = pool->tr->ops->start(pool->tr, w);

  if (rc != 0) {
    char why[512];
    snprintf(why, sizeof why, "%s", mproc_last_error());
    MPROC__LOG(MPROC_LOG_WARNING, "could not start a pool worker: %s", why);
    if (rc == MPROC_ECLOSED)
      fail_pending(pool, MPROC_EWORKER, why);
    return 0;
  }
  MPROC__LOG(MPROC_LOG_DEBUG, "added pool worker %d", w);
  pool->w[w].alive = 1;
  return 1;
}

static void worker_ended(mproc_pool_t *pool, int w, const char *why)
{
  wslot_t *s = &pool->w[w];
  uint32_t from, to;

  pool->tr->ops->poll(pool->tr, w, on_record, pool);
  pool->tr->ops->reclaim(pool->tr, w, &from, &to);
  if (s->head != NULL && (int32_t)(s->head->seq - from) < 0) {
    mproc__task_t *t = s->head; /* it started and never came back */
    s->head = t->next;
    if (s->head == NULL)
      s->tail = NULL;
    MPROC__LOG(MPROC_LOG_WARNING, "%s while running %s", why, t->fname);
    task_back(pool, t, NULL, 0, 0, MPROC_EWORKER, why);
  } else {
    MPROC__LOG(s->dying ? MPROC_LOG_DEBUG : MPROC_LOG_INFO, "%s", why);
  }
  take_back(pool, w, from);
  s->alive = 0;
  s->dying = 0;
  s->stalled = 0;
  s->limit = 0;
  s->given = 0;
  if (!atomic_load(&exiting) &&
      (pool->state == RUN || (pool->state == CLOSE && pool->unfinished > 0)))
    start_replacement(pool, w);
}

static int handle_ended(mproc_pool_t *pool)
{
  char why[256];
  int w, did = 0;

  while ((w = pool->tr->ops->ended(pool->tr, why, sizeof why)) >= 0) {
    worker_ended(pool, w, why);
    did = 1;
  }
  return did;
}

/* Fail a running task past the timeout and kill its worker (replaced
 * when its end is seen). The earliest deadline still ahead goes to
 * *@next. */
static void check_timeouts(mproc_pool_t *pool, double now, double *next)
{
  const mproc__pool_tr_ops_t *ops = pool->tr->ops;

  if (pool->timeout <= 0)
    return;
  for (int w = 0; w < pool->n; w++) {
    wslot_t *s = &pool->w[w];
    mproc__task_t *t = s->head;
    if (!s->alive || t == NULL || t->settled ||
        (int32_t)(ops->next(pool->tr, w) - t->seq) <= 0)
      continue; /* nothing running there */
    double start = ops->started_at(pool->tr, w);
    if (start <= 0)
      continue;
    if (now - start < pool->timeout) {
      if (start + pool->timeout < *next)
        *next = start + pool->timeout;
      continue;
    }
    char msg[200];
    uint32_t from, to;
    snprintf(msg, sizeof msg,
             "task timed out: %s ran longer than %g s (its worker was "
             "killed and replaced)",
             t->fname, pool->timeout);
    job_back(t); /* first: settling may free the job */
    chunk_back(pool, t->job, t->idx, NULL, 0, 0, MPROC_ETIMEDOUT, msg);
    t->settled = 1;
    ops->reclaim(pool->tr, w, &from, &to);
    take_back(pool, w, from);
    ops->stop(pool->tr, w, 2);
    s->dying = 1;
  }
}

/* Fail everything not back (terminate). */
static void fail_everything(mproc_pool_t *pool)
{
  mproc__task_t *t;

  for (int w = 0; w < pool->n; w++) {
    wslot_t *s = &pool->w[w];
    while ((t = s->head) != NULL) {
      s->head = t->next;
      task_back(pool, t, NULL, 0, 0, MPROC_ECLOSED, "Pool terminated");
    }
    s->tail = NULL;
  }
  fail_pending(pool, MPROC_ECLOSED, "Pool terminated");
}

/* Stop every worker and wait for them; what they still hold is failed
 * (terminate) or was settled already (a task that timed out, whose
 * worker's end need not be seen before the pool closes). */
static void stop_workers(mproc_pool_t *pool, int terminate)
{
  for (int w = 0; w < pool->n; w++)
    if (pool->w[w].alive)
      pool->tr->ops->stop(pool->tr, w, terminate);
  mproc__pool_unlock();
  for (int w = 0; w < pool->n; w++)
    if (pool->w[w].alive)
      pool->tr->ops->join(pool->tr, w);
  mproc__pool_lock();
  for (int w = 0; w < pool->n; w++)
    pool->w[w].alive = 0;
  fail_everything(pool);
}

/* ---- the result thread ---- */

static double next_wake(mproc_pool_t *pool)
{
  double now = mproc__plat_now();
  double next = now + IDLE_WAKE;

  if (pool->timeout > 0 && now + pool->timeout < next)
    next = now + pool->timeout;
  check_timeouts(pool, now, &next);
  return next;
}

static int restart_empty(mproc_pool_t *pool)
{
  int did = 0;

  if (pool->state != RUN || atomic_load(&exiting))
    return 0;
  for (int w = 0; w < pool->n; w++)
    if (!pool->w[w].alive && start_replacement(pool, w))
      did = 1;
  return did;
}

/* One round of the result thread's work; whether it did anything. */
static int result_round(mproc_pool_t *pool, double *deadline)
{
  size_t before = pool->stats.batches + pool->unfinished;
  int did = handle_ended(pool);

  did |= drain(pool) > 0;
  *deadline = next_wake(pool);
  did |= restart_empty(pool);
  dispatch(pool);
  did |= pool->fire != NULL;
  if (pool->fire != NULL)
    fire_run(pool);
  return did || pool->stats.batches + pool->unfinished != before;
}

static void *APR_THREAD_FUNC result_thread(apr_thread_t *th, void *arg)
{
  mproc_pool_t *pool = arg;
  int early = 0;

  in_result_thread = pool;
  mproc__pool_lock();
  for (;;) {
    double deadline;
    int did = result_round(pool, &deadline);
    if (pool->state == TERMINATE ||
        (pool->state == CLOSE && pool->unfinished == 0))
      break;
    update_hints(pool);
    /* What the transport showed last time needed nothing from us: give
     * it a moment instead of spinning on it. */
    int nap = early && !did;
    if (nap && deadline > mproc__plat_now() + NAP)
      deadline = mproc__plat_now() + NAP;
    mproc__pool_unlock();
    early = pool->tr->ops->wait(pool->tr, deadline, nap);
    mproc__pool_lock();
  }
  int terminate = pool->state == TERMINATE;
  MPROC__LOG(MPROC_LOG_DEBUG, "result handler exiting: %s",
             terminate ? "pool terminated" : "pool closed and done");
  if (terminate)
    fail_everything(pool);
  if (pool->fire != NULL)
    fire_run(pool);
  stop_workers(pool, terminate);
  pool->thread_running = 0;
  wake_waiters();
  mproc__pool_unlock();
  /* Returning ends the thread as apr_thread_exit() would, without the
   * forced unwind of pthread_exit (which ASan's thread teardown trips
   * on). */
  (void)th;
  return NULL;
}

/* ---- waiting for a job ---- */

/* Count the caller as waiting for results of @j's pool (so that workers
 * wake the result thread for them), and take what was posted before. */
static void waited_add(mproc_pool_t *pool, mproc__job_t *j)
{
  if (pool->nwaited == pool->waited_cap) {
    size_t cap = pool->waited_cap ? pool->waited_cap * 2 : 8;
    mproc__job_t **g = realloc(pool->waited, cap * sizeof *g);
    if (g == NULL)
      return; /* then only "all results" wakes it: slower, never stuck */
    pool->waited = g;
    pool->waited_cap = cap;
  }
  pool->waited[pool->nwaited++] = j;
}

static void waited_remove(mproc_pool_t *pool, mproc__job_t *j)
{
  for (size_t k = 0; k < pool->nwaited; k++)
    if (pool->waited[k] == j) {
      pool->waited[k] = pool->waited[--pool->nwaited];
      return;
    }
}

static mproc_pool_t *wait_begin(mproc__job_t *j)
{
  mproc_pool_t *pool = j->settled ? NULL : j->pool;

  if (pool != NULL) {
    pool->waiters++;
    if (j->waiters == 0)
      waited_add(pool, j);
  }
  j->waiters++;
  if (pool != NULL) {
    update_hints(pool);
    drain(pool);
    dispatch(pool);
  }
  return pool;
}

static void wait_end(mproc__job_t *j, mproc_pool_t *pool)
{
  j->waiters--;
  if (pool != NULL) {
    pool->waiters--;
    if (j->waiters == 0)
      waited_remove(pool, j);
    update_hints(pool);
    if (pool->waiters == 0 && pool->thread_running == 0)
      wake_waiters(); /* mproc_pool_free waits for the last waiter */
  }
}

int mproc__job_wait(mproc__job_t *j, double deadline)
{
  mproc_pool_t *pool;
  int rc = 0;

  if (j->done)
    return 0;
  pool = wait_begin(j);
  while (!j->done && rc == 0)
    rc = cv_wait(deadline);
  wait_end(j, pool);
  return j->done ? 0 : MPROC_ETIMEDOUT;
}

int mproc__job_wait_step(mproc__job_t *j, double deadline)
{
  size_t back = j->chunks_back;
  mproc_pool_t *pool = wait_begin(j);
  int rc = j->chunks_back != back ? 0 : cv_wait(deadline);

  wait_end(j, pool);
  return rc;
}

/* ---- lifecycle ---- */

static void pool_at_exit(void)
{
  long me = mproc__plat_getpid();
  int waiting;

  /* CPython's Pool finalizer runs at exit before children are joined;
   * here too, so that no pool replaces workers that exit's cleanup is
   * ending, and every pool's thread is gone before that cleanup waits. */
  atomic_store(&exiting, 1);
  mproc__pool_lock();
  for (mproc_pool_t *p = live_pools; p != NULL; p = p->next_live)
    if (p->pid == me && p->thread_running) {
      p->state = TERMINATE;
      p->tr->ops->wake(p->tr);
    }
  do {
    waiting = 0;
    for (mproc_pool_t *p = live_pools; p != NULL; p = p->next_live)
      waiting |= p->pid == me && p->thread_running && p != in_result_thread;
    if (waiting)
      cv_wait(MPROC__NEVER);
  } while (waiting);
  mproc__pool_unlock();
}

static void live_remove(mproc_pool_t *pool)
{
  for (mproc_pool_t **l = &live_pools; *l != NULL; l = &(*l)->next_live)
    if (*l == pool) {
      *l = pool->next_live;
      return;
    }
}

static void pool_destroy(mproc_pool_t *pool)
{
  if (pool->tr != NULL)
    pool->tr->ops->destroy(pool->tr);
  free(pool->w);
  free(pool->waited);
  free(pool->hdrs);
  free(pool->iov);
  msgpack_sbuffer_destroy(&pool->scratch);
  free(pool->init_name);
  free(pool->init_args);
  if (pool->ap != NULL)
    apr_pool_destroy(pool->ap);
  free(pool);
}

static const char *worker_prefix(const mproc_context_t *ctx)
{
  const char *m = mproc_start_method_name(mproc_context_method(ctx));

  return strcmp(m, "fork") == 0         ? "ForkPoolWorker"
         : strcmp(m, "forkserver") == 0 ? "ForkServerPoolWorker"
                                        : "SpawnPoolWorker";
}

static int check_options(mproc_pool_options_t *o)
{
  int rc = mproc__pool_backend_pick(o->backend);

  if (rc < 0)
    return rc;
  o->backend = rc;
  if (o->processes < 0)
    return mproc__err(MPROC_EINVAL, "Number of processes must be at least 1");
  if (o->backend == MPROC_POOL_BACKEND_MPI) {
    if (o->maxtasksperchild != 0)
      return mproc__err(MPROC_EINVAL,
                        "Pool: maxtasksperchild cannot be used with the MPI "
                        "backend (a rank serves until the program ends)");
    if (o->processes == 0)
      o->processes = mproc__pool_mpi_backend->workers();
    if (o->processes <= 0)
      o->processes = 1; /* create() says why there is no worker rank */
  }
  if (o->processes == 0)
    o->processes = mproc_cpu_count() > 0 ? mproc_cpu_count() : 1;
  if (o->maxtasksperchild < 0)
    return mproc__err(MPROC_EINVAL,
                      "maxtasksperchild must be a positive int or None");
  if (!(o->task_timeout >= 0)) /* NaN too */
    return mproc__err(MPROC_EINVAL, "task_timeout must be >= 0 (0: none)");
  if (o->initializer != NULL && mproc_target_name(o->initializer) == NULL)
    return mproc__err(MPROC_ENOTREG,
                      "Pool: the initializer is not registered (define it "
                      "with MPROC_TARGET)");
  return 0;
}

/* The pool's record and transport, no worker yet. */
static int pool_new(mproc_pool_t **out, const mproc_pool_options_t *o,
                    va_list *ap)
{
  mproc__pool_tr_config_t cfg = {0};
  mproc_pool_t *pool = calloc(1, sizeof *pool);
  int rc = 0;

  if (pool == NULL)
    return mproc__err(MPROC_ENOMEM, "out of memory");
  msgpack_sbuffer_init(&pool->scratch);
  pool->n = o->processes;
  pool->maxtasks = o->maxtasksperchild;
  pool->timeout = o->task_timeout;
  pool->pid = mproc__plat_getpid();
  pool->w = calloc((size_t)pool->n, sizeof *pool->w);
  if (pool->w == NULL || apr_pool_create(&pool->ap, NULL) != APR_SUCCESS)
    rc = mproc__err(MPROC_ENOMEM, "out of memory");
  if (rc == 0 && o->initializer != NULL) {
    msgpack_sbuffer b;
    msgpack_sbuffer_init(&b);
    rc = mproc__encode_args(&b, o->initargs, ap);
    pool->init_name = strdup(mproc_target_name(o->initializer));
    pool->init_args = b.data;
    pool->init_len = b.size;
  }
  cfg.n = pool->n;
  cfg.context = o->context != NULL ? o->context : mproc_get_context(NULL);
  cfg.init_name = pool->init_name;
  cfg.init_args = pool->init_args;
  cfg.init_len = pool->init_len;
  cfg.maxtasks = pool->maxtasks;
  cfg.timing = pool->timeout > 0;
  if (rc == 0 && o->backend == MPROC_POOL_BACKEND_MPI)
    rc = mproc__pool_mpi_backend->create(&pool->tr, &cfg);
  else if (rc == 0)
    rc = mproc__pool_local_create(&pool->tr, &cfg, worker_prefix(cfg.context));
  if (rc != 0) {
    pool_destroy(pool);
    return rc;
  }
  *out = pool;
  return 0;
}

int mproc_pool_create(mproc_pool_t **out, const mproc_pool_options_t *opts, ...)
{
  static long hooked; /* the pid that registered the exit handler */
  mproc_pool_options_t o = {0};
  mproc_pool_t *pool = NULL;
  va_list ap;
  int rc;

  if (out == NULL)
    return mproc__err(MPROC_EINVAL, "Pool: NULL output");
  *out = NULL;
  if ((rc = mproc__init()) != 0)
    return rc;
  if (g_mu == NULL)
    return mproc__err(MPROC_ENOMEM, "Pool: could not initialise APR");
  if (opts != NULL)
    o = *opts;
  if ((rc = check_options(&o)) != 0)
    return rc;
  va_start(ap, opts);
  rc = pool_new(&pool, &o, &ap);
  va_end(ap);
  if (rc != 0)
    return rc;
  mproc__pool_lock();
  for (int w = 0; w < pool->n && rc == 0; w++)
    if ((rc = pool->tr->ops->start(pool->tr, w)) == 0)
      pool->w[w].alive = 1;
  if (rc == 0) {
    pool->thread_running = 1;
    if (apr_thread_create(&pool->thread, NULL, result_thread, pool, pool->ap) !=
        APR_SUCCESS) {
      pool->thread_running = 0;
      rc = mproc__err(MPROC_EOS, "Pool: cannot start the result thread");
    }
  }
  if (rc != 0) {
    stop_workers(pool, 2);
    mproc__pool_unlock();
    pool_destroy(pool);
    return rc;
  }
  /* After the first worker started: atexit handlers run in reverse, so
   * this one runs before the process table's, which joins children. */
  if (hooked != pool->pid) {
    hooked = pool->pid;
    atexit(pool_at_exit);
  }
  pool->next_live = live_pools;
  live_pools = pool;
  mproc__pool_unlock();
  *out = pool;
  return 0;
}

int mproc_pool_processes(const mproc_pool_t *pool)
{
  return pool != NULL ? pool->n : 0;
}

size_t mproc_pool_worker_pids(mproc_pool_t *pool, long *pids, size_t n)
{
  size_t k = 0;

  if (pool == NULL)
    return 0;
  mproc__pool_lock();
  for (int w = 0; w < pool->n && k < n; w++) {
    long pid = pool->w[w].alive ? pool->tr->ops->pid(pool->tr, w) : -1;
    if (pid > 0)
      pids[k++] = pid;
  }
  mproc__pool_unlock();
  return k;
}

int mproc_pool_close(mproc_pool_t *pool)
{
  if (pool == NULL)
    return mproc__err(MPROC_EINVAL, "Pool: NULL");
  MPROC__LOG(MPROC_LOG_DEBUG, "closing pool");
  mproc__pool_lock();
  if (pool->state == RUN)
    pool->state = CLOSE;
  update_hints(pool);
  pool->tr->ops->wake(pool->tr);
  mproc__pool_unlock();
  return 0;
}

int mproc_pool_terminate(mproc_pool_t *pool)
{
  if (pool == NULL)
    return mproc__err(MPROC_EINVAL, "Pool: NULL");
  MPROC__LOG(MPROC_LOG_DEBUG, "terminating pool");
  mproc__pool_lock();
  pool->state = TERMINATE;
  pool->tr->ops->wake(pool->tr);
  while (pool->thread_running)
    cv_wait(MPROC__NEVER);
  mproc__pool_unlock();
  return 0;
}

int mproc_pool_join(mproc_pool_t *pool)
{
  apr_status_t st;

  if (pool == NULL)
    return mproc__err(MPROC_EINVAL, "Pool: NULL");
  mproc__pool_lock();
  if (pool->state == RUN) {
    mproc__pool_unlock();
    return mproc__err(MPROC_ESTATE, "Pool is still running");
  }
  while (pool->thread_running)
    cv_wait(MPROC__NEVER);
  mproc__pool_unlock();
  if (!pool->joined && pool->thread != NULL) {
    MPROC__LOG(MPROC_LOG_DEBUG, "joining pool");
    apr_thread_join(&st, pool->thread);
    pool->joined = 1;
  }
  return 0;
}

void mproc_pool_free(mproc_pool_t *pool)
{
  if (pool == NULL)
    return;
  mproc__pool_lock();
  int running = pool->state == RUN;
  mproc__pool_unlock();
  if (running)
    mproc_pool_terminate(pool);
  mproc_pool_join(pool);
  mproc__pool_lock();
  while (pool->waiters > 0) /* their jobs are done: they are leaving */
    cv_wait(MPROC__NEVER);
  live_remove(pool);
  pool_destroy(pool);
  if (live_pools == NULL)
    mproc__records_trim();
  mproc__pool_unlock();
}

/* ---- for the entry points ---- */

int mproc__pool_fname(mproc_pool_t *pool, mproc_target_fn fn, const char **name)
{
  if (fn != pool->last_fn || pool->last_name == NULL) {
    const char *n = mproc_target_name(fn);
    if (n == NULL)
      return mproc__err(MPROC_ENOTREG, "Pool: the function is not registered "
                                       "(define it with MPROC_TARGET)");
    if (strlen(n) > 255)
      return mproc__err(MPROC_EINVAL,
                        "Pool: function name '%.40s...' is "
                        "longer than 255 bytes",
                        n);
    pool->last_fn = fn;
    pool->last_name = n;
  }
  *name = pool->last_name;
  return 0;
}

msgpack_sbuffer *mproc__pool_scratch(mproc_pool_t *pool)
{
  pool->scratch.size = 0;
  return &pool->scratch;
}

int mproc__pool_workers(const mproc_pool_t *pool)
{
  return pool->n;
}

mproc__pool_tr_t *mproc__pool_transport(mproc_pool_t *pool)
{
  return pool->tr;
}

void mproc__job_settle_empty(mproc__job_t *j)
{
  if (j->has_cb && j->cb.on_result != NULL) {
    mproc_args_t *r = NULL;
    mproc__pool_unlock();
    if (mproc__job_result(j, &r) == 0)
      j->cb.on_result(r, j->cb.ud);
    mproc_args_free(r);
    mproc__pool_lock();
  }
}

void mproc__pool_set_idle_wake(double seconds)
{
  mproc__pool_lock();
  idle_wake = seconds;
  mproc__pool_unlock();
}

void mproc__pool_count_staged(mproc_pool_t *pool, size_t bytes)
{
  pool->stats.staged += bytes;
}

void mproc__pool_get_stats(mproc_pool_t *pool, mproc__pool_stats_t *out)
{
  mproc__pool_lock();
  *out = pool->stats;
  mproc__pool_unlock();
}
