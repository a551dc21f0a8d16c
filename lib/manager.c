/*
 * Managers, client side: starting, connecting to and shutting down a
 * manager's server (mserver.c), and the proxies that call its objects.
 *
 * A proxy is a value (the server's address, the object's id and type),
 * so it can go wherever a value goes and be rebuilt in another process.
 * Calls travel over one authenticated connection per (process, thread,
 * server) that every proxy of that server shares, as CPython's proxies
 * share theirs: a thread blocked in Queue.get holds up no other thread,
 * and proxies cost no connection of their own. The table of those
 * connections is the one shared state here; it is guarded by a spin
 * lock, held only to look an entry up or change the table.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "manager.h"
#include "object.h"
#include "platform.h"

enum { NEW, STARTED, CONNECTED, SHUT };

struct mproc_manager {
  int state;
  char *address;          /* as given, then as bound */
  char family[16];        /* "" until known */
  unsigned char *authkey; /* never NULL once created */
  size_t authkey_len;
  const mproc_context_t *ctx;
  double shutdown_timeout;
  mproc_process_t *proc;
};

struct mproc_proxy {
  mproc__obj_t hdr;
  int type;
  char *typeid; /* a registered type's; NULL for a built-in one */
  uint64_t id;
  char *address;
  char family[16];
  unsigned char *authkey; /* the manager's; NULL: this process's */
  size_t authkey_len;
};

/* ---- connections to servers ---- */

/* The thread id alone tells processes apart: mproc__plat_thread_id() is
 * unique among live threads of all processes (and renewed in a forked
 * child), so no pid is kept or asked for on each call. */
typedef struct chan {
  uint64_t tid;
  char *address; /* then the key, in the same allocation */
  size_t keylen;
  mproc_conn_t *conn;
} chan_t;

static atomic_flag chans_busy = ATOMIC_FLAG_INIT;
static chan_t *chans;
static size_t nchans;

static void chans_lock(void)
{
  while (atomic_flag_test_and_set_explicit(&chans_busy, memory_order_acquire))
    ;
}

static void chans_unlock(void)
{
  atomic_flag_clear_explicit(&chans_busy, memory_order_release);
}

/* The calling thread's connection to @address authenticated with @key,
 * or NULL. (A connection made with one key must not serve a caller with
 * another: that caller has proven nothing.) */
static mproc_conn_t *chan_find(const char *address, const void *key,
                               size_t keylen)
{
  uint64_t tid = mproc__plat_thread_id();
  size_t alen = strlen(address) + 1;
  mproc_conn_t *c = NULL;

  chans_lock();
  for (size_t i = 0; i < nchans && c == NULL; i++)
    if (chans[i].tid == tid && strcmp(chans[i].address, address) == 0 &&
        chans[i].keylen == keylen &&
        memcmp(chans[i].address + alen, key, keylen) == 0)
      c = chans[i].conn;
  chans_unlock();
  return c;
}

static int chan_add(const char *address, const void *key, size_t keylen,
                    mproc_conn_t *c)
{
  size_t alen = strlen(address) + 1;
  chan_t *more;
  char *a = malloc(alen + keylen);

  if (a != NULL) {
    memcpy(a, address, alen);
    memcpy(a + alen, key, keylen);
  }
  chans_lock();
  more = a != NULL ? realloc(chans, (nchans + 1) * sizeof *chans) : NULL;
  if (more != NULL) {
    chans = more;
    chans[nchans++] = (chan_t){mproc__plat_thread_id(), a, keylen, c};
  }
  chans_unlock();
  if (more == NULL) {
    free(a);
    return mproc__err(MPROC_ENOMEM, "out of memory");
  }
  return 0;
}

/* Close the connections to @address: the calling thread's only (@all 0),
 * or every thread's (@all 1: the server is gone or its manager freed, so
 * no thread may use them any more; in a forked child that includes the
 * copies of its parent's, which only the parent can use). */
