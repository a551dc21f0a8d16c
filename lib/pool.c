/*
 * Pool: worker processes that run registered functions on request.
 *
 * Each worker has its own pair of SimpleQueues (tasks in, results out),
 * so the parent always knows which chunks a worker holds: when a worker
 * dies, the chunk it was running fails at once with MPROC_EWORKER, the
 * chunks queued behind it go to other workers, and a new worker takes its
 * place (CPython's pool hangs instead). One result thread per pool drains
 * the result queues, hands out queued chunks, runs callbacks and watches
 * the workers; it sleeps in mproc_wait() on the workers and a doorbell
 * pipe that workers ring only when the thread says it is asleep, so a
 * busy pool makes no system call per task.
 *
 * One mutex (for all pools of the process) guards pools and jobs; the
 * condition variable wakes whoever waits for a job or a pool state.
 *
 * Messages (MessagePack arrays, decoded as mproc_args_t):
 *   task    [job id, chunk index, function name, star, [items...]]
 *   stop    []
 *   result  [job id, chunk index, true, [values...]]
 *           [job id, chunk index, false, [status, message]]
 */
#include <apr_pools.h>
#include <apr_thread_cond.h>
#include <apr_thread_mutex.h>
#include <apr_thread_proc.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "object.h"
#include "platform.h"

#define DEPTH 3                /* chunks handed to a worker at a time */
#define RING ((size_t)1 << 20) /* per-worker queue ring */
#define IDLE_WAKE 1.0          /* the result thread looks around anyway */
#define TERM_GRACE 1.0         /* terminate, then kill after this */

enum { RUN, CLOSE, TERMINATE };
enum { J_APPLY, J_MAP, J_IMAP };

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

static void lock(void)
{
  apr_thread_mutex_lock(g_mu);
}

static void unlock(void)
{
  apr_thread_mutex_unlock(g_mu);
}

/* Wait on the condition until @deadline (MPROC__NEVER: no limit);
 * MPROC_ETIMEDOUT once it has passed. */
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

/* ---- items ---- */

struct mproc_items {
  msgpack_sbuffer buf; /* the items' encodings, one after another */
  size_t *off;         /* item i is buf[off[i] .. off[i + 1]) */
  size_t n, cap;
};

int mproc_items_create(mproc_items_t **out)
{
  mproc_items_t *it;

  if (out == NULL)
    return mproc__err(MPROC_EINVAL, "items: NULL output");
  it = calloc(1, sizeof *it);
  if (it == NULL || (it->off = malloc(16 * sizeof *it->off)) == NULL) {
    free(it);
    return mproc__err(MPROC_ENOMEM, "out of memory");
  }
  it->cap = 15;
  it->off[0] = 0;
  msgpack_sbuffer_init(&it->buf);
  *out = it;
  return 0;
}

int mproc_items_add(mproc_items_t *it, const char *fmt, ...)
{
  msgpack_sbuffer one;
  va_list ap;
  int rc;

  if (it == NULL || fmt == NULL)
    return mproc__err(MPROC_EINVAL, "items: NULL argument");
  msgpack_sbuffer_init(&one);
  va_start(ap, fmt);
  rc = mproc__encode_args(&one, fmt, &ap);
  va_end(ap);
  /* One value: an array of one, whose header is the byte 0x91. */
  if (rc == 0 && (one.size < 2 || (unsigned char)one.data[0] != 0x91))
    rc = mproc__err(MPROC_EINVAL,
                    "items: \"%s\" must build exactly one value (use [...] "
                    "for a tuple)",
                    fmt);
  if (rc == 0 && it->n + 1 > it->cap) {
    size_t cap = it->cap * 2 + 1;
    size_t *off = realloc(it->off, (cap + 1) * sizeof *off);
    if (off == NULL)
      rc = mproc__err(MPROC_ENOMEM, "out of memory");
    else {
      it->off = off;
      it->cap = cap;
    }
  }
  if (rc == 0 && msgpack_sbuffer_write(&it->buf, one.data + 1, one.size - 1))
    rc = mproc__err(MPROC_ENOMEM, "out of memory");
  if (rc == 0)
    it->off[++it->n] = it->buf.size;
  msgpack_sbuffer_destroy(&one);
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
  free(it->off);
  free(it);
}

/* ---- in a worker: results and failures of the running task ---- */

static _Thread_local msgpack_sbuffer *task_result;
static _Thread_local char *task_failure;

int mproc_return(const char *fmt, ...)
{
  msgpack_sbuffer b;
  va_list ap;
  int rc;

  msgpack_sbuffer_init(&b);
  va_start(ap, fmt);
  rc = mproc__encode_args(&b, fmt, &ap);
  va_end(ap);
  if (rc == 0 && task_result != NULL) {
    unsigned char h = (unsigned char)b.data[0];
    task_result->size = 0;
    /* One unit: the value itself; none: nil; more: the list. */
    if (h == 0x91)
      rc = msgpack_sbuffer_write(task_result, b.data + 1, b.size - 1);
    else if (h == 0x90)
      rc = msgpack_sbuffer_write(task_result, "\xc0", 1);
    else
      rc = msgpack_sbuffer_write(task_result, b.data, b.size);
    if (rc != 0)
      rc = mproc__err(MPROC_ENOMEM, "out of memory");
  }
  msgpack_sbuffer_destroy(&b);
  return rc;
}

int mproc_fail(const char *fmt, ...)
{
  char msg[1024];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt != NULL ? fmt : "task failed", ap);
  va_end(ap);
  free(task_failure);
  task_failure = strdup(msg);
  mproc__err(MPROC_ETASK, "%s", msg);
  return 1;
}

const char *mproc__current_failure(void)
{
  return task_failure;
}

/* Send @b as a raw message on @q and ring the doorbell if the parent
 * sleeps. */
static int send_result(mproc_queue_t *rq, mproc_conn_t *bell,
                       atomic_int *sleeping, msgpack_sbuffer *b)
{
  int rc = mproc__queue_put_raw(rq, MPROC_FOREVER, b->data, b->size);

  if (rc == 0 && atomic_load(sleeping))
    rc = mproc_conn_send_bytes(bell, "!", 1, 0, MPROC_ALL);
  return rc;
}

