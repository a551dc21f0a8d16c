/*
 * The list and Array a manager's server holds (CPython's ListProxy and
 * ArrayProxy over list and array.array): items are stored as their
 * MessagePack bytes, as every container of mtypes.c stores them; slices,
 * sort and the +, += , *, *= operators follow CPython's list.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "mserver.h"

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
  int rc = mproc__marg_int(x, arg, &i);

  if (rc != 0)
    return rc;
  if (i < 0)
    i += (int64_t)x->o->n;
  if (i < 0 || (uint64_t)i >= x->o->n)
    return mproc__err(MPROC_ERANGE, "IndexError: %s", what);
  *out = (size_t)i;
  return 0;
}

static int l_getslice(call_t *x);
static int l_setslice(call_t *x);
static int l_delslice(call_t *x);
static int item_blob(call_t *x, const msgpack_object *v, blob_t **out);

/* __getitem__(i), or (i a list) a slice. */
static int l_getitem(call_t *x)
{
  size_t i = 0;
  int rc;

  if (x->argv[0].type == MSGPACK_OBJECT_ARRAY)
    return l_getslice(x);
  rc = list_index(x, 0, &i, "list index out of range");

  if (rc == 0)
    mproc__mput_blob(x, x->o->items[i]);
  return rc;
}

