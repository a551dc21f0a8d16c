/*
 * The Pool's scheduler, as its entry points (api.c) see it: jobs, tasks,
 * submitting, waiting. Private to lib/pool/.
 *
 * One mutex, for every pool of the process, guards pools, jobs and tasks
 * (a job can outlive its pool: an AsyncResult read after the pool was
 * freed). Waiters sleep on one condition variable, signalled only when a
 * job someone waits for is done, or a pool's state changes.
 */
#ifndef MPROC__POOL_SCHED_H
#define MPROC__POOL_SCHED_H

#include <stddef.h>
#include <stdint.h>

#include "chunk.h"
#include "internal.h"
#include "transport.h"

enum { MPROC__J_APPLY, MPROC__J_MAP, MPROC__J_IMAP, MPROC__J_ARRAY };

#define MPROC__TASK_INLINE 48 /* an apply's payload this small is inline */

typedef struct mproc__job mproc__job_t;
typedef struct mproc__task_block mproc__task_block_t;

/* One unit of work sent to a worker: an apply call, a map chunk, an
 * array slice. */
typedef struct mproc__task {
  mproc__job_t *job;
  mproc__task_block_t *block; /* the block it was made in, or NULL */
  uint32_t idx;               /* its chunk in the job */
  uint32_t count;             /* items (records for a slice) */
  int kind;                   /* MPROC__TASK_* */
  int settled; /* its outcome is recorded: a late result is dropped */
  const char *fname;
  const unsigned char *payload; /* inline, heap or the caller's items */
  size_t len;
  unsigned char *heap;
  uint32_t seq; /* its number in its worker's sequence, once given */
  int worker;   /* ... and that worker's slot */
  struct mproc__task *next;
} mproc__task_t;

/* The tasks of one map, made (and freed) together. */
struct mproc__task_block {
  size_t live;
  mproc__task_t t[];
};

/* A job's tasks on one worker: how many are out there, and the number of
 * the last one given (what a thread waiting for the job waits for). */
typedef struct mproc__job_w {
  uint32_t out, last;
} mproc__job_w_t;

/* What came back for one chunk. */
typedef struct mproc__chunk_out {
  size_t off, len; /* its values, one after another, in the job's vals */
  int status;      /* 0, or its failure (the message in the job's cmsg) */
  int back;
} mproc__chunk_out_t;

struct mproc__job {
  int kind, refs;
  int settled;        /* the outcome is known */
  int done;           /* ... and its callbacks ran: callers see it */
  int status;         /* 0 or the failure */
  char *msg;          /* the failure's message */
  int waiters;        /* threads waiting for it */
  mproc_pool_t *pool; /* valid while not settled */
  size_t nitems, nchunks, chunksize;
  size_t chunks_back, items_back;
  mproc__chunk_out_t *chunk; /* per chunk */
  char **cmsg;               /* per chunk failure messages (at the first) */
  size_t *arrival, narrived; /* imap: chunks in completion order */
  unsigned char *vals;       /* the values that came back, as they came */
  size_t vals_len, vals_cap;
  mproc__job_w_t *on; /* per worker, once a task was given (n entries) */
  mproc_callbacks_t cb;
  int has_cb;
  /* imap's position */
  int ordered;
  size_t next_chunk, next_pos, next_off;
  /* an apply job's one chunk lives here, and where its task went */
  mproc__chunk_out_t chunk1;
  mproc__job_w_t on1;
  int on1_w;
  unsigned char vals1[32];
  void *items_copy; /* an async map's own copy of the items' bytes */
  mproc__job_t *next_free;
};

struct mproc_async {
  mproc__job_t *job;
  mproc_async_t *next_free;
};

struct mproc_imap {
  mproc__job_t *job;
};

void mproc__pool_lock(void);
void mproc__pool_unlock(void);

/* A job of @kind with @nitems items in chunks of @chunksize (locked). */
mproc__job_t *mproc__job_new(int kind, size_t nitems, size_t chunksize);
void mproc__job_unref(mproc__job_t *j);

/* A task record (locked). Its payload is copied in (@copy) or borrowed. */
mproc__task_t *mproc__task_new(mproc__job_t *j, uint32_t idx, int kind,
                               const char *fname, uint32_t count,
                               const void *payload, size_t len, int copy);
/* @n task records in one block, zeroed, for one job (freed when the last
 * one is). */
mproc__task_t *mproc__tasks_new(size_t n);
void mproc__task_free(mproc__task_t *t);
void mproc__task_list_free(mproc__task_t *head);

/* Free the records kept for reuse (locked; when no pool is left). */
void mproc__records_trim(void);

/* An AsyncResult for @j (locked; takes a reference). */
mproc_async_t *mproc__async_new(mproc__job_t *j);

/* Queue the @n tasks of @head for @j and hand them out (locked). The pool
 * holds @j until every chunk is back. MPROC_ESTATE when it is not
 * running (the tasks are freed). */
int mproc__pool_submit(mproc_pool_t *pool, mproc__job_t *j, mproc__task_t *head,
                       size_t n);

/* Wait until @j is done or @deadline (locked); MPROC_ETIMEDOUT. */
int mproc__job_wait(mproc__job_t *j, double deadline);

/* Wait until something may have changed for @j (a chunk came back) or
 * @deadline (locked): for imap, which takes chunks as they come. */
int mproc__job_wait_step(mproc__job_t *j, double deadline);

/* The registered name of @fn for a task (MPROC_ENOTREG). */
int mproc__pool_fname(mproc_pool_t *pool, mproc_target_fn fn,
                      const char **name);

/* The pool's scratch buffer for encoding a task's arguments (locked). */
msgpack_sbuffer *mproc__pool_scratch(mproc_pool_t *pool);
int mproc__pool_workers(const mproc_pool_t *pool);
mproc__pool_tr_t *mproc__pool_transport(mproc_pool_t *pool);

/* Keep the @len bytes of values chunk @c gave (copied), or its failure
 * (a typed array's names the records of its slice). */
int mproc__job_keep_values(mproc__job_t *j, size_t c, const void *v,
                           size_t len);
void mproc__job_keep_failure(mproc__job_t *j, size_t c, int status,
                             const char *msg);

/* The list a done apply/map job gives (a new args), or its failure. Call
 * without the lock: the job is done, nothing changes it any more. */
int mproc__job_result(mproc__job_t *j, mproc_args_t **out);

/* Run the callbacks of a job that settled with no chunk (an empty map). */
void mproc__job_settle_empty(mproc__job_t *j);

/* What a test can check about the scheduler's behaviour. */
typedef struct mproc__pool_stats {
  size_t batches;   /* batches sent */
  size_t max_batch; /* the most tasks in one */
  size_t reclaimed; /* tasks taken back from a worker and given again */
  size_t staged;    /* typed-array bytes copied in or out of staging */
} mproc__pool_stats_t;
/* Count @bytes of typed arrays copied through staging (locked). */
void mproc__pool_count_staged(mproc_pool_t *pool, size_t bytes);
void mproc__pool_get_stats(mproc_pool_t *pool, mproc__pool_stats_t *out);
/* How often an idle result thread looks around anyway (1 s): a test sets
 * it long, so that a missed wake-up hangs the test instead of costing a
 * second. */
void mproc__pool_set_idle_wake(double seconds);

#endif /* MPROC__POOL_SCHED_H */
