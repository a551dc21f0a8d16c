/*
 * The common part of objects passed to children: reference counts, the
 * check that a caller's pointer is one, the kind -> ops table children
 * import with, and small helpers every kind uses.
 */
#include <stdlib.h>

#include "object.h"
#include "platform.h"

#define KIND_MAX MPROC_KIND_PROXY

/* Filled by MPROC__OBJ_REGISTER at load time, before main(); read-only
 * afterwards, so it needs no lock. */
static const mproc__obj_ops_t *ops_by_kind[KIND_MAX + 1];

void mproc__obj_register(const mproc__obj_ops_t *ops)
{
  if (ops->kind > 0 && ops->kind <= KIND_MAX)
    ops_by_kind[ops->kind] = ops;
}

const mproc__obj_ops_t *mproc__obj_ops_of(int kind)
{
  return kind > 0 && kind <= KIND_MAX ? ops_by_kind[kind] : NULL;
}

void mproc__obj_init(mproc__obj_t *o, const mproc__obj_ops_t *ops)
{
  o->magic = MPROC__OBJ_MAGIC;
  o->ops = ops;
  atomic_init(&o->refs, 1);
}

void mproc__obj_ref(mproc__obj_t *o)
{
  atomic_fetch_add(&o->refs, 1);
}

void mproc__obj_unref(mproc__obj_t *o)
{
  if (o == NULL || atomic_fetch_sub(&o->refs, 1) != 1)
    return;
  /* A stale pointer used after this fails the magic check rather than
   * dispatching through freed ops (as far as freed memory allows). */
  o->magic = 0;
  o->ops->destroy(o);
}

int mproc_object_kind(const void *obj)
{
  mproc__obj_t *o = mproc__obj_check(obj);

  return o ? o->ops->kind : 0;
}

const char *mproc_kind_name(int kind)
{
  static const char *const names[KIND_MAX + 1] = {
      [MPROC_KIND_CONNECTION] = "Connection",
      [MPROC_KIND_QUEUE] = "Queue",
      [MPROC_KIND_SIMPLE_QUEUE] = "SimpleQueue",
      [MPROC_KIND_JOINABLE_QUEUE] = "JoinableQueue",
      [MPROC_KIND_LOCK] = "Lock",
      [MPROC_KIND_RLOCK] = "RLock",
      [MPROC_KIND_SEMAPHORE] = "Semaphore",
      [MPROC_KIND_BOUNDED_SEMAPHORE] = "BoundedSemaphore",
      [MPROC_KIND_CONDITION] = "Condition",
      [MPROC_KIND_EVENT] = "Event",
      [MPROC_KIND_BARRIER] = "Barrier",
      [MPROC_KIND_VALUE] = "Value",
      [MPROC_KIND_ARRAY] = "Array",
      [MPROC_KIND_SHARED_MEMORY] = "SharedMemory",
      [MPROC_KIND_PROXY] = "Proxy",
  };

  return kind > 0 && kind <= KIND_MAX ? names[kind] : "unknown object";
}

double mproc__deadline(double timeout)
{
  if (timeout >= 1e9)
    return MPROC__NEVER;
  if (!(timeout > 0)) /* negative, or NaN */
    timeout = 0;
  return mproc__plat_now() + timeout;
}

void mproc_free(void *p)
{
  free(p);
}
