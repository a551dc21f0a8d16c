/*
 * A manager's server: the process that owns the shared objects (their
 * types are in mtypes.c). It
 * listens with the manager's address; each client connection gets a
 * thread (as CPython's Server does), which authenticates the peer and
 * then answers its requests one by one (see manager.h for the wire
 * format). Blocking methods (Queue.get, Lock.acquire, Event.wait) block
 * only their connection's thread.
 *
 * All object state is guarded by one mutex: every operation is a few
 * pointer moves, so one lock costs less than a lock per object, and
 * waits use a condition variable per object.
 */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "mserver.h"
#include "object.h"
#include "platform.h"

static int sobj_new(server_t *s, int type, const msgpack_object *ctor,
                    size_t *id)
{
  sobj_t *o = calloc(1, sizeof *o), **objs;
  int rc;

  if (o == NULL)
    return mproc__err(MPROC_ENOMEM, "out of memory");
  o->type = type;
  if (apr_thread_cond_create(&o->cv, s->pool) != APR_SUCCESS ||
      ((type == MPROC_MANAGED_DICT || type == MPROC_MANAGED_NAMESPACE) &&
       (o->map = apr_hash_make(s->pool)) == NULL)) {
    free(o);
    return mproc__err(MPROC_ENOMEM, "out of memory");
  }
  if ((rc = mproc__mobj_init(o, ctor)) != 0) {
    mproc__mobj_free(o);
    return rc;
  }
  if (s->nobjs == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 16;
    if ((objs = realloc(s->objs, cap * sizeof *objs)) == NULL) {
      mproc__mobj_free(o);
      return mproc__err(MPROC_ENOMEM, "out of memory");
    }
    s->objs = objs;
    s->cap = cap;
  }
  s->objs[s->nobjs++] = o;
  *id = s->nobjs;
  return 0;
}

/* create [type, name|nil, [ctor args]]: [id, type]. */
static int srv_create(call_t *x)
{
  const msgpack_object *name = &x->argv[1];
  int64_t type;
  size_t id = 0;
  int rc;

  if (mproc__mobj_int(&x->argv[0], &type) != 0 ||
      mproc_managed_name((int)type) == NULL)
    return mproc__err(MPROC_EINVAL, "create: unknown type");
  if (name->type != MSGPACK_OBJECT_NIL &&
      (name->type != MSGPACK_OBJECT_STR || name->via.str.size == 0))
    return mproc__err(MPROC_ETYPE, "create: the name must be a string");
  if (x->argv[2].type != MSGPACK_OBJECT_ARRAY)
    return mproc__err(MPROC_ETYPE, "create: arguments must be a list");
  if (name->type == MSGPACK_OBJECT_STR)
    id = (size_t)(uintptr_t)apr_hash_get(x->s->names, name->via.str.ptr,
                                         name->via.str.size);
  if (id != 0 && x->s->objs[id - 1]->type != type)
    return mproc__err(MPROC_ETYPE, "'%.*s' is a %s, not a %s",
                      (int)name->via.str.size, name->via.str.ptr,
                      mproc_managed_name(x->s->objs[id - 1]->type),
                      mproc_managed_name((int)type));
  if (id == 0) {
    if ((rc = sobj_new(x->s, (int)type, &x->argv[2], &id)) != 0)
      return rc;
    if (name->type == MSGPACK_OBJECT_STR) {
      char *key =
          apr_pstrmemdup(x->s->pool, name->via.str.ptr, name->via.str.size);
      apr_hash_set(x->s->names, key, name->via.str.size, (void *)(uintptr_t)id);
    }
  }
  msgpack_pack_array(&x->pk, 2);
  msgpack_pack_uint64(&x->pk, id);
  msgpack_pack_int(&x->pk, (int)type);
  return 0;
}

static int srv_shutdown(call_t *x)
{
  mproc_conn_t *wake = NULL;

  atomic_store(&x->s->stopping, 1);
  /* Wake the accepting thread with a connection of our own. */
  if (mproc_client(&wake, mproc_listener_address(x->s->lsn),
                   mproc_listener_family(x->s->lsn), NULL, 0, 5.0) == 0)
    mproc_conn_free(wake);
  msgpack_pack_nil(&x->pk);
  return 0;
}