static void chans_drop(const char *address, int all)
{
  uint64_t tid = mproc__plat_thread_id();
  size_t keep = 0;

  chans_lock();
  for (size_t i = 0; i < nchans; i++) {
    chan_t *ch = &chans[i];
    if (strcmp(ch->address, address) == 0 && (all || ch->tid == tid)) {
      mproc_conn_free(ch->conn);
      free(ch->address);
    } else {
      chans[keep++] = *ch;
    }
  }
  nchans = keep;
  chans_unlock();
}

static int server_gone(const char *address, int rc)
{
  return mproc__err(MPROC_EBROKEN, "the manager's server at %s is gone (%s)",
                    address, mproc_strerror(rc));
}

/* The calling thread's connection to the server, made on first use. */
static int chan_get(const char *address, const char *family, const void *key,
                    size_t keylen, mproc_conn_t **out)
{
  const unsigned char *pkey;
  int rc;

  if (key == NULL) {
    if ((rc = mproc_process_authkey(mproc_current_process(), &pkey, &keylen)) !=
        0)
      return rc;
    key = pkey;
  }
  if ((*out = chan_find(address, key, keylen)) != NULL)
    return 0;
  rc = mproc_client(out, address, family[0] ? family : NULL, key, keylen,
                    MPROC_AUTH_TIMEOUT);
  /* Refused, or hung up on during the handshake: a server that is gone
   * or going. */
  if (rc == MPROC_ENOTFOUND || rc == MPROC_EOS || rc == MPROC_EEOF)
    return server_gone(address, rc);
  if (rc == 0 && (rc = chan_add(address, key, keylen, *out)) != 0)
    mproc_conn_free(*out);
  return rc;
}

/* ---- requests ---- */

/* Turn reply bytes @buf (taken) into a result (a list of one value) or
 * an error. A success is [0, value] with both headers one byte long: the
 * same bytes become the result in place, [value], decoded once. */
static int take_reply(void *buf, size_t len, mproc_args_t **result)
{
  unsigned char *b = buf;
  mproc_args_t *r = NULL;
  const msgpack_object *f;
  int64_t status;
  int rc;

  if (len >= 3 && b[0] == 0x92 && b[1] == 0x00) {
    memmove(b + 1, b + 2, len - 2);
    b[0] = 0x91;
    if ((rc = mproc__args_take(&r, buf, len - 1)) != 0)
      return rc;
    if (result != NULL)
      *result = r;
    else
      mproc_args_free(r);
    return 0;
  }
  if ((rc = mproc__args_take(&r, buf, len)) != 0)
    return rc;
  f = r->pos.via.array.ptr;
  if (r->pos.via.array.size == 2 &&
      mproc_value_int((const void *)&f[0], &status) == 0 && status < 0 &&
      status >= MPROC__REPLY_MIN && f[1].type == MSGPACK_OBJECT_STR)
    rc = mproc__err((int)status, "%.*s", (int)f[1].via.str.size,
                    f[1].via.str.ptr);
  else
    rc = mproc__err(MPROC_ECODEC, "manager: malformed reply");
  mproc_args_free(r);
  return rc;
}

/* Send request [id, method, args] (args already packed in @req after the
 * header) and read the reply. */
static int roundtrip(const char *address, const char *family, const void *key,
                     size_t keylen, msgpack_sbuffer *req, mproc_args_t **result)
{
  mproc_conn_t *c;
  void *buf;
  size_t len;
  int rc = chan_get(address, family, key, keylen, &c);

  if (rc != 0)
    return rc;
  rc = mproc_conn_send_bytes(c, req->data, req->size, 0, MPROC_ALL);
  if (rc == 0)
    rc = mproc_conn_recv_bytes(c, MPROC_ALL, &buf, &len);
  if (rc != 0) {
    /* A half-done exchange leaves the stream out of step: drop it. */
    chans_drop(address, 0);
    return server_gone(address, rc);
  }
  return take_reply(buf, len, result);
}

static void request_head(msgpack_sbuffer *req, uint64_t id, const char *method)
{
  msgpack_packer pk;

  msgpack_packer_init(&pk, req, msgpack_sbuffer_write);
  msgpack_pack_array(&pk, 3);
  msgpack_pack_uint64(&pk, id);
  msgpack_pack_str_with_body(&pk, method, strlen(method));
}

