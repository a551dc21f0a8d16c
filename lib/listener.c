/*
 * Listener and Client (CPython's multiprocessing.connection): families,
 * addresses and the handshake are decided here; binding, accepting and
 * connecting are the backend's (platform.h). An accepted or connected
 * peer is an ordinary duplex Connection.
 *
 * With an authkey, a listener authenticates its peers side by side: from
 * the first accept on, a background thread accepts every peer and gives
 * it a thread of its own for the handshake (acceptor.c, as a manager's
 * server does), each bounded by the auth timeout; accept() returns the
 * first peer that has passed. So a silent or trickling peer costs its
 * own thread for a while, and nobody else any time.
 */
#include <apr_pools.h>
#include <apr_thread_cond.h>
#include <apr_thread_mutex.h>
#include <apr_thread_proc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "object.h"
#include "platform.h"

#define ADDRESS_MAX 512

/* Handshakes in progress at once; further peers wait in the backlog. */
#define MAX_HANDSHAKES 1024

/* The peers being authenticated, and those that passed. */
typedef struct handshakes {
  long owner; /* the process whose threads these are */
  apr_pool_t *pool;
  apr_thread_mutex_t *mu;
  apr_thread_cond_t *ready_cv; /* a peer passed, or the listener closed */
  mproc__acceptor_t *acc;
  apr_thread_t *thread; /* runs the acceptor */
  mproc_conn_t **ready; /* passed, in order, not yet accepted */
  size_t nready, cap;
  int closing;
  long dropped; /* peers that failed since one was last accepted, and
                 * the last one's reason */
  char last_failure[200];
} handshakes_t;

struct mproc_listener {
  mproc__lsn_t *lsn; /* NULL once closed */
  int family;
  char address[ADDRESS_MAX];
  unsigned char *authkey; /* NULL: no authentication */
  size_t authkey_len;
  double auth_timeout;
  handshakes_t *hs; /* with an authkey, from the first accept */
};

static const char *const family_names[] = {NULL, "AF_UNIX", "AF_INET",
                                           "AF_PIPE"};

static const char *family_name(int family)
{
  return family >= MPROC__AF_UNIX && family <= MPROC__AF_PIPE
             ? family_names[family]
             : "unknown";
}

const char *mproc_default_family(void)
{
  return family_name(mproc__plat_default_family());
}

const char *const *mproc_all_families(void)
{
  static const char *names[4];
  static int ready;
  size_t n = 0;

  /* The same answer every time: filling it twice races harmlessly. */
  if (!ready) {
    for (int f = MPROC__AF_UNIX; f <= MPROC__AF_PIPE; f++)
      if (mproc__plat_has_family(f))
        names[n++] = family_names[f];
    names[n] = NULL;
    ready = 1;
  }
  return names;
}

/* CPython's address_type(): a tuple is AF_INET, r'\\' starts a pipe,
 * any other string is a unix path. In C, "host:port" plays the tuple. */
static int deduce_family(const char *address)
{
  const char *colon = strrchr(address, ':');

  if (strncmp(address, "\\\\", 2) == 0)
    return MPROC__AF_PIPE;
  if (colon != NULL && colon != address && colon[1] != '\0' &&
      strchr(address, '/') == NULL &&
      strspn(colon + 1, "0123456789") == strlen(colon + 1))
    return MPROC__AF_INET;
  return MPROC__AF_UNIX;
}

int mproc__family_parse(const char *family, const char *address, int *out)
{
  int f = 0;

  if (address != NULL && (address[0] == '\0' || strlen(address) >= ADDRESS_MAX))
    return mproc__err(MPROC_EINVAL, "bad address '%.64s'", address);
  if (family != NULL) {
    for (int i = MPROC__AF_UNIX; i <= MPROC__AF_PIPE; i++)
      if (strcmp(family, family_names[i]) == 0)
        f = i;
    if (f == 0)
      return mproc__err(MPROC_EINVAL, "unrecognized family '%s'", family);
  } else {
    f = address != NULL ? deduce_family(address) : mproc__plat_default_family();
  }
  if (!mproc__plat_has_family(f))
    return mproc__err(MPROC_ENOSYS, "family %s is not available here",
                      family_name(f));
  *out = f;
  return 0;
}

