/*
 * Semaphore, BoundedSemaphore, Event, Condition and Barrier, shared
 * between processes. Each keeps its state in a shared segment and sleeps
 * on words of it (futex-like; spurious wakeups are re-checked); counts of
 * sleepers let an uncontended operation skip the system call. Semantics
 * and messages follow CPython's synchronize.py and threading.py.
 */
#include <stdlib.h>
#include <string.h>

#include "object.h"
#include "platform.h"
#include "sync.h"

#define EXTRA_VERSION 1

/* The part every object of this file shares: its segment. */
typedef struct segobj {
  mproc__obj_t hdr;
  mproc__seg_t seg;
} segobj_t;

static void segobj_destroy(mproc__obj_t *o)
{
  segobj_t *s = (segobj_t *)o;

  mproc__plat_seg_close(&s->seg);
  free(s);
}

/* Create @size bytes of object @sz (>= sizeof segobj_t) with @ops. */
static int segobj_create(size_t sz, size_t size, const mproc__obj_ops_t *ops,
                         segobj_t **out)
{
  segobj_t *s;
  int rc;

  *out = NULL;
  if ((rc = mproc__init()) != 0)
    return rc;
  s = calloc(1, sz);
  if (s == NULL)
    return mproc__err(MPROC_ENOMEM, "out of memory");
  rc = mproc__plat_seg_create(size, &s->seg);
  if (rc != 0) {
    free(s);
    return rc;
  }
  mproc__obj_init(&s->hdr, ops);
  *out = s;
  return 0;
}

static int segobj_export(mproc__obj_t *o, mproc__export_t *ex)
{
  segobj_t *s = (segobj_t *)o;
  uint64_t size = s->seg.size;

  ex->extra[0] = EXTRA_VERSION;
  for (int i = 0; i < 8; i++)
    ex->extra[1 + i] = (unsigned char)(size >> (8 * i));
  ex->extra_len = 9;
  return mproc__plat_seg_export(&s->seg, ex->handles, MPROC__OBJ_MAX_HANDLES,
                                &ex->nhandles);
}

static int segobj_import(size_t sz, size_t size, const mproc__obj_ops_t *ops,
                         const intptr_t *handles, size_t n, const void *extra,
                         size_t extra_len, segobj_t **out)
{
  const unsigned char *e = extra;
  uint64_t got = 0;
  segobj_t *s;
  int rc;

  if (extra_len != 9 || e[0] != EXTRA_VERSION)
    return mproc__err(MPROC_ECODEC, "%s: bad description from the parent",
                      mproc_kind_name(ops->kind));
  for (int i = 0; i < 8; i++)
    got |= (uint64_t)e[1 + i] << (8 * i);
  if (got != size)
    return mproc__err(MPROC_ECODEC, "%s: layout differs from the parent's",
                      mproc_kind_name(ops->kind));
  s = calloc(1, sz);
  if (s == NULL)
    return mproc__err(MPROC_ENOMEM, "out of memory");
  rc = mproc__plat_seg_import(handles, n, size, &s->seg);
  if (rc != 0) {
    free(s);
    return rc;
  }
  mproc__obj_init(&s->hdr, ops);
  *out = s;
  return 0;
}

static int is_kind(const void *p, const mproc__obj_ops_t *a,
                   const mproc__obj_ops_t *b)
{
  mproc__obj_t *o = mproc__obj_check(p);

  return o != NULL && (o->ops == a || o->ops == b);
}

/* Sleep on @word while it reads @seen, counted in @sleepers. */
static int nap(mproc__seg_t *seg, atomic_uint *word, unsigned seen,
               atomic_uint *sleepers, double deadline)
{
  int rc;

  atomic_fetch_add(sleepers, 1);
  rc = mproc__plat_word_wait(seg, word, seen, deadline);
  atomic_fetch_sub(sleepers, 1);
  return rc;
}

static void poke(mproc__seg_t *seg, atomic_uint *word, atomic_uint *sleepers,
                 int n)
{
  atomic_fetch_add(word, 1);
  if (atomic_load(sleepers) != 0)
    mproc__plat_word_wake(seg, word, n);
}