/* ---- proxies ---- */

static void proxy_destroy(mproc__obj_t *o)
{
  mproc_proxy_t *p = (mproc_proxy_t *)o;

  free(p->address);
  free(p->authkey);
  free(p->typeid);
  free(p);
}

/* A proxy travels as [type, id, family, address(, typeid)]; the
 * receiver uses its own process's authkey, as CPython's unpickled
 * proxies do. */
static int proxy_pack(mproc__obj_t *o, msgpack_sbuffer *out)
{
  mproc_proxy_t *p = (mproc_proxy_t *)o;
  msgpack_packer pk;

  msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
  msgpack_pack_array(&pk, p->typeid != NULL ? 5 : 4);
  msgpack_pack_int(&pk, p->type);
  msgpack_pack_uint64(&pk, p->id);
  msgpack_pack_str_with_body(&pk, p->family, strlen(p->family));
  msgpack_pack_str_with_body(&pk, p->address, strlen(p->address));
  if (p->typeid != NULL)
    msgpack_pack_str_with_body(&pk, p->typeid, strlen(p->typeid));
  return 0;
}

static int proxy_new(mproc_proxy_t **out, int type, uint64_t id,
                     const char *address, size_t alen, const char *family,
                     size_t flen, const void *key, size_t keylen);

/* Give proxy @p the typeid of its registered type. */
static int proxy_typeid(mproc_proxy_t *p, const char *typeid, size_t len)
{
  if ((p->typeid = malloc(len + 1)) == NULL)
    return mproc__err(MPROC_ENOMEM, "out of memory");
  memcpy(p->typeid, typeid, len);
  p->typeid[len] = '\0';
  return 0;
}

static int proxy_import(mproc__obj_t **out, const intptr_t *handles, size_t n,
                        const void *extra, size_t extra_len)
{
  msgpack_zone zone;
  msgpack_object o;
  const msgpack_object *f;
  mproc_proxy_t *p = NULL;
  size_t off = 0;
  int rc = MPROC_ECODEC;

  (void)handles;
  if (n != 0 || mproc__msgpack_bounded(extra, extra_len) != 0 ||
      !msgpack_zone_init(&zone, 256))
    return mproc__err(MPROC_ECODEC, "proxy: malformed");
  if (msgpack_unpack(extra, extra_len, &off, &zone, &o) ==
          MSGPACK_UNPACK_SUCCESS &&
      o.type == MSGPACK_OBJECT_ARRAY &&
      (o.via.array.size == 4 || o.via.array.size == 5)) {
    f = o.via.array.ptr;
    /* A registered type, and only one, carries its typeid. */
    int reg = f[0].type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
              f[0].via.u64 == MPROC_MANAGED_REGISTERED;
    if (f[0].type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
        f[0].via.u64 <= INT32_MAX &&
        mproc_managed_name((int)f[0].via.u64) != NULL &&
        f[1].type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
        f[2].type == MSGPACK_OBJECT_STR && f[2].via.str.size > 0 &&
        f[2].via.str.size < 16 && f[3].type == MSGPACK_OBJECT_STR &&
        f[3].via.str.size > 0 && reg == (o.via.array.size == 5) &&
        (!reg || (f[4].type == MSGPACK_OBJECT_STR && f[4].via.str.size > 0 &&
                  f[4].via.str.size < 64)))
      rc = proxy_new(&p, (int)f[0].via.u64, f[1].via.u64, f[3].via.str.ptr,
                     f[3].via.str.size, f[2].via.str.ptr, f[2].via.str.size,
                     NULL, 0);
    if (rc == 0 && reg &&
        (rc = proxy_typeid(p, f[4].via.str.ptr, f[4].via.str.size)) != 0) {
      proxy_destroy(&p->hdr);
      p = NULL;
    }
  }
  msgpack_zone_destroy(&zone);
  if (rc == MPROC_ECODEC)
    return mproc__err(rc, "proxy: malformed");
  if (rc == 0)
    *out = &p->hdr;
  return rc;
}