static const method_t server_methods[] = {
    {"create", srv_create, 3, 3},
    {"shutdown", srv_shutdown, 0, 0},
    {NULL, NULL, 0, 0},
};

/* ---- requests ---- */

/* Answer one decoded request into @x->out. */
static int dispatch(call_t *x, const msgpack_object *req)
{
  const msgpack_object *f = req->via.array.ptr;
  const method_t *m;
  const char *tname = "manager";
  int64_t id;
  char method[64];

  if (req->via.array.size != 3 || mproc__mobj_int(&f[0], &id) != 0 ||
      f[1].type != MSGPACK_OBJECT_STR || f[2].type != MSGPACK_OBJECT_ARRAY ||
      f[1].via.str.size >= sizeof method ||
      (f[1].via.str.size > 0 &&
       memchr(f[1].via.str.ptr, '\0', f[1].via.str.size) != NULL))
    return mproc__err(MPROC_ECODEC, "malformed request");
  if (f[1].via.str.size > 0) /* msgpack-c may give "" a NULL pointer */
    memcpy(method, f[1].via.str.ptr, f[1].via.str.size);
  method[f[1].via.str.size] = '\0';
  x->method = method;
  x->argv = f[2].via.array.ptr;
  x->argc = f[2].via.array.size;
  if (id == 0) {
    m = server_methods;
  } else if (id < 0 || (uint64_t)id > x->s->nobjs) {
    return mproc__err(MPROC_ENOTFOUND, "no shared object with id %lld",
                      (long long)id);
  } else {
    x->o = x->s->objs[id - 1];
    m = mproc__mobj_methods(x->o->type);
    tname = mproc_managed_name(x->o->type);
  }
  for (; m->name != NULL && strcmp(m->name, method) != 0; m++)
    ;
  if (m->name == NULL)
    return mproc__err(MPROC_ENOMETHOD,
                      "method '%s' of %s object is not exposed", method, tname);
  if (x->argc < m->min || x->argc > m->max)
    return mproc__err(MPROC_EINVAL,
                      "%s.%s() takes %u to %u arguments (%u given)", tname,
                      method, m->min, m->max, x->argc);
  return m->fn(x);
}

/* Build the reply to request bytes @buf (taken) into @out. */
static void answer(server_t *s, worker_t *w, void *buf, size_t len,
                   msgpack_sbuffer *out)
{
  call_t x = {.s = s, .w = w, .out = out};
  mproc_args_t *req = NULL;
  int rc;

  msgpack_packer_init(&x.pk, out, msgpack_sbuffer_write);
  msgpack_pack_array(&x.pk, 2);
  msgpack_pack_int(&x.pk, 0);
  rc = mproc__args_take(&req, buf, len);
  if (rc == 0) {
    apr_thread_mutex_lock(s->mu);
    rc = dispatch(&x, &req->pos);
    apr_thread_mutex_unlock(s->mu);
  }
  mproc_args_free(req);
  if (rc != 0) {
    msgpack_sbuffer_clear(out);
    msgpack_pack_array(&x.pk, 2);
    msgpack_pack_int(&x.pk, rc);
    const char *msg = mproc_last_error();
    msgpack_pack_str_with_body(&x.pk, msg, strlen(msg));
  }
}

/* A connection ended: Locks it held are released, and their next
 * acquirer is told (CPython's server would keep them locked forever). */
static void worker_gone(server_t *s, worker_t *w)
{
  apr_thread_mutex_lock(s->mu);
  for (size_t i = 0; i < s->nobjs; i++) {
    sobj_t *o = s->objs[i];
    if (o->type == MPROC_MANAGED_LOCK && o->flag && o->owner == w) {
      o->flag = 0;
      o->owner = NULL;
      o->owner_died = 1;
      mproc__mobj_changed(o);
    }
  }
  apr_thread_mutex_unlock(s->mu);
}