/* ------------------------------------------------------------------ */
/* Semaphore, BoundedSemaphore                                          */
/* ------------------------------------------------------------------ */

typedef struct sem_state {
  atomic_long value;
  long max; /* bounded: the initial value; else LONG_MAX */
  atomic_uint seq;
  atomic_uint sleepers;
} sem_state_t;

struct mproc_semaphore {
  segobj_t s;
};

static int sem_import(mproc__obj_t **out, const intptr_t *h, size_t n,
                      const void *e, size_t el);
static int bsem_import(mproc__obj_t **out, const intptr_t *h, size_t n,
                       const void *e, size_t el);
const mproc__obj_ops_t mproc__semaphore_ops = {
    MPROC_KIND_SEMAPHORE, segobj_export, sem_import, segobj_destroy, NULL};
const mproc__obj_ops_t mproc__bounded_semaphore_ops = {
    MPROC_KIND_BOUNDED_SEMAPHORE, segobj_export, bsem_import, segobj_destroy, NULL};
MPROC__OBJ_REGISTER(mproc__semaphore_ops)
MPROC__OBJ_REGISTER(mproc__bounded_semaphore_ops)

static int sem_import(mproc__obj_t **out, const intptr_t *h, size_t n,
                      const void *e, size_t el)
{
  return segobj_import(sizeof(mproc_semaphore_t), sizeof(sem_state_t),
                       &mproc__semaphore_ops, h, n, e, el, (segobj_t **)out);
}

static int bsem_import(mproc__obj_t **out, const intptr_t *h, size_t n,
                       const void *e, size_t el)
{
  return segobj_import(sizeof(mproc_semaphore_t), sizeof(sem_state_t),
                       &mproc__bounded_semaphore_ops, h, n, e, el,
                       (segobj_t **)out);
}

static int sem_create(mproc_semaphore_t **out, long value, int bounded)
{
  segobj_t *s;
  int rc;

  if (out == NULL)
    return mproc__err(MPROC_EINVAL, "Semaphore: NULL output");
  *out = NULL;
  if (value < 0)
    return mproc__err(MPROC_EINVAL, "semaphore initial value must be >= 0");
  rc = segobj_create(
      sizeof(mproc_semaphore_t), sizeof(sem_state_t),
      bounded ? &mproc__bounded_semaphore_ops : &mproc__semaphore_ops, &s);
  if (rc != 0)
    return rc;
  sem_state_t *st = s->seg.addr;
  atomic_store(&st->value, value);
  st->max = bounded ? value : LONG_MAX;
  *out = (mproc_semaphore_t *)s;
  return 0;
}

int mproc_semaphore_create(mproc_semaphore_t **out, long value)
{
  return sem_create(out, value, 0);
}

int mproc_bounded_semaphore_create(mproc_semaphore_t **out, long value)
{
  return sem_create(out, value, 1);
}

static sem_state_t *sem_state(mproc_semaphore_t *s)
{
  if (!is_kind(s, &mproc__semaphore_ops, &mproc__bounded_semaphore_ops))
    return NULL;
  return s->s.seg.addr;
}

static int try_down(sem_state_t *st)
{
  long v = atomic_load(&st->value);

  while (v > 0)
    if (atomic_compare_exchange_weak(&st->value, &v, v - 1))
      return 1;
  return 0;
}

int mproc_semaphore_acquire(mproc_semaphore_t *s, double timeout)
{
  sem_state_t *st = sem_state(s);
  double deadline = mproc__deadline(timeout);

  if (st == NULL)
    return mproc__err(MPROC_EINVAL, "acquire: not a Semaphore");
  for (;;) {
    unsigned seen = atomic_load(&st->seq);
    if (try_down(st))
      return 0;
    if (nap(&s->s.seg, &st->seq, seen, &st->sleepers, deadline) ==
            MPROC_ETIMEDOUT &&
        !try_down(st))
      return MPROC_ETIMEDOUT;
    if (atomic_load(&st->value) > 0 && try_down(st))
      return 0;
  }
}