static const mproc__obj_ops_t mproc__proxy_ops = {
    MPROC_KIND_PROXY, NULL, proxy_import, proxy_destroy, proxy_pack};
MPROC__OBJ_REGISTER(mproc__proxy_ops)

static int proxy_new(mproc_proxy_t **out, int type, uint64_t id,
                     const char *address, size_t alen, const char *family,
                     size_t flen, const void *key, size_t keylen)
{
  mproc_proxy_t *p = calloc(1, sizeof *p);

  if (p == NULL || (p->address = malloc(alen + 1)) == NULL ||
      (key != NULL && (p->authkey = malloc(keylen + 1)) == NULL)) {
    if (p != NULL)
      free(p->address);
    free(p);
    return mproc__err(MPROC_ENOMEM, "out of memory");
  }
  mproc__obj_init(&p->hdr, &mproc__proxy_ops);
  p->type = type;
  p->id = id;
  memcpy(p->address, address, alen);
  p->address[alen] = '\0';
  memcpy(p->family, family, flen);
  p->family[flen] = '\0';
  if (key != NULL)
    memcpy(p->authkey, key, keylen);
  p->authkey_len = keylen;
  *out = p;
  return 0;
}

/* Call @method of object @id (0: the server itself) at @address. */
static int request(const char *address, const char *family, const void *key,
                   size_t keylen, uint64_t id, const char *method,
                   const char *fmt, va_list ap, mproc_args_t **result)
{
  msgpack_sbuffer req;
  va_list copy;
  int rc;

  msgpack_sbuffer_init(&req);
  request_head(&req, id, method);
  va_copy(copy, ap);
  rc = mproc__encode_args(&req, fmt, &copy);
  va_end(copy);
  if (rc == 0)
    rc = roundtrip(address, family, key, keylen, &req, result);
  msgpack_sbuffer_destroy(&req);
  return rc;
}

int mproc_proxy_callv(mproc_proxy_t *p, mproc_args_t **result,
                      const char *method, const char *fmt, va_list ap)
{
  mproc__obj_t *o = mproc__obj_check(p);

  if (result != NULL)
    *result = NULL;
  if (o == NULL || o->ops != &mproc__proxy_ops)
    return mproc__err(MPROC_EINVAL, "proxy call: not a proxy");
  if (method == NULL)
    return mproc__err(MPROC_EINVAL, "proxy call: NULL method");
  return request(p->address, p->family, p->authkey, p->authkey_len, p->id,
                 method, fmt, ap, result);
}

int mproc__proxy_call_raw(mproc_proxy_t *p, mproc_args_t **result,
                          const char *method, const void *args, size_t len)
{
  msgpack_sbuffer req;
  int rc;

  if (result != NULL)
    *result = NULL;
  msgpack_sbuffer_init(&req);
  request_head(&req, p->id, method);
  rc = msgpack_sbuffer_write(&req, args, len) != 0
           ? mproc__err(MPROC_ENOMEM, "out of memory")
           : roundtrip(p->address, p->family, p->authkey, p->authkey_len, &req,
                       result);
  msgpack_sbuffer_destroy(&req);
  return rc;
}

int mproc_proxy_call(mproc_proxy_t *p, mproc_args_t **result,
                     const char *method, const char *fmt, ...)
{
  va_list ap;
  int rc;

  va_start(ap, fmt);
  rc = mproc_proxy_callv(p, result, method, fmt, ap);
  va_end(ap);
  return rc;
}

int mproc_proxy_type(const mproc_proxy_t *p)
{
  mproc__obj_t *o = mproc__obj_check(p);

  return o != NULL && o->ops == &mproc__proxy_ops ? p->type : 0;
}

const char *mproc_proxy_typeid(const mproc_proxy_t *p)
{
  if (mproc_proxy_type(p) == 0)
    return NULL;
  return p->typeid != NULL ? p->typeid : mproc_managed_name(p->type);
}

void mproc_proxy_free(mproc_proxy_t *p)
{
  if (p != NULL)
    mproc__obj_unref(&p->hdr);
}

/* ---- the manager ---- */

