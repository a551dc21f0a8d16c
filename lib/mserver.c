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

/* Add @o to the server's table as id @*id. */
static int table_add(server_t *s, sobj_t *o, size_t *id)
{
  sobj_t **objs;

  if (s->nobjs == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 16;
    if ((objs = realloc(s->objs, cap * sizeof *objs)) == NULL)
      return mproc__err(MPROC_ENOMEM, "out of memory");
    s->objs = objs;
    s->cap = cap;
  }
  s->objs[s->nobjs++] = o;
  *id = s->nobjs;
  return 0;
}

static sobj_t *sobj_alloc(server_t *s, int type)
{
  sobj_t *o = calloc(1, sizeof *o);

  if (o == NULL)
    return NULL;
  o->type = type;
  if (apr_thread_cond_create(&o->cv, s->pool) != APR_SUCCESS ||
      ((type == MPROC_MANAGED_DICT || type == MPROC_MANAGED_NAMESPACE) &&
       (o->map = apr_hash_make(s->pool)) == NULL)) {
    free(o);
    return NULL;
  }
  return o;
}

int mproc__mobj_new(call_t *x, int type, const msgpack_object *ctor, size_t *id)
{
  sobj_t *o = sobj_alloc(x->s, type);
  int rc;

  if (o == NULL)
    return mproc__err(MPROC_ENOMEM, "out of memory");
  if ((rc = mproc__mobj_init(x, o, ctor)) != 0 ||
      (rc = table_add(x->s, o, id)) != 0)
    mproc__mobj_free(o);
  return rc;
}

/* A new object of registered type @typeid. */
static int registered_new(call_t *x, const msgpack_object *typeid,
                          const msgpack_object *ctor, size_t *id)
{
  sobj_t *o = sobj_alloc(x->s, MPROC_MANAGED_REGISTERED);
  int rc;

  if (o == NULL)
    return mproc__err(MPROC_ENOMEM, "out of memory");
  if ((rc = mproc__mreg_init(x, o, typeid->via.str.ptr, typeid->via.str.size,
                             ctor)) != 0 ||
      (rc = table_add(x->s, o, id)) != 0)
    mproc__mobj_free(o);
  return rc;
}

sobj_t *mproc__mobj_from_proxy(call_t *x, const msgpack_object *v)
{
  mproc_args_t *a = NULL;
  const mproc_value_t *f;
  const char *addr = mproc_listener_address(x->s->lsn);
  const void *got;
  size_t len;
  int64_t type, id;
  sobj_t *o = NULL;
  void *buf;

  /* [kind, [type, id, family, address(, typeid)]] as a proxy packs itself
   * (manager.c), after its kind byte. */
  if (v->type != MSGPACK_OBJECT_EXT ||
      v->via.ext.type != MPROC__EXT_VALUE_OBJ || v->via.ext.size < 2 ||
      (unsigned char)v->via.ext.ptr[0] != MPROC_KIND_PROXY)
    return NULL;
  len = v->via.ext.size - 1;
  if ((buf = mproc__args_buffer(len + 1)) == NULL)
    return NULL;
  ((unsigned char *)buf)[0] = 0x91; /* [value] */
  memcpy((char *)buf + 1, v->via.ext.ptr + 1, len);
  if (mproc__args_take_buffer(&a, buf, len + 1) != 0)
    return NULL;
  f = mproc_args_at(a, 0);
  if (mproc_value_int(mproc_value_at(f, 0), &type) == 0 &&
      mproc_value_int(mproc_value_at(f, 1), &id) == 0 &&
      mproc_value_bytes(mproc_value_at(f, 3), &got, &len) == 0 &&
      len == strlen(addr) && memcmp(got, addr, len) == 0 && id >= 1 &&
      (uint64_t)id <= x->s->nobjs && x->s->objs[id - 1]->type == type)
    o = x->s->objs[id - 1];
  mproc_args_free(a);
  return o;
}

/* Whether the object named @name, of @type (and @typeid for a registered
 * type), may be given for a request of that type. */
