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
 * Kinds of objects that can be passed to a child with the `o` format
 * unit. Every object is reference counted: the creator's reference is
 * dropped by its kind's _free function; a started process holds one on
 * each object in its arguments until it has started.
 */
typedef enum mproc_kind {
  MPROC_KIND_CONNECTION = 1,
  MPROC_KIND_QUEUE,
  MPROC_KIND_SIMPLE_QUEUE,
  MPROC_KIND_JOINABLE_QUEUE,
  MPROC_KIND_LOCK,
  MPROC_KIND_RLOCK,
  MPROC_KIND_SEMAPHORE,
  MPROC_KIND_BOUNDED_SEMAPHORE,
  MPROC_KIND_CONDITION,
  MPROC_KIND_EVENT,
  MPROC_KIND_BARRIER,
  MPROC_KIND_VALUE,
  MPROC_KIND_ARRAY,
  MPROC_KIND_SHARED_MEMORY,
  /** A proxy to an object held by a manager. Unlike the others it is a
   *  value, not an inherited handle: `o` may carry it anywhere a value
   *  goes (pool tasks, queue items, messages, a manager's dict). */
  MPROC_KIND_PROXY
} mproc_kind_t;

/** Name of a kind ("Queue", "Lock", ...), as in error messages. */
const char *mproc_kind_name(int kind);

/** Kind of object @p obj, or 0 when it is not an mproc object. */
int mproc_object_kind(const void *obj);

/**
 * Resolve a value of type MPROC_T_OBJECT (inside a list or map of a
 * target's arguments) to the object, checking its @p kind.
 * Borrowed from @p args. @return 0; MPROC_ETYPE.
 */
int mproc_args_object(mproc_args_t *args, const mproc_value_t *v, int kind,
                      void **out);

/** Timeouts: seconds; MPROC_FOREVER blocks; a negative timeout is 0. */

#ifdef __cplusplus
}
#endif

#endif /* MPROC_OBJECT_H */