static int set_str(char **dst, const char *src)
{
  char *s = src != NULL ? strdup(src) : NULL;

  if (src != NULL && s == NULL)
    return mproc__err(MPROC_ENOMEM, "out of memory");
  free(*dst);
  *dst = s;
  return 0;
}

int mproc_manager_create(mproc_manager_t **out,
                         const mproc_manager_options_t *opts)
{
  static const mproc_manager_options_t defaults;
  const unsigned char *key;
  size_t keylen;
  mproc_manager_t *m;
  int f, rc;

  if (out == NULL)
    return mproc__err(MPROC_EINVAL, "manager: NULL output");
  *out = NULL;
  if (opts == NULL)
    opts = &defaults;
  if (opts->authkey == NULL && opts->authkey_len > 0)
    return mproc__err(MPROC_EINVAL, "authkey: NULL with a length");
  if (!(opts->shutdown_timeout >= 0))
    return mproc__err(MPROC_EINVAL, "manager: negative shutdown timeout");
  if ((rc = mproc__init()) != 0 ||
      (rc = mproc__family_parse(opts->family, opts->address, &f)) != 0)
    return rc;
  key = opts->authkey;
  keylen = opts->authkey_len;
  if (key == NULL &&
      (rc = mproc_process_authkey(mproc_current_process(), &key, &keylen)) != 0)
    return rc;
  if ((m = calloc(1, sizeof *m)) == NULL ||
      (m->authkey = malloc(keylen + 1)) == NULL ||
      set_str(&m->address, opts->address) != 0) {
    mproc_manager_free(m);
    return mproc__err(MPROC_ENOMEM, "out of memory");
  }
  memcpy(m->authkey, key, keylen);
  m->authkey_len = keylen;
  if (opts->family != NULL)
    snprintf(m->family, sizeof m->family, "%s", opts->family);
  m->ctx = opts->context;
  m->shutdown_timeout =
      opts->shutdown_timeout > 0 ? opts->shutdown_timeout : 1.0;
  *out = m;
  return 0;
}

static int state_err(const mproc_manager_t *m, const char *what)
{
  static const char *const why[] = {"has not been started",
                                    "has already been started",
                                    "is already connected", "has shut down"};
  return mproc__err(MPROC_ESTATE, "manager.%s: the manager %s", what,
                    why[m->state]);
}

/* Wait for the server's first message: its bound address, or why it
 * could not listen. */
static int read_address(mproc_manager_t *m, mproc_conn_t *r)
{
  mproc_waitable_t w[2] = {MPROC_WAITABLE_CONN(r),
                           MPROC_WAITABLE_PROCESS(m->proc)};
  int ready[2], status, code, rc;
  const char *a, *f;
  mproc_args_t *msg = NULL;

  rc = mproc_wait(w, 2, MPROC_FOREVER, ready);
  if (rc >= 0 && ready[0])
    rc = mproc_conn_recv(r, &msg);
  else if (rc >= 0) {
    mproc_process_exitcode(m->proc, &code);
    return mproc__err(MPROC_EBROKEN,
                      "manager: the server process ended (exit code %d) "
                      "before it served",
                      code);
  }
  if (rc != 0)
    return rc;
  if (mproc_args_parse(msg, "iss", &status, &a, &f) == 0) {
    rc = set_str(&m->address, a);
    snprintf(m->family, sizeof m->family, "%s", f);
  } else if (mproc_args_parse(msg, "is", &status, &a) == 0 && status < 0 &&
             status >= MPROC__REPLY_MIN)
    rc = mproc__err(status, "manager: %s", a);
  else
    rc = mproc__err(MPROC_ECODEC, "manager: the server sent nonsense");
  mproc_args_free(msg);
  return rc;
}