int mproc_semaphore_release(mproc_semaphore_t *s)
{
  sem_state_t *st = sem_state(s);
  long v;

  if (st == NULL)
    return mproc__err(MPROC_EINVAL, "release: not a Semaphore");
  v = atomic_load(&st->value);
  do {
    if (v >= st->max)
      return mproc__err(MPROC_EINVAL,
                        "semaphore or lock released too many times");
  } while (!atomic_compare_exchange_weak(&st->value, &v, v + 1));
  poke(&s->s.seg, &st->seq, &st->sleepers, 1);
  return 0;
}

long mproc_semaphore_value(mproc_semaphore_t *s)
{
  sem_state_t *st = sem_state(s);

  if (st == NULL)
    return mproc__err(MPROC_EINVAL, "get_value: not a Semaphore");
  return atomic_load(&st->value);
}

void mproc_semaphore_free(mproc_semaphore_t *s)
{
  if (s != NULL)
    mproc__obj_unref(&s->s.hdr);
}

/* ------------------------------------------------------------------ */
/* Event                                                                */
/* ------------------------------------------------------------------ */

typedef struct event_state {
  atomic_uint flag;
  atomic_uint sleepers;
} event_state_t;

struct mproc_event {
  segobj_t s;
};

static int event_import(mproc__obj_t **out, const intptr_t *h, size_t n,
                        const void *e, size_t el)
{
  extern const mproc__obj_ops_t mproc__event_ops;
  return segobj_import(sizeof(mproc_event_t), sizeof(event_state_t),
                       &mproc__event_ops, h, n, e, el, (segobj_t **)out);
}

const mproc__obj_ops_t mproc__event_ops = {MPROC_KIND_EVENT, segobj_export,
                                           event_import, segobj_destroy, NULL};
MPROC__OBJ_REGISTER(mproc__event_ops)

int mproc_event_create(mproc_event_t **out)
{
  if (out == NULL)
    return mproc__err(MPROC_EINVAL, "Event: NULL output");
  return segobj_create(sizeof(mproc_event_t), sizeof(event_state_t),
                       &mproc__event_ops, (segobj_t **)out);
}

static event_state_t *event_state(mproc_event_t *e)
{
  if (!is_kind(e, &mproc__event_ops, &mproc__event_ops))
    return NULL;
  return e->s.seg.addr;
}

int mproc_event_is_set(mproc_event_t *e)
{
  event_state_t *st = event_state(e);

  if (st == NULL)
    return mproc__err(MPROC_EINVAL, "is_set: not an Event");
  return atomic_load(&st->flag) != 0;
}

int mproc_event_set(mproc_event_t *e)
{
  event_state_t *st = event_state(e);

  if (st == NULL)
    return mproc__err(MPROC_EINVAL, "set: not an Event");
  atomic_store(&st->flag, 1);
  if (atomic_load(&st->sleepers) != 0)
    mproc__plat_word_wake(&e->s.seg, &st->flag, INT32_MAX);
  return 0;
}

int mproc_event_clear(mproc_event_t *e)
{
  event_state_t *st = event_state(e);

  if (st == NULL)
    return mproc__err(MPROC_EINVAL, "clear: not an Event");
  atomic_store(&st->flag, 0);
  return 0;
}

int mproc_event_wait(mproc_event_t *e, double timeout)
{
  event_state_t *st = event_state(e);
  double deadline = mproc__deadline(timeout);

  if (st == NULL)
    return mproc__err(MPROC_EINVAL, "wait: not an Event");
  while (atomic_load(&st->flag) == 0)
    if (nap(&e->s.seg, &st->flag, 0, &st->sleepers, deadline) ==
            MPROC_ETIMEDOUT &&
        atomic_load(&st->flag) == 0)
      return MPROC_ETIMEDOUT;
  return 0;
}

void mproc_event_free(mproc_event_t *e)
{
  if (e != NULL)
    mproc__obj_unref(&e->s.hdr);
}

/* ------------------------------------------------------------------ */
/* Condition                                                            */
/* ------------------------------------------------------------------ */

