/*
 * The containers a manager's server holds and their methods, with
 * CPython's names, arguments and errors: dict, list, Queue (queue.Queue),
 * Namespace, Value and Array (the synchronisation types are in msync.c).
 * Each method runs with the server's lock held (mserver.c), reads its
 * arguments from the request and packs its result into the reply; an
 * error is returned as a status with mproc__err()'s message, which the
 * client gets back.
 *
 * Values are stored as their MessagePack bytes, so anything a client can
 * send (proxies included) can be stored and given back unchanged; two
 * values are equal when their bytes are (a dict key 1 is not 1.0).
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "mserver.h"
#include "object.h"
#include "platform.h"

/* ---- values ---- */

int mproc__mblob_of(const msgpack_object *o, blob_t **out)
{
  msgpack_sbuffer sb;
  msgpack_packer pk;

  msgpack_sbuffer_init(&sb);
  msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
  *out = NULL;
  if (msgpack_pack_object(&pk, *o) == 0 &&
      (*out = malloc(sizeof **out + sb.size)) != NULL) {
    (*out)->len = sb.size;
    memcpy((*out)->data, sb.data, sb.size);
  }
  msgpack_sbuffer_destroy(&sb);
  return *out != NULL ? 0 : mproc__err(MPROC_ENOMEM, "out of memory");
}

int mproc__mblob_eq(const blob_t *a, const blob_t *b)
{
  return a->len == b->len && memcmp(a->data, b->data, a->len) == 0;
}

void mproc__mput_blob(call_t *x, const blob_t *b)
{
  msgpack_sbuffer_write(x->out, (const char *)b->data, b->len);
}

void mproc__mput_obj(call_t *x, const msgpack_object *o)
{
  msgpack_pack_object(&x->pk, *o);
}

void mproc__mput_bool(call_t *x, int v)
{
  if (v)
    msgpack_pack_true(&x->pk);
  else
    msgpack_pack_false(&x->pk);
}

/* A short rendering of a value for messages ("KeyError: 'x'"). */
static void describe(const blob_t *b, char *buf, size_t cap)
{
  msgpack_zone zone;
  msgpack_object o;
  size_t off = 0;

  snprintf(buf, cap, "<value>");
  if (!msgpack_zone_init(&zone, 256))
    return;
  if (msgpack_unpack((const char *)b->data, b->len, &off, &zone, &o) ==
      MSGPACK_UNPACK_SUCCESS) {
    if (o.type == MSGPACK_OBJECT_STR)
      snprintf(buf, cap, "'%.*s'",
               (int)(o.via.str.size > 60 ? 60 : o.via.str.size), o.via.str.ptr);
    else if (o.type == MSGPACK_OBJECT_POSITIVE_INTEGER)
      snprintf(buf, cap, "%llu", (unsigned long long)o.via.u64);
    else if (o.type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
      snprintf(buf, cap, "%lld", (long long)o.via.i64);
  }
  msgpack_zone_destroy(&zone);
}

int mproc__mobj_int(const msgpack_object *o, int64_t *v)
{
  if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 <= INT64_MAX)
    *v = (int64_t)o->via.u64;
  else if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
    *v = o->via.i64;
  else
    return -1;
  return 0;
}

int mproc__marg_int(call_t *x, uint32_t i, int64_t *v)
{
  if (mproc__mobj_int(&x->argv[i], v) != 0)
    return mproc__err(MPROC_ETYPE, "%s() argument %u must be int", x->method,
                      i + 1);
  return 0;
}

/* A truth value: bool, int or nil (CPython would take any object). */
int mproc__marg_bool(call_t *x, uint32_t i, int *v)
{
  const msgpack_object *o = &x->argv[i];
  int64_t n;

  if (o->type == MSGPACK_OBJECT_BOOLEAN)
    *v = o->via.boolean;
  else if (o->type == MSGPACK_OBJECT_NIL)
    *v = 0;
  else if (mproc__mobj_int(o, &n) == 0)
    *v = n != 0;
  else
    return mproc__err(MPROC_ETYPE, "%s() argument %u must be a bool", x->method,
                      i + 1);
  return 0;
}