int mproc_manager_start(mproc_manager_t *m)
{
  mproc_conn_t *r = NULL, *w = NULL;
  int rc;

  if (m == NULL)
    return mproc__err(MPROC_EINVAL, "manager: NULL");
  if (m->state != NEW)
    return state_err(m, "start");
  if ((rc = mproc_pipe(&r, &w, 0)) != 0)
    return rc;
  rc = mproc_context_process(m->ctx, &m->proc, mproc__manager_serve, "ozzy#", w,
                             m->address, m->family[0] ? m->family : NULL,
                             m->authkey, m->authkey_len);
  if (rc == 0)
    (void)mproc_process_set_name(m->proc, "SyncManager");
  if (rc == 0 && (rc = mproc_process_set_daemon(m->proc, 1)) == 0 &&
      (rc = mproc_process_set_authkey(m->proc, m->authkey, m->authkey_len)) ==
          0)
    rc = mproc_process_start(m->proc);
  mproc_conn_free(w);
  if (rc == 0)
    rc = read_address(m, r);
  mproc_conn_free(r);
  if (rc != 0 && m->proc != NULL) {
    if (mproc_process_pid(m->proc) > 0) {
      (void)mproc_process_kill(m->proc);
      (void)mproc_process_join(m->proc, MPROC_FOREVER);
    }
    mproc_process_free(m->proc);
    m->proc = NULL;
  }
  if (rc == 0)
    m->state = STARTED;
  return rc;
}

/* Call a method of the server itself (id 0). */
static int server_call(mproc_manager_t *m, mproc_args_t **result,
                       const char *method, const char *fmt, ...)
{
  va_list ap;
  int rc;

  va_start(ap, fmt);
  rc = request(m->address, m->family, m->authkey, m->authkey_len, 0, method,
               fmt, ap, result);
  va_end(ap);
  return rc;
}

int mproc_manager_connect(mproc_manager_t *m)
{
  mproc_conn_t *c;
  int rc;

  if (m == NULL)
    return mproc__err(MPROC_EINVAL, "manager: NULL");
  if (m->state != NEW)
    return state_err(m, "connect");
  if (m->address == NULL)
    return mproc__err(MPROC_EINVAL, "manager.connect: no address given");
  /* Connecting is the check: the key is proven both ways. */
  rc = chan_get(m->address, m->family, m->authkey, m->authkey_len, &c);
  if (rc == MPROC_EBROKEN)
    rc = mproc__err(MPROC_ENOTFOUND, "manager.connect: nothing serves at %s",
                    m->address);
  if (rc == 0)
    m->state = CONNECTED;
  return rc;
}

int mproc_manager_object(mproc_manager_t *m, mproc_proxy_t **out, int type,
                         const char *name)
{
  return mproc_manager_object_args(m, out, type, name, NULL);
}

/* Ask the server for a new (or the named) object of @type (@typeid for
 * a registered one) built from @fmt, and make its proxy:
 * [0, "create", [type, name, [ctor args...](, typeid)]]. */
static int create_object(mproc_manager_t *m, mproc_proxy_t **out, int type,
                         const char *typeid, const char *name, const char *fmt,
                         va_list ap)
{
  msgpack_sbuffer req;
  msgpack_packer pk;
  mproc_args_t *r = NULL;
  const mproc_value_t *v;
  int64_t id = 0, got = 0;
  va_list copy;
  int rc;

  if (m == NULL || out == NULL)
    return mproc__err(MPROC_EINVAL, "manager: NULL argument");
  *out = NULL;
  if (m->state != STARTED && m->state != CONNECTED)
    return state_err(m, "object");
  if (name != NULL && name[0] == '\0')
    return mproc__err(MPROC_EINVAL, "manager: an object's name is not empty");
  msgpack_sbuffer_init(&req);
  request_head(&req, 0, "create");
  msgpack_packer_init(&pk, &req, msgpack_sbuffer_write);
  msgpack_pack_array(&pk, typeid != NULL ? 4 : 3);
  msgpack_pack_int(&pk, type);
  if (name != NULL)
    msgpack_pack_str_with_body(&pk, name, strlen(name));
  else
    msgpack_pack_nil(&pk);
  va_copy(copy, ap);
  rc = mproc__encode_args(&req, fmt, &copy);
  va_end(copy);
  if (rc == 0 && typeid != NULL)
    msgpack_pack_str_with_body(&pk, typeid, strlen(typeid));
  if (rc == 0)
    rc = roundtrip(m->address, m->family, m->authkey, m->authkey_len, &req, &r);
  msgpack_sbuffer_destroy(&req);
  if (rc == 0 && (mproc_args_parse(r, "O", &v) != 0 ||
                  mproc_value_int(mproc_value_at(v, 0), &id) != 0 ||
                  mproc_value_int(mproc_value_at(v, 1), &got) != 0 || id <= 0 ||
                  got != type))
    rc = mproc__err(MPROC_ECODEC, "manager: bad reply to create");
  mproc_args_free(r);
  if (rc == 0)
    rc = proxy_new(out, type, (uint64_t)id, m->address, strlen(m->address),
                   m->family, strlen(m->family), m->authkey, m->authkey_len);
  if (rc == 0 && typeid != NULL &&
      (rc = proxy_typeid(*out, typeid, strlen(typeid))) != 0) {
    mproc_proxy_free(*out);
    *out = NULL;
  }
  return rc;
}

