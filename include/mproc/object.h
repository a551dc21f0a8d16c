/**
 * @file mproc/object.h
 * @brief Objects shared with children.
 *
 * Part of the public API; include <mproc.h>, which includes every part.
 */
#ifndef MPROC_OBJECT_H
#define MPROC_OBJECT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "mproc/args.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @defgroup mproc-object Objects passed to children
 * @brief The mproc objects a child can be given with the `o` format unit
 * (CPython: objects "shared between processes through inheritance").
 *
 * Timeouts everywhere are in seconds; MPROC_FOREVER blocks; a negative
 * timeout is 0.
 * @{
 */

/**
 * Kinds of objects that can be passed to a child with the `o` format
 * unit. Every object is reference counted: the creator's reference is
 * dropped by its kind's _free function; a started process holds one on
 * each object in its arguments until it has started.
 */
typedef enum mproc_kind {
  MPROC_KIND_CONNECTION = 1,    /**< mproc_conn_t (Connection) */
  MPROC_KIND_QUEUE,             /**< mproc_queue_t (Queue) */
  MPROC_KIND_SIMPLE_QUEUE,      /**< mproc_queue_t (SimpleQueue) */
  MPROC_KIND_JOINABLE_QUEUE,    /**< mproc_queue_t (JoinableQueue) */
  MPROC_KIND_LOCK,              /**< mproc_lock_t (Lock) */
  MPROC_KIND_RLOCK,             /**< mproc_lock_t (RLock) */
  MPROC_KIND_SEMAPHORE,         /**< mproc_semaphore_t (Semaphore) */
  MPROC_KIND_BOUNDED_SEMAPHORE, /**< mproc_semaphore_t (BoundedSemaphore) */
  MPROC_KIND_CONDITION,         /**< mproc_condition_t (Condition) */
  MPROC_KIND_EVENT,             /**< mproc_event_t (Event) */
  MPROC_KIND_BARRIER,           /**< mproc_barrier_t (Barrier) */
  MPROC_KIND_VALUE,             /**< mproc_shared_t (Value) */
  MPROC_KIND_ARRAY,             /**< mproc_shared_t (Array) */
  MPROC_KIND_SHARED_MEMORY,     /**< mproc_shm_t (SharedMemory) */
  /** A proxy to an object held by a manager. Unlike the others it is a
   *  value, not an inherited handle: `o` may carry it anywhere a value
   *  goes (pool tasks, queue items, messages, a manager's dict). */
  MPROC_KIND_PROXY
} mproc_kind_t;

/**
 * Name of a kind, as in error messages.
 * @param kind an mproc_kind_t.
 * @return "Queue", "Lock", ...; "unknown object" for another value (never
 *         NULL).
 */
const char *mproc_kind_name(int kind);

/**
 * Kind of an object.
 * @param obj any pointer an mproc constructor gave (or any other pointer).
 * @return its mproc_kind_t, or 0 when it is not an mproc object.
 */
int mproc_object_kind(const void *obj);

/**
 * Resolve a value of type MPROC_T_OBJECT (inside a list or map of a
 * target's arguments) to the object, checking its @p kind.
 * @param args the target's arguments @p v belongs to.
 * @param v a value of type MPROC_T_OBJECT.
 * @param kind the mproc_kind_t expected.
 * @param[out] out the object, borrowed from @p args (valid while it lives).
 * @return 0; MPROC_ETYPE when @p v is not an object of that kind.
 */
int mproc_args_object(mproc_args_t *args, const mproc_value_t *v, int kind,
                      void **out);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* MPROC_OBJECT_H */