int mproc__marg_timeout(call_t *x, uint32_t i, double *t)
{
  const msgpack_object *o;
  int64_t n;

  *t = -1;
  if (i >= x->argc || (o = &x->argv[i])->type == MSGPACK_OBJECT_NIL)
    return 0;
  if (o->type == MSGPACK_OBJECT_FLOAT32 || o->type == MSGPACK_OBJECT_FLOAT64)
    *t = o->via.f64;
  else if (mproc__mobj_int(o, &n) == 0)
    *t = (double)n;
  else
    return mproc__err(MPROC_ETYPE, "%s() timeout must be a number", x->method);
  if (!(*t >= 0))
    return mproc__err(MPROC_EINVAL, "'timeout' must be a non-negative number");
  return 0;
}

int mproc__marg_deadline(call_t *x, uint32_t i, double dflt, double *deadline)
{
  double t;
  int rc = mproc__marg_timeout(x, i, &t);

  if (rc != 0)
    return rc;
  if (t < 0)
    t = dflt;
  *deadline = t < 0 ? MPROC__NEVER : mproc__deadline(t);
  return 0;
}

int mproc__mwait(call_t *x, sobj_t *o, int (*ready)(const sobj_t *),
                 double deadline)
{
  while (!ready(o)) {
    if (deadline >= MPROC__NEVER) {
      apr_thread_cond_wait(o->cv, x->s->mu);
      continue;
    }
    double left = deadline - mproc__plat_now();
    if (left <= 0)
      return MPROC_ETIMEDOUT;
    apr_thread_cond_timedwait(o->cv, x->s->mu,
                              (apr_interval_time_t)(left * 1e6) + 1);
  }
  return 0;
}

void mproc__mobj_changed(sobj_t *o)
{
  apr_thread_cond_broadcast(o->cv);
}

/* ---- dict and Namespace ---- */

static entry_t *dict_find(sobj_t *o, const blob_t *k)
{
  return apr_hash_get(o->map, k->data, (apr_ssize_t)k->len);
}

/* Set @k to @v, taking both blobs. */
static void dict_set(sobj_t *o, blob_t *k, blob_t *v)
{
  entry_t *e = dict_find(o, k);

  if (e != NULL) {
    free(k);
    free(e->val);
    e->val = v;
    return;
  }
  e = calloc(1, sizeof *e);
  if (e == NULL) { /* the caller checked memory for blobs; keep state sane */
    free(k);
    free(v);
    return;
  }
  e->key = k;
  e->val = v;
  e->prev = o->tail;
  if (o->tail != NULL)
    o->tail->next = e;
  else
    o->head = e;
  o->tail = e;
  apr_hash_set(o->map, e->key->data, (apr_ssize_t)e->key->len, e);
}

static void dict_remove(sobj_t *o, entry_t *e)
{
  apr_hash_set(o->map, e->key->data, (apr_ssize_t)e->key->len, NULL);
  if (e->prev != NULL)
    e->prev->next = e->next;
  else
    o->head = e->next;
  if (e->next != NULL)
    e->next->prev = e->prev;
  else
    o->tail = e->prev;
  free(e->key);
  free(e->val);
  free(e);
}

/* The entry of argument @i, or NULL (then *@kb, the key, is the
 * caller's to free, and *@missing says it is absent). */
static int dict_lookup(call_t *x, uint32_t i, blob_t **kb, entry_t **e)
{
  int rc = mproc__mblob_of(&x->argv[i], kb);

  *e = rc == 0 ? dict_find(x->o, *kb) : NULL;
  return rc;
}

static int key_error(call_t *x, blob_t *k)
{
  char what[80];

  describe(k, what, sizeof what);
  free(k);
  if (x->o->type == MPROC_MANAGED_NAMESPACE)
    return mproc__err(MPROC_ENOTFOUND,
                      "AttributeError: 'Namespace' object has no attribute %s",
                      what);
  return mproc__err(MPROC_ENOTFOUND, "KeyError: %s", what);
}

static int d_getitem(call_t *x)
{
  blob_t *k;
  entry_t *e;
  int rc = dict_lookup(x, 0, &k, &e);

  if (rc != 0)
    return rc;
  if (e == NULL)
    return key_error(x, k);
  free(k);
  mproc__mput_blob(x, e->val);
  return 0;
}

static int d_setitem(call_t *x)
{
  blob_t *k = NULL, *v = NULL;
  int rc = mproc__mblob_of(&x->argv[0], &k);

  if (rc == 0 && (rc = mproc__mblob_of(&x->argv[1], &v)) == 0) {
    dict_set(x->o, k, v);
    msgpack_pack_nil(&x->pk);
    return 0;
  }
  free(k);
  return rc;
}