typedef struct cond_state {
  atomic_uint seq;      /* bumped by notify */
  atomic_uint sleepers; /* in the futex wait */
  atomic_long waiting;  /* in wait(), not yet notified */
  atomic_long permits;  /* notifications not yet taken */
} cond_state_t;

struct mproc_condition {
  segobj_t s;
  mproc_lock_t *lock;
};

static void cond_destroy(mproc__obj_t *o)
{
  mproc_condition_t *c = (mproc_condition_t *)o;

  mproc_lock_free(c->lock);
  segobj_destroy(o);
}

/* Handles: the lock's first, then the condition's; the extra says how
 * many are the lock's and of which kind it is. */
static int cond_export(mproc__obj_t *o, mproc__export_t *ex)
{
  mproc_condition_t *c = (mproc_condition_t *)o;
  mproc__obj_t *lo = (mproc__obj_t *)c->lock;
  mproc__export_t lex;
  size_t n = 0;
  int rc;

  memset(&lex, 0, sizeof lex);
  rc = lo->ops->export_obj(lo, &lex);
  if (rc != 0)
    return rc;
  if (lex.extra_len > MPROC__OBJ_MAX_EXTRA - 3)
    return mproc__err(MPROC_EINVAL, "Condition: lock description too long");
  memcpy(ex->handles, lex.handles, lex.nhandles * sizeof(intptr_t));
  rc = mproc__plat_seg_export(&c->s.seg, ex->handles + lex.nhandles,
                              MPROC__OBJ_MAX_HANDLES - lex.nhandles, &n);
  if (rc != 0)
    return rc;
  ex->nhandles = lex.nhandles + n;
  ex->extra[0] = EXTRA_VERSION;
  ex->extra[1] = (unsigned char)lo->ops->kind;
  ex->extra[2] = (unsigned char)lex.nhandles;
  memcpy(ex->extra + 3, lex.extra, lex.extra_len);
  ex->extra_len = 3 + lex.extra_len;
  return 0;
}

static int cond_import(mproc__obj_t **out, const intptr_t *h, size_t n,
                       const void *extra, size_t el);

const mproc__obj_ops_t mproc__condition_ops = {
    MPROC_KIND_CONDITION, cond_export, cond_import, cond_destroy, NULL};
MPROC__OBJ_REGISTER(mproc__condition_ops)

static int cond_import(mproc__obj_t **out, const intptr_t *h, size_t n,
                       const void *extra, size_t el)
{
  const unsigned char *e = extra;
  const mproc__obj_ops_t *lops;
  mproc_condition_t *c;
  mproc__obj_t *lock = NULL;
  int rc;

  if (el < 3 || e[0] != EXTRA_VERSION || e[2] > n ||
      (e[1] != MPROC_KIND_LOCK && e[1] != MPROC_KIND_RLOCK))
    return mproc__err(MPROC_ECODEC, "Condition: bad description");
  lops = mproc__obj_ops_of(e[1]);
  if (lops == NULL)
    return mproc__err(MPROC_ENOSYS, "Condition: no Lock in this program");
  c = calloc(1, sizeof *c);
  if (c == NULL)
    return mproc__err(MPROC_ENOMEM, "out of memory");
  rc = mproc__plat_seg_import(h + e[2], n - e[2], sizeof(cond_state_t),
                              &c->s.seg);
  if (rc == 0) {
    rc = lops->import_obj(&lock, h, e[2], e + 3, el - 3);
    if (rc != 0)
      mproc__plat_seg_close(&c->s.seg);
  }
  if (rc != 0) {
    free(c);
    return rc;
  }
  mproc__obj_init(&c->s.hdr, &mproc__condition_ops);
  c->lock = (mproc_lock_t *)lock;
  *out = &c->s.hdr;
  return 0;
}

