/*
 * The synchronisation objects a manager's server holds, with the names,
 * arguments and errors of CPython's SyncManager (threading's Lock, RLock,
 * Semaphore, BoundedSemaphore, Condition, Event and Barrier behind
 * AcquirerProxy, ConditionProxy, EventProxy and BarrierProxy). Each
 * method runs with the server's lock held (mserver.c) and waits on the
 * object's condition variable, which releases that lock.
 *
 * A Lock or RLock belongs to the connection that acquired it (each
 * connection has its server thread, as in CPython, where a lock belongs
 * to that thread). When a connection ends holding one, it is released
 * and the next acquirer is told with MPROC_EOWNERDEAD.
 */
#include <stdlib.h>
#include <string.h>

#include "mserver.h"
#include "object.h"
#include "platform.h"

/* ---- Lock and RLock ---- */

static int unlocked(const sobj_t *o)
{
  return !o->flag;
}

/* The arguments of acquire([blocking[, timeout]]) as a deadline (now
 * when not blocking). */
static int acquire_deadline(call_t *x, double *deadline)
{
  int block = 1, rc;

  if (x->argc > 0 && (rc = mproc__marg_bool(x, 0, &block)) != 0)
    return rc;
  if ((rc = mproc__marg_deadline(x, 1, -1, deadline)) != 0)
    return rc;
  if (!block && x->argc > 1 && x->argv[1].type != MSGPACK_OBJECT_NIL)
    return mproc__err(MPROC_EINVAL,
                      "ValueError: can't specify a timeout for a non-blocking "
                      "call");
  if (!block)
    *deadline = 0;
  return 0;
}

/* acquire([blocking[, timeout]]) on lock @l for the caller. */
static int lock_acquire(call_t *x, sobj_t *l)
{
  double deadline = MPROC__NEVER;
  int rc = acquire_deadline(x, &deadline);

  if (rc != 0)
    return rc;
  if (l->type == MPROC_MANAGED_RLOCK && l->flag && l->owner == x->w) {
    l->count++;
    mproc__mput_bool(x, 1);
    return 0;
  }
  if (mproc__mwait(x, l, unlocked, deadline) != 0) {
    mproc__mput_bool(x, 0);
    return 0;
  }
  l->flag = 1;
  l->owner = x->w;
  l->count = 1;
  if (l->owner_died) {
    l->owner_died = 0;
    return mproc__err(MPROC_EOWNERDEAD,
                      "lock acquired; the connection that held it ended "
                      "without releasing it");
  }
  mproc__mput_bool(x, 1);
  return 0;
}

static int lock_release(call_t *x, sobj_t *l)
{
  if (!l->flag)
    return mproc__err(l->type == MPROC_MANAGED_RLOCK ? MPROC_EPERM
                                                     : MPROC_ESTATE,
                      l->type == MPROC_MANAGED_RLOCK
                          ? "RuntimeError: cannot release un-acquired lock"
                          : "RuntimeError: release unlocked lock");
  /* A Lock may be released by any connection (threading.Lock); an
   * RLock only by its owner. */
  if (l->type == MPROC_MANAGED_RLOCK && l->owner != x->w)
    return mproc__err(MPROC_EPERM,
                      "RuntimeError: cannot release un-acquired lock");
  if (l->type == MPROC_MANAGED_RLOCK && --l->count > 0) {
    msgpack_pack_nil(&x->pk);
    return 0;
  }
  l->flag = 0;
  l->owner = NULL;
  l->count = 0;
  mproc__mobj_changed(l);
  msgpack_pack_nil(&x->pk);
  return 0;
}

static int k_acquire(call_t *x)
{
  return lock_acquire(x, x->o);
}

static int k_release(call_t *x)
{
  return lock_release(x, x->o);
}

static int k_locked(call_t *x)
{
  mproc__mput_bool(x, x->o->flag);
  return 0;
}

/* ---- Semaphore and BoundedSemaphore ---- */

static int has_permit(const sobj_t *o)
{
  return o->count > 0;
}

static int s_acquire(call_t *x)
{
  double deadline = MPROC__NEVER;
  int rc = acquire_deadline(x, &deadline);

  if (rc != 0)
    return rc;
  if (mproc__mwait(x, x->o, has_permit, deadline) != 0) {
    mproc__mput_bool(x, 0);
    return 0;
  }
  x->o->count--;
  mproc__mput_bool(x, 1);
  return 0;
}