/* Run one chunk; the result message goes into @out. */
static void run_chunk(const msgpack_object *task, msgpack_sbuffer *out)
{
  const msgpack_object *f = task->via.array.ptr;
  const msgpack_object *items = &f[4];
  msgpack_packer pk;
  msgpack_sbuffer vals, one;
  char name[256], *fail = NULL;
  mproc_target_fn fn = NULL;
  mproc_args_t view;
  int zoned;
  int star = f[3].type == MSGPACK_OBJECT_BOOLEAN && f[3].via.boolean;
  int status = 0;
  uint32_t n = items->type == MSGPACK_OBJECT_ARRAY ? items->via.array.size : 0;

  msgpack_sbuffer_init(&vals);
  msgpack_sbuffer_init(&one);
  if (f[2].type == MSGPACK_OBJECT_STR && f[2].via.str.size < sizeof name) {
    memcpy(name, f[2].via.str.ptr, f[2].via.str.size);
    name[f[2].via.str.size] = '\0';
    fn = mproc__target_lookup(name);
  } else {
    snprintf(name, sizeof name, "?");
  }
  if (fn == NULL) {
    status = MPROC_ENOTREG;
    fail = strdup("the task's function is not registered in the worker");
  }
  /* One argument view for the chunk; its zone (where parsed strings are
   * copied) is emptied between items. */
  memset(&view, 0, sizeof view);
  view.kw.type = MSGPACK_OBJECT_NIL;
  if (status == 0 && !msgpack_zone_init(&view.zone, 256)) {
    status = MPROC_ENOMEM;
    fail = strdup("out of memory in the worker");
  }
  zoned = status == 0;
  for (uint32_t i = 0; i < n && status == 0; i++) {
    msgpack_object wrap = items->via.array.ptr[i];
    int rc;

    if (star) {
      view.pos = items->via.array.ptr[i];
    } else {
      view.pos.type = MSGPACK_OBJECT_ARRAY;
      view.pos.via.array.size = 1;
      view.pos.via.array.ptr = &wrap;
    }
    if (view.pos.type != MSGPACK_OBJECT_ARRAY) {
      status = MPROC_ETASK;
      fail = strdup("starmap: an item is not a list of arguments");
      break;
    }
    one.size = 0;
    msgpack_sbuffer_write(&one, "\xc0", 1); /* no mproc_return: nil */
    task_result = &one;
    free(task_failure);
    task_failure = NULL;
    rc = fn(&view);
    task_result = NULL;
    msgpack_zone_clear(&view.zone);
    if (rc != 0) {
      char msg[1100];
      if (task_failure != NULL)
        snprintf(msg, sizeof msg, "%s", task_failure);
      else if (rc < 0)
        snprintf(msg, sizeof msg, "%s: %s", name, mproc_last_error());
      else
        snprintf(msg, sizeof msg, "target %s returned %d", name, rc);
      status = MPROC_ETASK;
      fail = strdup(msg);
      break;
    }
    msgpack_sbuffer_write(&vals, one.data, one.size);
  }
  if (zoned)
    msgpack_zone_destroy(&view.zone);
  free(task_failure);
  task_failure = NULL;
  out->size = 0;
  msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
  msgpack_pack_array(&pk, 4);
  msgpack_pack_object(&pk, f[0]);
  msgpack_pack_object(&pk, f[1]);
  if (status == 0) {
    msgpack_pack_true(&pk);
    msgpack_pack_array(&pk, n);
    msgpack_sbuffer_write(out, vals.data, vals.size);
  } else {
    const char *m = fail != NULL ? fail : "out of memory";
    msgpack_pack_false(&pk);
    msgpack_pack_array(&pk, 2);
    msgpack_pack_int(&pk, status);
    msgpack_pack_str(&pk, strlen(m));
    msgpack_pack_str_body(&pk, m, strlen(m));
  }
  free(fail);
  msgpack_sbuffer_destroy(&vals);
  msgpack_sbuffer_destroy(&one);
}

/* The worker process. */
MPROC_TARGET(mproc__pool_worker)
{
  mproc_queue_t *tq, *rq;
  mproc_conn_t *bell;
  mproc_shared_t *sl;
  const char *init;
  const void *init_args;
  size_t init_len;
  long maxtasks, done = 0;
  atomic_int *sleeping;
  msgpack_sbuffer out;
  int rc;

  if (mproc_args_parse(args, "oooozy#l", MPROC_KIND_SIMPLE_QUEUE, &tq,
                       MPROC_KIND_SIMPLE_QUEUE, &rq, MPROC_KIND_CONNECTION,
                       &bell, MPROC_KIND_VALUE, &sl, &init, &init_args,
                       &init_len, &maxtasks) != 0)
    return MPROC_EXIT_BOOTSTRAP;
  sleeping = (atomic_int *)mproc_shared_ptr(sl);
  if (init != NULL) {
    mproc_target_fn fn = mproc__target_lookup(init);
    mproc_args_t *ia = NULL;
    if (fn == NULL || mproc__args_new(&ia, init_args, init_len, NULL, 0) != 0)
      return MPROC_EXIT_NOTARGET;
    rc = fn(ia);
    mproc_args_free(ia);
    if (rc != 0)
      return rc; /* as CPython's worker, which dies with the exception */
  }
  msgpack_sbuffer_init(&out);
  while (maxtasks == 0 || done < maxtasks) {
    mproc_args_t *task = NULL;
    if (mproc_queue_get(tq, MPROC_FOREVER, &task) != 0)
      break;
    if (task->pos.via.array.size < 5) { /* stop */
      mproc_args_free(task);
      break;
    }
    run_chunk(&task->pos, &out);
    mproc_args_free(task);
    if (send_result(rq, bell, sleeping, &out) != 0)
      break;
    done++;
  }
  msgpack_sbuffer_destroy(&out);
  return 0;
}

/* ---- in the parent: jobs ---- */

typedef struct job job_t;

typedef struct chunk {
  job_t *job;
  uint32_t idx;
  unsigned char *msg;
  size_t len;
  struct chunk *next;
} chunk_t;