static int d_delitem(call_t *x)
{
  blob_t *k;
  entry_t *e;
  int rc = dict_lookup(x, 0, &k, &e);

  if (rc != 0)
    return rc;
  if (e == NULL)
    return key_error(x, k);
  free(k);
  dict_remove(x->o, e);
  msgpack_pack_nil(&x->pk);
  return 0;
}

static int d_contains(call_t *x)
{
  blob_t *k;
  entry_t *e;
  int rc = dict_lookup(x, 0, &k, &e);

  if (rc != 0)
    return rc;
  free(k);
  mproc__mput_bool(x, e != NULL);
  return 0;
}

static int d_len(call_t *x)
{
  msgpack_pack_uint64(&x->pk, apr_hash_count(x->o->map));
  return 0;
}

/* get(k[, d]), pop(k[, d]) and setdefault(k[, d]). */
static int d_get_like(call_t *x, int pop, int setdefault)
{
  blob_t *k, *v;
  entry_t *e;
  int rc = dict_lookup(x, 0, &k, &e);

  if (rc != 0)
    return rc;
  if (e != NULL) {
    free(k);
    mproc__mput_blob(x, e->val);
    if (pop)
      dict_remove(x->o, e);
    return 0;
  }
  if (pop && x->argc < 2)
    return key_error(x, k);
  if (x->argc < 2)
    msgpack_pack_nil(&x->pk);
  else
    mproc__mput_obj(x, &x->argv[1]);
  if (!setdefault) {
    free(k);
    return 0;
  }
  if (x->argc < 2) {
    static const msgpack_object nil = {.type = MSGPACK_OBJECT_NIL};
    rc = mproc__mblob_of(&nil, &v);
  } else {
    rc = mproc__mblob_of(&x->argv[1], &v);
  }
  if (rc != 0) {
    free(k);
    return rc;
  }
  dict_set(x->o, k, v);
  return 0;
}

static int d_get(call_t *x)
{
  return d_get_like(x, 0, 0);
}

static int d_pop(call_t *x)
{
  return d_get_like(x, 1, 0);
}

static int d_setdefault(call_t *x)
{
  return d_get_like(x, 0, 1);
}

static int d_popitem(call_t *x)
{
  entry_t *e = x->o->tail;

  if (e == NULL)
    return mproc__err(MPROC_ENOTFOUND,
                      "KeyError: 'popitem(): dictionary is empty'");
  msgpack_pack_array(&x->pk, 2);
  mproc__mput_blob(x, e->key);
  mproc__mput_blob(x, e->val);
  dict_remove(x->o, e);
  return 0;
}

/* keys(), values(), items() (what: 0, 1, 2), and copy() / __dict__()
 * as a map (3). */
static int d_view(call_t *x, int what)
{
  unsigned n = apr_hash_count(x->o->map);

  if (what == 3)
    msgpack_pack_map(&x->pk, n);
  else
    msgpack_pack_array(&x->pk, n);
  for (entry_t *e = x->o->head; e != NULL; e = e->next) {
    if (what == 2)
      msgpack_pack_array(&x->pk, 2);
    if (what != 1)
      mproc__mput_blob(x, e->key);
    if (what != 0)
      mproc__mput_blob(x, e->val);
  }
  return 0;
}

static int d_keys(call_t *x)
{
  return d_view(x, 0);
}

static int d_values(call_t *x)
{
  return d_view(x, 1);
}

static int d_items(call_t *x)
{
  return d_view(x, 2);
}

static int d_copy(call_t *x)
{
  return d_view(x, 3);
}

/* update(map), or update(list of [k, v]) as CPython's dict.update. */
static int dict_update(sobj_t *o, const msgpack_object *m, const char *what)
{
  blob_t *k, *v;
  int pairs = m->type == MSGPACK_OBJECT_ARRAY;
  uint32_t n = pairs ? m->via.array.size : m->via.map.size;

  if (m->type != MSGPACK_OBJECT_MAP && !pairs)
    return mproc__err(MPROC_ETYPE, "%s: argument must be a map", what);
  for (uint32_t i = 0; i < n; i++) {
    const msgpack_object *kv = pairs ? m->via.array.ptr[i].via.array.ptr : NULL;
    if (pairs && (m->via.array.ptr[i].type != MSGPACK_OBJECT_ARRAY ||
                  m->via.array.ptr[i].via.array.size != 2))
      return mproc__err(MPROC_EINVAL,
                        "%s: sequence element #%u has the wrong length", what,
                        i);
    if (mproc__mblob_of(pairs ? &kv[0] : &m->via.map.ptr[i].key, &k) != 0)
      return MPROC_ENOMEM;
    if (mproc__mblob_of(pairs ? &kv[1] : &m->via.map.ptr[i].val, &v) != 0) {
      free(k);
      return MPROC_ENOMEM;
    }
    dict_set(o, k, v);
  }
  return 0;
}