int mproc__split_host_port(const char *address, char *host, size_t cap,
                           char *port, size_t port_cap)
{
  const char *colon = strrchr(address, ':');
  size_t hlen, plen;

  if (colon == NULL)
    return mproc__err(MPROC_EINVAL, "'%s' is not a \"host:port\" address",
                      address);
  hlen = (size_t)(colon - address);
  plen = strlen(colon + 1);
  if (plen == 0 || plen >= port_cap ||
      strspn(colon + 1, "0123456789") != plen || atol(colon + 1) > 65535)
    return mproc__err(MPROC_EINVAL, "bad port in '%s' (0 to 65535)", address);
  if (hlen >= cap)
    return mproc__err(MPROC_EINVAL, "host name in '%s' is too long", address);
  memcpy(host, address, hlen);
  host[hlen] = '\0';
  memcpy(port, colon + 1, plen + 1);
  return 0;
}

static int copy_key(const void *key, size_t len, unsigned char **out)
{
  *out = NULL;
  if (key == NULL)
    return len == 0 ? 0
                    : mproc__err(MPROC_EINVAL, "authkey: NULL with a length");
  /* One byte more, so that an empty key is not NULL (no authentication). */
  if ((*out = malloc(len + 1)) == NULL)
    return mproc__err(MPROC_ENOMEM, "out of memory");
  memcpy(*out, key, len);
  return 0;
}

int mproc_listener_create(mproc_listener_t **out, const char *address,
                          const char *family, int backlog, const void *authkey,
                          size_t authkey_len)
{
  mproc_listener_t *l = NULL;
  int rc;

  if (out == NULL)
    return mproc__err(MPROC_EINVAL, "Listener: NULL output");
  *out = NULL;
  if ((rc = mproc__init()) != 0)
    return rc;
  if ((l = calloc(1, sizeof *l)) == NULL)
    return mproc__err(MPROC_ENOMEM, "out of memory");
  l->auth_timeout = MPROC_AUTH_TIMEOUT;
  if ((rc = mproc__family_parse(family, address, &l->family)) != 0 ||
      (rc = copy_key(authkey, authkey_len, &l->authkey)) != 0)
    goto out;
  l->authkey_len = authkey_len;
  rc = mproc__plat_listen(l->family, address, backlog < 1 ? 1 : backlog,
                          &l->lsn, l->address, sizeof l->address);
out:
  if (rc != 0) {
    mproc_listener_free(l);
    return rc;
  }
  *out = l;
  return 0;
}

int mproc__listener_accept_raw(mproc_listener_t *l, mproc_conn_t **out,
                               double timeout)
{
  intptr_t h;
  int rc;

  if (l == NULL || out == NULL)
    return mproc__err(MPROC_EINVAL, "accept: NULL argument");
  *out = NULL;
  if (l->lsn == NULL)
    return mproc__err(MPROC_ECLOSED, "accept: the listener is closed");
  if ((rc = mproc__plat_accept(l->lsn, mproc__deadline(timeout), &h)) != 0)
    return rc;
  return mproc__conn_wrap(out, h);
}

/* A peer's thread: authenticate it and queue it for accept(). */
static int handshake(void *arg, mproc_conn_t *c)
{
  mproc_listener_t *l = arg;
  handshakes_t *hs = l->hs;
  mproc_conn_t **more;
  double timeout;
  int rc;

  apr_thread_mutex_lock(hs->mu);
  timeout = l->auth_timeout;
  apr_thread_mutex_unlock(hs->mu);
  rc = mproc__auth_server(c, l->authkey, l->authkey_len, timeout, NULL);
  apr_thread_mutex_lock(hs->mu);
  if (rc == 0 && !hs->closing && hs->nready == hs->cap) {
    size_t cap = hs->cap ? hs->cap * 2 : 16;
    if ((more = realloc(hs->ready, cap * sizeof *more)) != NULL) {
      hs->ready = more;
      hs->cap = cap;
    }
  }
  if (rc == 0 && !hs->closing && hs->nready < hs->cap) {
    /* Once queued, accept() may hand @c out and its caller free it while
     * this thread is still on its way out: the acceptor must not wake it
     * at close any more (that was a use after free). */
    mproc__acceptor_disown(hs->acc, c);
    hs->ready[hs->nready++] = c;
    apr_thread_cond_signal(hs->ready_cv);
    apr_thread_mutex_unlock(hs->mu);
    return 1;
  }
  if (rc != 0) {
    hs->dropped++;
    snprintf(hs->last_failure, sizeof hs->last_failure, "%s",
             mproc_last_error());
  }
  apr_thread_mutex_unlock(hs->mu);
  return 0;
}