int mproc_condition_create(mproc_condition_t **out, mproc_lock_t *lock)
{
  segobj_t *s;
  int rc;

  if (out == NULL)
    return mproc__err(MPROC_EINVAL, "Condition: NULL output");
  *out = NULL;
  if (lock != NULL && !mproc__lock_is(lock))
    return mproc__err(MPROC_EINVAL, "Condition: not a Lock or RLock");
  rc = segobj_create(sizeof(mproc_condition_t), sizeof(cond_state_t),
                     &mproc__condition_ops, &s);
  if (rc != 0)
    return rc;
  mproc_condition_t *c = (mproc_condition_t *)s;
  if (lock == NULL) {
    rc = mproc_rlock_create(&c->lock);
    if (rc != 0) {
      segobj_destroy(&s->hdr);
      return rc;
    }
  } else {
    mproc__obj_ref((mproc__obj_t *)lock);
    c->lock = lock;
  }
  *out = c;
  return 0;
}

static cond_state_t *cond_state(mproc_condition_t *c)
{
  if (!is_kind(c, &mproc__condition_ops, &mproc__condition_ops))
    return NULL;
  return c->s.seg.addr;
}

mproc_lock_t *mproc_condition_lock(mproc_condition_t *c)
{
  return cond_state(c) ? c->lock : NULL;
}

int mproc_condition_acquire(mproc_condition_t *c, double timeout)
{
  if (cond_state(c) == NULL)
    return mproc__err(MPROC_EINVAL, "acquire: not a Condition");
  return mproc_lock_acquire(c->lock, timeout);
}

int mproc_condition_release(mproc_condition_t *c)
{
  if (cond_state(c) == NULL)
    return mproc__err(MPROC_EINVAL, "release: not a Condition");
  return mproc_lock_release(c->lock);
}

static int take_permit(cond_state_t *st)
{
  long p = atomic_load(&st->permits);

  while (p > 0)
    if (atomic_compare_exchange_weak(&st->permits, &p, p - 1))
      return 1;
  return 0;
}

int mproc_condition_wait(mproc_condition_t *c, double timeout)
{
  cond_state_t *st = cond_state(c);
  double deadline = mproc__deadline(timeout);
  uint32_t depth;
  int rc, notified = 0, relock;

  if (st == NULL)
    return mproc__err(MPROC_EINVAL, "wait: not a Condition");
  if (!mproc__lock_owned(c->lock))
    return mproc__err(MPROC_EPERM, "cannot wait on un-acquired lock");
  atomic_fetch_add(&st->waiting, 1);
  if ((rc = mproc__lock_release_all(c->lock, &depth)) != 0) {
    atomic_fetch_sub(&st->waiting, 1);
    return rc;
  }
  for (;;) {
    unsigned seen = atomic_load(&st->seq);
    if (take_permit(st)) {
      notified = 1;
      break;
    }
    if (nap(&c->s.seg, &st->seq, seen, &st->sleepers, deadline) ==
        MPROC_ETIMEDOUT)
      break;
  }
  relock = mproc__lock_restore(c->lock, depth, MPROC__NEVER);
  /* With the lock back, a notify that raced the timeout is still ours:
   * notify counts waiters under the lock. */
  if (!notified && take_permit(st))
    notified = 1;
  if (!notified)
    atomic_fetch_sub(&st->waiting, 1);
  if (relock != 0 && relock != MPROC_EOWNERDEAD)
    return relock;
  return notified ? 0 : MPROC_ETIMEDOUT;
}

int mproc_condition_wait_for(mproc_condition_t *c, int (*pred)(void *arg),
                             void *arg, double timeout)
{
  double deadline = mproc__deadline(timeout);
  int rc;

  if (pred == NULL)
    return mproc__err(MPROC_EINVAL, "wait_for: NULL predicate");
  while (!pred(arg)) {
    double left =
        deadline >= MPROC__NEVER ? MPROC_FOREVER : deadline - mproc__plat_now();
    if (left <= 0)
      return MPROC_ETIMEDOUT;
    rc = mproc_condition_wait(c, left);
    if (rc != 0 && rc != MPROC_ETIMEDOUT)
      return rc;
  }
  return 0;
}

