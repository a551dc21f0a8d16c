/*
 * What the objects built on a Lock (Condition, Value/Array) need of it.
 * Private to lib/.
 */
#ifndef MPROC__SYNC_H
#define MPROC__SYNC_H

#include <stdint.h>

#include "object.h"
#include "platform.h"

/* Whether @p is a Lock or RLock. */
int mproc__lock_is(const void *p);
/* Acquire with an absolute deadline; MPROC_EDEADLK at once when a Lock's
 * holder asks again. */
int mproc__lock_acquire_deadline(mproc_lock_t *l, double deadline);
/* Whether the calling thread holds @l. */
int mproc__lock_owned(mproc_lock_t *l);
/* Release every recursion level (the caller holds it); *depth to restore
 * with mproc__lock_restore. */
int mproc__lock_release_all(mproc_lock_t *l, uint32_t *depth);
int mproc__lock_restore(mproc_lock_t *l, uint32_t depth, double deadline);

#endif /* MPROC__SYNC_H */