struct job {
  int kind, refs;
  int settled; /* the result (or failure) is known */
  int done;    /* ... and its callbacks have run: callers see it */
  int status;  /* 0 or the failure */
  char *msg;   /* the failure's message */
  size_t nitems, nchunks, chunksize;
  size_t chunks_back; /* chunks whose result (or failure) came back */
  size_t items_back;
  mproc_args_t **res; /* per chunk: the result message, NULL until back */
  int *cstatus;       /* per chunk: 0 or failure (imap) */
  char **cmsg;
  mproc_callbacks_t cb;
  /* imap */
  int ordered;
  size_t *arrival, narrived;   /* chunk indices in completion order */
  size_t next_chunk, next_pos; /* where the iterator is */
};

struct mproc_async {
  job_t *job;
};

struct mproc_imap {
  job_t *job;
};

static void job_unref(job_t *j)
{
  if (j == NULL || --j->refs > 0)
    return;
  for (size_t i = 0; i < j->nchunks; i++) {
    mproc_args_free(j->res[i]);
    if (j->cmsg != NULL)
      free(j->cmsg[i]);
  }
  free(j->res);
  free(j->cstatus);
  free(j->cmsg);
  free(j->arrival);
  free(j->msg);
  free(j);
}

static job_t *job_new(int kind, size_t nitems, size_t chunksize)
{
  job_t *j = calloc(1, sizeof *j);
  size_t nchunks = chunksize ? (nitems + chunksize - 1) / chunksize : 0;

  if (j == NULL)
    return NULL;
  j->kind = kind;
  j->refs = 1;
  j->nitems = nitems;
  j->chunksize = chunksize;
  j->nchunks = nchunks;
  j->res = calloc(nchunks ? nchunks : 1, sizeof *j->res);
  j->cstatus = calloc(nchunks ? nchunks : 1, sizeof *j->cstatus);
  j->cmsg = calloc(nchunks ? nchunks : 1, sizeof *j->cmsg);
  j->arrival = calloc(nchunks ? nchunks : 1, sizeof *j->arrival);
  if (j->res == NULL || j->cstatus == NULL || j->cmsg == NULL ||
      j->arrival == NULL) {
    job_unref(j);
    return NULL;
  }
  return j;
}

/* The values of chunk @c (an array object), or NULL. */
static const msgpack_object *chunk_values(job_t *j, size_t c)
{
  if (j->res[c] == NULL)
    return NULL;
  return &j->res[c]->pos.via.array.ptr[3];
}

/* A new args holding, as one list, every value of chunks [c0, c1) (@count
 * MPROC_ALL) or the @count values of chunk @c0 from @pos on. */
static int pack_values(mproc_args_t **out, job_t *j, size_t c0, size_t c1,
                       size_t pos, size_t count)
{
  msgpack_sbuffer b;
  msgpack_packer pk;
  size_t total = count, len;
  void *buf;

  if (count == MPROC_ALL) {
    total = 0;
    for (size_t c = c0; c < c1; c++)
      total += chunk_values(j, c)->via.array.size;
  }
  msgpack_sbuffer_init(&b);
  msgpack_packer_init(&pk, &b, msgpack_sbuffer_write);
  msgpack_pack_array(&pk, total);
  for (size_t c = c0; c < c1; c++) {
    const msgpack_object *v = chunk_values(j, c);
    size_t from = count != MPROC_ALL ? pos : 0;
    size_t to = count != MPROC_ALL ? pos + count : v->via.array.size;
    for (size_t i = from; i < to; i++)
      msgpack_pack_object(&pk, v->via.array.ptr[i]);
  }
  buf = mproc__args_buffer(b.size);
  if (buf == NULL) {
    msgpack_sbuffer_destroy(&b);
    return mproc__err(MPROC_ENOMEM, "out of memory");
  }
  memcpy(buf, b.data, b.size);
  len = b.size;
  msgpack_sbuffer_destroy(&b);
  return mproc__args_take_buffer(out, buf, len);
}

/* The result of a finished apply/map job as the caller sees it. */
static int job_result(job_t *j, mproc_args_t **out)
{
  if (j->status != 0)
    return mproc__err(j->status, "%s", j->msg ? j->msg : "task failed");
  return pack_values(out, j, 0, j->nchunks, 0, MPROC_ALL);
}

/* ---- in the parent: the pool ---- */

typedef struct worker {
  mproc_process_t *proc;
  mproc_queue_t *tq, *rq;
  chunk_t *out_head, *out_tail; /* handed to it, in order */
  int nout;
  long sent;
} worker_t;

struct mproc_pool {
  int n, state, thread_running, joined;
  worker_t *w;
  /* The result thread's mproc_wait() set: the doorbell, then workers. */
  mproc_waitable_t *wait_objs;
  int *wait_ready;
  worker_t **wait_who;
  chunk_t *pend_head, *pend_tail;
  size_t unfinished; /* chunks submitted and not back */
  apr_pool_t *ap;
  apr_thread_t *thread;
  mproc_conn_t *bell_r, *bell_w;
  mproc_shared_t *sleeping_v;
  atomic_int *sleeping;
  const mproc_context_t *ctx;
  char prefix[32]; /* "SpawnPoolWorker" */
  long next_worker;
  char *init_name;
  void *init_args;
  size_t init_len;
  long maxtasks;
};

/* Callbacks to run once the lock is released. */
typedef struct fire {
  job_t *job;
  int what; /* 0 result, 1 error, 2 progress */
  size_t done, total;
  struct fire *next;
} fire_t;

static void fire_add(fire_t **list, job_t *j, int what, size_t done,
                     size_t total)
{
  fire_t *f = malloc(sizeof *f);

  if (f == NULL) { /* no callback then, but never a hang */
    if (what != 2)
      j->done = 1;
    return;
  }
  f->job = j;
  f->what = what;
  f->done = done;
  f->total = total;
  f->next = *list;
  j->refs++;
  *list = f;
}