static int l_setitem(call_t *x)
{
  size_t i = 0;
  blob_t *v;
  int rc;

  if (x->argv[0].type == MSGPACK_OBJECT_ARRAY)
    return l_setslice(x);
  rc = list_index(x, 0, &i, "list assignment index out of range");
  if (rc == 0 && (rc = item_blob(x, &x->argv[1], &v)) == 0) {
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
  int rc;

  if (x->argv[0].type == MSGPACK_OBJECT_ARRAY)
    return l_delslice(x);
  rc = list_index(x, 0, &i, "list assignment index out of range");

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

  if (rc != 0 || (rc = mproc__mblob_of(v, &b)) != 0)
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

int mproc__mlist_extend(sobj_t *o, const msgpack_object *l, const char *what)
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
  int rc = mproc__mlist_extend(x->o, &x->argv[0], "extend()");

  if (rc == 0)
    msgpack_pack_nil(&x->pk);
  return rc;
}

static int l_insert(call_t *x)
{
  int64_t i = 0;
  int64_t n = (int64_t)x->o->n;
  int rc = mproc__marg_int(x, 0, &i);

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
  mproc__mput_blob(x, x->o->items[i]);
  list_delete(x->o, i);
  return 0;
}

/* The index of the first item equal to argument 0, or n. */
static int list_find(call_t *x, size_t *at)
{
  blob_t *v;
  int rc = mproc__mblob_of(&x->argv[0], &v);

  if (rc != 0)
    return rc;
  for (*at = 0; *at < x->o->n && !mproc__mblob_eq(x->o->items[*at], v); (*at)++)
    ;
  free(v);
  return 0;
}

static int l_contains(call_t *x)
{
  size_t i = 0;
  int rc = list_find(x, &i);

  if (rc == 0)
    mproc__mput_bool(x, i < x->o->n);
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
  int rc = mproc__mblob_of(&x->argv[0], &v);

  if (rc != 0)
    return rc;
  for (size_t i = 0; i < x->o->n; i++)
    n += mproc__mblob_eq(x->o->items[i], v);
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

void mproc__mlist_clear(sobj_t *o)
{
  while (o->n > 0)
    free(o->items[--o->n]);
}

static int l_clear(call_t *x)
{
  mproc__mlist_clear(x->o);
  msgpack_pack_nil(&x->pk);
  return 0;
}

static int l_copy(call_t *x)
{
  msgpack_pack_array(&x->pk, (uint32_t)x->o->n);
  for (size_t i = 0; i < x->o->n; i++)
    mproc__mput_blob(x, x->o->items[i]);
  return 0;
}

/* ---- slices (CPython's slice objects, given as [start, stop(, step)]) ---- */

typedef struct slice {
  int64_t start, step;
  size_t len; /* how many elements it selects */
} slice_t;

/* One bound of a slice: nil is omitted (*given 0). */
static int slice_part(call_t *x, const msgpack_object *o, int64_t *v,
                      int *given)
{
  *given = o->type != MSGPACK_OBJECT_NIL;
  if (*given && mproc__mobj_int(o, v) != 0)
    return mproc__err(MPROC_ETYPE,
                      "TypeError: slice indices must be integers or None "
                      "(%s)",
                      x->method);
  return 0;
}

/* A bound clamped into the list of @n as slice.indices() does. */
static int64_t clamp(int64_t v, int given, int64_t dflt, int64_t lower,
                     int64_t upper, int64_t n)
{
  if (!given)
    return dflt;
  if (v < 0)
    v = v < -n ? lower : v + n;
  else if (v > upper)
    v = upper;
  return v < lower ? lower : v;
}

static int get_slice(call_t *x, uint32_t i, slice_t *sl)
{
  const msgpack_object *a = &x->argv[i];
  const msgpack_object *f = a->via.array.ptr;
  int64_t n = (int64_t)x->o->n, start = 0, stop = 0, lo, hi;
  int gstart, gstop, gstep = 0, rc;

  sl->step = 1;
  if (a->via.array.size < 2 || a->via.array.size > 3)
    return mproc__err(MPROC_ETYPE, "TypeError: a slice is [start, stop] or "
                                   "[start, stop, step]");
  if ((rc = slice_part(x, &f[0], &start, &gstart)) != 0 ||
      (rc = slice_part(x, &f[1], &stop, &gstop)) != 0 ||
      (a->via.array.size == 3 &&
       (rc = slice_part(x, &f[2], &sl->step, &gstep)) != 0))
    return rc;
  if (!gstep)
    sl->step = 1;
  if (sl->step == 0)
    return mproc__err(MPROC_EINVAL, "ValueError: slice step cannot be zero");
  lo = sl->step > 0 ? 0 : -1;
  hi = sl->step > 0 ? n : n - 1;
  start = clamp(start, gstart, sl->step > 0 ? 0 : n - 1, lo, hi, n);
  stop = clamp(stop, gstop, sl->step > 0 ? n : -1, lo, hi, n);
  sl->start = start;
  if (sl->step > 0)
    sl->len = start < stop ? (size_t)((stop - start - 1) / sl->step + 1) : 0;
  else
    sl->len = stop < start ? (size_t)((start - stop - 1) / -sl->step + 1) : 0;
  return 0;
}

static size_t slice_at(const slice_t *sl, size_t k)
{
  return (size_t)(sl->start + (int64_t)k * sl->step);
}

static int l_getslice(call_t *x)
{
  slice_t sl;
  int rc = get_slice(x, 0, &sl);

  if (rc != 0)
    return rc;
  msgpack_pack_array(&x->pk, (uint32_t)sl.len);
  for (size_t k = 0; k < sl.len; k++)
    mproc__mput_blob(x, x->o->items[slice_at(&sl, k)]);
  return 0;
}

static int item_blob(call_t *x, const msgpack_object *v, blob_t **out);

/* The blobs of the elements of list argument @i (all or none). */
static int blobs_of(call_t *x, uint32_t i, blob_t ***out, size_t *n)
{
  const msgpack_object *l = &x->argv[i];
  blob_t **b;
  int rc = 0;

  if (l->type != MSGPACK_OBJECT_ARRAY)
    return mproc__err(MPROC_ETYPE,
                      "TypeError: can only assign a list (not another value) "
                      "to a slice");
  *n = l->via.array.size;
  if ((b = calloc(*n ? *n : 1, sizeof *b)) == NULL)
    return mproc__err(MPROC_ENOMEM, "out of memory");
  for (size_t k = 0; k < *n && rc == 0; k++)
    rc = item_blob(x, &l->via.array.ptr[k], &b[k]);
  if (rc != 0) {
    for (size_t k = 0; k < *n; k++)
      free(b[k]);
    free(b);
    return rc;
  }
  *out = b;
  return 0;
}

/* Replace the @len elements at @start with @n new ones (taken). */
static int splice(sobj_t *o, size_t start, size_t len, blob_t **nb, size_t n)
{
  int rc = n > len ? list_reserve(o, n - len) : 0;

  if (rc != 0)
    return rc;
  for (size_t k = 0; k < len; k++)
    free(o->items[start + k]);
  memmove(&o->items[start + n], &o->items[start + len],
          (o->n - start - len) * sizeof *o->items);
  memcpy(&o->items[start], nb, n * sizeof *nb);
  o->n = o->n - len + n;
  return 0;
}

static int l_setslice(call_t *x)
{
  blob_t **nb = NULL;
  size_t n = 0;
  slice_t sl;
  int rc = get_slice(x, 0, &sl);

  if (rc != 0 || (rc = blobs_of(x, 1, &nb, &n)) != 0)
    return rc;
  if (sl.step == 1) {
    rc = splice(x->o, (size_t)sl.start, sl.len, nb, n);
  } else if (n != sl.len) {
    rc = mproc__err(MPROC_EINVAL,
                    "ValueError: attempt to assign sequence of size %zu to "
                    "extended slice of size %zu",
                    n, sl.len);
  } else {
    for (size_t k = 0; k < n; k++) {
      free(x->o->items[slice_at(&sl, k)]);
      x->o->items[slice_at(&sl, k)] = nb[k];
    }
  }
  if (rc != 0)
    for (size_t k = 0; k < n; k++)
      free(nb[k]);
  free(nb);
  if (rc == 0)
    msgpack_pack_nil(&x->pk);
  return rc;
}

static int l_delslice(call_t *x)
{
  size_t keep = 0, k = 0;
  slice_t sl;
  int rc = get_slice(x, 0, &sl);

  if (rc != 0)
    return rc;
  if (sl.step < 0 && sl.len > 0) { /* the same elements, ascending */
    sl.start = sl.start + (int64_t)(sl.len - 1) * sl.step;
    sl.step = -sl.step;
  }
  for (size_t i = 0; i < x->o->n; i++) {
    if (k < sl.len && i == slice_at(&sl, k)) {
      free(x->o->items[i]);
      k++;
    } else {
      x->o->items[keep++] = x->o->items[i];
    }
  }
  x->o->n = keep;
  msgpack_pack_nil(&x->pk);
  return 0;
}

/* ---- sort ---- */

/* What a value is for ordering: Python orders numbers (bool, int, float)
 * among themselves, str with str, bytes with bytes, lists
 * lexicographically; anything else is a TypeError. */
static const char *order_kind(const msgpack_object *o)
{
  switch (o->type) {
  case MSGPACK_OBJECT_BOOLEAN:
  case MSGPACK_OBJECT_POSITIVE_INTEGER:
  case MSGPACK_OBJECT_NEGATIVE_INTEGER:
  case MSGPACK_OBJECT_FLOAT32:
  case MSGPACK_OBJECT_FLOAT64:
    return "number";
  case MSGPACK_OBJECT_STR:
    return "str";
  case MSGPACK_OBJECT_BIN:
    return "bytes";
  case MSGPACK_OBJECT_ARRAY:
    return "list";
  case MSGPACK_OBJECT_MAP:
    return "dict";
  case MSGPACK_OBJECT_NIL:
    return "NoneType";
  default:
    return "object";
  }
}

static long double number(const msgpack_object *o)
{
  switch (o->type) {
  case MSGPACK_OBJECT_BOOLEAN:
    return o->via.boolean;
  case MSGPACK_OBJECT_POSITIVE_INTEGER:
    return (long double)o->via.u64;
  case MSGPACK_OBJECT_NEGATIVE_INTEGER:
    return (long double)o->via.i64;
  default:
    return o->via.f64;
  }
}

static int bytes_cmp(const char *a, uint32_t na, const char *b, uint32_t nb)
{
  int c = memcmp(a, b, na < nb ? na : nb);

  return c != 0 ? (c < 0 ? -1 : 1) : (na > nb) - (na < nb);
}

/* -1, 0, 1; *@bad set (with the message) when Python could not order
 * them. */
static int order(const msgpack_object *a, const msgpack_object *b, int *bad)
{
  const char *ka = order_kind(a), *kb = order_kind(b);
  long double x, y;

  if (*bad)
    return 0;
  if (strcmp(ka, kb) != 0 || strcmp(ka, "dict") == 0 ||
      strcmp(ka, "object") == 0) {
    *bad = mproc__err(MPROC_ETYPE,
                      "TypeError: '<' not supported between instances of "
                      "'%s' and '%s'",
                      ka, kb);
    return 0;
  }
  if (ka[0] == 'n' && ka[1] == 'u') {
    x = number(a);
    y = number(b);
    return (x > y) - (x < y);
  }
  if (a->type == MSGPACK_OBJECT_STR)
    return bytes_cmp(a->via.str.ptr, a->via.str.size, b->via.str.ptr,
                     b->via.str.size);
  if (a->type == MSGPACK_OBJECT_BIN)
    return bytes_cmp(a->via.bin.ptr, a->via.bin.size, b->via.bin.ptr,
                     b->via.bin.size);
  if (a->type == MSGPACK_OBJECT_NIL)
    return 0;
  for (uint32_t i = 0; i < a->via.array.size && i < b->via.array.size; i++) {
    int c = order(&a->via.array.ptr[i], &b->via.array.ptr[i], bad);
    if (c != 0 || *bad)
      return c;
  }
  return (a->via.array.size > b->via.array.size) -
         (a->via.array.size < b->via.array.size);
}

typedef struct sorter {
  msgpack_object *v; /* the decoded elements */
  int reverse, bad;
} sorter_t;

/* A stable merge sort of the indexes @ix[lo..hi) (@tmp as large). */
static void merge_sort(sorter_t *st, size_t *ix, size_t *tmp, size_t lo,
                       size_t hi)
{
  size_t mid = lo + (hi - lo) / 2, i = lo, j = mid, k = lo;

  if (hi - lo < 2)
    return;
  merge_sort(st, ix, tmp, lo, mid);
  merge_sort(st, ix, tmp, mid, hi);
  while (i < mid && j < hi) {
    int c = order(&st->v[ix[j]], &st->v[ix[i]], &st->bad);
    /* Take from the right only when strictly before: stable. */
    tmp[k++] = (st->reverse ? c > 0 : c < 0) ? ix[j++] : ix[i++];
  }
  while (i < mid)
    tmp[k++] = ix[i++];
  while (j < hi)
    tmp[k++] = ix[j++];
  memcpy(ix + lo, tmp + lo, (hi - lo) * sizeof *ix);
}

/* sort([reverse]) (CPython's keywords given positionally; no key). The
 * list is left as it was when two elements cannot be ordered. */
static int l_sort(call_t *x)
{
  sorter_t st = {0};
  msgpack_zone zone;
  size_t n = x->o->n, *ix = NULL, *tmp = NULL;
  blob_t **sorted = NULL;
  int rc = 0;

  if (x->argc > 0 && (rc = mproc__marg_bool(x, 0, &st.reverse)) != 0)
    return rc;
  if (!msgpack_zone_init(&zone, 4096))
    return mproc__err(MPROC_ENOMEM, "out of memory");
  st.v = calloc(n ? n : 1, sizeof *st.v);
  ix = calloc(n ? n : 1, sizeof *ix);
  tmp = calloc(n ? n : 1, sizeof *tmp);
  sorted = calloc(n ? n : 1, sizeof *sorted);
  if (st.v == NULL || ix == NULL || tmp == NULL || sorted == NULL)
    rc = mproc__err(MPROC_ENOMEM, "out of memory");
  for (size_t i = 0; i < n && rc == 0; i++) {
    size_t off = 0;
    ix[i] = i;
    if (msgpack_unpack((const char *)x->o->items[i]->data, x->o->items[i]->len,
                       &off, &zone, &st.v[i]) != MSGPACK_UNPACK_SUCCESS)
      rc = mproc__err(MPROC_ENOMEM, "out of memory");
  }
  if (rc == 0)
    merge_sort(&st, ix, tmp, 0, n);
  if (rc == 0 && st.bad)
    rc = st.bad;
  if (rc == 0) {
    for (size_t i = 0; i < n; i++)
      sorted[i] = x->o->items[ix[i]];
    memcpy(x->o->items, sorted, n * sizeof *sorted);
    msgpack_pack_nil(&x->pk);
  }
  free(st.v);
  free(ix);
  free(tmp);
  free(sorted);
  msgpack_zone_destroy(&zone);
  return rc;
}

/* ---- +, +=, *, *= ---- */

/* __add__(list): a new list, this one followed by the argument. */
static int l_add(call_t *x)
{
  const msgpack_object *l = &x->argv[0];

  if (l->type != MSGPACK_OBJECT_ARRAY)
    return mproc__err(MPROC_ETYPE,
                      "TypeError: can only concatenate list (not another "
                      "value) to list");
  msgpack_pack_array(&x->pk, (uint32_t)(x->o->n + l->via.array.size));
  for (size_t i = 0; i < x->o->n; i++)
    mproc__mput_blob(x, x->o->items[i]);
  for (uint32_t i = 0; i < l->via.array.size; i++)
    mproc__mput_obj(x, &l->via.array.ptr[i]);
  return 0;
}

/* The repeat count of argument 0 (negative counts as 0). */
static int repeat_count(call_t *x, size_t *k)
{
  int64_t v = 0;
  int rc = mproc__marg_int(x, 0, &v);

  if (rc != 0)
    return mproc__err(MPROC_ETYPE, "TypeError: can't multiply sequence by "
                                   "non-int");
  *k = v < 0 ? 0 : (size_t)v;
  if (*k > 0 && x->o->n > (size_t)UINT32_MAX / *k)
    return mproc__err(MPROC_ENOMEM, "MemoryError: the list would be too long");
  return 0;
}

/* __mul__(n) and __rmul__(n): a new list, this one @n times. */
static int l_mul(call_t *x)
{
  size_t k = 0;
  int rc = repeat_count(x, &k);

  if (rc != 0)
    return rc;
  msgpack_pack_array(&x->pk, (uint32_t)(x->o->n * k));
  for (size_t r = 0; r < k; r++)
    for (size_t i = 0; i < x->o->n; i++)
      mproc__mput_blob(x, x->o->items[i]);
  return 0;
}

/* __imul__(n): this list, @n times, in place. */
static int l_imul(call_t *x)
{
  size_t k = 0, n = x->o->n;
  int rc = repeat_count(x, &k);

  if (rc != 0)
    return rc;
  if (k == 0)
    mproc__mlist_clear(x->o);
  else if ((rc = list_reserve(x->o, n * (k - 1))) != 0)
    return rc;
  for (size_t r = 1; r < k && rc == 0; r++)
    for (size_t i = 0; i < n && rc == 0; i++) {
      blob_t *b = malloc(sizeof *b + x->o->items[i]->len);
      if (b == NULL) {
        rc = mproc__err(MPROC_ENOMEM, "out of memory");
        break;
      }
      memcpy(b, x->o->items[i], sizeof *b + x->o->items[i]->len);
      x->o->items[x->o->n++] = b;
    }
  if (rc == 0)
    msgpack_pack_nil(&x->pk);
  return rc;
}

/* ---- Array (array.array behind CPython's ArrayProxy) ---- */

/* The limits of an array-module typecode's C type. */
static int typecode_range(char t, int64_t *lo, uint64_t *hi)
{
  switch (t) {
  case 'b':
    *lo = SCHAR_MIN, *hi = SCHAR_MAX;
    return 0;
  case 'B':
    *lo = 0, *hi = UCHAR_MAX;
    return 0;
  case 'h':
    *lo = SHRT_MIN, *hi = SHRT_MAX;
    return 0;
  case 'H':
    *lo = 0, *hi = USHRT_MAX;
    return 0;
  case 'i':
    *lo = INT_MIN, *hi = INT_MAX;
    return 0;
  case 'I':
    *lo = 0, *hi = UINT_MAX;
    return 0;
  case 'l':
    *lo = LONG_MIN, *hi = LONG_MAX;
    return 0;
  case 'L':
    *lo = 0, *hi = ULONG_MAX;
    return 0;
  case 'q':
    *lo = INT64_MIN, *hi = INT64_MAX;
    return 0;
  case 'Q':
    *lo = 0, *hi = UINT64_MAX;
    return 0;
  default:
    return -1;
  }
}

/* Element @v checked against the Array's typecode, as its C type keeps
 * it (a float array rounds to float). */
static int array_blob(call_t *x, const msgpack_object *v, blob_t **out)
{
  char t = x->o->typecode;
  msgpack_object c = *v;
  int64_t lo = 0;
  uint64_t hi = 0;

  if (t == 'f' || t == 'd') {
    if (order_kind(v)[0] != 'n' || v->type == MSGPACK_OBJECT_BOOLEAN)
      return mproc__err(MPROC_ETYPE, "TypeError: must be real number");
    c.type = MSGPACK_OBJECT_FLOAT64;
    c.via.f64 = t == 'f' ? (double)(float)number(v) : (double)number(v);
    return mproc__mblob_of(&c, out);
  }
  (void)typecode_range(t, &lo, &hi);
  if (v->type == MSGPACK_OBJECT_BOOLEAN) {
    c.type = MSGPACK_OBJECT_POSITIVE_INTEGER;
    c.via.u64 = v->via.boolean;
  } else if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER &&
             v->type != MSGPACK_OBJECT_NEGATIVE_INTEGER) {
    return mproc__err(MPROC_ETYPE,
                      "TypeError: 'str' object cannot be interpreted as an "
                      "integer (array('%c') holds integers)",
                      t);
  }
  if ((c.type == MSGPACK_OBJECT_POSITIVE_INTEGER && c.via.u64 > hi) ||
      (c.type == MSGPACK_OBJECT_NEGATIVE_INTEGER && c.via.i64 < lo))
    return mproc__err(MPROC_ERANGE,
                      "OverflowError: value out of range for array('%c')", t);
  return mproc__mblob_of(&c, out);
}

/* A new element of the object of @x: any value for a list, a checked
 * one for an Array. */
static int item_blob(call_t *x, const msgpack_object *v, blob_t **out)
{
  if (x->o->type == MPROC_MANAGED_ARRAY)
    return array_blob(x, v, out);
  return mproc__mblob_of(v, out);
}

/* Array(typecode, sequence): CPython's SyncManager.Array (its lock
 * argument is accepted and, as there, unused). */
int mproc__marray_init(call_t *x, sobj_t *o, const msgpack_object *a,
                       uint32_t n)
{
  int64_t lo;
  uint64_t hi;
  call_t y = *x;
  blob_t **items = NULL;
  size_t count = 0;
  int rc;

  if (n < 2 || n > 3 || a[0].type != MSGPACK_OBJECT_STR ||
      a[0].via.str.size != 1)
    return mproc__err(MPROC_EINVAL,
                      "Array(typecode, sequence[, lock]): typecode must be a "
                      "one-character string");
  o->typecode = a[0].via.str.ptr[0];
  if (o->typecode != 'f' && o->typecode != 'd' &&
      typecode_range(o->typecode, &lo, &hi) != 0)
    return mproc__err(MPROC_EINVAL,
                      "ValueError: bad typecode (must be b, B, h, H, i, I, l, "
                      "L, q, Q, f or d)");
  y.o = o;
  y.argv = a;
  y.argc = n;
  if ((rc = blobs_of(&y, 1, &items, &count)) != 0)
    return rc;
  rc = splice(o, 0, 0, items, count);
  if (rc != 0)
    for (size_t k = 0; k < count; k++)
      free(items[k]);
  free(items);
  return rc;
}

const method_t mproc__mlist_methods[] = {
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
    {"sort", l_sort, 0, 1},
    {"__add__", l_add, 1, 1},
    {"__iadd__", l_extend, 1, 1},
    {"__mul__", l_mul, 1, 1},
    {"__rmul__", l_mul, 1, 1},
    {"__imul__", l_imul, 1, 1},
    {NULL, NULL, 0, 0},
};

const method_t mproc__marray_methods[] = {
    {"__len__", l_len, 0, 0},
    {"__getitem__", l_getitem, 1, 1},
    {"__setitem__", l_setitem, 2, 2},
    {NULL, NULL, 0, 0},
};