int mproc_condition_notify(mproc_condition_t *c, int n)
{
  cond_state_t *st = cond_state(c);
  long w, m;

  if (st == NULL)
    return mproc__err(MPROC_EINVAL, "notify: not a Condition");
  if (!mproc__lock_owned(c->lock))
    return mproc__err(MPROC_EPERM, "cannot notify on un-acquired lock");
  if (n <= 0)
    return 0;
  w = atomic_load(&st->waiting);
  m = w < n ? w : n;
  if (m <= 0)
    return 0;
  atomic_fetch_sub(&st->waiting, m);
  atomic_fetch_add(&st->permits, m);
  poke(&c->s.seg, &st->seq, &st->sleepers, INT32_MAX);
  return 0;
}

int mproc_condition_notify_all(mproc_condition_t *c)
{
  return mproc_condition_notify(c, INT32_MAX);
}

void mproc_condition_free(mproc_condition_t *c)
{
  if (c != NULL)
    mproc__obj_unref(&c->s.hdr);
}

/* ------------------------------------------------------------------ */
/* Barrier                                                              */
/* ------------------------------------------------------------------ */

typedef struct barrier_state {
  mproc__mutex_t mx;
  atomic_uint gen;  /* bumped when a pass completes or is reset */
  atomic_uint wake; /* bumped on any change waiters must see */
  atomic_uint sleepers;
  atomic_uint broken;
  uint32_t count;       /* arrived in this pass */
  uint32_t aborted_gen; /* a pass that reset() cut short */
  int has_aborted;
  int parties;
} barrier_state_t;

struct mproc_barrier {
  segobj_t s;
};

static int barrier_import(mproc__obj_t **out, const intptr_t *h, size_t n,
                          const void *e, size_t el)
{
  extern const mproc__obj_ops_t mproc__barrier_ops;
  return segobj_import(sizeof(mproc_barrier_t), sizeof(barrier_state_t),
                       &mproc__barrier_ops, h, n, e, el, (segobj_t **)out);
}

const mproc__obj_ops_t mproc__barrier_ops = {MPROC_KIND_BARRIER, segobj_export,
                                             barrier_import, segobj_destroy, NULL};
MPROC__OBJ_REGISTER(mproc__barrier_ops)

int mproc_barrier_create(mproc_barrier_t **out, int parties)
{
  segobj_t *s;
  int rc;

  if (out == NULL)
    return mproc__err(MPROC_EINVAL, "Barrier: NULL output");
  *out = NULL;
  if (parties < 1)
    return mproc__err(MPROC_EINVAL, "parties must be >= 1");
  rc = segobj_create(sizeof(mproc_barrier_t), sizeof(barrier_state_t),
                     &mproc__barrier_ops, &s);
  if (rc != 0)
    return rc;
  barrier_state_t *st = s->seg.addr;
  st->parties = parties;
  rc = mproc__plat_mutex_init(&s->seg, &st->mx);
  if (rc != 0) {
    segobj_destroy(&s->hdr);
    return rc;
  }
  *out = (mproc_barrier_t *)s;
  return 0;
}

static barrier_state_t *barrier_state(mproc_barrier_t *b)
{
  if (!is_kind(b, &mproc__barrier_ops, &mproc__barrier_ops))
    return NULL;
  return b->s.seg.addr;
}

/* A holder that died inside the barrier's mutex leaves the count wrong:
 * the barrier is broken from then on. */
static int barrier_lock(mproc_barrier_t *b, barrier_state_t *st)
{
  int rc = mproc__plat_mutex_lock(&b->s.seg, &st->mx, MPROC__NEVER);

  if (rc == MPROC_EOWNERDEAD) {
    atomic_store(&st->broken, 1);
    rc = 0;
  }
  return rc;
}

static void barrier_unlock(mproc_barrier_t *b, barrier_state_t *st)
{
  mproc__plat_mutex_unlock(&b->s.seg, &st->mx);
}

static void break_locked(mproc_barrier_t *b, barrier_state_t *st)
{
  atomic_store(&st->broken, 1);
  poke(&b->s.seg, &st->wake, &st->sleepers, INT32_MAX);
}

/* A new pass: the waiters of the current one are released. */
static void next_gen_locked(mproc_barrier_t *b, barrier_state_t *st)
{
  st->count = 0;
  atomic_fetch_add(&st->gen, 1);
  poke(&b->s.seg, &st->wake, &st->sleepers, INT32_MAX);
}

