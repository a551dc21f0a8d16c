/*
 * The Pool's internal contract between its scheduler (sched.c, with its
 * records in jobs.c and entry points in api.c) and a transport (local.c:
 * worker processes on this machine; an MPI transport is the next one).
 * The worker loop (worker.c) is the transport's to run in each worker,
 * through the port at the end of this file.
 *
 * The scheduler owns jobs, tasks, batching, results, callbacks, worker
 * lifecycle and fault handling. A transport owns the workers and moves
 * bytes; it knows nothing of jobs. Two kinds of message cross it, both
 * laid out by chunk.h:
 *   - a batch: tasks for one worker, numbered in that worker's sequence;
 *   - a result record: the outcome of one task, from one worker.
 * Workers are slots 0..n-1. A slot's worker may end (it died, it reached
 * maxtasksperchild, it was stopped) and a new one may be started in its
 * place; nothing here names a process, a pid or shared memory, so a
 * worker can as well be an MPI rank on another machine.
 *
 * Sequence numbers. start() begins a slot's numbering at 0; each batch
 * sent to it continues it (mod 2^32). A worker runs its tasks in that
 * order, and before running task s it claims s: a task the scheduler has
 * taken back with reclaim() is skipped. So at any time a slot's tasks are
 * split in three: [0, next) started, [next, limit) given and unstarted
 * (the only ones reclaim can take), and results come back in order of
 * sequence, one record per started task (none for a task taken back).
 * When a worker ends, records it posted before the end are still
 * delivered by poll(); the task after the last record, if started, is
 * the one that was running.
 *
 * What a transport may do less well, and what the scheduler then does:
 * reclaim() may take back nothing (a transport that cannot stop a remote
 * worker from starting a task at once): the tasks then wait for their
 * worker, as with CPython. next() may learn of starts only from results
 * (it then counts the first task without a result as started).
 * started_at() may say 0: that task then has no timeout. array_ref() may
 * share no memory at all: the transport then ships each slice's records
 * with the batch and returns them with the result, parsing both by
 * chunk.h, from and into a staging of the arrays or the arrays
 * themselves.
 *
 * Locking. The scheduler calls every op with its lock held, except
 * wait() and join(), which it calls without (they block).
 */
#ifndef MPROC__POOL_TRANSPORT_H
#define MPROC__POOL_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "internal.h"

typedef struct mproc__pool_tr mproc__pool_tr_t;

/* What the scheduler asks of a transport when it makes one. */
typedef struct mproc__pool_tr_config {
  int n;                          /* slots */
  const mproc_context_t *context; /* local: the start method */
  const char *init_name;          /* initializer's registered name, or NULL */
  const void *init_args;          /* its encoded arguments */
  size_t init_len;
  long maxtasks; /* the worker exits after this many tasks */
  int timing;    /* record when each item starts */
} mproc__pool_tr_config_t;

/* Called by poll() for each result record of slot @w, in order. The
 * record is valid during the call only: the callee copies what it
 * keeps (the transport need not copy it out of its buffers first). */
typedef void (*mproc__pool_rec_fn)(void *ctx, int w, const void *rec,
                                   size_t len);

