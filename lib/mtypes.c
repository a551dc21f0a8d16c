/*
 * The objects a manager's server holds and their methods, with CPython's
 * names, arguments and errors: dict, list, Queue (queue.Queue),
 * Namespace, Lock (threading.Lock), Event and Value. Each method runs
 * with the server's lock held (mserver.c), reads its arguments from the
 * request and packs its result into the reply; an error is returned as
 * a status with mproc__err()'s message, which the client gets back.
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

static int blob_of(const msgpack_object *o, blob_t **out)
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

static int blob_eq(const blob_t *a, const blob_t *b)
{
  return a->len == b->len && memcmp(a->data, b->data, a->len) == 0;
}

static void put_blob(call_t *x, const blob_t *b)
{
  msgpack_sbuffer_write(x->out, (const char *)b->data, b->len);
}

static void put_obj(call_t *x, const msgpack_object *o)
{
  msgpack_pack_object(&x->pk, *o);
}

static void put_bool(call_t *x, int v)
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

static int arg_int(call_t *x, uint32_t i, int64_t *v)
{
  if (mproc__mobj_int(&x->argv[i], v) != 0)
    return mproc__err(MPROC_ETYPE, "%s() argument %u must be int", x->method,
                      i + 1);
  return 0;
}

/* A truth value: bool, int or nil (CPython would take any object). */
static int arg_bool(call_t *x, uint32_t i, int *v)
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

/* A timeout argument (nil: none) as a deadline. */
static int arg_deadline(call_t *x, uint32_t i, double *deadline)
{
  const msgpack_object *o;
  double t;
  int64_t n;

  *deadline = MPROC__NEVER;
  if (i >= x->argc || (o = &x->argv[i])->type == MSGPACK_OBJECT_NIL)
    return 0;
  if (o->type == MSGPACK_OBJECT_FLOAT32 || o->type == MSGPACK_OBJECT_FLOAT64)
    t = o->via.f64;
  else if (mproc__mobj_int(o, &n) == 0)
    t = (double)n;
  else
    return mproc__err(MPROC_ETYPE, "%s() timeout must be a number", x->method);
  if (t < 0)
    return mproc__err(MPROC_EINVAL, "'timeout' must be a non-negative number");
  *deadline = mproc__deadline(t);
  return 0;
}