static void *APR_THREAD_FUNC accepting(apr_thread_t *t, void *arg)
{
  (void)t;
  (void)mproc__acceptor_run(arg);
  return NULL;
}

/* Stop the threads and drop the peers not accepted. */
static void handshakes_free(handshakes_t *hs)
{
  apr_status_t st;

  if (hs == NULL)
    return;
  if (hs->owner == mproc__plat_getpid()) {
    apr_thread_mutex_lock(hs->mu);
    hs->closing = 1;
    apr_thread_cond_broadcast(hs->ready_cv);
    apr_thread_mutex_unlock(hs->mu);
    if (hs->thread != NULL) {
      mproc__acceptor_stop(hs->acc);
      apr_thread_join(&st, hs->thread);
    }
    mproc__acceptor_free(hs->acc);
  }
  /* In a forked child the threads are the parent's: only the copies of
   * the descriptors are ours to close. */
  for (size_t i = 0; i < hs->nready; i++)
    mproc_conn_free(hs->ready[i]);
  free(hs->ready);
  if (hs->owner == mproc__plat_getpid())
    apr_pool_destroy(hs->pool);
  free(hs);
}

static int handshakes_start(mproc_listener_t *l)
{
  handshakes_t *hs;
  int rc;

  /* A forked child inherits a copy without the threads: it starts its
   * own, as it would accept on its own. */
  if (l->hs != NULL && l->hs->owner != mproc__plat_getpid()) {
    handshakes_free(l->hs);
    l->hs = NULL;
  }
  if (l->hs != NULL)
    return 0;
  if ((hs = calloc(1, sizeof *hs)) == NULL)
    return mproc__err(MPROC_ENOMEM, "out of memory");
  hs->owner = mproc__plat_getpid();
  if (apr_pool_create(&hs->pool, NULL) != APR_SUCCESS) {
    free(hs);
    return mproc__err(MPROC_ENOMEM, "out of memory");
  }
  l->hs = hs;
  if (apr_thread_mutex_create(&hs->mu, APR_THREAD_MUTEX_DEFAULT, hs->pool) !=
          APR_SUCCESS ||
      apr_thread_cond_create(&hs->ready_cv, hs->pool) != APR_SUCCESS)
    rc = mproc__err(MPROC_EOS, "Listener: cannot make a lock");
  else if ((rc = mproc__acceptor_create(&hs->acc, l, MAX_HANDSHAKES, handshake,
                                        l)) == 0 &&
           apr_thread_create(&hs->thread, NULL, accepting, hs->acc, hs->pool) !=
               APR_SUCCESS)
    rc = mproc__err(MPROC_EOS, "Listener: cannot start a thread");
  if (rc != 0) {
    handshakes_free(hs);
    l->hs = NULL;
  }
  return rc;
}

