/*
 * The Pool's records: tasks, jobs and AsyncResults (kept on free lists,
 * so that apply_async allocates nothing in the steady state), what a
 * job keeps of its results, and the list a caller gets from them. All
 * under the scheduler's lock (sched.h), except mproc__job_result on a
 * done job.
 */
#include <stdlib.h>
#include <string.h>

#include "sched.h"

/* Records kept for reuse, per kind, while a pool lives (given back when
 * the last pool is freed: mproc__records_trim). A program that submits
 * 50,000 tasks before taking a result reuses most of them on the next
 * round, instead of allocating them, and page-faulting the memory glibc
 * gave back to the OS, again: 2-3x the tiny-task rate. */
#define FREE_MAX 65536

static mproc__task_t *free_tasks;
static mproc__job_t *free_jobs;
static mproc_async_t *free_asyncs;
static size_t n_free_tasks, n_free_jobs, n_free_asyncs;

mproc__task_t *mproc__task_new(mproc__job_t *j, uint32_t idx, int kind,
                               const char *fname, uint32_t count,
                               const void *payload, size_t len, int copy)
{
  mproc__task_t *t = free_tasks;

  if (t != NULL) {
    free_tasks = t->next;
    n_free_tasks--;
  } else if ((t = malloc(sizeof *t + MPROC__TASK_INLINE)) == NULL) {
    return NULL;
  }
  memset(t, 0, sizeof *t);
  t->worker = -1;
  t->job = j;
  t->idx = idx;
  t->kind = kind;
  t->fname = fname;
  t->count = count;
  t->len = len;
  if (!copy) {
    t->payload = payload;
  } else if (len <= MPROC__TASK_INLINE) {
    if (len > 0)
      memcpy(t + 1, payload, len);
    t->payload = (unsigned char *)(t + 1);
  } else if ((t->heap = malloc(len)) != NULL) {
    memcpy(t->heap, payload, len);
    t->payload = t->heap;
  } else {
    mproc__task_free(t);
    return NULL;
  }
  return t;
}

mproc__task_t *mproc__tasks_new(size_t n)
{
  mproc__task_block_t *b;

  if (n > (SIZE_MAX - sizeof *b) / sizeof(mproc__task_t))
    return NULL;
  b = calloc(1, sizeof *b + n * sizeof(mproc__task_t));
  if (b == NULL)
    return NULL;
  b->live = n;
  for (size_t i = 0; i < n; i++) {
    b->t[i].block = b;
    b->t[i].worker = -1;
  }
  return b->t;
}

void mproc__task_free(mproc__task_t *t)
{
  if (t == NULL)
    return;
  free(t->heap);
  t->heap = NULL;
  if (t->block != NULL) {
    if (--t->block->live == 0)
      free(t->block);
    return;
  }
  if (n_free_tasks >= FREE_MAX) {
    free(t);
    return;
  }
  t->next = free_tasks;
  free_tasks = t;
  n_free_tasks++;
}

void mproc__task_list_free(mproc__task_t *head)
{
  while (head != NULL) {
    mproc__task_t *next = head->next;
    mproc__task_free(head);
    head = next;
  }
}

void mproc__records_trim(void)
{
  while (free_tasks != NULL) {
    mproc__task_t *t = free_tasks;
    free_tasks = t->next;
    free(t);
  }
  while (free_jobs != NULL) {
    mproc__job_t *j = free_jobs;
    free_jobs = j->next_free;
    free(j);
  }
  while (free_asyncs != NULL) {
    mproc_async_t *a = free_asyncs;
    free_asyncs = a->next_free;
    free(a);
  }
  n_free_tasks = n_free_jobs = n_free_asyncs = 0;
}

static int is_apply_sized(const mproc__job_t *j)
{
  return j->chunk == &j->chunk1;
}

void mproc__job_unref(mproc__job_t *j)
{
  if (j == NULL || --j->refs > 0)
    return;
  for (size_t i = 0; j->cmsg != NULL && i < j->nchunks; i++)
    free(j->cmsg[i]);
  free(j->cmsg);
  free(j->msg);
  free(j->items_copy);
  free(j->arrival);
  if (j->on != &j->on1)
    free(j->on);
  if (j->vals != j->vals1)
    free(j->vals);
  if (is_apply_sized(j) && n_free_jobs < FREE_MAX) {
    j->next_free = free_jobs;
    free_jobs = j;
    n_free_jobs++;
    return;
  }
  if (!is_apply_sized(j))
    free(j->chunk);
  free(j);
}