/* release([n]) */
static int s_release(call_t *x)
{
  int64_t n = 1;
  int rc;

  if (x->argc > 0 && (rc = mproc__marg_int(x, 0, &n)) != 0)
    return rc;
  if (n < 1)
    return mproc__err(MPROC_EINVAL, "ValueError: n must be one or more");
  if (x->o->type == MPROC_MANAGED_BOUNDED_SEMAPHORE &&
      x->o->count + n > x->o->bound)
    return mproc__err(MPROC_EINVAL,
                      "ValueError: Semaphore released too many times");
  x->o->count += (long)n;
  mproc__mobj_changed(x->o);
  msgpack_pack_nil(&x->pk);
  return 0;
}

/* get_value() (CPython's Semaphore._value; not exposed by its proxy). */
static int s_get_value(call_t *x)
{
  msgpack_pack_int64(&x->pk, x->o->count);
  return 0;
}

/* ---- Condition (threading.Condition) ---- */

static int c_acquire(call_t *x)
{
  return lock_acquire(x, x->o->lock);
}

static int c_release(call_t *x)
{
  return lock_release(x, x->o->lock);
}

static int owns_lock(call_t *x)
{
  return x->o->lock->flag && x->o->lock->owner == x->w;
}

static void unlink_waiter(sobj_t *o, cwait_t *me)
{
  for (cwait_t **p = &o->waiters; *p != NULL; p = &(*p)->next)
    if (*p == me) {
      *p = me->next;
      return;
    }
}

/* wait([timeout]): release the lock (every level of an RLock), wait to be
 * notified, take the lock back. True when notified. */
static int c_wait(call_t *x)
{
  sobj_t *l = x->o->lock;
  cwait_t me = {0, NULL}, **tail;
  double deadline;
  long depth;
  int rc;

  if (!owns_lock(x))
    return mproc__err(MPROC_EPERM,
                      "RuntimeError: cannot wait on un-acquired lock");
  if ((rc = mproc__marg_deadline(x, 0, -1, &deadline)) != 0)
    return rc;
  for (tail = &x->o->waiters; *tail != NULL; tail = &(*tail)->next)
    ;
  *tail = &me;
  depth = l->count;
  l->flag = 0;
  l->owner = NULL;
  l->count = 0;
  mproc__mobj_changed(l);
  while (!me.notified) {
    if (deadline >= MPROC__NEVER) {
      apr_thread_cond_wait(x->o->cv, x->s->mu);
      continue;
    }
    double left = deadline - mproc__plat_now();
    if (left <= 0)
      break;
    apr_thread_cond_timedwait(x->o->cv, x->s->mu,
                              (apr_interval_time_t)(left * 1e6) + 1);
  }
  if (!me.notified)
    unlink_waiter(x->o, &me);
  (void)mproc__mwait(x, l, unlocked, MPROC__NEVER);
  l->flag = 1;
  l->owner = x->w;
  l->count = depth;
  l->owner_died = 0;
  mproc__mput_bool(x, me.notified);
  return 0;
}

/* notify([n]): wake the @n longest waiting; later waiters never take
 * these wake-ups. */
static int c_notify(call_t *x)
{
  int64_t n = 1;
  int rc;

  if (!owns_lock(x))
    return mproc__err(MPROC_EPERM,
                      "RuntimeError: cannot notify on un-acquired lock");
  if (x->argc > 0 && (rc = mproc__marg_int(x, 0, &n)) != 0)
    return rc;
  for (; n > 0 && x->o->waiters != NULL; n--) {
    x->o->waiters->notified = 1;
    x->o->waiters = x->o->waiters->next;
  }
  mproc__mobj_changed(x->o);
  msgpack_pack_nil(&x->pk);
  return 0;
}

static int c_notify_all(call_t *x)
{
  if (!owns_lock(x))
    return mproc__err(MPROC_EPERM,
                      "RuntimeError: cannot notify on un-acquired lock");
  for (; x->o->waiters != NULL; x->o->waiters = x->o->waiters->next)
    x->o->waiters->notified = 1;
  mproc__mobj_changed(x->o);
  msgpack_pack_nil(&x->pk);
  return 0;
}

/* ---- Event ---- */

static int is_set(const sobj_t *o)
{
  return o->flag;
}

static int e_set(call_t *x)
{
  x->o->flag = 1;
  mproc__mobj_changed(x->o);
  msgpack_pack_nil(&x->pk);
  return 0;
}

