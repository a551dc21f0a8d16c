/**
 * @file mproc/queue.h
 * @brief Queues.
 *
 * Part of the public API; include <mproc.h>, which includes every part.
 */
#ifndef MPROC_QUEUE_H
#define MPROC_QUEUE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "mproc/object.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @defgroup mproc-queue Queues
 * @brief Queue, SimpleQueue and JoinableQueue.
 * @{
 */

/**
 * A multi-producer, multi-consumer queue across processes (Queue,
 * SimpleQueue and JoinableQueue share this type; the kind decides what
 * is allowed). Items live in a shared-memory ring: qsize() and empty()
 * are exact at once, and an item whose put returned is in the queue even
 * if its producer exits at once (Differs from CPython: no feeder thread,
 * so there is nothing to flush or join).
 */
typedef struct mproc_queue mproc_queue_t;

/**
 * Create a queue holding at most @p maxsize items (<= 0: no item limit).
 * @param[out] out the queue (free with mproc_queue_free()).
 * @param maxsize the item limit.
 * @return 0; MPROC_ENOMEM; MPROC_EOS.
 */
int mproc_queue_create(mproc_queue_t **out, long maxsize);
/**
 * Create a SimpleQueue (no size, no timeouts in CPython; here a Queue
 * without an item limit whose kind is MPROC_KIND_SIMPLE_QUEUE).
 * @param[out] out the queue.
 * @return as mproc_queue_create().
 */
int mproc_simple_queue_create(mproc_queue_t **out);
/**
 * Create a JoinableQueue (task_done() and join()).
 * @param[out] out the queue.
 * @param maxsize the item limit (<= 0: none).
 * @return as mproc_queue_create().
 */
int mproc_joinable_queue_create(mproc_queue_t **out, long maxsize);

/**
 * Put one item built from @p fmt (as mproc_conn_send()). Waits up to
 * @p timeout for room (0: put_nowait).
 * @param q the queue.
 * @param timeout seconds.
 * @param fmt the item's format: one unit gives that value, several a list.
 * @param ... the values.
 * @return 0; MPROC_EFULL when there was no room in time; MPROC_ECLOSED
 *         after mproc_queue_close() in this process; MPROC_ETYPE /
 *         MPROC_EINVAL for a bad format or an object; MPROC_EBROKEN when a
 *         process died in the middle of writing to the queue.
 */
int mproc_queue_put(mproc_queue_t *q, double timeout, const char *fmt, ...);
/**
 * The va_list form of mproc_queue_put().
 * @param q the queue.
 * @param timeout seconds.
 * @param fmt the item's format.
 * @param ap the values.
 * @return as mproc_queue_put().
 */
int mproc_queue_vput(mproc_queue_t *q, double timeout, const char *fmt,
                     va_list ap);

/**
 * Put one item of raw bytes (parsed with `y#` by the consumer).
 * @param q the queue.
 * @param timeout seconds.
 * @param buf the bytes.
 * @param len their number.
 * @return as mproc_queue_put().
 */
int mproc_queue_put_bytes(mproc_queue_t *q, double timeout, const void *buf,
                          size_t len);

/**
 * Take the oldest item, waiting up to @p timeout (0: get_nowait). Free it
 * with mproc_args_free().
 * @param q the queue.
 * @param timeout seconds.
 * @param[out] item the item's values.
 * @return 0; MPROC_EEMPTY when none came in time; MPROC_ECLOSED;
 *         MPROC_EBROKEN.
 */
int mproc_queue_get(mproc_queue_t *q, double timeout, mproc_args_t **item);

/**
 * Number of items now in the queue (exact).
 * @param q the queue.
 * @return >= 0; MPROC_ECLOSED; MPROC_EBROKEN.
 */
long mproc_queue_qsize(mproc_queue_t *q);
/**
 * Whether the queue is empty (exact).
 * @param q the queue.
 * @return 1 or 0; MPROC_ECLOSED; MPROC_EBROKEN.
 */
int mproc_queue_empty(mproc_queue_t *q);
/**
 * Whether the queue holds maxsize items (never, without a maxsize).
 * @param q the queue.
 * @return 1 or 0; MPROC_ECLOSED; MPROC_EBROKEN.
 */
int mproc_queue_full(mproc_queue_t *q);

/**
 * Indicate that this process will put and get no more (CPython's close()).
 * Later put/get here give MPROC_ECLOSED; other processes are unaffected.
 * Idempotent.
 * @param q the queue.
 * @return 0.
 */
int mproc_queue_close(mproc_queue_t *q);

/**
 * CPython's join_thread(). mproc has no feeder thread: it only checks that
 * the queue was closed.
 * @param q the queue.
 * @return 0; MPROC_ESTATE when not closed (CPython's assertion).
 */
int mproc_queue_join_thread(mproc_queue_t *q);
/**
 * CPython's cancel_join_thread(): nothing to cancel without a feeder
 * thread.
 * @param q the queue.
 * @return 0; MPROC_EINVAL when @p q is not a queue.
 */
int mproc_queue_cancel_join_thread(mproc_queue_t *q);

/**
 * JoinableQueue: mark one item as processed; wake join() when every item
 * put has been. @return 0; MPROC_EINVAL when called more times than items
 * were put ("task_done() called too many times"); MPROC_ETYPE for
 * another kind of queue.
 * @param q the JoinableQueue.
 */
int mproc_queue_task_done(mproc_queue_t *q);

/**
 * JoinableQueue: wait until every item put has been task_done.
 * @param q the JoinableQueue.
 * @param timeout seconds (MPROC_FOREVER: CPython's join()).
 * @return 0; MPROC_ETIMEDOUT; MPROC_ETYPE for another kind of queue.
 */
int mproc_queue_join(mproc_queue_t *q, double timeout);

/**
 * Drop the caller's reference (the queue lives on in other processes).
 * @param q the queue, or NULL.
 */
void mproc_queue_free(mproc_queue_t *q);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* MPROC_QUEUE_H */