static int d_update(call_t *x)
{
  int rc = dict_update(x->o, &x->argv[0], "update()");

  if (rc == 0)
    msgpack_pack_nil(&x->pk);
  return rc;
}

static void dict_clear(sobj_t *o)
{
  while (o->head != NULL)
    dict_remove(o, o->head);
}

static int d_clear(call_t *x)
{
  dict_clear(x->o);
  msgpack_pack_nil(&x->pk);
  return 0;
}

/* Namespace attributes are dict entries with string keys. */
static int ns_name(call_t *x)
{
  if (x->argv[0].type != MSGPACK_OBJECT_STR)
    return mproc__err(MPROC_ETYPE, "attribute name must be string");
  return 0;
}

static int ns_get(call_t *x)
{
  int rc = ns_name(x);

  return rc != 0 ? rc : d_getitem(x);
}

static int ns_set(call_t *x)
{
  int rc = ns_name(x);

  return rc != 0 ? rc : d_setitem(x);
}

static int ns_del(call_t *x)
{
  int rc = ns_name(x);

  return rc != 0 ? rc : d_delitem(x);
}

/* ---- Queue (queue.Queue: a ring of blobs) ---- */

static int q_has_room(const sobj_t *o)
{
  return o->maxsize <= 0 || o->n < (size_t)o->maxsize;
}

static int q_has_item(const sobj_t *o)
{
  return o->n > 0;
}

static int q_all_done(const sobj_t *o)
{
  return o->unfinished == 0;
}

static int ring_grow(sobj_t *o)
{
  size_t cap = o->cap ? o->cap * 2 : 16;
  blob_t **items = malloc(cap * sizeof *items);

  if (items == NULL)
    return mproc__err(MPROC_ENOMEM, "out of memory");
  for (size_t i = 0; i < o->n; i++)
    items[i] = o->items[(o->first + i) % o->cap];
  free(o->items);
  o->items = items;
  o->cap = cap;
  o->first = 0;
  return 0;
}

/* put(item[, block[, timeout]]) and put_nowait(item). */
static int queue_put(call_t *x, int block)
{
  double deadline = MPROC__NEVER;
  blob_t *v;
  int rc;

  if (x->argc > 1 && (rc = mproc__marg_bool(x, 1, &block)) != 0)
    return rc;
  if ((rc = mproc__marg_deadline(x, 2, -1, &deadline)) != 0)
    return rc;
  if (!block)
    deadline = 0;
  if (mproc__mwait(x, x->o, q_has_room, deadline) != 0)
    return mproc__err(MPROC_EFULL, "queue.Full");
  if ((x->o->n == x->o->cap && (rc = ring_grow(x->o)) != 0) ||
      (rc = mproc__mblob_of(&x->argv[0], &v)) != 0)
    return rc;
  x->o->items[(x->o->first + x->o->n++) % x->o->cap] = v;
  x->o->unfinished++;
  mproc__mobj_changed(x->o);
  msgpack_pack_nil(&x->pk);
  return 0;
}

static int queue_get(call_t *x, int block)
{
  double deadline = MPROC__NEVER;
  blob_t *v;
  int rc;

  if (x->argc > 0 && (rc = mproc__marg_bool(x, 0, &block)) != 0)
    return rc;
  if ((rc = mproc__marg_deadline(x, 1, -1, &deadline)) != 0)
    return rc;
  if (!block)
    deadline = 0;
  if (mproc__mwait(x, x->o, q_has_item, deadline) != 0)
    return mproc__err(MPROC_EEMPTY, "queue.Empty");
  v = x->o->items[x->o->first];
  x->o->first = (x->o->first + 1) % x->o->cap;
  x->o->n--;
  mproc__mobj_changed(x->o);
  mproc__mput_blob(x, v);
  free(v);
  return 0;
}