static int e_clear(call_t *x)
{
  x->o->flag = 0;
  msgpack_pack_nil(&x->pk);
  return 0;
}

static int e_is_set(call_t *x)
{
  mproc__mput_bool(x, x->o->flag);
  return 0;
}

static int e_wait(call_t *x)
{
  double deadline;
  int rc = mproc__marg_deadline(x, 0, -1, &deadline);

  if (rc != 0)
    return rc;
  mproc__mput_bool(x, mproc__mwait(x, x->o, is_set, deadline) == 0);
  return 0;
}

/* ---- Barrier (threading.Barrier) ---- */

static int broken_err(void)
{
  return mproc__err(MPROC_EBROKEN, "BrokenBarrierError");
}

static void b_break(sobj_t *o)
{
  o->flag = 1;
  mproc__mobj_changed(o);
}

/* wait([timeout]): the index of the caller's arrival; the last to come
 * releases the pass. A timeout breaks the barrier. */
static int b_wait(call_t *x)
{
  sobj_t *o = x->o;
  double deadline;
  unsigned gen = o->gen;
  long index;
  int rc = mproc__marg_deadline(x, 0, o->timeout, &deadline);

  if (rc != 0)
    return rc;
  if (o->flag)
    return broken_err();
  index = o->count++;
  if (index + 1 == o->bound) {
    o->count = 0;
    o->gen++;
    mproc__mobj_changed(o);
    msgpack_pack_int64(&x->pk, index);
    return 0;
  }
  while (o->gen == gen && !o->flag) {
    if (deadline >= MPROC__NEVER) {
      apr_thread_cond_wait(o->cv, x->s->mu);
      continue;
    }
    double left = deadline - mproc__plat_now();
    if (left <= 0) {
      b_break(o); /* as CPython: a timeout breaks the barrier */
      break;
    }
    apr_thread_cond_timedwait(o->cv, x->s->mu,
                              (apr_interval_time_t)(left * 1e6) + 1);
  }
  if (o->gen == gen) {
    o->count--;
    return broken_err();
  }
  if (o->has_aborted && o->aborted_gen == gen)
    return broken_err(); /* reset() cut this pass short */
  msgpack_pack_int64(&x->pk, index);
  return 0;
}

static int b_abort(call_t *x)
{
  b_break(x->o);
  msgpack_pack_nil(&x->pk);
  return 0;
}

static int b_reset(call_t *x)
{
  sobj_t *o = x->o;

  if (o->count > 0) {
    o->aborted_gen = o->gen;
    o->has_aborted = 1;
  }
  o->count = 0;
  o->gen++;
  o->flag = 0;
  mproc__mobj_changed(o);
  msgpack_pack_nil(&x->pk);
  return 0;
}

/* __getattribute__(name): parties, n_waiting, broken. */
static int b_getattr(call_t *x)
{
  const msgpack_object *a = &x->argv[0];

  if (a->type == MSGPACK_OBJECT_STR && a->via.str.size == 7 &&
      memcmp(a->via.str.ptr, "parties", 7) == 0)
    msgpack_pack_int64(&x->pk, x->o->bound);
  else if (a->type == MSGPACK_OBJECT_STR && a->via.str.size == 9 &&
           memcmp(a->via.str.ptr, "n_waiting", 9) == 0)
    msgpack_pack_int64(&x->pk, x->o->flag ? 0 : x->o->count);
  else if (a->type == MSGPACK_OBJECT_STR && a->via.str.size == 6 &&
           memcmp(a->via.str.ptr, "broken", 6) == 0)
    mproc__mput_bool(x, x->o->flag);
  else
    return mproc__err(MPROC_ENOTFOUND,
                      "AttributeError: 'Barrier' object has no such "
                      "attribute (parties, n_waiting and broken are "
                      "exposed)");
  return 0;
}

const method_t mproc__mlock_methods[] = {
    {"acquire", k_acquire, 0, 2},
    {"release", k_release, 0, 0},
    {"locked", k_locked, 0, 0},
    {NULL, NULL, 0, 0},
};

const method_t mproc__mrlock_methods[] = {
    {"acquire", k_acquire, 0, 2},
    {"release", k_release, 0, 0},
    {NULL, NULL, 0, 0},
};

const method_t mproc__msem_methods[] = {
    {"acquire", s_acquire, 0, 2},
    {"release", s_release, 0, 1},
    {"get_value", s_get_value, 0, 0},
    {NULL, NULL, 0, 0},
};