static int broken_err(void)
{
  return mproc__err(MPROC_EBROKEN, "BrokenBarrierError");
}

int mproc_barrier_wait(mproc_barrier_t *b, double timeout)
{
  barrier_state_t *st = barrier_state(b);
  double deadline = mproc__deadline(timeout);
  unsigned my_gen;
  int rc, index;

  if (st == NULL)
    return mproc__err(MPROC_EINVAL, "wait: not a Barrier");
  if ((rc = barrier_lock(b, st)) != 0)
    return rc;
  if (atomic_load(&st->broken)) {
    barrier_unlock(b, st);
    return broken_err();
  }
  index = (int)st->count++;
  my_gen = atomic_load(&st->gen);
  if (index + 1 == st->parties) {
    next_gen_locked(b, st);
    barrier_unlock(b, st);
    return index;
  }
  barrier_unlock(b, st);
  for (;;) {
    unsigned seen = atomic_load(&st->wake);
    if (atomic_load(&st->gen) != my_gen || atomic_load(&st->broken))
      break;
    if (nap(&b->s.seg, &st->wake, seen, &st->sleepers, deadline) ==
            MPROC_ETIMEDOUT &&
        atomic_load(&st->gen) == my_gen && !atomic_load(&st->broken)) {
      /* A timeout breaks the barrier for everyone, as in CPython. */
      if ((rc = barrier_lock(b, st)) != 0)
        return rc;
      if (atomic_load(&st->gen) == my_gen) {
        st->count--;
        break_locked(b, st);
        barrier_unlock(b, st);
        return broken_err();
      }
      barrier_unlock(b, st);
    }
  }
  if ((rc = barrier_lock(b, st)) != 0)
    return rc;
  if (atomic_load(&st->gen) == my_gen) {
    /* Broken while we waited (abort). */
    if (st->count > 0)
      st->count--;
    rc = broken_err();
  } else if (st->has_aborted && st->aborted_gen == my_gen) {
    rc = broken_err(); /* reset() cut this pass short */
  } else {
    rc = index;
  }
  barrier_unlock(b, st);
  return rc;
}

int mproc_barrier_abort(mproc_barrier_t *b)
{
  barrier_state_t *st = barrier_state(b);
  int rc;

  if (st == NULL)
    return mproc__err(MPROC_EINVAL, "abort: not a Barrier");
  if ((rc = barrier_lock(b, st)) != 0)
    return rc;
  break_locked(b, st);
  barrier_unlock(b, st);
  return 0;
}

int mproc_barrier_reset(mproc_barrier_t *b)
{
  barrier_state_t *st = barrier_state(b);
  int rc;

  if (st == NULL)
    return mproc__err(MPROC_EINVAL, "reset: not a Barrier");
  if ((rc = barrier_lock(b, st)) != 0)
    return rc;
  /* Waiters of the current pass wake broken; the barrier starts anew. */
  if (st->count > 0) {
    st->aborted_gen = atomic_load(&st->gen);
    st->has_aborted = 1;
  }
  atomic_store(&st->broken, 0);
  next_gen_locked(b, st);
  barrier_unlock(b, st);
  return 0;
}

int mproc_barrier_parties(mproc_barrier_t *b)
{
  barrier_state_t *st = barrier_state(b);

  return st ? st->parties : mproc__err(MPROC_EINVAL, "not a Barrier");
}

int mproc_barrier_n_waiting(mproc_barrier_t *b)
{
  barrier_state_t *st = barrier_state(b);

  if (st == NULL)
    return mproc__err(MPROC_EINVAL, "not a Barrier");
  return atomic_load(&st->broken) ? 0 : (int)st->count;
}

int mproc_barrier_broken(mproc_barrier_t *b)
{
  barrier_state_t *st = barrier_state(b);

  if (st == NULL)
    return mproc__err(MPROC_EINVAL, "not a Barrier");
  return atomic_load(&st->broken) != 0;
}

void mproc_barrier_free(mproc_barrier_t *b)
{
  if (b != NULL)
    mproc__obj_unref(&b->s.hdr);
}
