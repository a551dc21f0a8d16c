/*
 * Lock and RLock, shared between processes: a robust mutex of the
 * backend in a shared segment, plus the owner and recursion count that
 * RLock and the error cases need. The owner is a thread id, unique across
 * processes; only the owner writes it, while holding the mutex, so a
 * non-owner can never read its own id there by mistake.
 */
#include <stdlib.h>
#include <string.h>

#include "object.h"
#include "platform.h"
#include "sync.h"

typedef struct lock_state {
  mproc__mutex_t mx;
  uint64_t owner;     /* RLock: thread id of the holder, 0 when free */
  uint32_t count;     /* RLock: recursion depth */
  atomic_uint parked; /* never changes: what a self-deadlock waits on */
} lock_state_t;

struct mproc_lock {
  mproc__obj_t hdr;
  mproc__seg_t seg;
  lock_state_t *st;
  int recursive;
};

#define LOCK_EXTRA_VERSION 1

static const char *kind_name(const mproc_lock_t *l)
{
  return l->recursive ? "RLock" : "Lock";
}

static void lock_destroy(mproc__obj_t *o)
{
  mproc_lock_t *l = (mproc_lock_t *)o;

  mproc__plat_seg_close(&l->seg);
  free(l);
}

static int lock_export(mproc__obj_t *o, mproc__export_t *ex)
{
  mproc_lock_t *l = (mproc_lock_t *)o;

  ex->extra[0] = LOCK_EXTRA_VERSION;
  ex->extra[1] = (unsigned char)l->recursive;
  ex->extra_len = 2;
  return mproc__plat_seg_export(&l->seg, ex->handles, MPROC__OBJ_MAX_HANDLES,
                                &ex->nhandles);
}

static int lock_import(mproc__obj_t **out, const intptr_t *handles, size_t n,
                       const void *extra, size_t extra_len);

const mproc__obj_ops_t mproc__lock_ops = {MPROC_KIND_LOCK, lock_export,
                                          lock_import, lock_destroy, NULL};
const mproc__obj_ops_t mproc__rlock_ops = {MPROC_KIND_RLOCK, lock_export,
                                           lock_import, lock_destroy, NULL};
MPROC__OBJ_REGISTER(mproc__lock_ops)
MPROC__OBJ_REGISTER(mproc__rlock_ops)

static mproc_lock_t *lock_alloc(int recursive)
{
  mproc_lock_t *l = calloc(1, sizeof *l);

  if (l == NULL)
    return NULL;
  mproc__obj_init(&l->hdr, recursive ? &mproc__rlock_ops : &mproc__lock_ops);
  l->recursive = recursive;
  return l;
}

static int lock_import(mproc__obj_t **out, const intptr_t *handles, size_t n,
                       const void *extra, size_t extra_len)
{
  const unsigned char *e = extra;
  mproc_lock_t *l;
  int rc;

  if (extra_len != 2 || e[0] != LOCK_EXTRA_VERSION || e[1] > 1)
    return mproc__err(MPROC_ECODEC, "Lock: bad description from the parent");
  l = lock_alloc(e[1]);
  if (l == NULL)
    return mproc__err(MPROC_ENOMEM, "out of memory");
  rc = mproc__plat_seg_import(handles, n, sizeof(lock_state_t), &l->seg);
  if (rc != 0) {
    free(l);
    return rc;
  }
  l->st = l->seg.addr;
  *out = &l->hdr;
  return 0;
}

static int lock_create(mproc_lock_t **out, int recursive)
{
  mproc_lock_t *l;
  int rc;

  if (out == NULL)
    return mproc__err(MPROC_EINVAL, "%s: NULL output",
                      recursive ? "RLock" : "Lock");
  *out = NULL;
  if ((rc = mproc__init()) != 0)
    return rc;
  l = lock_alloc(recursive);
  if (l == NULL)
    return mproc__err(MPROC_ENOMEM, "out of memory");
  rc = mproc__plat_seg_create(sizeof(lock_state_t), &l->seg);
  if (rc == 0) {
    l->st = l->seg.addr;
    rc = mproc__plat_mutex_init(&l->seg, &l->st->mx);
    if (rc != 0)
      mproc__plat_seg_close(&l->seg);
  }
  if (rc != 0) {
    free(l);
    return rc;
  }
  *out = l;
  return 0;
}

int mproc_lock_create(mproc_lock_t **out)
{
  return lock_create(out, 0);
}

int mproc_rlock_create(mproc_lock_t **out)
{
  return lock_create(out, 1);
}