/* The first peer that passed, waiting until @deadline. */
static int take_ready(handshakes_t *hs, double deadline, mproc_conn_t **out)
{
  int rc = 0;

  apr_thread_mutex_lock(hs->mu);
  while (hs->nready == 0 && !hs->closing) {
    double left = deadline - mproc__plat_now();
    if (deadline >= MPROC__NEVER)
      apr_thread_cond_wait(hs->ready_cv, hs->mu);
    else if (left > 0)
      apr_thread_cond_timedwait(hs->ready_cv, hs->mu,
                                (apr_interval_time_t)(left * 1e6) + 1);
    else
      break;
  }
  if (hs->nready > 0) {
    *out = hs->ready[0];
    memmove(hs->ready, hs->ready + 1, --hs->nready * sizeof *hs->ready);
    hs->dropped = 0;
  } else if (hs->closing) {
    rc = mproc__err(MPROC_ECLOSED, "accept: the listener is closed");
  } else if (hs->dropped > 0) {
    rc = mproc__err(MPROC_ETIMEDOUT,
                    "no peer passed the handshake in time (%ld failed it; "
                    "the last: %s)",
                    hs->dropped, hs->last_failure);
  } else {
    rc = mproc__err(MPROC_ETIMEDOUT, "no peer connected in time");
  }
  apr_thread_mutex_unlock(hs->mu);
  return rc;
}

int mproc_listener_accept(mproc_listener_t *l, mproc_conn_t **out,
                          double timeout)
{
  int rc;

  if (l == NULL || out == NULL || l->authkey == NULL)
    return mproc__listener_accept_raw(l, out, timeout);
  *out = NULL;
  if (l->lsn == NULL)
    return mproc__err(MPROC_ECLOSED, "accept: the listener is closed");
  if ((rc = handshakes_start(l)) != 0)
    return rc;
  return take_ready(l->hs, mproc__deadline(timeout), out);
}

int mproc_listener_set_auth_timeout(mproc_listener_t *l, double seconds)
{
  if (l == NULL || !(seconds >= 0))
    return mproc__err(MPROC_EINVAL, "auth timeout: bad argument");
  /* Handshakes read it as they start. */
  if (l->hs != NULL && l->hs->owner == mproc__plat_getpid()) {
    apr_thread_mutex_lock(l->hs->mu);
    l->auth_timeout = seconds;
    apr_thread_mutex_unlock(l->hs->mu);
  } else {
    l->auth_timeout = seconds;
  }
  return 0;
}

const char *mproc_listener_address(const mproc_listener_t *l)
{
  return l != NULL ? l->address : NULL;
}

const char *mproc_listener_family(const mproc_listener_t *l)
{
  return l != NULL ? family_name(l->family) : NULL;
}

int mproc_listener_close(mproc_listener_t *l)
{
  if (l == NULL)
    return mproc__err(MPROC_EINVAL, "Listener: NULL");
  /* The handshakes' threads first: they use the listener. */
  handshakes_free(l->hs);
  l->hs = NULL;
  mproc__plat_listen_close(l->lsn);
  l->lsn = NULL;
  return 0;
}

void mproc_listener_free(mproc_listener_t *l)
{
  if (l == NULL)
    return;
  (void)mproc_listener_close(l);
  free(l->authkey);
  free(l);
}

int mproc_client(mproc_conn_t **out, const char *address, const char *family,
                 const void *authkey, size_t authkey_len, double timeout)
{
  double deadline = mproc__deadline(timeout);
  mproc_conn_t *c = NULL;
  intptr_t h;
  int f, rc;

  if (out == NULL || address == NULL)
    return mproc__err(MPROC_EINVAL, "Client: NULL argument");
  *out = NULL;
  if (authkey == NULL && authkey_len > 0)
    return mproc__err(MPROC_EINVAL, "authkey: NULL with a length");
  if ((rc = mproc__init()) != 0 ||
      (rc = mproc__family_parse(family, address, &f)) != 0 ||
      (rc = mproc__plat_connect(f, address, deadline, &h)) != 0 ||
      (rc = mproc__conn_wrap(&c, h)) != 0)
    return rc;
  if (authkey != NULL) {
    rc = mproc_answer_challenge(c, authkey, authkey_len,
                                deadline - mproc__plat_now());
    if (rc == 0)
      rc = mproc_deliver_challenge(c, authkey, authkey_len,
                                   deadline - mproc__plat_now());
  }
  if (rc != 0) {
    mproc_conn_free(c);
    return rc;
  }
  *out = c;
  return 0;
}