static int same_type(sobj_t *o, int64_t type, const msgpack_object *typeid,
                     const msgpack_object *name)
{
  const char *want = type == MPROC_MANAGED_REGISTERED
                         ? typeid->via.str.ptr
                         : mproc_managed_name((int)type);
  size_t wlen =
      type == MPROC_MANAGED_REGISTERED ? typeid->via.str.size : strlen(want);
  const char *have =
      o->mt != NULL ? o->mt->typeid : mproc_managed_name(o->type);

  if (o->type == type && strlen(have) == wlen && memcmp(have, want, wlen) == 0)
    return 0;
  return mproc__err(MPROC_ETYPE, "'%.*s' is a %s, not a %.*s",
                    (int)name->via.str.size, name->via.str.ptr, have, (int)wlen,
                    want);
}

/* create [type, name|nil, [ctor args](, typeid)]: [id, type]. */
static int srv_create(call_t *x)
{
  const msgpack_object *name = &x->argv[1];
  const msgpack_object *typeid = x->argc > 3 ? &x->argv[3] : NULL;
  int64_t type;
  size_t id = 0;
  int rc;

  if (mproc__mobj_int(&x->argv[0], &type) != 0 ||
      mproc_managed_name((int)type) == NULL)
    return mproc__err(MPROC_EINVAL, "create: unknown type");
  if ((type == MPROC_MANAGED_REGISTERED) !=
          (typeid != NULL && typeid->type == MSGPACK_OBJECT_STR &&
           typeid->via.str.size > 0) ||
      (typeid != NULL && type != MPROC_MANAGED_REGISTERED))
    return mproc__err(MPROC_EINVAL,
                      "create: a registered type, and only one, needs its "
                      "typeid");
  if (name->type != MSGPACK_OBJECT_NIL &&
      (name->type != MSGPACK_OBJECT_STR || name->via.str.size == 0))
    return mproc__err(MPROC_ETYPE, "create: the name must be a string");
  if (x->argv[2].type != MSGPACK_OBJECT_ARRAY)
    return mproc__err(MPROC_ETYPE, "create: arguments must be a list");
  if (name->type == MSGPACK_OBJECT_STR)
    id = (size_t)(uintptr_t)apr_hash_get(x->s->names, name->via.str.ptr,
                                         name->via.str.size);
  if (id != 0 && (rc = same_type(x->s->objs[id - 1], type, typeid, name)) != 0)
    return rc;
  if (id == 0) {
    rc = type == MPROC_MANAGED_REGISTERED
             ? registered_new(x, typeid, &x->argv[2], &id)
             : mproc__mobj_new(x, (int)type, &x->argv[2], &id);
    if (rc != 0)
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
  mproc__acceptor_stop(x->s->acc);
  msgpack_pack_nil(&x->pk);
  return 0;
}

static const method_t server_methods[] = {
    {"create", srv_create, 3, 4},
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
    if (x->o->type == MPROC_MANAGED_REGISTERED)
      return mproc__mreg_call(x);
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
  for (size_t i = 0; i < s->nobjs; i++)
    mproc__msync_gone(s->objs[i], w);
  apr_thread_mutex_unlock(s->mu);
}

/* A connection's thread (acceptor.c): authenticate the peer, then answer
 * its requests until it hangs up. */
static int serve_conn(void *arg, mproc_conn_t *c)
{
  worker_t w = {.s = arg, .c = c};
  msgpack_sbuffer out;
  void *buf;
  size_t len;

  msgpack_sbuffer_init(&out);
  if (mproc__auth_server(c, w.s->key, w.s->keylen, MPROC_AUTH_TIMEOUT,
                         "manager: connection refused") == 0) {
    MPROC__LOG(MPROC_LOG_DEBUG, "manager: connection accepted");
    while (mproc_conn_recv_bytes(c, MPROC_ALL, &buf, &len) == 0) {
      msgpack_sbuffer_clear(&out);
      answer(w.s, &w, buf, len, &out);
      if (mproc_conn_send_bytes(c, out.data, out.size, 0, MPROC_ALL) != 0)
        break;
    }
  }
  msgpack_sbuffer_destroy(&out);
  worker_gone(w.s, &w);
  return 0; /* the acceptor closes it */
}

/* Serve until "shutdown". The connections' threads are not joined: the
 * process ends with them (one may be blocked in Queue.get). */
static int serve(server_t *s)
{
  int rc = mproc__acceptor_create(&s->acc, s->lsn, SIZE_MAX, serve_conn, s);

  if (rc == 0)
    (void)mproc__acceptor_run(s->acc);
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