static void *APR_THREAD_FUNC serve_conn(apr_thread_t *t, void *arg)
{
  worker_t *w = arg;
  msgpack_sbuffer out;
  void *buf;
  size_t len;

  (void)t;
  msgpack_sbuffer_init(&out);
  if (mproc__auth_server(w->c, w->s->key, w->s->keylen, MPROC_AUTH_TIMEOUT) ==
      0) {
    MPROC__LOG(MPROC_LOG_DEBUG, "manager: connection accepted");
    while (mproc_conn_recv_bytes(w->c, MPROC_ALL, &buf, &len) == 0) {
      msgpack_sbuffer_clear(&out);
      answer(w->s, w, buf, len, &out);
      if (mproc_conn_send_bytes(w->c, out.data, out.size, 0, MPROC_ALL) != 0)
        break;
    }
  } else {
    MPROC__LOG(MPROC_LOG_WARNING, "manager: connection refused");
  }
  msgpack_sbuffer_destroy(&out);
  worker_gone(w->s, w);
  mproc_conn_close(w->c);
  atomic_store(&w->done, 1);
  return NULL;
}

/* Join and free workers whose connections have ended. */
static void reap_workers(server_t *s)
{
  apr_status_t st;

  for (worker_t **p = &s->workers; *p != NULL;) {
    worker_t *w = *p;
    if (!atomic_load(&w->done)) {
      p = &w->next;
      continue;
    }
    *p = w->next;
    apr_thread_join(&st, w->thread);
    mproc_conn_free(w->c);
    apr_pool_destroy(w->pool);
    free(w);
  }
}

static int start_worker(server_t *s, mproc_conn_t *c)
{
  worker_t *w = calloc(1, sizeof *w);

  if (w == NULL || apr_pool_create(&w->pool, NULL) != APR_SUCCESS) {
    free(w);
    mproc_conn_free(c);
    return mproc__err(MPROC_ENOMEM, "out of memory");
  }
  w->s = s;
  w->c = c;
  if (apr_thread_create(&w->thread, NULL, serve_conn, w, w->pool) !=
      APR_SUCCESS) {
    apr_pool_destroy(w->pool);
    free(w);
    mproc_conn_free(c);
    return mproc__err(MPROC_EOS, "manager: cannot start a thread");
  }
  w->next = s->workers;
  s->workers = w;
  return 0;
}

static int serve(server_t *s)
{
  mproc_conn_t *c;
  int rc;

  while (!atomic_load(&s->stopping)) {
    rc = mproc__listener_accept_raw(s->lsn, &c, MPROC_FOREVER);
    reap_workers(s);
    if (rc != 0)
      continue; /* a peer that vanished before accept: go on */
    if (atomic_load(&s->stopping)) {
      mproc_conn_free(c);
      break;
    }
    (void)start_worker(s, c);
  }
  mproc_listener_close(s->lsn);
  return 0;
}

static int send_status(mproc_conn_t *w, int rc, const char *a, const char *b)
{
  if (rc != 0)
    return mproc_conn_send(w, "is", rc, mproc_last_error());
  return mproc_conn_send(w, "iss", 0, a, b);
}

int mproc__manager_serve(mproc_args_t *args)
{
  server_t s = {0};
  mproc_conn_t *w;
  const char *address, *family;
  const void *key;
  size_t keylen;
  int rc;

  if (mproc_args_parse(args, "ozzy#", MPROC_KIND_CONNECTION, &w, &address,
                       &family, &key, &keylen) != 0)
    return MPROC_EXIT_BOOTSTRAP;
  s.key = key;
  s.keylen = keylen;
  if (apr_pool_create(&s.pool, NULL) != APR_SUCCESS ||
      apr_thread_mutex_create(&s.mu, APR_THREAD_MUTEX_DEFAULT, s.pool) !=
          APR_SUCCESS ||
      (s.names = apr_hash_make(s.pool)) == NULL)
    rc = mproc__err(MPROC_ENOMEM, "out of memory");
  else
    rc = mproc_listener_create(&s.lsn, address, family, 128, NULL, 0);
  if (send_status(w, rc, s.lsn ? mproc_listener_address(s.lsn) : "",
                  s.lsn ? mproc_listener_family(s.lsn) : "") != 0 ||
      rc != 0)
    return 1;
  mproc_conn_close(w);
  MPROC__LOG(MPROC_LOG_INFO, "manager serving at %s (%s)",
             mproc_listener_address(s.lsn), mproc_listener_family(s.lsn));
  return serve(&s);
}

MPROC__CTOR(mproc__register_manager)
{
  (void)mproc_register(MPROC__MANAGER_TARGET, mproc__manager_serve);
}