const method_t mproc__mcond_methods[] = {
    {"acquire", c_acquire, 0, 2},
    {"release", c_release, 0, 0},
    {"wait", c_wait, 0, 1},
    {"notify", c_notify, 0, 1},
    {"notify_all", c_notify_all, 0, 0},
    {NULL, NULL, 0, 0},
};

const method_t mproc__mevent_methods[] = {
    {"set", e_set, 0, 0},       {"clear", e_clear, 0, 0},
    {"is_set", e_is_set, 0, 0}, {"wait", e_wait, 0, 1},
    {NULL, NULL, 0, 0},
};

const method_t mproc__mbarrier_methods[] = {
    {"wait", b_wait, 0, 1},   {"abort", b_abort, 0, 0},
    {"reset", b_reset, 0, 0}, {"__getattribute__", b_getattr, 1, 1},
    {NULL, NULL, 0, 0},
};

/* ---- construction ---- */

/* Semaphore([value]), BoundedSemaphore([value]): 1 by default. */
static int sem_init(sobj_t *o, const msgpack_object *a, uint32_t n)
{
  int64_t v = 1;

  if (n > 0 && mproc__mobj_int(&a[0], &v) != 0)
    return mproc__err(MPROC_ETYPE, "Semaphore(): value must be int");
  if (v < 0 || v > LONG_MAX)
    return mproc__err(MPROC_EINVAL,
                      "ValueError: semaphore initial value must be >= 0");
  o->count = o->bound = (long)v;
  return 0;
}

/* Barrier(parties[, action[, timeout]]) */
static int barrier_init(call_t *x, sobj_t *o, const msgpack_object *a,
                        uint32_t n)
{
  int64_t parties;
  call_t y = *x;

  if (n < 1 || mproc__mobj_int(&a[0], &parties) != 0)
    return mproc__err(MPROC_ETYPE, "Barrier(): parties must be an int");
  if (parties < 1 || parties > LONG_MAX)
    return mproc__err(MPROC_EINVAL, "ValueError: parties must be >= 1");
  if (n > 1 && a[1].type != MSGPACK_OBJECT_NIL)
    return mproc__err(MPROC_ENOSYS,
                      "Barrier(): a managed Barrier has no action (the "
                      "server cannot call a client's function)");
  o->bound = (long)parties;
  /* Read as a call's argument: the same checks and messages. */
  y.argv = a;
  y.argc = n;
  return mproc__marg_timeout(&y, 2, &o->timeout);
}

/* Condition([lock]): a Lock or RLock of this manager (a proxy), or a new
 * RLock. */
static int cond_init(call_t *x, sobj_t *o, const msgpack_object *a, uint32_t n)
{
  static const msgpack_object none = {.type = MSGPACK_OBJECT_ARRAY};
  size_t id = 0;
  int rc;

  if (n > 0 && a[0].type != MSGPACK_OBJECT_NIL) {
    o->lock = mproc__mobj_from_proxy(x, &a[0]);
    if (o->lock == NULL || (o->lock->type != MPROC_MANAGED_LOCK &&
                            o->lock->type != MPROC_MANAGED_RLOCK))
      return mproc__err(MPROC_ETYPE, "Condition(): lock must be a Lock or "
                                     "RLock of this manager");
    return 0;
  }
  if ((rc = mproc__mobj_new(x, MPROC_MANAGED_RLOCK, &none, &id)) != 0)
    return rc;
  o->lock = x->s->objs[id - 1];
  return 0;
}

int mproc__msync_init(call_t *x, sobj_t *o, const msgpack_object *a, uint32_t n)
{
  switch (o->type) {
  case MPROC_MANAGED_CONDITION:
    return cond_init(x, o, a, n);
  case MPROC_MANAGED_SEMAPHORE:
  case MPROC_MANAGED_BOUNDED_SEMAPHORE:
    return sem_init(o, a, n);
  case MPROC_MANAGED_BARRIER:
    return barrier_init(x, o, a, n);
  default:
    return 0;
  }
}

void mproc__msync_gone(sobj_t *o, worker_t *w)
{
  if ((o->type == MPROC_MANAGED_LOCK || o->type == MPROC_MANAGED_RLOCK) &&
      o->flag && o->owner == w) {
    o->flag = 0;
    o->owner = NULL;
    o->count = 0;
    o->owner_died = 1;
    mproc__mobj_changed(o);
  }
}