static int q_put(call_t *x)
{
  return queue_put(x, 1);
}

static int q_put_nowait(call_t *x)
{
  return queue_put(x, 0);
}

static int q_get(call_t *x)
{
  return queue_get(x, 1);
}

static int q_get_nowait(call_t *x)
{
  return queue_get(x, 0);
}

static int q_qsize(call_t *x)
{
  msgpack_pack_uint64(&x->pk, x->o->n);
  return 0;
}

static int q_empty(call_t *x)
{
  mproc__mput_bool(x, x->o->n == 0);
  return 0;
}

static int q_full(call_t *x)
{
  mproc__mput_bool(x, !q_has_room(x->o));
  return 0;
}

static int q_task_done(call_t *x)
{
  if (x->o->unfinished <= 0)
    return mproc__err(MPROC_EINVAL,
                      "ValueError: task_done() called too many times");
  if (--x->o->unfinished == 0)
    mproc__mobj_changed(x->o);
  msgpack_pack_nil(&x->pk);
  return 0;
}

static int q_join(call_t *x)
{
  mproc__mwait(x, x->o, q_all_done, MPROC__NEVER);
  msgpack_pack_nil(&x->pk);
  return 0;
}

/* ---- Value ---- */

static int v_get(call_t *x)
{
  if (x->o->value != NULL)
    mproc__mput_blob(x, x->o->value);
  else
    msgpack_pack_nil(&x->pk);
  return 0;
}

static int v_set(call_t *x)
{
  blob_t *v;
  int rc = mproc__mblob_of(&x->argv[0], &v);

  if (rc == 0) {
    free(x->o->value);
    x->o->value = v;
    msgpack_pack_nil(&x->pk);
  }
  return rc;
}

static const method_t dict_methods[] = {
    {"__getitem__", d_getitem, 1, 1},
    {"__setitem__", d_setitem, 2, 2},
    {"__delitem__", d_delitem, 1, 1},
    {"__contains__", d_contains, 1, 1},
    {"__len__", d_len, 0, 0},
    {"get", d_get, 1, 2},
    {"setdefault", d_setdefault, 1, 2},
    {"pop", d_pop, 1, 2},
    {"popitem", d_popitem, 0, 0},
    {"keys", d_keys, 0, 0},
    {"values", d_values, 0, 0},
    {"items", d_items, 0, 0},
    {"update", d_update, 1, 1},
    {"clear", d_clear, 0, 0},
    {"copy", d_copy, 0, 0},
    {NULL, NULL, 0, 0},
};

static const method_t queue_methods[] = {
    {"put", q_put, 1, 3},
    {"get", q_get, 0, 2},
    {"put_nowait", q_put_nowait, 1, 1},
    {"get_nowait", q_get_nowait, 0, 0},
    {"qsize", q_qsize, 0, 0},
    {"empty", q_empty, 0, 0},
    {"full", q_full, 0, 0},
    {"task_done", q_task_done, 0, 0},
    {"join", q_join, 0, 0},
    {NULL, NULL, 0, 0},
};

static const method_t namespace_methods[] = {
    {"__getattribute__", ns_get, 1, 1},
    {"__setattr__", ns_set, 2, 2},
    {"__delattr__", ns_del, 1, 1},
    {"__dict__", d_copy, 0, 0},
    {NULL, NULL, 0, 0},
};

static const method_t value_methods[] = {
    {"get", v_get, 0, 0},
    {"set", v_set, 1, 1},
    {NULL, NULL, 0, 0},
};

static const method_t *const methods_of[] = {
    [MPROC_MANAGED_DICT] = dict_methods,
    [MPROC_MANAGED_LIST] = mproc__mlist_methods,
    [MPROC_MANAGED_QUEUE] = queue_methods,
    [MPROC_MANAGED_NAMESPACE] = namespace_methods,
    [MPROC_MANAGED_LOCK] = mproc__mlock_methods,
    [MPROC_MANAGED_EVENT] = mproc__mevent_methods,
    [MPROC_MANAGED_VALUE] = value_methods,
    [MPROC_MANAGED_RLOCK] = mproc__mrlock_methods,
    [MPROC_MANAGED_SEMAPHORE] = mproc__msem_methods,
    [MPROC_MANAGED_BOUNDED_SEMAPHORE] = mproc__msem_methods,
    [MPROC_MANAGED_CONDITION] = mproc__mcond_methods,
    [MPROC_MANAGED_BARRIER] = mproc__mbarrier_methods,
    [MPROC_MANAGED_ARRAY] = mproc__marray_methods,
};