/* Run the callbacks of @list (oldest first), without the lock. */
static void fire_run(fire_t *list)
{
  fire_t *rev = NULL;

  while (list != NULL) {
    fire_t *f = list;
    list = f->next;
    f->next = rev;
    rev = f;
  }
  unlock();
  for (fire_t *f = rev; f != NULL; f = f->next) {
    job_t *j = f->job;
    if (f->what == 2 && j->cb.on_progress != NULL) {
      j->cb.on_progress(f->done, f->total, j->cb.ud);
    } else if (f->what == 1 && j->cb.on_error != NULL) {
      j->cb.on_error(j->status, j->msg ? j->msg : "", j->cb.ud);
    } else if (f->what == 0 && j->cb.on_result != NULL) {
      mproc_args_t *r = NULL;
      if (job_result(j, &r) == 0)
        j->cb.on_result(r, j->cb.ud);
      mproc_args_free(r);
    }
  }
  lock();
  /* Ready only now, as in CPython: the callbacks run before get()
   * returns. */
  while (rev != NULL) {
    fire_t *f = rev;
    rev = f->next;
    if (f->what != 2)
      f->job->done = 1;
    job_unref(f->job);
    free(f);
  }
  apr_thread_cond_broadcast(g_cv);
}

/* Record chunk @c of @j as back, with its result message @res (taken) or
 * failure @status/@msg. */
static void chunk_back(mproc_pool_t *pool, job_t *j, size_t c,
                       mproc_args_t *res, int status, const char *msg,
                       fire_t **fire)
{
  if (j->res[c] != NULL || j->cstatus[c] != 0) { /* twice: ignore */
    mproc_args_free(res);
    return;
  }
  pool->unfinished--;
  j->chunks_back++;
  j->arrival[j->narrived++] = c;
  if (status == 0) {
    j->res[c] = res;
    j->items_back += chunk_values(j, c)->via.array.size;
  } else {
    mproc_args_free(res);
    j->cstatus[c] = status;
    j->cmsg[c] = strdup(msg ? msg : "task failed");
    if (!j->settled && j->kind != J_IMAP) {
      j->settled = 1;
      j->status = status;
      j->msg = strdup(msg ? msg : "task failed");
      fire_add(fire, j, 1, 0, 0);
    }
  }
  if (j->kind == J_MAP && j->cb.on_progress != NULL && status == 0)
    fire_add(fire, j, 2, j->items_back, j->nitems);
  if (j->chunks_back == j->nchunks && !j->settled) {
    j->settled = 1;
    if (j->kind != J_IMAP)
      fire_add(fire, j, 0, 0, 0);
  }
  if (j->chunks_back == j->nchunks)
    job_unref(j); /* the pool's: no chunk of it is out any more */
  apr_thread_cond_broadcast(g_cv);
}