mproc__job_t *mproc__job_new(int kind, size_t nitems, size_t chunksize)
{
  size_t nchunks = chunksize ? (nitems + chunksize - 1) / chunksize : 0;
  mproc__job_t *j = NULL;

  if (nchunks <= 1 && kind != MPROC__J_IMAP && free_jobs != NULL) {
    j = free_jobs;
    free_jobs = j->next_free;
    n_free_jobs--;
  } else if ((j = malloc(sizeof *j)) == NULL) {
    return NULL;
  }
  memset(j, 0, sizeof *j);
  j->kind = kind;
  j->refs = 1;
  j->nitems = nitems;
  j->chunksize = chunksize;
  j->nchunks = nchunks;
  if (nchunks <= 1 && kind != MPROC__J_IMAP) {
    j->chunk = &j->chunk1;
    return j;
  }
  j->chunk = calloc(nchunks ? nchunks : 1, sizeof *j->chunk);
  if (j->chunk != NULL && kind == MPROC__J_IMAP &&
      (j->arrival = calloc(nchunks ? nchunks : 1, sizeof *j->arrival)) ==
          NULL) {
    free(j->chunk);
    j->chunk = NULL;
  }
  if (j->chunk == NULL) {
    free(j);
    return NULL;
  }
  return j;
}

mproc_async_t *mproc__async_new(mproc__job_t *j)
{
  mproc_async_t *a = free_asyncs;

  if (a != NULL) {
    free_asyncs = a->next_free;
    n_free_asyncs--;
  } else if ((a = malloc(sizeof *a)) == NULL) {
    return NULL;
  }
  a->job = j;
  a->next_free = NULL;
  j->refs++;
  return a;
}

void mproc_async_free(mproc_async_t *ar)
{
  if (ar == NULL)
    return;
  mproc__pool_lock();
  mproc__job_unref(ar->job);
  if (n_free_asyncs < FREE_MAX) {
    ar->next_free = free_asyncs;
    free_asyncs = ar;
    n_free_asyncs++;
    ar = NULL;
  }
  mproc__pool_unlock();
  free(ar);
}

/* ---- a job's results ---- */

/* "records [a, b): " for a typed array's failure. */
static char *slice_message(const mproc__job_t *j, size_t c, const char *msg)
{
  size_t a = c * j->chunksize;
  size_t b = a + j->chunksize < j->nitems ? a + j->chunksize : j->nitems;
  size_t len = strlen(msg) + 64;
  char *m = malloc(len);

  if (m != NULL)
    snprintf(m, len, "records [%zu, %zu): %s", a, b, msg);
  return m;
}

/* Keep the @len bytes of values of chunk @c (copied: the record is the
 * transport's). */
int mproc__job_keep_values(mproc__job_t *j, size_t c, const void *v, size_t len)
{
  if (len > 0 && j->vals_cap - j->vals_len < len) {
    size_t cap = j->vals_cap ? j->vals_cap : len * j->nchunks;
    unsigned char *g;
    if (j->vals_cap == 0 && cap <= sizeof j->vals1) {
      j->vals = j->vals1; /* a small apply result: no allocation */
      j->vals_cap = sizeof j->vals1;
    } else {
      while (cap - j->vals_len < len)
        cap = cap * 2 + 64;
      g = realloc(j->vals == j->vals1 ? NULL : j->vals, cap);
      if (g == NULL)
        return MPROC_ENOMEM;
      if (j->vals == j->vals1 && j->vals_len > 0)
        memcpy(g, j->vals1, j->vals_len);
      j->vals = g;
      j->vals_cap = cap;
    }
  }
  if (len > 0)
    memcpy(j->vals + j->vals_len, v, len);
  j->chunk[c].off = j->vals_len;
  j->chunk[c].len = len;
  j->vals_len += len;
  return 0;
}

/* Record chunk @c's failure. */
void mproc__job_keep_failure(mproc__job_t *j, size_t c, int status,
                             const char *msg)
{
  j->chunk[c].status = status;
  if (j->cmsg == NULL)
    j->cmsg = calloc(j->nchunks, sizeof *j->cmsg);
  if (j->cmsg != NULL)
    j->cmsg[c] = j->kind == MPROC__J_ARRAY && status != MPROC_ETASK
                     ? slice_message(j, c, msg)
                     : strdup(msg);
  if (j->status == 0) {
    j->status = status;
    j->msg = strdup(j->cmsg != NULL && j->cmsg[c] != NULL ? j->cmsg[c] : msg);
  }
}

/* The chunks' values spliced in order. */
int mproc__job_result(mproc__job_t *j, mproc_args_t **out)
{
  mproc__iov_t one = {NULL, 0}, *parts = &one;
  int rc;

  *out = NULL;
  if (j->status != 0)
    return mproc__err(j->status, "%s", j->msg ? j->msg : "task failed");
  if (j->nchunks > 1 && (parts = malloc(j->nchunks * sizeof *parts)) == NULL)
    return mproc__err(MPROC_ENOMEM, "out of memory");
  for (size_t c = 0; c < j->nchunks; c++)
    parts[c] = (mproc__iov_t){
        j->vals != NULL ? j->vals + j->chunk[c].off : NULL, j->chunk[c].len};
  rc = mproc__values_list(out, parts, j->nchunks, j->items_back);
  if (parts != &one)
    free(parts);
  return rc;
}
