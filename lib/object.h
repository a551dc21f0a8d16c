/*
 * Objects that can be passed to a child as a process argument (the `o`
 * format unit): Connection, the queues, the synchronisation objects,
 * Value/Array, SharedMemory. Private to lib/.
 *
 * Every such object's public struct starts with an mproc__obj_t, so that
 * a `void *` from the caller can be checked (magic) and dispatched (ops).
 *
 * Passing: when a process starts, each object in its arguments is
 * exported: it lists the OS handles (descriptors / HANDLEs) a child must
 * inherit and a few bytes describing itself. The backend makes the
 * handles inheritable by that child only; the bootstrap message carries,
 * per object, its kind, the handles' values as the child will see them
 * and the bytes. In the child the object is imported from those.
 */
#ifndef MPROC__OBJECT_H
#define MPROC__OBJECT_H

#include <stdatomic.h>
#include <stdint.h>

#include "internal.h"

#define MPROC__OBJ_MAGIC 0x6d70726fu /* "mpro" */

typedef struct mproc__obj mproc__obj_t;

/* What an object hands a child. */
typedef struct mproc__export {
  intptr_t handles[MPROC__OBJ_MAX_HANDLES]; /* values in this process */
  size_t nhandles;
  unsigned char extra[MPROC__OBJ_MAX_EXTRA]; /* kind-specific */
  size_t extra_len;
} mproc__export_t;

typedef struct mproc__obj_ops {
  int kind; /* mproc_kind_t */
  /* Describe the object for a child about to start. Must not change it. */
  int (*export_obj)(mproc__obj_t *o, mproc__export_t *ex);
  /* In a child: a new object (one reference) from the inherited
   * @handles (values in this process) and @extra. Takes ownership of
   * the handles on success; on failure they stay the caller's. Must
   * check @extra's length and content: it came through a pipe. */
  int (*import_obj)(mproc__obj_t **out, const intptr_t *handles, size_t n,
                    const void *extra, size_t extra_len);
  /* Free everything; called when the last reference goes. */
  void (*destroy)(mproc__obj_t *o);
  /* Objects that are values (a manager's proxy: an address and an id,
   * no handle) pack themselves instead of being exported; they go
   * wherever a value goes. import_obj then gets no handles and these
   * bytes as @extra. NULL for objects that travel by inheritance. */
  int (*pack_value)(mproc__obj_t *o, msgpack_sbuffer *out);
} mproc__obj_ops_t;

struct mproc__obj {
  uint32_t magic;
  const mproc__obj_ops_t *ops;
  atomic_int refs;
};

/* Start with one reference. */
void mproc__obj_init(mproc__obj_t *o, const mproc__obj_ops_t *ops);
void mproc__obj_ref(mproc__obj_t *o);
/* Drop a reference; the last one destroys the object. NULL is a no-op. */
void mproc__obj_unref(mproc__obj_t *o);
/* @p as an object, or NULL when it is not one (NULL included). Inline:
 * every public call on an object starts with it. */
static inline mproc__obj_t *mproc__obj_check(const void *p)
{
  mproc__obj_t *o = (mproc__obj_t *)p;

  if (o == NULL || o->magic != MPROC__OBJ_MAGIC || o->ops == NULL)
    return NULL;
  return o;
}
/* The ops of @kind (for import), or NULL. */
const mproc__obj_ops_t *mproc__obj_ops_of(int kind);

/* Each kind's file registers its ops at load time, so that a child can
 * import any kind its program links (a program that can create a kind
 * links its file): MPROC__OBJ_REGISTER(mproc__lock_ops); at file scope. */
void mproc__obj_register(const mproc__obj_ops_t *ops);
#define MPROC__OBJ_REGISTER(ops)                                               \
  MPROC__CTOR(mproc__obj_register_##ops)                                       \
  {                                                                            \
    mproc__obj_register(&(ops));                                               \
  }

/* A timeout in seconds as an absolute deadline on mproc__plat_now()'s
 * clock: negative counts as 0, >= 1e9 is "never" (MPROC__NEVER). */
#define MPROC__NEVER 1e300
double mproc__deadline(double timeout);

#endif /* MPROC__OBJECT_H */