/* A result message from worker @w. */
static void handle_result(mproc_pool_t *pool, worker_t *w, mproc_args_t *m,
                          fire_t **fire)
{
  const msgpack_object *f = m->pos.via.array.ptr;
  chunk_t *ch = w->out_head;
  job_t *j;

  /* Results come back in the order chunks were handed out. */
  if (ch == NULL || m->pos.via.array.size != 4 ||
      f[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
      f[1].type != MSGPACK_OBJECT_POSITIVE_INTEGER || f[1].via.u64 != ch->idx) {
    mproc_args_free(m);
    return;
  }
  w->out_head = ch->next;
  if (w->out_head == NULL)
    w->out_tail = NULL;
  w->nout--;
  j = ch->job; /* alive: the pool holds it while a chunk is out */
  if (f[2].type == MSGPACK_OBJECT_BOOLEAN && f[2].via.boolean &&
      f[3].type == MSGPACK_OBJECT_ARRAY) {
    chunk_back(pool, j, ch->idx, m, 0, NULL, fire);
  } else {
    int status = MPROC_ETASK;
    char msg[1200] = "task failed";
    if (f[3].type == MSGPACK_OBJECT_ARRAY && f[3].via.array.size == 2) {
      const msgpack_object *e = f[3].via.array.ptr;
      if (e[0].type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        status = (int)e[0].via.i64;
      if (e[1].type == MSGPACK_OBJECT_STR)
        snprintf(msg, sizeof msg, "%.*s", (int)e[1].via.str.size,
                 e[1].via.str.ptr);
    }
    chunk_back(pool, j, ch->idx, m, status, msg, fire);
  }
  free(ch->msg);
  free(ch);
}

/* Take every result waiting from @w; the number taken. */
static int drain(mproc_pool_t *pool, worker_t *w, fire_t **fire)
{
  int got = 0;

  while (w->rq != NULL && w->nout > 0) {
    mproc_args_t *m = NULL;
    if (mproc_queue_get(w->rq, 0, &m) != 0)
      break;
    handle_result(pool, w, m, fire);
    got++;
  }
  return got;
}

static int start_worker(mproc_pool_t *pool, worker_t *w)
{
  mproc_process_t *p = NULL;
  char name[64];
  int rc;

  w->tq = w->rq = NULL;
  w->proc = NULL;
  w->nout = 0;
  w->sent = 0;
  if ((rc = mproc__simple_queue_create_ring(&w->tq, RING)) != 0 ||
      (rc = mproc__simple_queue_create_ring(&w->rq, RING)) != 0)
    goto fail;
  rc = mproc_context_process(
      pool->ctx, &p, mproc__pool_worker, "oooozy#l", w->tq, w->rq, pool->bell_w,
      pool->sleeping_v, pool->init_name, pool->init_args ? pool->init_args : "",
      pool->init_len, pool->maxtasks);
  if (rc != 0)
    goto fail;
  snprintf(name, sizeof name, "%s-%ld", pool->prefix, ++pool->next_worker);
  mproc_process_set_name(p, name);
  mproc_process_set_daemon(p, 1);
  if ((rc = mproc_process_start(p)) != 0)
    goto fail;
  w->proc = p;
  return 0;
fail:
  mproc_process_free(p);
  mproc_queue_free(w->tq);
  mproc_queue_free(w->rq);
  w->tq = w->rq = NULL;
  return rc;
}

static void push_front(mproc_pool_t *pool, chunk_t *first, chunk_t *last)
{
  last->next = pool->pend_head;
  pool->pend_head = first;
  if (pool->pend_tail == NULL)
    pool->pend_tail = last;
}

/* Worker @w ended: settle what it held, reap it, start another. */
static void worker_ended(mproc_pool_t *pool, worker_t *w, fire_t **fire)
{
  char msg[200];
  int code = 0;

  drain(pool, w, fire);
  mproc_process_join(w->proc, 0.5);
  if (mproc_process_is_alive(w->proc) == 1) {
    mproc_process_kill(w->proc);
    mproc_process_join(w->proc, MPROC_FOREVER);
  }
  mproc_process_exitcode(w->proc, &code);
  if (code < 0)
    snprintf(msg, sizeof msg, "worker %s (pid %ld) died: killed by signal %d",
             mproc_process_name(w->proc), mproc_process_pid(w->proc), -code);
  else
    snprintf(msg, sizeof msg, "worker %s (pid %ld) died: exit code %d",
             mproc_process_name(w->proc), mproc_process_pid(w->proc), code);
  if (w->out_head != NULL) {
    chunk_t *ch = w->out_head;
    w->out_head = ch->next;
    chunk_back(pool, ch->job, ch->idx, NULL, MPROC_EWORKER, msg, fire);
    free(ch->msg);
    free(ch);
    if (w->out_head != NULL)
      push_front(pool, w->out_head, w->out_tail);
  }
  w->out_head = w->out_tail = NULL;
  w->nout = 0;
  mproc_process_free(w->proc);
  mproc_queue_free(w->tq);
  mproc_queue_free(w->rq);
  w->proc = NULL;
  w->tq = w->rq = NULL;
  if (pool->state == RUN || (pool->state == CLOSE && pool->unfinished > 0))
    (void)start_worker(pool, w);
}

/* Hand queued chunks to workers with room. */
static void dispatch(mproc_pool_t *pool)
{
  static int rr;

  while (pool->pend_head != NULL) {
    worker_t *best = NULL;
    for (int k = 0; k < pool->n; k++) {
      worker_t *w = &pool->w[(rr + k) % pool->n];
      if (w->proc == NULL || w->nout >= DEPTH ||
          (pool->maxtasks > 0 && w->sent >= pool->maxtasks))
        continue;
      if (best == NULL || w->nout < best->nout)
        best = w;
    }
    if (best == NULL)
      return;
    rr++;
    chunk_t *ch = pool->pend_head;
    if (mproc__queue_put_raw(best->tq, 0, ch->msg, ch->len) != 0)
      return; /* full (try again when a result comes) or broken (dying) */
    pool->pend_head = ch->next;
    if (pool->pend_head == NULL)
      pool->pend_tail = NULL;
    ch->next = NULL;
    if (best->out_tail != NULL)
      best->out_tail->next = ch;
    else
      best->out_head = ch;
    best->out_tail = ch;
    best->nout++;
    best->sent++;
  }
}

/* Ring the doorbell from the parent (state changes). */
static void ring(mproc_pool_t *pool)
{
  (void)mproc_conn_send_bytes(pool->bell_w, "!", 1, 0, MPROC_ALL);
}

static void fail_everything(mproc_pool_t *pool, fire_t **fire)
{
  for (int k = 0; k < pool->n; k++) {
    worker_t *w = &pool->w[k];
    if (w->out_head != NULL) {
      push_front(pool, w->out_head, w->out_tail);
      w->out_head = w->out_tail = NULL;
      w->nout = 0;
    }
  }
  while (pool->pend_head != NULL) {
    chunk_t *ch = pool->pend_head;
    pool->pend_head = ch->next;
    chunk_back(pool, ch->job, ch->idx, NULL, MPROC_ECLOSED, "Pool terminated",
               fire);
    free(ch->msg);
    free(ch);
  }
  pool->pend_tail = NULL;
}

static void stop_workers(mproc_pool_t *pool, int terminate)
{
  for (int k = 0; k < pool->n; k++) {
    worker_t *w = &pool->w[k];
    if (w->proc == NULL)
      continue;
    if (terminate)
      mproc_process_terminate(w->proc);
    else
      (void)mproc__queue_put_raw(w->tq, MPROC_FOREVER, "\x90", 1);
  }
  for (int k = 0; k < pool->n; k++) {
    worker_t *w = &pool->w[k];
    if (w->proc == NULL)
      continue;
    unlock();
    if (mproc_process_join(w->proc, terminate ? TERM_GRACE : MPROC_FOREVER) ==
        MPROC_ETIMEDOUT) {
      mproc_process_kill(w->proc);
      mproc_process_join(w->proc, MPROC_FOREVER);
    }
    lock();
    mproc_process_free(w->proc);
    mproc_queue_free(w->tq);
    mproc_queue_free(w->rq);
    w->proc = NULL;
    w->tq = w->rq = NULL;
  }
}

static void *APR_THREAD_FUNC result_thread(apr_thread_t *t, void *arg)
{
  mproc_pool_t *pool = arg;
  mproc_waitable_t *objs = pool->wait_objs;
  int *ready = pool->wait_ready;
  worker_t **who = pool->wait_who;

  lock();
  for (;;) {
    fire_t *fire = NULL;
    int got = 0;

    for (int k = 0; k < pool->n; k++)
      got += drain(pool, &pool->w[k], &fire);
    dispatch(pool);
    if (fire != NULL)
      fire_run(fire);
    if (pool->state == TERMINATE ||
        (pool->state == CLOSE && pool->unfinished == 0))
      break;
    if (got > 0)
      continue;
    /* Sleep: say so first, then look once more (a worker that put a
     * result before seeing the flag is found here). */
    size_t n = 0;
    objs[n++] = MPROC_WAITABLE_CONN(pool->bell_r);
    for (int k = 0; k < pool->n; k++)
      if (pool->w[k].proc != NULL) {
        who[n] = &pool->w[k];
        objs[n++] = MPROC_WAITABLE_PROCESS(pool->w[k].proc);
      }
    atomic_store(pool->sleeping, 1);
    int waiting = 1;
    for (int k = 0; k < pool->n; k++)
      if (pool->w[k].rq != NULL && mproc_queue_qsize(pool->w[k].rq) > 0)
        waiting = 0;
    if (waiting) {
      unlock();
      int rc = mproc_wait(objs, n, IDLE_WAKE, ready);
      lock();
      atomic_store(pool->sleeping, 0);
      while (mproc_conn_poll(pool->bell_r, 0) == 1) {
        void *b = NULL;
        size_t len;
        if (mproc_conn_recv_bytes(pool->bell_r, 16, &b, &len) != 0)
          break;
        free(b);
      }
      for (size_t i = 1; rc > 0 && i < n; i++)
        if (ready[i] && who[i]->proc != NULL) {
          fire_t *f2 = NULL;
          worker_ended(pool, who[i], &f2);
          if (f2 != NULL)
            fire_run(f2);
        }
    } else {
      atomic_store(pool->sleeping, 0);
    }
    /* Slots a failed start left empty. */
    if (pool->state == RUN)
      for (int k = 0; k < pool->n; k++)
        if (pool->w[k].proc == NULL)
          (void)start_worker(pool, &pool->w[k]);
  }
  {
    fire_t *fire = NULL;
    int terminate = pool->state == TERMINATE;
    if (terminate)
      fail_everything(pool, &fire);
    if (fire != NULL)
      fire_run(fire);
    stop_workers(pool, terminate);
  }
  pool->thread_running = 0;
  apr_thread_cond_broadcast(g_cv);
  unlock();
  /* Returning ends the thread as apr_thread_exit() would, without the
   * forced unwind of pthread_exit (which ASan's thread teardown trips on). */
  (void)t;
  return NULL;
}

static void pool_destroy(mproc_pool_t *pool)
{
  free(pool->w);
  free(pool->wait_objs);
  free(pool->wait_ready);
  free(pool->wait_who);
  mproc_conn_free(pool->bell_r);
  mproc_conn_free(pool->bell_w);
  mproc_shared_free(pool->sleeping_v);
  free(pool->init_name);
  free(pool->init_args);
  if (pool->ap != NULL)
    apr_pool_destroy(pool->ap);
  free(pool);
}

int mproc_pool_create(mproc_pool_t **out, const mproc_pool_options_t *opts, ...)
{
  mproc_pool_options_t o = {0};
  mproc_pool_t *pool;
  const char *m;
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
  if (o.processes < 0)
    return mproc__err(MPROC_EINVAL, "Number of processes must be at least 1");
  if (o.processes == 0)
    o.processes = mproc_cpu_count() > 0 ? mproc_cpu_count() : 1;
  if (o.maxtasksperchild < 0)
    return mproc__err(MPROC_EINVAL,
                      "maxtasksperchild must be a positive int or None");
  if (o.initializer != NULL && mproc_target_name(o.initializer) == NULL)
    return mproc__err(MPROC_ENOTREG,
                      "Pool: the initializer is not registered (define it "
                      "with MPROC_TARGET)");
  pool = calloc(1, sizeof *pool);
  if (pool == NULL)
    return mproc__err(MPROC_ENOMEM, "out of memory");
  pool->n = o.processes;
  pool->maxtasks = o.maxtasksperchild;
  pool->ctx = o.context != NULL ? o.context : mproc_get_context(NULL);
  m = mproc_start_method_name(mproc_context_method(pool->ctx));
  snprintf(pool->prefix, sizeof pool->prefix, "%sPoolWorker",
           strcmp(m, "fork") == 0         ? "Fork"
           : strcmp(m, "forkserver") == 0 ? "ForkServer"
                                          : "Spawn");
  pool->w = calloc((size_t)pool->n, sizeof *pool->w);
  pool->wait_objs = calloc((size_t)pool->n + 1, sizeof *pool->wait_objs);
  pool->wait_ready = calloc((size_t)pool->n + 1, sizeof *pool->wait_ready);
  pool->wait_who = calloc((size_t)pool->n + 1, sizeof *pool->wait_who);
  if (pool->w == NULL || pool->wait_objs == NULL || pool->wait_ready == NULL ||
      pool->wait_who == NULL) {
    pool_destroy(pool);
    return mproc__err(MPROC_ENOMEM, "out of memory");
  }
  if (o.initializer != NULL) {
    msgpack_sbuffer b;
    va_list ap;
    msgpack_sbuffer_init(&b);
    va_start(ap, opts);
    rc = mproc__encode_args(&b, o.initargs, &ap);
    va_end(ap);
    pool->init_name = strdup(mproc_target_name(o.initializer));
    pool->init_args = b.data;
    pool->init_len = b.size;
    if (rc != 0) {
      pool_destroy(pool);
      return rc;
    }
  }
  if ((rc = mproc_pipe(&pool->bell_r, &pool->bell_w, 0)) != 0 ||
      (rc = mproc_shared_value_create(&pool->sleeping_v, MPROC_C_INT, 0)) !=
          0) {
    pool_destroy(pool);
    return rc;
  }
  pool->sleeping = (atomic_int *)mproc_shared_ptr(pool->sleeping_v);
  if (apr_pool_create(&pool->ap, NULL) != APR_SUCCESS) {
    pool_destroy(pool);
    return mproc__err(MPROC_ENOMEM, "out of memory");
  }
  lock();
  for (int k = 0; k < pool->n && rc == 0; k++)
    rc = start_worker(pool, &pool->w[k]);
  if (rc == 0) {
    pool->thread_running = 1;
    if (apr_thread_create(&pool->thread, NULL, result_thread, pool, pool->ap) !=
        APR_SUCCESS) {
      pool->thread_running = 0;
      rc = mproc__err(MPROC_EOS, "Pool: cannot start the result thread");
    }
  }
  if (rc != 0) {
    stop_workers(pool, 1);
    unlock();
    pool_destroy(pool);
    return rc;
  }
  unlock();
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
  lock();
  for (int i = 0; i < pool->n && k < n; i++)
    if (pool->w[i].proc != NULL)
      pids[k++] = mproc_process_pid(pool->w[i].proc);
  unlock();
  return k;
}

/* ---- submitting ---- */

/* Queue the chunks of @j (messages built by the caller) and hand them out;
 * the pool keeps a reference until every chunk is back. */
static int submit(mproc_pool_t *pool, job_t *j, chunk_t *chunks)
{
  if (pool->state != RUN) {
    while (chunks != NULL) {
      chunk_t *c = chunks;
      chunks = c->next;
      free(c->msg);
      free(c);
    }
    return mproc__err(MPROC_ESTATE, "Pool not running");
  }
  if (j->nchunks == 0) {
    j->settled = j->done = 1;
    return 0;
  }
  j->refs++;
  pool->unfinished += j->nchunks;
  chunk_t *last = chunks;
  while (last->next != NULL)
    last = last->next;
  if (pool->pend_tail != NULL)
    pool->pend_tail->next = chunks;
  else
    pool->pend_head = chunks;
  pool->pend_tail = last;
  dispatch(pool);
  return 0;
}

static chunk_t *chunk_new(job_t *j, uint32_t idx, const char *fname, int star,
                          uint32_t count, const void *items, size_t len)
{
  msgpack_sbuffer b;
  msgpack_packer pk;
  chunk_t *c = calloc(1, sizeof *c);

  if (c == NULL)
    return NULL;
  msgpack_sbuffer_init(&b);
  msgpack_packer_init(&pk, &b, msgpack_sbuffer_write);
  if (msgpack_pack_array(&pk, 5) || msgpack_pack_uint64(&pk, (uintptr_t)j) ||
      msgpack_pack_uint32(&pk, idx) || msgpack_pack_str(&pk, strlen(fname)) ||
      msgpack_pack_str_body(&pk, fname, strlen(fname)) ||
      (star ? msgpack_pack_true(&pk) : msgpack_pack_false(&pk)) ||
      msgpack_pack_array(&pk, count) || msgpack_sbuffer_write(&b, items, len)) {
    msgpack_sbuffer_destroy(&b);
    free(c);
    return NULL;
  }
  c->job = j;
  c->idx = idx;
  c->msg = (unsigned char *)b.data;
  c->len = b.size;
  return c;
}

static int check_pool(mproc_pool_t *pool, mproc_target_fn fn,
                      const char **fname)
{
  if (pool == NULL || fn == NULL)
    return mproc__err(MPROC_EINVAL, "Pool: NULL pool or function");
  *fname = mproc_target_name(fn);
  if (*fname == NULL)
    return mproc__err(MPROC_ENOTREG, "Pool: the function is not registered "
                                     "(define it with MPROC_TARGET)");
  return 0;
}

static int new_handle(job_t *j, mproc_async_t **ar)
{
  mproc_async_t *a = malloc(sizeof *a);

  if (a == NULL)
    return mproc__err(MPROC_ENOMEM, "out of memory");
  a->job = j;
  *ar = a;
  return 0;
}

static int apply_v(mproc_pool_t *pool, mproc_async_t **ar,
                   const mproc_callbacks_t *cb, mproc_target_fn fn,
                   const char *fmt, va_list *ap)
{
  msgpack_sbuffer b;
  const char *fname;
  job_t *j;
  chunk_t *c;
  int rc;

  if (ar == NULL)
    return mproc__err(MPROC_EINVAL, "apply_async: NULL result");
  *ar = NULL;
  if ((rc = check_pool(pool, fn, &fname)) != 0)
    return rc;
  msgpack_sbuffer_init(&b);
  if ((rc = mproc__encode_args(&b, fmt, ap)) != 0) {
    msgpack_sbuffer_destroy(&b);
    return rc;
  }
  j = job_new(J_APPLY, 1, 1);
  c = j != NULL ? chunk_new(j, 0, fname, 1, 1, b.data, b.size) : NULL;
  msgpack_sbuffer_destroy(&b);
  if (c == NULL || new_handle(j, ar) != 0) {
    free(c);
    job_unref(j);
    return mproc__err(MPROC_ENOMEM, "out of memory");
  }
  if (cb != NULL)
    j->cb = *cb;
  lock();
  rc = submit(pool, j, c);
  unlock();
  if (rc != 0) {
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
  rc = apply_v(pool, ar, cb, fn, fmt, &ap);
  va_end(ap);
  return rc;
}

int mproc_pool_apply(mproc_pool_t *pool, mproc_args_t **result,
                     mproc_target_fn fn, const char *fmt, ...)
{
  mproc_async_t *ar = NULL;
  va_list ap;
  int rc;

  if (result == NULL)
    return mproc__err(MPROC_EINVAL, "apply: NULL result");
  *result = NULL;
  va_start(ap, fmt);
  rc = apply_v(pool, &ar, NULL, fn, fmt, &ap);
  va_end(ap);
  if (rc == 0)
    rc = mproc_async_get(ar, MPROC_FOREVER, result);
  mproc_async_free(ar);
  return rc;
}

/* Chunks of @items for @j: CPython's default size when @chunksize is 0. */
static int map_job(mproc_pool_t *pool, job_t **out, int kind,
                   const mproc_callbacks_t *cb, mproc_target_fn fn,
                   const mproc_items_t *items, size_t chunksize, int star)
{
  chunk_t *head = NULL, *tail = NULL;
  const char *fname;
  size_t n;
  job_t *j;
  int rc;

  if ((rc = check_pool(pool, fn, &fname)) != 0)
    return rc;
  if (items == NULL)
    return mproc__err(MPROC_EINVAL, "map: NULL items");
  n = items->n;
  if (chunksize == 0) {
    if (kind == J_IMAP) {
      chunksize = 1;
    } else {
      size_t w4 = (size_t)pool->n * 4;
      chunksize = n / w4 + (n % w4 != 0);
    }
  }
  if (chunksize == 0)
    chunksize = 1;
  j = job_new(kind, n, chunksize);
  if (j == NULL)
    return mproc__err(MPROC_ENOMEM, "out of memory");
  if (cb != NULL)
    j->cb = *cb;
  for (size_t c = 0; c < j->nchunks; c++) {
    size_t first = c * chunksize;
    size_t count = n - first < chunksize ? n - first : chunksize;
    chunk_t *ch = chunk_new(j, (uint32_t)c, fname, star, (uint32_t)count,
                            items->buf.data + items->off[first],
                            items->off[first + count] - items->off[first]);
    if (ch == NULL) {
      while (head != NULL) {
        chunk_t *x = head;
        head = x->next;
        free(x->msg);
        free(x);
      }
      job_unref(j);
      return mproc__err(MPROC_ENOMEM, "out of memory");
    }
    if (tail != NULL)
      tail->next = ch;
    else
      head = ch;
    tail = ch;
  }
  lock();
  rc = submit(pool, j, head);
  unlock();
  if (rc != 0) {
    job_unref(j);
    return rc;
  }
  *out = j;
  return 0;
}

static int map_async(mproc_pool_t *pool, mproc_async_t **ar,
                     const mproc_callbacks_t *cb, mproc_target_fn fn,
                     const mproc_items_t *items, size_t chunksize, int star)
{
  job_t *j = NULL;
  int rc;

  if (ar == NULL)
    return mproc__err(MPROC_EINVAL, "map_async: NULL result");
  *ar = NULL;
  rc = map_job(pool, &j, J_MAP, cb, fn, items, chunksize, star);
  if (rc != 0)
    return rc;
  if (j->nchunks == 0 && cb != NULL && cb->on_result != NULL) {
    /* Nothing to wait for: an empty list at once. */
    lock();
    fire_t *fire = NULL;
    fire_add(&fire, j, 0, 0, 0);
    fire_run(fire);
    unlock();
  }
  rc = new_handle(j, ar);
  if (rc != 0)
    job_unref(j);
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

int mproc_pool_imap(mproc_pool_t *pool, mproc_imap_t **it, mproc_target_fn fn,
                    const mproc_items_t *items, size_t chunksize, int ordered)
{
  mproc_imap_t *i;
  job_t *j = NULL;
  int rc;

  if (it == NULL)
    return mproc__err(MPROC_EINVAL, "imap: NULL iterator");
  *it = NULL;
  i = malloc(sizeof *i);
  if (i == NULL)
    return mproc__err(MPROC_ENOMEM, "out of memory");
  rc = map_job(pool, &j, J_IMAP, NULL, fn, items, chunksize, 0);
  if (rc != 0) {
    free(i);
    return rc;
  }
  j->ordered = ordered;
  i->job = j;
  *it = i;
  return 0;
}

/* ---- results ---- */

int mproc_async_wait(mproc_async_t *ar, double timeout)
{
  double deadline = mproc__deadline(timeout);
  int rc = 0;

  if (ar == NULL)
    return mproc__err(MPROC_EINVAL, "AsyncResult: NULL");
  lock();
  while (!ar->job->done && rc == 0)
    rc = cv_wait(deadline);
  unlock();
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
  lock();
  rc = job_result(ar->job, result);
  unlock();
  return rc;
}

int mproc_async_ready(mproc_async_t *ar)
{
  int r;

  if (ar == NULL)
    return mproc__err(MPROC_EINVAL, "AsyncResult: NULL");
  lock();
  r = ar->job->done;
  unlock();
  return r;
}

int mproc_async_successful(mproc_async_t *ar)
{
  int r;

  if (ar == NULL)
    return mproc__err(MPROC_EINVAL, "AsyncResult: NULL");
  lock();
  r = !ar->job->done ? MPROC_ESTATE : ar->job->status == 0;
  unlock();
  if (r == MPROC_ESTATE)
    return mproc__err(MPROC_ESTATE, "result is not ready");
  return r;
}

void mproc_async_free(mproc_async_t *ar)
{
  if (ar == NULL)
    return;
  lock();
  job_unref(ar->job);
  unlock();
  free(ar);
}

/* The next thing imap can give, or -1: chunk index and whether it is
 * ready. */
static int imap_step(job_t *j, mproc_args_t **result, int *rc)
{
  size_t c;

  if (j->ordered) {
    c = j->next_chunk;
    if (c >= j->nchunks) {
      *rc = mproc__err(MPROC_ESTOP, "no more results");
      return 1;
    }
    if (j->res[c] == NULL && j->cstatus[c] == 0)
      return 0;
  } else {
    if (j->next_chunk >= j->nchunks) {
      *rc = mproc__err(MPROC_ESTOP, "no more results");
      return 1;
    }
    if (j->next_chunk >= j->narrived)
      return 0;
    c = j->arrival[j->next_chunk];
  }
  if (j->cstatus[c] != 0) {
    /* A failed chunk is reported once, then iteration goes on. */
    *rc = mproc__err(j->cstatus[c], "%s", j->cmsg[c]);
    j->next_chunk++;
    j->next_pos = 0;
    return 1;
  }
  *rc = pack_values(result, j, c, c + 1, j->next_pos, 1);
  if (++j->next_pos >= chunk_values(j, c)->via.array.size) {
    j->next_chunk++;
    j->next_pos = 0;
  }
  return 1;
}

int mproc_imap_next(mproc_imap_t *it, double timeout, mproc_args_t **result)
{
  double deadline = mproc__deadline(timeout);
  int rc = 0;

  if (it == NULL || result == NULL)
    return mproc__err(MPROC_EINVAL, "imap: NULL argument");
  *result = NULL;
  lock();
  for (;;) {
    if (imap_step(it->job, result, &rc))
      break;
    if (cv_wait(deadline) == MPROC_ETIMEDOUT) {
      rc = mproc__err(MPROC_ETIMEDOUT, "imap: no result in time");
      break;
    }
  }
  unlock();
  return rc;
}

void mproc_imap_free(mproc_imap_t *it)
{
  if (it == NULL)
    return;
  lock();
  job_unref(it->job);
  unlock();
  free(it);
}

/* ---- lifecycle ---- */

int mproc_pool_close(mproc_pool_t *pool)
{
  if (pool == NULL)
    return mproc__err(MPROC_EINVAL, "Pool: NULL");
  lock();
  if (pool->state == RUN)
    pool->state = CLOSE;
  ring(pool);
  unlock();
  return 0;
}

int mproc_pool_terminate(mproc_pool_t *pool)
{
  if (pool == NULL)
    return mproc__err(MPROC_EINVAL, "Pool: NULL");
  lock();
  pool->state = TERMINATE;
  ring(pool);
  while (pool->thread_running)
    cv_wait(MPROC__NEVER);
  unlock();
  return 0;
}

int mproc_pool_join(mproc_pool_t *pool)
{
  apr_status_t st;

  if (pool == NULL)
    return mproc__err(MPROC_EINVAL, "Pool: NULL");
  lock();
  if (pool->state == RUN) {
    unlock();
    return mproc__err(MPROC_ESTATE, "Pool is still running");
  }
  while (pool->thread_running)
    cv_wait(MPROC__NEVER);
  unlock();
  if (!pool->joined && pool->thread != NULL) {
    apr_thread_join(&st, pool->thread);
    pool->joined = 1;
  }
  return 0;
}

void mproc_pool_free(mproc_pool_t *pool)
{
  if (pool == NULL)
    return;
  lock();
  int running = pool->state == RUN;
  unlock();
  if (running)
    mproc_pool_terminate(pool);
  mproc_pool_join(pool);
  lock();
  pool_destroy(pool);
  unlock();
}