typedef struct mproc__pool_tr_ops {
  /* Start a worker in slot @w (empty: never started, or its worker has
   * ended and was forgotten); its numbering starts at 0. MPROC_ECLOSED:
   * no worker can ever start again (the MPI ranks are gone); the
   * scheduler then fails the tasks waiting for one. */
  int (*start)(mproc__pool_tr_t *t, int w);
  /* Give @w the tasks [first, first + n) made of the bytes of @iov,
   * without blocking: MPROC_EFULL when it cannot take them now (try
   * again later), another error when the worker is gone. Clears the
   * slot's request for work. */
  int (*send)(mproc__pool_tr_t *t, int w, uint32_t first, uint32_t n,
              const mproc__iov_t *iov, size_t niov);
  /* Take back every task of @w that has not started: afterwards tasks
   * [*from, *to) never start (empty when *from == *to). */
  void (*reclaim)(mproc__pool_tr_t *t, int w, uint32_t *from, uint32_t *to);
  /* The number of the next task @w will start: all before it started. */
  uint32_t (*next)(mproc__pool_tr_t *t, int w);
  /* When the item @w is running began (mproc__plat_now() clock; only
   * with config.timing), 0 when unknown. */
  double (*started_at)(mproc__pool_tr_t *t, int w);
  /* Whether @w asked for more work (it is low or idle); for @w -1, how
   * many workers ask (cheap: the scheduler asks on every submit). */
  int (*hungry)(mproc__pool_tr_t *t, int w);
  /* Whether @w waits for a batch with nothing left to run. */
  int (*idle)(mproc__pool_tr_t *t, int w);
  /* What the scheduler needs, so that workers wake it only then: @pending
   * work waits for a worker; @all: every result is wanted at once
   * (callbacks are due, imap is read, the pool is closing). */
  void (*hint)(mproc__pool_tr_t *t, int pending, int all);
  /* Besides: wake the scheduler once @w has posted the result of task
   * @seq (@on; 0: nothing wanted from @w). A thread waiting for a job
   * wants the last of its tasks each worker holds, not every result. */
  void (*want)(mproc__pool_tr_t *t, int w, int on, uint32_t seq);
  /* Hand every result record @w has posted to @fn; how many. */
  size_t (*poll)(mproc__pool_tr_t *t, int w, mproc__pool_rec_fn fn, void *ctx);
  /* A slot whose worker ended since the last call (forgotten: the slot
   * is empty now), or -1; why it ended goes to @why ("worker X (pid N)
   * died: killed by signal 9"). Call poll() on it before anything else. */
  int (*ended)(mproc__pool_tr_t *t, char *why, size_t cap);
  /* Sleep until a wanted result is posted, work is asked for while
   * @pending, a worker ends, wake() is called, or @deadline; return at
   * once when such a thing is there already, unless @nap (the scheduler
   * found nothing to do with it last time: it only needs a moment to
   * settle, say a worker that was just given work and has not woken).
   * 1 when it returned at once for such a thing, else 0. Called without
   * the lock. */
  int (*wait)(mproc__pool_tr_t *t, double deadline, int nap);
  void (*wake)(mproc__pool_tr_t *t);
  /* Stop @w: once it has run what it was given (@hard 0), or now (1:
   * terminate, kill after a grace period; 2: kill). */
  void (*stop)(mproc__pool_tr_t *t, int w, int hard);
  /* Wait for a stopped @w to end and forget it. Called without the lock. */
  void (*join)(mproc__pool_tr_t *t, int w);
  /* Typed arrays: make @len bytes at @p reachable by workers. *@ref (at
   * most MPROC__POOL_REF_MAX bytes) names them for a worker's resolve().
   * In place when @p already is in memory workers can reach; else the
   * transport stages them (@copy: copy @len bytes in now) and *@staged
   * gives the staged address (the caller copies results out of it).
   * *@staged may be @p itself: a transport that ships the records in
   * its messages reads and writes the caller's array while the call
   * waits for its slices (array_done is still called). */
  int (*array_ref)(mproc__pool_tr_t *t, const void *p, size_t len, int copy,
                   unsigned char *ref, size_t *ref_len, void **staged);
  /* The staging of array_ref is no longer used by the call. */
  void (*array_done)(mproc__pool_tr_t *t, void *staged);
  /* The OS pid of @w's worker, or -1 (not a local process). */
  long (*pid)(mproc__pool_tr_t *t, int w);
  void (*destroy)(mproc__pool_tr_t *t);
} mproc__pool_tr_ops_t;

struct mproc__pool_tr {
  const mproc__pool_tr_ops_t *ops;
};

#define MPROC__POOL_REF_MAX 64

/* The local transport: worker processes started with the configured
 * method, shared-memory rings, a doorbell. */
int mproc__pool_local_create(mproc__pool_tr_t **out,
                             const mproc__pool_tr_config_t *cfg,
                             const char *name_prefix);

/* ---- the worker's side ---- */

/* What a worker loop needs from its transport. */
typedef struct mproc__pool_port {
  void *ctx;
  /* The next batch (blocking); MPROC_ESTOP when told to stop. */
  int (*recv)(void *ctx, void **batch, size_t *len);
  void (*release)(void *ctx, void *batch);
  /* 1: task @seq may run now; 0: it was taken back (skip it). */
  int (*claim)(void *ctx, uint32_t seq);
  /* An item begins (called only when @timing). */
  void (*item_started)(void *ctx);
  int timing;
  /* Post the result record of task @seq, made of the parts of @iov. */
  int (*post)(void *ctx, uint32_t seq, const mproc__iov_t *iov, size_t n);
  /* The address of @len bytes a typed-array reference names. */
  int (*resolve)(void *ctx, const unsigned char *ref, size_t ref_len,
                 size_t len, void **addr);
} mproc__pool_port_t;

/* Run batches from @port until told to stop, or @maxtasks tasks (0: no
 * limit). 0, or the error that ended it. */
int mproc__pool_worker_loop(const mproc__pool_port_t *port, long maxtasks);

#endif /* MPROC__POOL_TRANSPORT_H */
