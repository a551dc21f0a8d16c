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
    MPROC_KIND_BOUNDED_SEMAPHORE, segobj_export, bsem_import, segobj_destroy,
    NULL};
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

/* A notify wakes only those already waiting (as CPython's Condition,
 * whose notify waits until the sleepers it woke have taken their
 * wake-ups): each waiter has a slot, taken with the lock held, in which
 * notify marks it and on whose word it sleeps alone. A wake-up cannot be
 * taken by a later waiter (the notifier itself, say), and no notify
 * blocks; a waiter that times out frees its slot unless a notify marked
 * it first, and then counts as notified. Slots of waiters whose process
 * died are reclaimed rather than notified. */
#define COND_SLOTS 1024

enum { SLOT_FREE, SLOT_WAITING, SLOT_NOTIFIED };

typedef struct cond_slot {
  atomic_uint state; /* SLOT_*; a waiter sleeps on it */
  uint32_t pid;      /* the waiter's process */
  uint64_t ticket;   /* arrival order: notify wakes the oldest first */
} cond_slot_t;

typedef struct cond_state {
  uint64_t next_ticket; /* with the lock held */
  uint32_t used;        /* slots at and above it are free (lock held) */
  uint32_t pad;
  cond_slot_t slot[COND_SLOTS];
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

/* A free slot for the calling waiter (the lock is held), or NULL. */
static cond_slot_t *slot_claim(cond_state_t *st, int reclaim)
{
  long me = mproc__plat_getpid();

  for (uint32_t i = 0; i < st->used; i++) {
    cond_slot_t *s = &st->slot[i];
    unsigned state = atomic_load(&s->state);
    /* A waiter that died (its slot still marked) has left it for good. */
    if (reclaim && state != SLOT_FREE && (long)s->pid != me &&
        !mproc__plat_pid_alive((long)s->pid))
      atomic_compare_exchange_strong(&s->state, &state, SLOT_FREE);
    if (atomic_load(&s->state) == SLOT_FREE)
      return s;
  }
  return st->used < COND_SLOTS ? &st->slot[st->used++] : NULL;
}

/* Register the caller as a waiter (the lock is held). */
static int cond_enter(cond_state_t *st, cond_slot_t **out)
{
  cond_slot_t *s = slot_claim(st, 0);

  if (s == NULL && (s = slot_claim(st, 1)) == NULL)
    return mproc__err(MPROC_ENOMEM,
                      "Condition: %d processes and threads already wait "
                      "on it (its limit)",
                      COND_SLOTS);
  s->pid = (uint32_t)mproc__plat_getpid();
  s->ticket = st->next_ticket++;
  atomic_store(&s->state, SLOT_WAITING);
  *out = s;
  return 0;
}

/* Sleep in @s until notified (1) or @deadline (0). */
static int cond_sleep(mproc_condition_t *c, cond_slot_t *s, double deadline)
{
  while (atomic_load(&s->state) == SLOT_WAITING) {
    unsigned waiting = SLOT_WAITING;
    if (mproc__plat_word_wait(&c->s.seg, &s->state, SLOT_WAITING, deadline) ==
        MPROC_ETIMEDOUT) {
      if (atomic_compare_exchange_strong(&s->state, &waiting, SLOT_FREE))
        return 0;
      break; /* a notify marked us as the time ran out: notified */
    }
  }
  /* Notified: the slot stays ours until we free it. */
  atomic_store(&s->state, SLOT_FREE);
  return 1;
}

int mproc_condition_wait(mproc_condition_t *c, double timeout)
{
  cond_state_t *st = cond_state(c);
  double deadline = mproc__deadline(timeout);
  cond_slot_t *slot;
  uint32_t depth;
  int rc, notified, relock;

  if (st == NULL)
    return mproc__err(MPROC_EINVAL, "wait: not a Condition");
  if (!mproc__lock_owned(c->lock))
    return mproc__err(MPROC_EPERM, "cannot wait on un-acquired lock");
  if ((rc = cond_enter(st, &slot)) != 0)
    return rc;
  if ((rc = mproc__lock_release_all(c->lock, &depth)) != 0) {
    atomic_store(&slot->state, SLOT_FREE);
    return rc;
  }
  notified = cond_sleep(c, slot, deadline);
  relock = mproc__lock_restore(c->lock, depth, MPROC__NEVER);
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

/* The oldest waiter not yet notified (the lock is held), or NULL. Slots
 * of dead waiters are freed on the way. */
static cond_slot_t *oldest_waiting(cond_state_t *st)
{
  long me = mproc__plat_getpid();

  for (;;) {
    cond_slot_t *best = NULL;
    unsigned waiting = SLOT_WAITING;
    for (uint32_t i = 0; i < st->used; i++) {
      cond_slot_t *s = &st->slot[i];
      if (atomic_load(&s->state) == SLOT_WAITING &&
          (best == NULL || s->ticket < best->ticket))
        best = s;
    }
    if (best == NULL || (long)best->pid == me ||
        mproc__plat_pid_alive((long)best->pid))
      return best;
    atomic_compare_exchange_strong(&best->state, &waiting, SLOT_FREE);
  }
}

/* Lower the mark of used slots over free ones at the top (lock held;
 * only the lock holder turns a free slot into a used one). */
static void trim_slots(cond_state_t *st)
{
  while (st->used > 0 &&
         atomic_load(&st->slot[st->used - 1].state) == SLOT_FREE)
    st->used--;
}

int mproc_condition_notify(mproc_condition_t *c, int n)
{
  cond_state_t *st = cond_state(c);
  cond_slot_t *s;

  if (st == NULL)
    return mproc__err(MPROC_EINVAL, "notify: not a Condition");
  if (!mproc__lock_owned(c->lock))
    return mproc__err(MPROC_EPERM, "cannot notify on un-acquired lock");
  while (n > 0 && (s = oldest_waiting(st)) != NULL) {
    unsigned state = SLOT_WAITING;
    /* Lost to the waiter's own timeout: try the next one. */
    if (!atomic_compare_exchange_strong(&s->state, &state, SLOT_NOTIFIED))
      continue;
    mproc__plat_word_wake(&c->s.seg, &s->state, 1);
    n--;
  }
  trim_slots(st);
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
  double timeout;   /* wait()'s default; MPROC_FOREVER: none */
  char action[128]; /* registered name of the action, "" for none */
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

const mproc__obj_ops_t mproc__barrier_ops = {
    MPROC_KIND_BARRIER, segobj_export, barrier_import, segobj_destroy, NULL};
MPROC__OBJ_REGISTER(mproc__barrier_ops)

/* The registered name of @action ("" for none) into @name. */
static int action_name(mproc_target_fn action, char *name, size_t cap)
{
  const char *reg = action != NULL ? mproc_target_name(action) : "";

  if (reg == NULL)
    return mproc__err(MPROC_ENOTREG,
                      "Barrier: the action %p is not registered; define it "
                      "with MPROC_TARGET(name) (every party runs it by name)",
                      (void *)(uintptr_t)action);
  if (strlen(reg) >= cap)
    return mproc__err(MPROC_EINVAL,
                      "Barrier: the action's name '%s' is longer than %zu", reg,
                      cap - 1);
  memcpy(name, reg, strlen(reg) + 1);
  return 0;
}

int mproc_barrier_create(mproc_barrier_t **out, int parties)
{
  return mproc_barrier_create_ex(out, parties, NULL, MPROC_FOREVER);
}

int mproc_barrier_create_ex(mproc_barrier_t **out, int parties,
                            mproc_target_fn action, double timeout)
{
  char name[sizeof(((barrier_state_t *)0)->action)];
  segobj_t *s;
  int rc;

  if (out == NULL)
    return mproc__err(MPROC_EINVAL, "Barrier: NULL output");
  *out = NULL;
  if (parties < 1)
    return mproc__err(MPROC_EINVAL, "parties must be >= 1");
  if (!(timeout >= 0))
    return mproc__err(MPROC_EINVAL, "Barrier: timeout must be >= 0");
  if ((rc = action_name(action, name, sizeof name)) != 0)
    return rc;
  rc = segobj_create(sizeof(mproc_barrier_t), sizeof(barrier_state_t),
                     &mproc__barrier_ops, &s);
  if (rc != 0)
    return rc;
  barrier_state_t *st = s->seg.addr;
  st->parties = parties;
  st->timeout = timeout;
  memcpy(st->action, name, sizeof name);
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

/* The action, run by the party that trips the barrier, before any party
 * is released (the lock is held, as in CPython). It fails the pass when
 * it fails: its party gets why. */
static int run_action(barrier_state_t *st)
{
  static const char no_args[] = {(char)0x90}; /* [] */
  mproc_target_fn fn;
  mproc_args_t *args = NULL;
  int rc;

  if (st->action[0] == '\0')
    return 0;
  st->action[sizeof st->action - 1] = '\0';
  fn = mproc__target_lookup(st->action);
  if (fn == NULL)
    return mproc__err(MPROC_ENOTREG,
                      "Barrier: action '%s' is not registered in this "
                      "program; the barrier is broken",
                      st->action);
  if ((rc = mproc__args_new(&args, no_args, sizeof no_args, NULL, 0)) != 0)
    return rc;
  rc = fn(args);
  mproc__args_free(args);
  if (rc != 0)
    return mproc__err(MPROC_EBROKEN,
                      "Barrier: action '%s' failed (returned %d); the "
                      "barrier is broken",
                      st->action, rc);
  return 0;
}

/* The last party has come: run the action, release the pass. */
static int trip_locked(mproc_barrier_t *b, barrier_state_t *st, int index)
{
  int rc = run_action(st);

  if (rc != 0) {
    st->count--;
    break_locked(b, st);
    return rc;
  }
  next_gen_locked(b, st);
  return index;
}

int mproc_barrier_wait(mproc_barrier_t *b, double timeout)
{
  barrier_state_t *st = barrier_state(b);
  double deadline;
  unsigned my_gen;
  int rc, index;

  if (st == NULL)
    return mproc__err(MPROC_EINVAL, "wait: not a Barrier");
  /* CPython's wait(timeout=None): the barrier's own timeout. */
  deadline = mproc__deadline(timeout >= 1e9 ? st->timeout : timeout);
  if ((rc = barrier_lock(b, st)) != 0)
    return rc;
  if (atomic_load(&st->broken)) {
    barrier_unlock(b, st);
    return broken_err();
  }
  index = (int)st->count++;
  my_gen = atomic_load(&st->gen);
  if (index + 1 == st->parties) {
    rc = trip_locked(b, st, index);
    barrier_unlock(b, st);
    return rc;
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
