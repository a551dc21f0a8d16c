/**
 * @file mproc/sync.h
 * @brief Locks and other synchronisation objects.
 *
 * Part of the public API; include <mproc.h>, which includes every part.
 */
#ifndef MPROC_SYNC_H
#define MPROC_SYNC_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "mproc/object.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @defgroup mproc-sync Synchronization primitives
 * @brief Lock, RLock, Semaphore, BoundedSemaphore, Event, Condition and
 * Barrier, shared between processes.
 *
 * A timeout that passes gives MPROC_ETIMEDOUT (CPython's False). Each
 * object is passed to a child with the `o` format unit.
 * @{
 */

/**
 * Lock, RLock, Semaphore, BoundedSemaphore, Event, Condition and Barrier,
 * shared between processes. A timeout that passes gives MPROC_ETIMEDOUT
 * (CPython's False).
 */
typedef struct mproc_lock mproc_lock_t;           /**< Lock and RLock */
typedef struct mproc_semaphore mproc_semaphore_t; /**< and Bounded */
typedef struct mproc_event mproc_event_t;         /**< Event */
typedef struct mproc_condition mproc_condition_t; /**< Condition */
typedef struct mproc_barrier mproc_barrier_t;     /**< Barrier */

/**
 * A Lock: owned by the thread that acquires it; not recursive.
 * @param[out] out the lock (free with mproc_lock_free()).
 * @return 0; MPROC_ENOMEM; MPROC_EOS.
 */
int mproc_lock_create(mproc_lock_t **out);
/**
 * An RLock: a Lock its owner may acquire again (and must release as many
 * times).
 * @param[out] out the lock.
 * @return 0; MPROC_ENOMEM; MPROC_EOS.
 */
int mproc_rlock_create(mproc_lock_t **out);

/**
 * Acquire, waiting up to @p timeout. A Lock is owned by the acquiring
 * thread, so that when its process dies holding it the next acquirer is
 * told: MPROC_EOWNERDEAD means the lock *is* acquired, and the data it
 * protects may be half-updated (Differs from CPython, which deadlocks).
 * @param l the lock.
 * @param timeout seconds (MPROC_FOREVER: block).
 * @return 0; MPROC_EOWNERDEAD (acquired); MPROC_ETIMEDOUT; MPROC_EDEADLK
 *         when the calling thread already holds a Lock (not an RLock) and
 *         @p timeout is MPROC_FOREVER (CPython would hang; with a finite
 *         timeout the wait runs out as in CPython).
 */
int mproc_lock_acquire(mproc_lock_t *l, double timeout);

/**
 * Release.
 * @param l the lock.
 * @return 0; MPROC_ESTATE when not locked ("release unlocked
 * lock"), MPROC_EPERM when held by another thread or process ("cannot
 * release un-acquired lock"; Differs from CPython for Lock, which any
 * process may release).
 */
int mproc_lock_release(mproc_lock_t *l);
/**
 * Drop the caller's reference.
 * @param l the lock, or NULL.
 */
void mproc_lock_free(mproc_lock_t *l);

/**
 * `with lock:` for C: runs the block with @p lock held and releases it
 * however the block is left: falling off its end, `break` or `continue`.
 * (`return` and `goto` out of the block skip the release: do not.)
 * @p status receives the acquire status (0 or MPROC_EOWNERDEAD); the
 * block is skipped when acquiring fails with another code.
 *
 * @code
 * int st;
 * MPROC_WITH_LOCK(lock, st) { counter++; }
 * @endcode
 * @param lock an mproc_lock_t *.
 * @param status an int lvalue.
 */
#define MPROC_WITH_LOCK(lock, status)                                          \
  for (int mproc__w_once =                                                     \
           (((status) = mproc_lock_acquire((lock), MPROC_FOREVER)) == 0 ||     \
            (status) == MPROC_EOWNERDEAD);                                     \
       mproc__w_once; mproc__w_once = 0, (void)mproc_lock_release(lock))       \
    for (int mproc__w_body = 1; mproc__w_body; mproc__w_body = 0)

/**
 * A counting semaphore with @p value initial permits (CPython's
 * Semaphore(value)).
 * @param[out] out the semaphore (free with mproc_semaphore_free()).
 * @param value the initial permits.
 * @return 0; MPROC_EINVAL for a negative value.
 */
int mproc_semaphore_create(mproc_semaphore_t **out, long value);
/**
 * A BoundedSemaphore: release above @p value is an error.
 * @param[out] out the semaphore.
 * @param value the initial and highest permits.
 * @return 0; MPROC_EINVAL for a negative value.
 */
int mproc_bounded_semaphore_create(mproc_semaphore_t **out, long value);
/**
 * Take a permit, waiting up to @p timeout.
 * @param s the semaphore.
 * @param timeout seconds.
 * @return 0; MPROC_ETIMEDOUT.
 */
int mproc_semaphore_acquire(mproc_semaphore_t *s, double timeout);
/**
 * Give a permit back.
 * @param s the semaphore.
 * @return 0; MPROC_EINVAL when a BoundedSemaphore is released too many
 *  times ("semaphore or lock released too many times").
 */
int mproc_semaphore_release(mproc_semaphore_t *s);
/**
 * Current value (CPython's get_value()).
 * @param s the semaphore.
 * @return the permits available; MPROC_EINVAL when @p s is not one.
 */
long mproc_semaphore_value(mproc_semaphore_t *s);
/**
 * Drop the caller's reference.
 * @param s the semaphore, or NULL.
 */
void mproc_semaphore_free(mproc_semaphore_t *s);

/**
 * An Event, initially clear.
 * @param[out] out the event (free with mproc_event_free()).
 * @return 0; MPROC_ENOMEM; MPROC_EOS.
 */
int mproc_event_create(mproc_event_t **out);
/**
 * Whether the event is set.
 * @param e the event.
 * @return 1 or 0; MPROC_EINVAL when @p e is not an Event.
 */
int mproc_event_is_set(mproc_event_t *e);
/**
 * Set the event and wake every waiter.
 * @param e the event.
 * @return 0; MPROC_EINVAL.
 */
int mproc_event_set(mproc_event_t *e);
/**
 * Clear the event.
 * @param e the event.
 * @return 0; MPROC_EINVAL.
 */
int mproc_event_clear(mproc_event_t *e);
/**
 * Wait until the event is set.
 * @param e the event.
 * @param timeout seconds.
 * @return 0 once set; MPROC_ETIMEDOUT.
 */
int mproc_event_wait(mproc_event_t *e, double timeout);
/**
 * Drop the caller's reference.
 * @param e the event, or NULL.
 */
void mproc_event_free(mproc_event_t *e);

/**
 * A condition variable over @p lock (NULL: a new RLock, as CPython). The
 * condition holds a reference on its lock; passing the condition to a
 * child passes the lock with it.
 * @param[out] out the condition (free with mproc_condition_free()).
 * @param lock its lock, or NULL.
 * @return 0; MPROC_ENOMEM; MPROC_EOS.
 */
int mproc_condition_create(mproc_condition_t **out, mproc_lock_t *lock);
/**
 * The condition's lock.
 * @param c the condition.
 * @return the lock (borrowed); NULL when @p c is not a Condition.
 */
mproc_lock_t *mproc_condition_lock(mproc_condition_t *c);
/**
 * Acquire the condition's lock.
 * @param c the condition.
 * @param timeout seconds.
 * @return as mproc_lock_acquire(); MPROC_EINVAL.
 */
int mproc_condition_acquire(mproc_condition_t *c, double timeout);
/**
 * Release the condition's lock.
 * @param c the condition.
 * @return as mproc_lock_release(); MPROC_EINVAL.
 */
int mproc_condition_release(mproc_condition_t *c);
/**
 * Release the lock, wait for a notify or @p timeout, reacquire.
 * @param c the condition, its lock held by the caller.
 * @param timeout seconds (MPROC_FOREVER: block).
 * @return 0 when notified; MPROC_ETIMEDOUT; MPROC_EPERM when the caller
 *         does not hold the lock ("cannot wait on un-acquired lock");
 *         MPROC_ENOMEM when 1024 processes and threads already wait on
 *         the condition (Differs from CPython, which has no limit).
 */
int mproc_condition_wait(mproc_condition_t *c, double timeout);
/**
 * Wait until @p pred(@p arg) is true (checked with the lock held).
 * @param c the condition, its lock held.
 * @param pred the predicate.
 * @param arg its argument.
 * @param timeout seconds, in all.
 * @return 0 when true; MPROC_ETIMEDOUT when still false at the end.
 */
int mproc_condition_wait_for(mproc_condition_t *c, int (*pred)(void *arg),
                             void *arg, double timeout);
/**
 * Wake up to @p n of those waiting when it is called, the longest waiting
 * first. A waiter that begins to wait afterwards (the notifier itself,
 * say) never takes a wake-up meant for an earlier one: CPython's
 * guarantee, which its notify gives by blocking until the sleepers it
 * woke have woken; here notify does not block. A waiter whose process
 * died is passed over.
 * @param c the condition, its lock held by the caller.
 * @param n how many to wake (<= 0: nobody).
 * @return 0; MPROC_EPERM without the lock ("cannot notify on un-acquired
 * lock").
 */
int mproc_condition_notify(mproc_condition_t *c, int n);
/**
 * Wake every waiter.
 * @param c the condition, its lock held.
 * @return as mproc_condition_notify().
 */
int mproc_condition_notify_all(mproc_condition_t *c);
/**
 * Drop the caller's reference.
 * @param c the condition, or NULL.
 */
void mproc_condition_free(mproc_condition_t *c);

/**
 * A barrier for @p parties processes or threads (CPython's Barrier).
 * @param[out] out the barrier (free with mproc_barrier_free()).
 * @param parties how many must wait before all pass.
 * @return 0; MPROC_EINVAL when parties < 1.
 */
int mproc_barrier_create(mproc_barrier_t **out, int parties);

/**
 * A barrier with an action and a default timeout (CPython's
 * Barrier(parties, action, timeout)).
 * @param[out] out the barrier (free with mproc_barrier_free()).
 * @param parties how many parties each pass waits for (>= 1).
 * @param action a registered target (MPROC_TARGET), or NULL. When the
 *        barrier trips, the party that arrives last runs it, with no
 *        arguments, before any party of the pass is released; exactly
 *        one party per pass runs it, in its own process (so the state it
 *        works on is that process's: a shared Value, an object the
 *        parties have, a global each sets). A non-zero return is
 *        CPython's raising action: the barrier breaks, that party gets
 *        MPROC_EBROKEN with the action's name and code, the others
 *        MPROC_EBROKEN.
 * @param timeout what mproc_barrier_wait() waits when given MPROC_FOREVER
 *        (CPython's wait(timeout=None)); MPROC_FOREVER: no limit.
 * @return 0; MPROC_EINVAL when parties < 1 or @p timeout is negative;
 *         MPROC_ENOTREG for an action that is not registered.
 */
int mproc_barrier_create_ex(mproc_barrier_t **out, int parties,
                            mproc_target_fn action, double timeout);

/**
 * Wait for all parties, at most @p timeout seconds.
 * @param b the barrier.
 * @param timeout seconds; MPROC_FOREVER waits the barrier's default
 *        timeout (CPython's None), which is no limit unless
 *        mproc_barrier_create_ex() set one.
 * @return 0..parties-1, a
 * different index for each party of a pass (exactly one gets 0, as in
 * CPython; the last to arrive, parties-1, runs the action);
 * MPROC_EBROKEN when the barrier is or becomes broken (abort, reset while
 * waiting, a failed action, or a timeout, which also breaks it);
 * MPROC_ETIMEDOUT is never returned: a timeout breaks the barrier, as in
 * CPython.
 */
int mproc_barrier_wait(mproc_barrier_t *b, double timeout);
/**
 * Break the barrier: current and later waiters get MPROC_EBROKEN.
 * @param b the barrier.
 * @return 0; MPROC_EINVAL.
 */
int mproc_barrier_abort(mproc_barrier_t *b);
/**
 * Return the barrier to its initial state; current waiters get
 * MPROC_EBROKEN.
 * @param b the barrier.
 * @return 0; MPROC_EINVAL.
 */
int mproc_barrier_reset(mproc_barrier_t *b);
/**
 * The number of parties.
 * @param b the barrier.
 * @return parties; MPROC_EINVAL.
 */
int mproc_barrier_parties(mproc_barrier_t *b);
/**
 * The number waiting now.
 * @param b the barrier.
 * @return the count (0 when broken); MPROC_EINVAL.
 */
int mproc_barrier_n_waiting(mproc_barrier_t *b);
/**
 * Whether the barrier is broken.
 * @param b the barrier.
 * @return 1 or 0; MPROC_EINVAL.
 */
int mproc_barrier_broken(mproc_barrier_t *b);
/**
 * Drop the caller's reference.
 * @param b the barrier, or NULL.
 */
void mproc_barrier_free(mproc_barrier_t *b);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* MPROC_SYNC_H */