/* Wait on @o's condition until @ready or @deadline (with the lock held). */
static int wait_for(call_t *x, int (*ready)(const sobj_t *), double deadline)
{
  while (!ready(x->o)) {
    if (deadline >= MPROC__NEVER) {
      apr_thread_cond_wait(x->o->cv, x->s->mu);
      continue;
    }
    double left = deadline - mproc__plat_now();
    if (left <= 0)
      return MPROC_ETIMEDOUT;
    apr_thread_cond_timedwait(x->o->cv, x->s->mu,
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
  int rc = blob_of(&x->argv[i], kb);

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
  put_blob(x, e->val);
  return 0;
}

static int d_setitem(call_t *x)
{
  blob_t *k = NULL, *v = NULL;
  int rc = blob_of(&x->argv[0], &k);

  if (rc == 0 && (rc = blob_of(&x->argv[1], &v)) == 0) {
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
  put_bool(x, e != NULL);
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
    put_blob(x, e->val);
    if (pop)
      dict_remove(x->o, e);
    return 0;
  }
  if (pop && x->argc < 2)
    return key_error(x, k);
  if (x->argc < 2)
    msgpack_pack_nil(&x->pk);
  else
    put_obj(x, &x->argv[1]);
  if (!setdefault) {
    free(k);
    return 0;
  }
  if (x->argc < 2) {
    static const msgpack_object nil = {.type = MSGPACK_OBJECT_NIL};
    rc = blob_of(&nil, &v);
  } else {
    rc = blob_of(&x->argv[1], &v);
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
  put_blob(x, e->key);
  put_blob(x, e->val);
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
      put_blob(x, e->key);
    if (what != 0)
      put_blob(x, e->val);
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
    if (blob_of(pairs ? &kv[0] : &m->via.map.ptr[i].key, &k) != 0)
      return MPROC_ENOMEM;
    if (blob_of(pairs ? &kv[1] : &m->via.map.ptr[i].val, &v) != 0) {
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

/* ---- list ---- */

static int list_reserve(sobj_t *o, size_t more)
{
  size_t cap = o->cap ? o->cap : 8;
  blob_t **items;

  while (cap < o->n + more)
    cap *= 2;
  if (cap == o->cap)
    return 0;
  if ((items = realloc(o->items, cap * sizeof *items)) == NULL)
    return mproc__err(MPROC_ENOMEM, "out of memory");
  o->items = items;
  o->cap = cap;
  return 0;
}

/* A Python index (negative from the end) into [0, n). */
static int list_index(call_t *x, uint32_t arg, size_t *out, const char *what)
{
  int64_t i = 0;
  int rc = arg_int(x, arg, &i);

  if (rc != 0)
    return rc;
  if (i < 0)
    i += (int64_t)x->o->n;
  if (i < 0 || (uint64_t)i >= x->o->n)
    return mproc__err(MPROC_ERANGE, "IndexError: %s", what);
  *out = (size_t)i;
  return 0;
}

static int l_getitem(call_t *x)
{
  size_t i = 0;
  int rc = list_index(x, 0, &i, "list index out of range");

  if (rc == 0)
    put_blob(x, x->o->items[i]);
  return rc;
}

static int l_setitem(call_t *x)
{
  size_t i = 0;
  blob_t *v;
  int rc = list_index(x, 0, &i, "list assignment index out of range");

  if (rc == 0 && (rc = blob_of(&x->argv[1], &v)) == 0) {
    free(x->o->items[i]);
    x->o->items[i] = v;
    msgpack_pack_nil(&x->pk);
  }
  return rc;
}

static void list_delete(sobj_t *o, size_t i)
{
  free(o->items[i]);
  memmove(&o->items[i], &o->items[i + 1], (o->n - i - 1) * sizeof *o->items);
  o->n--;
}

static int l_delitem(call_t *x)
{
  size_t i = 0;
  int rc = list_index(x, 0, &i, "list assignment index out of range");

  if (rc == 0) {
    list_delete(x->o, i);
    msgpack_pack_nil(&x->pk);
  }
  return rc;
}

static int l_len(call_t *x)
{
  msgpack_pack_uint64(&x->pk, x->o->n);
  return 0;
}

static int list_insert(sobj_t *o, size_t i, const msgpack_object *v)
{
  blob_t *b;
  int rc = list_reserve(o, 1);

  if (rc != 0 || (rc = blob_of(v, &b)) != 0)
    return rc;
  memmove(&o->items[i + 1], &o->items[i], (o->n - i) * sizeof *o->items);
  o->items[i] = b;
  o->n++;
  return 0;
}

static int l_append(call_t *x)
{
  int rc = list_insert(x->o, x->o->n, &x->argv[0]);

  if (rc == 0)
    msgpack_pack_nil(&x->pk);
  return rc;
}

static int list_extend(sobj_t *o, const msgpack_object *l, const char *what)
{
  int rc = 0;

  if (l->type != MSGPACK_OBJECT_ARRAY)
    return mproc__err(MPROC_ETYPE, "%s: argument must be a list", what);
  for (uint32_t i = 0; i < l->via.array.size && rc == 0; i++)
    rc = list_insert(o, o->n, &l->via.array.ptr[i]);
  return rc;
}

static int l_extend(call_t *x)
{
  int rc = list_extend(x->o, &x->argv[0], "extend()");

  if (rc == 0)
    msgpack_pack_nil(&x->pk);
  return rc;
}

static int l_insert(call_t *x)
{
  int64_t i = 0;
  int64_t n = (int64_t)x->o->n;
  int rc = arg_int(x, 0, &i);

  if (rc != 0)
    return rc;
  /* Python clamps an insert position instead of failing. */
  if (i < 0)
    i = i + n < 0 ? 0 : i + n;
  if (i > n)
    i = n;
  if ((rc = list_insert(x->o, (size_t)i, &x->argv[1])) == 0)
    msgpack_pack_nil(&x->pk);
  return rc;
}

static int l_pop(call_t *x)
{
  size_t i = x->o->n - 1;
  int rc;

  if (x->o->n == 0)
    return mproc__err(MPROC_ERANGE, "IndexError: pop from empty list");
  if (x->argc > 0 && (rc = list_index(x, 0, &i, "pop index out of range")) != 0)
    return rc;
  put_blob(x, x->o->items[i]);
  list_delete(x->o, i);
  return 0;
}

/* The index of the first item equal to argument 0, or n. */
static int list_find(call_t *x, size_t *at)
{
  blob_t *v;
  int rc = blob_of(&x->argv[0], &v);

  if (rc != 0)
    return rc;
  for (*at = 0; *at < x->o->n && !blob_eq(x->o->items[*at], v); (*at)++)
    ;
  free(v);
  return 0;
}

static int l_contains(call_t *x)
{
  size_t i = 0;
  int rc = list_find(x, &i);

  if (rc == 0)
    put_bool(x, i < x->o->n);
  return rc;
}

static int l_index(call_t *x)
{
  size_t i = 0;
  int rc = list_find(x, &i);

  if (rc == 0 && i == x->o->n)
    return mproc__err(MPROC_ENOTFOUND, "ValueError: value is not in list");
  if (rc == 0)
    msgpack_pack_uint64(&x->pk, i);
  return rc;
}

static int l_remove(call_t *x)
{
  size_t i = 0;
  int rc = list_find(x, &i);

  if (rc == 0 && i == x->o->n)
    return mproc__err(MPROC_ENOTFOUND,
                      "ValueError: list.remove(x): x not in list");
  if (rc == 0) {
    list_delete(x->o, i);
    msgpack_pack_nil(&x->pk);
  }
  return rc;
}

static int l_count(call_t *x)
{
  blob_t *v;
  uint64_t n = 0;
  int rc = blob_of(&x->argv[0], &v);

  if (rc != 0)
    return rc;
  for (size_t i = 0; i < x->o->n; i++)
    n += blob_eq(x->o->items[i], v);
  free(v);
  msgpack_pack_uint64(&x->pk, n);
  return 0;
}

static int l_reverse(call_t *x)
{
  for (size_t i = 0, j = x->o->n; i + 1 < j; i++, j--) {
    blob_t *t = x->o->items[i];
    x->o->items[i] = x->o->items[j - 1];
    x->o->items[j - 1] = t;
  }
  msgpack_pack_nil(&x->pk);
  return 0;
}

static void list_clear(sobj_t *o)
{
  while (o->n > 0)
    free(o->items[--o->n]);
}

static int l_clear(call_t *x)
{
  list_clear(x->o);
  msgpack_pack_nil(&x->pk);
  return 0;
}

static int l_copy(call_t *x)
{
  msgpack_pack_array(&x->pk, (uint32_t)x->o->n);
  for (size_t i = 0; i < x->o->n; i++)
    put_blob(x, x->o->items[i]);
  return 0;
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

  if (x->argc > 1 && (rc = arg_bool(x, 1, &block)) != 0)
    return rc;
  if ((rc = arg_deadline(x, 2, &deadline)) != 0)
    return rc;
  if (!block)
    deadline = 0;
  if (wait_for(x, q_has_room, deadline) != 0)
    return mproc__err(MPROC_EFULL, "queue.Full");
  if ((x->o->n == x->o->cap && (rc = ring_grow(x->o)) != 0) ||
      (rc = blob_of(&x->argv[0], &v)) != 0)
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

  if (x->argc > 0 && (rc = arg_bool(x, 0, &block)) != 0)
    return rc;
  if ((rc = arg_deadline(x, 1, &deadline)) != 0)
    return rc;
  if (!block)
    deadline = 0;
  if (wait_for(x, q_has_item, deadline) != 0)
    return mproc__err(MPROC_EEMPTY, "queue.Empty");
  v = x->o->items[x->o->first];
  x->o->first = (x->o->first + 1) % x->o->cap;
  x->o->n--;
  mproc__mobj_changed(x->o);
  put_blob(x, v);
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
  put_bool(x, x->o->n == 0);
  return 0;
}

static int q_full(call_t *x)
{
  put_bool(x, !q_has_room(x->o));
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
  wait_for(x, q_all_done, MPROC__NEVER);
  msgpack_pack_nil(&x->pk);
  return 0;
}

/* ---- Lock, Event, Value ---- */

static int unlocked(const sobj_t *o)
{
  return !o->flag;
}

static int is_set(const sobj_t *o)
{
  return o->flag;
}

static int k_acquire(call_t *x)
{
  double deadline = MPROC__NEVER;
  int block = 1, rc;

  if (x->argc > 0 && (rc = arg_bool(x, 0, &block)) != 0)
    return rc;
  if ((rc = arg_deadline(x, 1, &deadline)) != 0)
    return rc;
  if (!block && x->argc > 1 && x->argv[1].type != MSGPACK_OBJECT_NIL)
    return mproc__err(MPROC_EINVAL,
                      "ValueError: can't specify a timeout for a non-blocking "
                      "call");
  if (wait_for(x, unlocked, block ? deadline : 0) != 0) {
    put_bool(x, 0);
    return 0;
  }
  x->o->flag = 1;
  x->o->owner = x->w;
  if (x->o->owner_died) {
    x->o->owner_died = 0;
    return mproc__err(MPROC_EOWNERDEAD,
                      "lock acquired; the connection that held it ended "
                      "without releasing it");
  }
  put_bool(x, 1);
  return 0;
}

static int k_release(call_t *x)
{
  if (!x->o->flag)
    return mproc__err(MPROC_ESTATE, "RuntimeError: release unlocked lock");
  x->o->flag = 0;
  x->o->owner = NULL;
  mproc__mobj_changed(x->o);
  msgpack_pack_nil(&x->pk);
  return 0;
}

static int k_locked(call_t *x)
{
  put_bool(x, x->o->flag);
  return 0;
}

static int e_set(call_t *x)
{
  x->o->flag = 1;
  mproc__mobj_changed(x->o);
  msgpack_pack_nil(&x->pk);
  return 0;
}

static int e_clear(call_t *x)
{
  x->o->flag = 0;
  msgpack_pack_nil(&x->pk);
  return 0;
}

static int e_is_set(call_t *x)
{
  put_bool(x, x->o->flag);
  return 0;
}

static int e_wait(call_t *x)
{
  double deadline;
  int rc = arg_deadline(x, 0, &deadline);

  if (rc != 0)
    return rc;
  put_bool(x, wait_for(x, is_set, deadline) == 0);
  return 0;
}

static int v_get(call_t *x)
{
  if (x->o->value != NULL)
    put_blob(x, x->o->value);
  else
    msgpack_pack_nil(&x->pk);
  return 0;
}

static int v_set(call_t *x)
{
  blob_t *v;
  int rc = blob_of(&x->argv[0], &v);

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

static const method_t list_methods[] = {
    {"__getitem__", l_getitem, 1, 1},
    {"__setitem__", l_setitem, 2, 2},
    {"__delitem__", l_delitem, 1, 1},
    {"__len__", l_len, 0, 0},
    {"__contains__", l_contains, 1, 1},
    {"append", l_append, 1, 1},
    {"extend", l_extend, 1, 1},
    {"insert", l_insert, 2, 2},
    {"pop", l_pop, 0, 1},
    {"remove", l_remove, 1, 1},
    {"index", l_index, 1, 1},
    {"count", l_count, 1, 1},
    {"reverse", l_reverse, 0, 0},
    {"clear", l_clear, 0, 0},
    {"copy", l_copy, 0, 0},
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

static const method_t lock_methods[] = {
    {"acquire", k_acquire, 0, 2},
    {"release", k_release, 0, 0},
    {"locked", k_locked, 0, 0},
    {NULL, NULL, 0, 0},
};

static const method_t event_methods[] = {
    {"set", e_set, 0, 0},       {"clear", e_clear, 0, 0},
    {"is_set", e_is_set, 0, 0}, {"wait", e_wait, 0, 1},
    {NULL, NULL, 0, 0},
};

static const method_t value_methods[] = {
    {"get", v_get, 0, 0},
    {"set", v_set, 1, 1},
    {NULL, NULL, 0, 0},
};

static const method_t *const methods_of[] = {
    [MPROC_MANAGED_DICT] = dict_methods,
    [MPROC_MANAGED_LIST] = list_methods,
    [MPROC_MANAGED_QUEUE] = queue_methods,
    [MPROC_MANAGED_NAMESPACE] = namespace_methods,
    [MPROC_MANAGED_LOCK] = lock_methods,
    [MPROC_MANAGED_EVENT] = event_methods,
    [MPROC_MANAGED_VALUE] = value_methods,
};

#define TYPE_MAX MPROC_MANAGED_VALUE

const char *mproc_managed_name(int type)
{
  static const char *const names[] = {
      [MPROC_MANAGED_DICT] = "dict",   [MPROC_MANAGED_LIST] = "list",
      [MPROC_MANAGED_QUEUE] = "Queue", [MPROC_MANAGED_NAMESPACE] = "Namespace",
      [MPROC_MANAGED_LOCK] = "Lock",   [MPROC_MANAGED_EVENT] = "Event",
      [MPROC_MANAGED_VALUE] = "Value",
  };

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
    list_clear(o);
  free(o->items);
  free(o->value);
  free(o);
}

/* Fill a new object from its constructor arguments: dict([map]),
 * list([list]), Queue([maxsize]), Namespace([map]), Value([value]). */
int mproc__mobj_init(sobj_t *o, const msgpack_object *ctor)
{
  uint32_t n = ctor->via.array.size;
  const msgpack_object *a = ctor->via.array.ptr;
  int64_t maxsize;
  const char *name = mproc_managed_name(o->type);
  uint32_t max =
      o->type == MPROC_MANAGED_LOCK || o->type == MPROC_MANAGED_EVENT ? 0 : 1;

  if (n > max)
    return mproc__err(MPROC_EINVAL,
                      "%s() takes at most %u argument%s (%u given)", name, max,
                      max == 1 ? "" : "s", n);
  if (n == 0)
    return 0;
  switch (o->type) {
  case MPROC_MANAGED_DICT:
  case MPROC_MANAGED_NAMESPACE:
    return dict_update(o, &a[0], name);
  case MPROC_MANAGED_LIST:
    return list_extend(o, &a[0], name);
  case MPROC_MANAGED_QUEUE:
    if (mproc__mobj_int(&a[0], &maxsize) != 0)
      return mproc__err(MPROC_ETYPE, "Queue(): maxsize must be int");
    o->maxsize = maxsize > LONG_MAX ? LONG_MAX : (long)maxsize;
    return 0;
  default: /* Value */
    return blob_of(&a[0], &o->value);
  }
}

const method_t *mproc__mobj_methods(int type)
{
  return mproc_managed_name(type) != NULL ? methods_of[type] : NULL;
}
