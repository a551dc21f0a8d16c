/**
 * @file mproc/pool.h
 * @brief Pool.
 *
 * Part of the public API; include <mproc.h>, which includes every part.
 */
#ifndef MPROC_POOL_H
#define MPROC_POOL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "mproc/object.h"
#include "mproc/process.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @defgroup mproc-pool Process pools
 * @brief Pool, AsyncResult and the results of map and imap
 * (multiprocessing.pool).
 *
 * A task is a registered target: it gives its result with
 * mproc_return() and fails with mproc_fail().
 * @{
 */

/**
 * @brief Give a task's result (the C form of `return value` in a Python
 * function run by a Pool): @p fmt builds it as mproc_process_create()
 * builds arguments; one unit gives that value, several give a list, ""
 * gives nil. A later call replaces an earlier one. Outside a pool task the
 * value is checked and dropped (a Process has no result). In a task the
 * value goes straight into the task's result buffer: no allocation.
 * @param fmt the result's format.
 * @param ... the values.
 * @return 0, for `return mproc_return("i", x * x);`; MPROC_ETYPE /
 *         MPROC_EINVAL when the value cannot be encoded (an object, a
 *         bad format): returned from the target, the task then fails with
 *         that message instead of losing the worker.
 */
int mproc_return(const char *fmt, ...);

/**
 * @brief Fail the running task with a message (the C form of raising an
 * exception): `return mproc_fail("bad input %d", x);`. The caller of the
 * task gets MPROC_ETASK and mproc_last_error() gives "<message>". A
 * target returning non-zero without mproc_fail() fails with "target
 * <name> returned <code>".
 *
 * The message is kept whole up to MPROC_ERROR_MAX bytes (1 MiB); a longer
 * one is cut there. It reaches the caller whole (mproc_last_error(), the
 * on_error callback), and in a Process, mproc_last_error() of the child.
 * @param fmt a printf format for the message.
 * @param ... its arguments.
 * @return 1 (a failing exit code when the target runs as a Process).
 */
int mproc_fail(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/**
 * @brief The inputs of a map: a list of values, each built with one
 * format unit (Py_BuildValue style; use `[...]` for a tuple of arguments
 * given to starmap).
 */
typedef struct mproc_items mproc_items_t;
/**
 * An empty list of inputs.
 * @param[out] out the list (free with mproc_items_free()).
 * @return 0; MPROC_EINVAL for a NULL @p out; MPROC_ENOMEM.
 */
int mproc_items_create(mproc_items_t **out);
/**
 * Append one item, packed straight into the list's buffer.
 * @param items the list.
 * @param fmt the item's format: exactly one value.
 * @param ... the values.
 * @return 0; MPROC_EINVAL when @p fmt does not build exactly one value;
 *         MPROC_ETYPE for an object (`o`).
 */
int mproc_items_add(mproc_items_t *items, const char *fmt, ...);
/**
 * Append a starmap item with keyword arguments: @p fmt builds the
 * positional arguments (a list, as mproc_process_create() builds them),
 * @p kwfmt the keywords (one map, "{s:i}"); the varargs of both follow in
 * that order. The target receives them as it would from
 * mproc_process_set_kwargs() (read them with mproc_args_parse_kw()).
 * Beyond CPython, whose starmap items are positional only. In a plain
 * map such an item fails its chunk with MPROC_ETASK.
 * @param items the list.
 * @param fmt the positional arguments' format.
 * @param kwfmt the keywords' format (one map).
 * @param ... the values of @p fmt, then those of @p kwfmt.
 * @return 0; MPROC_EINVAL for a bad format; MPROC_ETYPE for an object.
 */
int mproc_items_add_kw(mproc_items_t *items, const char *fmt, const char *kwfmt,
                       ...);
/**
 * Number of items.
 * @param items the list.
 * @return the count (0 for NULL).
 */
size_t mproc_items_count(const mproc_items_t *items);
/**
 * Free the list.
 * @param items the list, or NULL.
 */
void mproc_items_free(mproc_items_t *items);

/** A pool of worker processes (CPython's multiprocessing.pool.Pool). */
typedef struct mproc_pool mproc_pool_t;
/** The result of an _async call (CPython's AsyncResult / MapResult). */
typedef struct mproc_async mproc_async_t;
/** The results of imap / imap_unordered, one at a time (CPython's
 *  IMapIterator). */
typedef struct mproc_imap mproc_imap_t;

/** Where a pool's workers run (mproc_pool_options_t::backend). */
typedef enum mproc_pool_backend {
  /** MPROC_POOL_BACKEND=local|mpi in the environment; without it, MPI in
   *  a program linked with mproc_mpi and launched by mpirun with two or
   *  more ranks, else local. */
  MPROC_POOL_BACKEND_DEFAULT = 0,
  MPROC_POOL_BACKEND_LOCAL = 1, /**< worker processes on this machine */
  /** The ranks 1..N-1 of a program launched with mpirun -n N; in a
   *  program run alone (or by mpirun -n 1), copies of it that the first
   *  MPI pool starts with MPI_Comm_spawn (spawn mode). Needs the
   *  mproc_mpi library; see the README, section Across machines. */
  MPROC_POOL_BACKEND_MPI = 2
} mproc_pool_backend_t;

/** Options of mproc_pool_create(); zero-filled means CPython's defaults. */
typedef struct mproc_pool_options {
  int processes;                  /**< 0: mproc_cpu_count(); < 0 is an error */
  mproc_target_fn initializer;    /**< run once in each worker, or NULL */
  const char *initargs;           /**< its argument format (varargs follow) */
  long maxtasksperchild;          /**< 0: workers live as long as the pool */
  const mproc_context_t *context; /**< start method; NULL: the default */
  /** Seconds a task may run; 0: no limit (CPython has none). A task
   *  past it fails with MPROC_ETIMEDOUT ("task timed out: ..."); its
   *  worker is killed and replaced, and the pool goes on. The unit is a
   *  task: an apply call, or an item of a map (its chunk fails with it). */
  double task_timeout;
  /** Where the workers run: mproc_pool_backend_t; 0 (the default) reads
   *  MPROC_POOL_BACKEND. On MPI, processes 0 means one worker per rank
   *  but rank 0 (in spawn mode before any rank is started: MPROC_MPI_SPAWN,
   *  else mproc_cpu_count()); maxtasksperchild fails with MPROC_EINVAL; context is
   *  not used; worker pids are not known (mproc_pool_worker_pids() gives
   *  none). */
  int backend;
} mproc_pool_options_t;

/**
 * @brief Start a pool of worker processes (CPython's Pool), daemonic and
 * named "<Method>PoolWorker-N". @p opts may be NULL; the varargs are the
 * initializer's arguments as described by opts->initargs.
 *
 * Beyond CPython: a worker that dies (killed, crashed) fails the task it
 * was running at once with MPROC_EWORKER and is replaced; every other task
 * still completes, also those batched behind it. Work queued but not
 * started never waits behind a busy or hung worker: a worker with
 * nothing to do takes it. A program that returns from main() with a pool
 * still running exits: at exit, pools are terminated (as CPython's
 * finalizer does) before children are joined, and no worker is replaced
 * any more.
 * @param[out] out the pool (free with mproc_pool_free()).
 * @param opts the options, or NULL.
 * @param ... the initializer's arguments.
 * @return 0; MPROC_EINVAL ("Number of processes must be at least 1",
 *         "maxtasksperchild must be a positive int or None"); as
 *         mproc_process_start() when a worker cannot start. With the MPI
 *         backend: MPROC_ENOSYS when the program is not linked with
 *         mproc_mpi; MPROC_ESTATE when spawn mode would start copies of
 *         a program that did not call mproc_main(); MPROC_EOS when
 *         MPI_Comm_spawn fails (MPI's message); MPROC_ENOTREG when the
 *         ranks' registered targets differ; MPROC_ETASK when the
 *         initializer fails on some rank.
 */
int mproc_pool_create(mproc_pool_t **out, const mproc_pool_options_t *opts,
                      ...);

/** What happens when a task (or a whole map) completes: run in the
 *  pool's result thread, as CPython's callbacks are. All optional. */
typedef struct mproc_callbacks {
  /** The result, borrowed for the call (a list of one value for apply,
   *  the list of all values for map). */
  void (*on_result)(mproc_args_t *result, void *ud);
  /** The failure: status and message. */
  void (*on_error)(int status, const char *message, void *ud);
  /** map: items done so far out of @p total, as chunks complete. */
  void (*on_progress)(size_t done, size_t total, void *ud);
  void *ud; /**< passed to each callback */
} mproc_callbacks_t;

/**
 * Run @p fn(args) in a worker and wait for it (CPython's apply).
 * @p *result: a list of one value (parse with mproc_args_parse(r, "i",
 * &v)); free it with mproc_args_free().
 * @param pool the pool.
 * @param[out] result the result, or NULL to drop it (the call still waits).
 * @param fn the task, a registered target.
 * @param fmt its arguments' format.
 * @param ... the arguments.
 * @return 0; MPROC_ETASK (the task failed; mproc_last_error() has its
 *         message); MPROC_EWORKER (its worker died; the message says
 *         how); MPROC_ESTATE after close ("Pool not running");
 *         MPROC_ENOTREG for an unregistered function; MPROC_ETYPE.
 */
int mproc_pool_apply(mproc_pool_t *pool, mproc_args_t **result,
                     mproc_target_fn fn, const char *fmt, ...);

/**
 * Submit @p fn(args) and return at once (CPython's apply_async). Tasks
 * submitted while the workers are busy travel to them in batches.
 * @param pool the pool.
 * @param[out] ar the result to come (free with mproc_async_free()).
 * @param cb callbacks, or NULL.
 * @param fn the task.
 * @param fmt its arguments' format.
 * @param ... the arguments.
 * @return 0; as mproc_pool_apply() for what fails before submission.
 */
int mproc_pool_apply_async(mproc_pool_t *pool, mproc_async_t **ar,
                           const mproc_callbacks_t *cb, mproc_target_fn fn,
                           const char *fmt, ...);

/**
 * apply with keyword arguments (CPython's `apply(f, args, kwds)`): @p fmt
 * builds the positional arguments, @p kwfmt the keywords (one map, like
 * "{s:i}"; "{}" for none); the varargs of both follow in that order. The
 * target reads them with mproc_args_parse_kw().
 * @param pool the pool.
 * @param[out] result the result, or NULL to drop it.
 * @param fn the task, a registered target.
 * @param fmt the positional arguments' format.
 * @param kwfmt the keywords' format (one map).
 * @param ... the values of @p fmt, then those of @p kwfmt.
 * @return as mproc_pool_apply(); MPROC_EINVAL for a NULL or bad @p kwfmt.
 */
int mproc_pool_apply_kw(mproc_pool_t *pool, mproc_args_t **result,
                        mproc_target_fn fn, const char *fmt, const char *kwfmt,
                        ...);
/**
 * apply_async with keyword arguments (CPython's `apply_async(f, args,
 * kwds)`), as mproc_pool_apply_kw().
 * @param pool the pool.
 * @param[out] ar the result to come (free with mproc_async_free()).
 * @param cb callbacks, or NULL.
 * @param fn the task, a registered target.
 * @param fmt the positional arguments' format.
 * @param kwfmt the keywords' format (one map).
 * @param ... the values of @p fmt, then those of @p kwfmt.
 * @return as mproc_pool_apply_async(); MPROC_EINVAL for a NULL or bad
 *         @p kwfmt.
 */
int mproc_pool_apply_async_kw(mproc_pool_t *pool, mproc_async_t **ar,
                              const mproc_callbacks_t *cb, mproc_target_fn fn,
                              const char *fmt, const char *kwfmt, ...);

/**
 * map: @p fn(item) for each item, in order; @p chunksize 0 for CPython's
 * default (ceil(n / (4 x workers))). @p *result: the list of all results.
 * The first failing chunk fails the map (MPROC_ETASK / MPROC_EWORKER).
 * Empty input gives an empty list.
 * @param pool the pool.
 * @param[out] result the list of results (free with mproc_args_free()).
 * @param fn the task.
 * @param items the inputs.
 * @param chunksize items per task sent to a worker (0: the default).
 * @return 0; as mproc_pool_apply().
 */
int mproc_pool_map(mproc_pool_t *pool, mproc_args_t **result,
                   mproc_target_fn fn, const mproc_items_t *items,
                   size_t chunksize);
/**
 * map, returning at once (CPython's map_async).
 * @param pool the pool.
 * @param[out] ar the results to come (free with mproc_async_free()).
 * @param cb callbacks (on_progress as chunks complete), or NULL.
 * @param fn the task.
 * @param items the inputs.
 * @param chunksize items per task (0: the default).
 * @return 0; as mproc_pool_apply() for what fails before submission.
 */
int mproc_pool_map_async(mproc_pool_t *pool, mproc_async_t **ar,
                         const mproc_callbacks_t *cb, mproc_target_fn fn,
                         const mproc_items_t *items, size_t chunksize);
/**
 * starmap: each item is a list, spread as @p fn's arguments (an item
 * that is not a list fails its chunk with MPROC_ETASK).
 * @param pool the pool.
 * @param[out] result the list of results.
 * @param fn the task.
 * @param items the inputs, each a list.
 * @param chunksize items per task (0: the default).
 * @return as mproc_pool_map().
 */
int mproc_pool_starmap(mproc_pool_t *pool, mproc_args_t **result,
                       mproc_target_fn fn, const mproc_items_t *items,
                       size_t chunksize);
/**
 * starmap, returning at once (CPython's starmap_async).
 * @param pool the pool.
 * @param[out] ar the results to come.
 * @param cb callbacks, or NULL.
 * @param fn the task.
 * @param items the inputs, each a list.
 * @param chunksize items per task (0: the default).
 * @return as mproc_pool_map_async().
 */
int mproc_pool_starmap_async(mproc_pool_t *pool, mproc_async_t **ar,
                             const mproc_callbacks_t *cb, mproc_target_fn fn,
                             const mproc_items_t *items, size_t chunksize);

/**
 * imap (@p ordered) and imap_unordered: results one at a time with
 * mproc_imap_next(). @p chunksize 0 means 1 (as CPython's).
 * @param pool the pool.
 * @param[out] it the iterator (free with mproc_imap_free()).
 * @param fn the task.
 * @param items the inputs.
 * @param chunksize items per task (0: 1).
 * @param ordered 1 for imap, 0 for imap_unordered.
 * @return 0; as mproc_pool_apply() for what fails before submission.
 */
int mproc_pool_imap(mproc_pool_t *pool, mproc_imap_t **it, mproc_target_fn fn,
                    const mproc_items_t *items, size_t chunksize, int ordered);
/**
 * The next result (a list of one value; free it), in input order for
 * imap, in completion order for imap_unordered.
 * @param it the iterator.
 * @param timeout seconds.
 * @param[out] result the result.
 * @return 0; MPROC_ESTOP when all were given; MPROC_ETIMEDOUT; that
 *         item's MPROC_ETASK / MPROC_EWORKER (iteration may go on).
 */
int mproc_imap_next(mproc_imap_t *it, double timeout, mproc_args_t **result);
/**
 * Free the iterator (results not taken are dropped).
 * @param it the iterator, or NULL.
 */
void mproc_imap_free(mproc_imap_t *it);

/**
 * Wait for the result (CPython's get()). Each call gives a new copy.
 * With a task_timeout, a task that ran too long fails with
 * MPROC_ETIMEDOUT too: then mproc_async_ready() is 1 (the result will
 * not come).
 * @param ar the result to come.
 * @param timeout seconds.
 * @param[out] result the result (free with mproc_args_free()).
 * @return 0 or its failure (MPROC_ETASK, MPROC_EWORKER, MPROC_ECLOSED);
 *         MPROC_ETIMEDOUT (a distinct status: the result may still come).
 */
int mproc_async_get(mproc_async_t *ar, double timeout, mproc_args_t **result);
/**
 * Wait for the result without taking it.
 * @param ar the result to come.
 * @param timeout seconds.
 * @return 0 when ready; MPROC_ETIMEDOUT.
 */
int mproc_async_wait(mproc_async_t *ar, double timeout);
/**
 * Whether the result is ready.
 * @param ar the result to come.
 * @return 1 or 0; MPROC_EINVAL for NULL.
 */
int mproc_async_ready(mproc_async_t *ar);
/**
 * Whether the task succeeded.
 * @param ar the result.
 * @return 1 / 0; MPROC_ESTATE when not ready ("result is not ready").
 */
int mproc_async_successful(mproc_async_t *ar);
/**
 * Free the result (the task, if still running, completes unobserved).
 * @param ar the result, or NULL.
 */
void mproc_async_free(mproc_async_t *ar);

/**
 * No new work; workers exit when the submitted work is done.
 * @param pool the pool.
 * @return 0; MPROC_EINVAL for NULL.
 */
int mproc_pool_close(mproc_pool_t *pool);
/**
 * Stop now: workers are terminated, unfinished results fail with
 * MPROC_ECLOSED ("Pool terminated").
 * @param pool the pool.
 * @return 0; MPROC_EINVAL for NULL.
 */
int mproc_pool_terminate(mproc_pool_t *pool);
/**
 * Wait for the workers to exit.
 * @param pool the pool.
 * @return 0; MPROC_ESTATE while the pool still runs ("Pool is still
 *         running": close or terminate first).
 */
int mproc_pool_join(mproc_pool_t *pool);
/**
 * Terminate (when still running), join and free, as CPython's `with`.
 * @param pool the pool, or NULL.
 */
void mproc_pool_free(mproc_pool_t *pool);
/**
 * @brief A batch function: the C form of a map target over a slice of a
 * typed array. It reads @p n input records at @p in and writes @p n
 * output records at @p out (the record sizes are the caller's, as in
 * qsort). Return 0, or fail the slice: non-zero, or mproc_fail("...").
 * Define it with MPROC_BATCH, which registers it before main() runs.
 */
typedef int (*mproc_batch_fn)(const void *in, void *out, size_t n);

/**
 * Register @p fn as batch function @p name (MPROC_BATCH does it).
 * @param name the name every process knows it by.
 * @param fn the function.
 * @return as mproc_register().
 */
int mproc_register_batch(const char *name, mproc_batch_fn fn);

/**
 * @brief Define and register a batch function.
 * @code
 * MPROC_BATCH(twice)        // int twice(const void *in, void *out, size_t n)
 * {
 *   const int *x = in;
 *   int *y = out;
 *   for (size_t i = 0; i < n; i++)
 *     y[i] = 2 * x[i];
 *   return 0;
 * }
 * @endcode
 */
#define MPROC_BATCH(name)                                                      \
  int name(const void *in, void *out, size_t n);                               \
  MPROC__CTOR(mproc__register_batch_##name)                                    \
  {                                                                            \
    (void)mproc_register_batch(#name, name);                                   \
  }                                                                            \
  int name(const void *in, void *out, size_t n)

/**
 * @brief map over a typed array (beyond CPython): @p fn runs in the
 * workers over slices of the @p n records of @p in_size bytes at @p in,
 * writing @p n records of @p out_size bytes at @p out, in order; only a
 * slice's (offset, count) travels in a message.
 *
 * The records are put once in shared memory the workers map (kept for
 * the next call, so a repeated map costs no page faults), or used in
 * place, with no copy at all, when the array already lies in a
 * SharedMemory block (mproc_shm_open()) this process has open; the same
 * for @p out. @p chunksize is the records per slice (0: CPython's map
 * default, n / (4 x workers) rounded up). @p out may be NULL when @p
 * out_size is 0; it may be @p in (an in-place map).
 *
 * Same guarantees as map: a failing slice fails the call with its
 * message (MPROC_ETASK); a worker that dies fails only its slice, which
 * is reported (MPROC_EWORKER, "records [a, b): worker ... died: ..."),
 * not retried: a slice that killed one worker would most likely kill the
 * next one, and the pool runs a task at most once, as map does. The call
 * returns when every slice is back; slices that succeeded hold their
 * results in @p out even when the call fails.
 * @param pool the pool.
 * @param fn the batch function (MPROC_BATCH).
 * @param in the input records.
 * @param n their count.
 * @param in_size bytes per input record.
 * @param out room for @p n output records (NULL when @p out_size is 0).
 * @param out_size bytes per output record.
 * @param chunksize records per slice, or 0.
 * @return 0; MPROC_ETASK, MPROC_EWORKER, MPROC_ETIMEDOUT (a slice's);
 *         MPROC_ENOTREG when @p fn is not a registered batch function;
 *         MPROC_EINVAL (NULL arrays, a zero input record size);
 *         MPROC_ERANGE (arrays too large); MPROC_ESTATE after close.
 */
int mproc_pool_map_array(mproc_pool_t *pool, mproc_batch_fn fn, const void *in,
                         size_t n, size_t in_size, void *out, size_t out_size,
                         size_t chunksize);

/**
 * Number of worker processes.
 * @param pool the pool.
 * @return the count (0 for NULL).
 */
int mproc_pool_processes(const mproc_pool_t *pool);
/**
 * Pids of the current workers.
 * @param pool the pool.
 * @param[out] pids room for @p n pids.
 * @param n its size.
 * @return the number written.
 */
size_t mproc_pool_worker_pids(mproc_pool_t *pool, long *pids, size_t n);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* MPROC_POOL_H */