#define TYPE_MAX MPROC_MANAGED_ARRAY

const char *mproc_managed_name(int type)
{
  static const char *const names[] = {
      [MPROC_MANAGED_DICT] = "dict",
      [MPROC_MANAGED_LIST] = "list",
      [MPROC_MANAGED_QUEUE] = "Queue",
      [MPROC_MANAGED_NAMESPACE] = "Namespace",
      [MPROC_MANAGED_LOCK] = "Lock",
      [MPROC_MANAGED_EVENT] = "Event",
      [MPROC_MANAGED_VALUE] = "Value",
      [MPROC_MANAGED_RLOCK] = "RLock",
      [MPROC_MANAGED_SEMAPHORE] = "Semaphore",
      [MPROC_MANAGED_BOUNDED_SEMAPHORE] = "BoundedSemaphore",
      [MPROC_MANAGED_CONDITION] = "Condition",
      [MPROC_MANAGED_BARRIER] = "Barrier",
      [MPROC_MANAGED_ARRAY] = "Array",
  };

  if (type == MPROC_MANAGED_REGISTERED)
    return "registered";
  return type >= 1 && type <= TYPE_MAX ? names[type] : NULL;
}

/* ---- objects ---- */

void mproc__mobj_free(sobj_t *o)
{
  if (o == NULL)
    return;
  if (o->map != NULL)
    dict_clear(o);
  if (o->type == MPROC_MANAGED_QUEUE)
    for (size_t i = 0; i < o->n; i++)
      free(o->items[(o->first + i) % o->cap]);
  else
    mproc__mlist_clear(o);
  free(o->items);
  free(o->value);
  if (o->mt != NULL && o->mt->destroy != NULL)
    o->mt->destroy(o->self);
  free(o);
}

/* Most arguments each type's constructor takes. */
static uint32_t ctor_max(int type)
{
  switch (type) {
  case MPROC_MANAGED_LOCK:
  case MPROC_MANAGED_RLOCK:
  case MPROC_MANAGED_EVENT:
    return 0;
  case MPROC_MANAGED_ARRAY:
  case MPROC_MANAGED_BARRIER:
    return 3;
  default:
    return 1;
  }
}

/* Fill a new object from its constructor arguments: dict([map]),
 * list([list]), Queue([maxsize]), Namespace([map]), Value([value]),
 * Array(typecode, sequence[, lock]), and the synchronisation types'
 * (msync.c). */
int mproc__mobj_init(call_t *x, sobj_t *o, const msgpack_object *ctor)
{
  uint32_t n = ctor->via.array.size;
  const msgpack_object *a = ctor->via.array.ptr;
  int64_t maxsize;
  const char *name = mproc_managed_name(o->type);
  uint32_t max = ctor_max(o->type);

  if (o->type == MPROC_MANAGED_ARRAY)
    return mproc__marray_init(x, o, a, n);
  if (n > max)
    return mproc__err(MPROC_EINVAL,
                      "%s() takes at most %u argument%s (%u given)", name, max,
                      max == 1 ? "" : "s", n);
  if (o->type != MPROC_MANAGED_DICT && o->type != MPROC_MANAGED_NAMESPACE &&
      o->type != MPROC_MANAGED_LIST && o->type != MPROC_MANAGED_QUEUE &&
      o->type != MPROC_MANAGED_VALUE)
    return mproc__msync_init(x, o, a, n);
  if (n == 0)
    return 0;
  switch (o->type) {
  case MPROC_MANAGED_DICT:
  case MPROC_MANAGED_NAMESPACE:
    return dict_update(o, &a[0], name);
  case MPROC_MANAGED_LIST:
    return mproc__mlist_extend(o, &a[0], name);
  case MPROC_MANAGED_QUEUE:
    if (mproc__mobj_int(&a[0], &maxsize) != 0)
      return mproc__err(MPROC_ETYPE, "Queue(): maxsize must be int");
    o->maxsize = maxsize > LONG_MAX ? LONG_MAX : (long)maxsize;
    return 0;
  default: /* Value */
    return mproc__mblob_of(&a[0], &o->value);
  }
}

const method_t *mproc__mobj_methods(int type)
{
  return type >= 1 && type <= TYPE_MAX ? methods_of[type] : NULL;
}
