/*
 * Serving a listener: an accept loop that gives every peer a thread of
 * its own, so that a slow or silent peer holds up nobody but itself. A
 * manager's server runs the loop in its main thread (each thread then
 * authenticates its peer and answers its requests); a Listener with an
 * authkey runs it in a background thread (each thread authenticates its
 * peer and queues it for mproc_listener_accept()).
 *
 * The acceptor owns every connection while its thread runs: a serve
 * function that returns 0 leaves its connection to the acceptor, which
 * closes it; one that returns 1 has taken it (a reference of its own).
 * So the acceptor can wake a thread blocked on its connection (shut it
 * down: reads end as at EOF) without racing with a close.
 */
#include <apr_pools.h>
#include <apr_thread_cond.h>
#include <apr_thread_mutex.h>
#include <apr_thread_proc.h>
#include <apr_time.h>
#include <stdlib.h>

#include "object.h"
#include "platform.h"

/* Seconds an accept waits before looking whether it should stop. */
#define STOP_SLICE 0.5

typedef struct served {
  mproc__acceptor_t *a;
  mproc_conn_t *c; /* NULL once its serve function took it */
  apr_pool_t *pool;
  apr_thread_t *thread;
  int done; /* the serve function has returned (under the lock) */
  struct served *next;
} served_t;

struct mproc__acceptor {
  mproc_listener_t *l; /* not owned */
  size_t max;
  int (*serve)(void *arg, mproc_conn_t *c);
  void *arg;
  atomic_int stopping;
  apr_pool_t *pool;
  apr_thread_mutex_t *mu;
  apr_thread_cond_t *room; /* a thread ended, or stopping */
  served_t *live;
  size_t nlive;
};

int mproc__acceptor_create(mproc__acceptor_t **out, mproc_listener_t *l,
                           size_t max, int (*serve)(void *arg, mproc_conn_t *c),
                           void *arg)
{
  mproc__acceptor_t *a = calloc(1, sizeof *a);

  *out = NULL;
  if (a == NULL || apr_pool_create(&a->pool, NULL) != APR_SUCCESS) {
    free(a);
    return mproc__err(MPROC_ENOMEM, "out of memory");
  }
  if (apr_thread_mutex_create(&a->mu, APR_THREAD_MUTEX_DEFAULT, a->pool) !=
          APR_SUCCESS ||
      apr_thread_cond_create(&a->room, a->pool) != APR_SUCCESS) {
    apr_pool_destroy(a->pool);
    free(a);
    return mproc__err(MPROC_EOS, "acceptor: cannot make a lock");
  }
  a->l = l;
  a->max = max > 0 ? max : 1;
  a->serve = serve;
  a->arg = arg;
  *out = a;
  return 0;
}

static void *APR_THREAD_FUNC serve_one(apr_thread_t *t, void *arg)
{
  served_t *s = arg;
  mproc__acceptor_t *a = s->a;
  int taken = a->serve(a->arg, s->c);

  (void)t;
  apr_thread_mutex_lock(a->mu);
  if (taken)
    s->c = NULL;
  else if (s->c != NULL)
    mproc_conn_close(s->c);
  s->done = 1;
  apr_thread_cond_broadcast(a->room);
  apr_thread_mutex_unlock(a->mu);
  return NULL;
}

void mproc__acceptor_disown(mproc__acceptor_t *a, mproc_conn_t *c)
{
  apr_thread_mutex_lock(a->mu);
  for (served_t *s = a->live; s != NULL; s = s->next)
    if (s->c == c)
      s->c = NULL;
  apr_thread_mutex_unlock(a->mu);
}

/* Join and free the threads that have ended. Called with the lock held;
 * their serve functions have returned, so the joins are immediate. */
static void reap_locked(mproc__acceptor_t *a)
{
  apr_status_t st;

  for (served_t **p = &a->live; *p != NULL;) {
    served_t *s = *p;
    if (!s->done) {
      p = &s->next;
      continue;
    }
    *p = s->next;
    a->nlive--;
    apr_thread_join(&st, s->thread);
    mproc_conn_free(s->c);
    apr_pool_destroy(s->pool);
    free(s);
  }
}

/* Give @c a thread; on failure @c is closed (the peer sees EOF). */
static void start_one(mproc__acceptor_t *a, mproc_conn_t *c)
{
  served_t *s = calloc(1, sizeof *s);

  if (s == NULL || apr_pool_create(&s->pool, NULL) != APR_SUCCESS) {
    free(s);
    mproc_conn_free(c);
    return;
  }
  s->a = a;
  s->c = c;
  apr_thread_mutex_lock(a->mu);
  if (apr_thread_create(&s->thread, NULL, serve_one, s, s->pool) !=
      APR_SUCCESS) {
    apr_thread_mutex_unlock(a->mu);
    apr_pool_destroy(s->pool);
    free(s);
    mproc_conn_free(c);
    return;
  }
  s->next = a->live;
  a->live = s;
  a->nlive++;
  apr_thread_mutex_unlock(a->mu);
}

/* Wait until fewer than max threads run, or stopping. */
static void await_room(mproc__acceptor_t *a)
{
  apr_thread_mutex_lock(a->mu);
  reap_locked(a);
  while (a->nlive >= a->max && !atomic_load(&a->stopping)) {
    apr_thread_cond_wait(a->room, a->mu);
    reap_locked(a);
  }
  apr_thread_mutex_unlock(a->mu);
}

int mproc__acceptor_run(mproc__acceptor_t *a)
{
  mproc_conn_t *c;
  int rc;

  while (!atomic_load(&a->stopping)) {
    await_room(a);
    if (atomic_load(&a->stopping))
      break;
    /* stop() wakes the accept with a connection of its own; should that
     * fail (out of descriptors, say), the stop is still seen soon. */
    rc = mproc__listener_accept_raw(a->l, &c, STOP_SLICE);
    if (rc == MPROC_ECLOSED)
      return rc;
    if (rc == MPROC_ETIMEDOUT)
      continue;
    if (rc != 0) {
      /* Out of descriptors, say: the peers wait in the backlog until
       * connections end, rather than this loop spinning. */
      apr_sleep(apr_time_from_msec(10));
      continue;
    }
    if (atomic_load(&a->stopping)) {
      mproc_conn_free(c);
      break;
    }
    start_one(a, c);
  }
  return 0;
}

void mproc__acceptor_stop(mproc__acceptor_t *a)
{
  mproc_conn_t *wake = NULL;
  const char *address = mproc_listener_address(a->l);

  atomic_store(&a->stopping, 1);
  apr_thread_mutex_lock(a->mu);
  apr_thread_cond_broadcast(a->room);
  apr_thread_mutex_unlock(a->mu);
  /* Wake the accept with a connection of our own (the loop drops it). */
  if (address != NULL &&
      mproc_client(&wake, address, mproc_listener_family(a->l), NULL, 0, 5.0) ==
          0)
    mproc_conn_free(wake);
}

void mproc__acceptor_free(mproc__acceptor_t *a)
{
  if (a == NULL)
    return;
  /* Wake every thread still serving: its next read ends as at EOF. */
  apr_thread_mutex_lock(a->mu);
  for (served_t *s = a->live; s != NULL; s = s->next)
    if (!s->done && s->c != NULL)
      mproc__plat_handle_shutdown(mproc_conn_fileno(s->c));
  while (a->live != NULL) {
    reap_locked(a);
    if (a->live != NULL)
      apr_thread_cond_wait(a->room, a->mu);
  }
  apr_thread_mutex_unlock(a->mu);
  apr_pool_destroy(a->pool);
  free(a);
}