int mproc_manager_object_args(mproc_manager_t *m, mproc_proxy_t **out, int type,
                              const char *name, const char *fmt, ...)
{
  va_list ap;
  int rc;

  if (mproc_managed_name(type) == NULL || type == MPROC_MANAGED_REGISTERED) {
    if (out != NULL)
      *out = NULL;
    return mproc__err(MPROC_EINVAL, "manager: unknown type %d", type);
  }
  va_start(ap, fmt);
  rc = create_object(m, out, type, NULL, name, fmt, ap);
  va_end(ap);
  return rc;
}

int mproc_manager_instance(mproc_manager_t *m, mproc_proxy_t **out,
                           const char *typeid, const char *name,
                           const char *fmt, ...)
{
  va_list ap;
  int rc;

  if (typeid == NULL || typeid[0] == '\0' || strlen(typeid) >= 64) {
    if (out != NULL)
      *out = NULL;
    return mproc__err(MPROC_EINVAL, "manager: a typeid is 1 to 63 "
                                    "characters");
  }
  va_start(ap, fmt);
  rc = create_object(m, out, MPROC_MANAGED_REGISTERED, typeid, name, fmt, ap);
  va_end(ap);
  return rc;
}

/* Stop the server: ask, then terminate, then kill, each given the
 * shutdown timeout to take effect. */
static void stop_server(mproc_manager_t *m)
{
  double t = m->shutdown_timeout;

  (void)server_call(m, NULL, "shutdown", NULL);
  chans_drop(m->address, 1);
  if (m->proc == NULL)
    return;
  /* A join that fails (not only one that times out) leaves the server
   * running: the next step is taken all the same. */
  if (mproc_process_join(m->proc, t) != 0) {
    (void)mproc_process_terminate(m->proc);
    if (mproc_process_join(m->proc, t) != 0) {
      (void)mproc_process_kill(m->proc);
      if (mproc_process_join(m->proc, MPROC_FOREVER) != 0)
        (void)mproc_process_join(m->proc, MPROC_FOREVER);
    }
  }
}

int mproc_manager_shutdown(mproc_manager_t *m)
{
  if (m == NULL)
    return mproc__err(MPROC_EINVAL, "manager: NULL");
  if (m->state != STARTED && m->state != CONNECTED)
    return state_err(m, "shutdown");
  stop_server(m);
  m->state = SHUT;
  return 0;
}

const char *mproc_manager_address(const mproc_manager_t *m)
{
  return m != NULL && m->state != NEW ? m->address : NULL;
}

mproc_process_t *mproc_manager_process(mproc_manager_t *m)
{
  return m != NULL ? m->proc : NULL;
}

void mproc_manager_free(mproc_manager_t *m)
{
  if (m == NULL)
    return;
  if (m->state == STARTED)
    stop_server(m);
  else if (m->address != NULL && m->state == CONNECTED)
    chans_drop(m->address, 1);
  mproc_process_free(m->proc);
  free(m->address);
  free(m->authkey);
  free(m);
}

int mproc_manager(mproc_manager_t **out)
{
  int rc = mproc_manager_create(out, NULL);

  if (rc == 0 && (rc = mproc_manager_start(*out)) != 0) {
    mproc_manager_free(*out);
    *out = NULL;
  }
  return rc;
}