static mproc_lock_t *check(mproc_lock_t *l)
{
  mproc__obj_t *o = mproc__obj_check(l);

  if (o == NULL || (o->ops != &mproc__lock_ops && o->ops != &mproc__rlock_ops))
    return NULL;
  return l;
}

/* A Lock acquired again by its holder: CPython blocks, which is a
 * deadlock without a timeout and a plain wait for one. */
static int self_deadlock(mproc_lock_t *l, double timeout)
{
  double deadline = mproc__deadline(timeout);

  if (deadline >= MPROC__NEVER)
    return mproc__err(MPROC_EDEADLK, "Lock: this thread already holds it; "
                                     "acquiring it again without a timeout "
                                     "would never return");
  while (mproc__plat_word_wait(&l->seg, &l->st->parked, 0, deadline) == 0)
    ;
  return MPROC_ETIMEDOUT;
}

int mproc__lock_acquire_deadline(mproc_lock_t *l, double deadline)
{
  uint64_t me;
  int rc;

  /* A Lock is the backend's mutex and nothing more: the fast path is
   * one call. An RLock adds its owner and depth. */
  if (!l->recursive)
    return mproc__plat_mutex_lock(&l->seg, &l->st->mx, deadline);
  me = mproc__plat_thread_id();
  if (l->st->owner == me) {
    l->st->count++;
    return 0;
  }
  rc = mproc__plat_mutex_lock(&l->seg, &l->st->mx, deadline);
  if (rc == 0 || rc == MPROC_EOWNERDEAD) {
    l->st->owner = me;
    l->st->count = 1;
  }
  return rc;
}

int mproc_lock_acquire(mproc_lock_t *l, double timeout)
{
  int rc;

  if (check(l) == NULL)
    return mproc__err(MPROC_EINVAL, "Lock: not a Lock or RLock");
  rc = mproc__lock_acquire_deadline(
      l, timeout >= 1e9 ? MPROC__NEVER : mproc__deadline(timeout));
  if (rc == MPROC_EDEADLK)
    return self_deadlock(l, timeout);
  if (rc == MPROC_ETIMEDOUT)
    return mproc__err(MPROC_ETIMEDOUT, "%s: timed out", kind_name(l));
  return rc;
}

int mproc__lock_owned(mproc_lock_t *l)
{
  if (!l->recursive)
    return mproc__plat_mutex_mine(&l->st->mx);
  return l->st->owner == mproc__plat_thread_id();
}

/* Release all recursion levels at once (Condition.wait); gives the depth
 * to restore. */
int mproc__lock_release_all(mproc_lock_t *l, uint32_t *depth)
{
  *depth = l->recursive ? l->st->count : 1;
  if (l->recursive) {
    l->st->count = 0;
    l->st->owner = 0;
  }
  return mproc__plat_mutex_unlock(&l->seg, &l->st->mx);
}

int mproc__lock_restore(mproc_lock_t *l, uint32_t depth, double deadline)
{
  int rc = mproc__lock_acquire_deadline(l, deadline);

  if ((rc == 0 || rc == MPROC_EOWNERDEAD) && l->recursive)
    l->st->count = depth;
  return rc;
}

static int release_error(mproc_lock_t *l)
{
  if (!l->recursive && !mproc__plat_mutex_locked(&l->st->mx))
    return mproc__err(MPROC_ESTATE, "release unlocked lock");
  /* Differs from CPython's Lock, which any process may release: the
   * owner is what makes a dead holder detectable. */
  return mproc__err(MPROC_EPERM, "cannot release un-acquired lock");
}

int mproc_lock_release(mproc_lock_t *l)
{
  int rc;

  if (check(l) == NULL)
    return mproc__err(MPROC_EINVAL, "Lock: not a Lock or RLock");
  if (!l->recursive) {
    rc = mproc__plat_mutex_unlock(&l->seg, &l->st->mx);
    return rc == MPROC_EPERM ? release_error(l) : rc;
  }
  if (l->st->owner != mproc__plat_thread_id())
    return release_error(l);
  if (--l->st->count > 0)
    return 0;
  l->st->owner = 0;
  return mproc__plat_mutex_unlock(&l->seg, &l->st->mx);
}

void mproc_lock_free(mproc_lock_t *l)
{
  if (l != NULL)
    mproc__obj_unref(&l->hdr);
}

int mproc__lock_is(const void *p)
{
  return check((mproc_lock_t *)p) != NULL;
}
