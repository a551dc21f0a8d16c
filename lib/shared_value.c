/*
 * Value and Array (CPython's sharedctypes): typed, zero-filled elements
 * in a shared segment, with an optional RLock that travels with them.
 */
#include <stdlib.h>
#include <string.h>

#include "object.h"
#include "platform.h"
#include "sync.h"

#define EXTRA_VERSION 1
#define HEAD 13 /* version, type, lock kind, lock handles, count (8, LE) */

struct mproc_shared {
  mproc__obj_t hdr;
  mproc__seg_t seg;
  mproc_ctype_t type;
  size_t n;
  mproc_lock_t *lock; /* NULL for a raw value */
};

static const struct {
  char code;
  size_t size;
} ctypes[] = {
    [MPROC_C_CHAR] = {'c', sizeof(char)},
    [MPROC_C_BYTE] = {'b', sizeof(signed char)},
    [MPROC_C_UBYTE] = {'B', sizeof(unsigned char)},
    [MPROC_C_SHORT] = {'h', sizeof(short)},
    [MPROC_C_USHORT] = {'H', sizeof(unsigned short)},
    [MPROC_C_INT] = {'i', sizeof(int)},
    [MPROC_C_UINT] = {'I', sizeof(unsigned int)},
    [MPROC_C_LONG] = {'l', sizeof(long)},
    [MPROC_C_ULONG] = {'L', sizeof(unsigned long)},
    [MPROC_C_INT64] = {'q', sizeof(int64_t)},
    [MPROC_C_UINT64] = {'Q', sizeof(uint64_t)},
    [MPROC_C_FLOAT] = {'f', sizeof(float)},
    [MPROC_C_DOUBLE] = {'d', sizeof(double)},
};

#define NTYPES ((int)(sizeof ctypes / sizeof ctypes[0]))

static int known(mproc_ctype_t t)
{
  return (int)t > 0 && (int)t < NTYPES;
}

char mproc_ctype_code(mproc_ctype_t t)
{
  return known(t) ? ctypes[t].code : 0;
}

mproc_ctype_t mproc_ctype_from_code(char code)
{
  for (int t = 1; t < NTYPES; t++)
    if (ctypes[t].code == code)
      return (mproc_ctype_t)t;
  return (mproc_ctype_t)0;
}

size_t mproc_ctype_size(mproc_ctype_t t)
{
  return known(t) ? ctypes[t].size : 0;
}

static void shared_destroy(mproc__obj_t *o)
{
  mproc_shared_t *v = (mproc_shared_t *)o;

  mproc_lock_free(v->lock);
  mproc__plat_seg_close(&v->seg);
  free(v);
}

extern const mproc__obj_ops_t mproc__value_ops;

static int shared_export(mproc__obj_t *o, mproc__export_t *ex)
{
  mproc_shared_t *v = (mproc_shared_t *)o;
  mproc__export_t lex;
  size_t n = 0;
  int rc;

  memset(&lex, 0, sizeof lex);
  if (v->lock != NULL) {
    mproc__obj_t *lo = (mproc__obj_t *)v->lock;
    if ((rc = lo->ops->export_obj(lo, &lex)) != 0)
      return rc;
    if (lex.extra_len > MPROC__OBJ_MAX_EXTRA - HEAD)
      return mproc__err(MPROC_EINVAL, "Value: lock description too long");
  }
  memcpy(ex->handles, lex.handles, lex.nhandles * sizeof(intptr_t));
  rc = mproc__plat_seg_export(&v->seg, ex->handles + lex.nhandles,
                              MPROC__OBJ_MAX_HANDLES - lex.nhandles, &n);
  if (rc != 0)
    return rc;
  ex->nhandles = lex.nhandles + n;
  ex->extra[0] = EXTRA_VERSION;
  ex->extra[1] = (unsigned char)v->type;
  ex->extra[2] =
      v->lock ? (unsigned char)((mproc__obj_t *)v->lock)->ops->kind : 0;
  ex->extra[3] = (unsigned char)lex.nhandles;
  for (int i = 0; i < 8; i++)
    ex->extra[4 + i] = (unsigned char)((uint64_t)v->n >> (8 * i));
  ex->extra[12] = o->ops == &mproc__value_ops ? 1 : 2;
  memcpy(ex->extra + HEAD, lex.extra, lex.extra_len);
  ex->extra_len = HEAD + lex.extra_len;
  return 0;
}

static int shared_import(mproc__obj_t **out, const intptr_t *h, size_t nh,
                         const void *extra, size_t el);

const mproc__obj_ops_t mproc__value_ops = {MPROC_KIND_VALUE, shared_export,
                                           shared_import, shared_destroy, NULL};
const mproc__obj_ops_t mproc__array_ops = {MPROC_KIND_ARRAY, shared_export,
                                           shared_import, shared_destroy, NULL};
MPROC__OBJ_REGISTER(mproc__value_ops)
MPROC__OBJ_REGISTER(mproc__array_ops)

static int shared_import(mproc__obj_t **out, const intptr_t *h, size_t nh,
                         const void *extra, size_t el)
{
  const unsigned char *e = extra;
  mproc__obj_t *lock = NULL;
  mproc_shared_t *v;
  uint64_t n = 0;
  int rc;

  if (el < HEAD || e[0] != EXTRA_VERSION || !known((mproc_ctype_t)e[1]) ||
      (e[12] != 1 && e[12] != 2) || e[3] > nh ||
      (e[2] != 0 && e[2] != MPROC_KIND_RLOCK && e[2] != MPROC_KIND_LOCK))
    return mproc__err(MPROC_ECODEC, "Value: bad description");
  for (int i = 0; i < 8; i++)
    n |= (uint64_t)e[4 + i] << (8 * i);
  if (n == 0 || n > SIZE_MAX / ctypes[e[1]].size)
    return mproc__err(MPROC_ECODEC, "Value: bad length");
  v = calloc(1, sizeof *v);
  if (v == NULL)
    return mproc__err(MPROC_ENOMEM, "out of memory");
  rc = mproc__plat_seg_import(h + e[3], nh - e[3],
                              (size_t)n * ctypes[e[1]].size, &v->seg);
  if (rc == 0 && e[2] != 0) {
    const mproc__obj_ops_t *lops = mproc__obj_ops_of(e[2]);
    rc = lops ? lops->import_obj(&lock, h, e[3], e + HEAD, el - HEAD)
              : mproc__err(MPROC_ENOSYS, "Value: no Lock in this program");
    if (rc != 0)
      mproc__plat_seg_close(&v->seg);
  }
  if (rc != 0) {
    free(v);
    return rc;
  }
  mproc__obj_init(&v->hdr, e[12] == 1 ? &mproc__value_ops : &mproc__array_ops);
  v->type = (mproc_ctype_t)e[1];
  v->n = (size_t)n;
  v->lock = (mproc_lock_t *)lock;
  *out = &v->hdr;
  return 0;
}

/* The lock the new object carries: CPython's lock=True (a new RLock),
 * lock=False (none), or lock=<a Lock or RLock> (shared). */
static int lock_for(const mproc_shared_options_t *o, const char *what,
                    mproc_lock_t **out)
{
  *out = NULL;
  if (o->lock != NULL && o->raw)
    return mproc__err(MPROC_EINVAL, "%s: lock= and raw both given", what);
  if (o->raw)
    return 0;
  if (o->lock == NULL)
    return mproc_rlock_create(out);
  if (!mproc__lock_is(o->lock))
    return mproc__err(MPROC_ETYPE, "%s: lock= must be a Lock or RLock", what);
  mproc__obj_ref((mproc__obj_t *)o->lock);
  *out = o->lock;
  return 0;
}

static int create(mproc_shared_t **out, mproc_ctype_t t, size_t n,
                  const mproc_shared_options_t *opts,
                  const mproc__obj_ops_t *ops)
{
  static const mproc_shared_options_t defaults;
  const char *what = mproc_kind_name(ops->kind);
  mproc_shared_t *v;
  int rc;

  if (out == NULL)
    return mproc__err(MPROC_EINVAL, "%s: NULL output", what);
  *out = NULL;
  if (opts == NULL)
    opts = &defaults;
  if (!known(t))
    return mproc__err(MPROC_EINVAL, "unknown type code %d", (int)t);
  if (n == 0 || n > SIZE_MAX / ctypes[t].size)
    return mproc__err(MPROC_EINVAL, "Array: length must be at least 1");
  if ((rc = mproc__init()) != 0)
    return rc;
  v = calloc(1, sizeof *v);
  if (v == NULL)
    return mproc__err(MPROC_ENOMEM, "out of memory");
  rc = mproc__plat_seg_create(n * ctypes[t].size, &v->seg);
  if (rc == 0 && (rc = lock_for(opts, what, &v->lock)) != 0)
    mproc__plat_seg_close(&v->seg);
  if (rc != 0) {
    free(v);
    return rc;
  }
  if (opts->init != NULL)
    memcpy(v->seg.addr, opts->init, n * ctypes[t].size);
  mproc__obj_init(&v->hdr, ops);
  v->type = t;
  v->n = n;
  *out = v;
  return 0;
}

int mproc_shared_value_create(mproc_shared_t **out, mproc_ctype_t t, int lock)
{
  mproc_shared_options_t o = {.raw = !lock};

  return create(out, t, 1, &o, &mproc__value_ops);
}

int mproc_shared_array_create(mproc_shared_t **out, mproc_ctype_t t, size_t n,
                              int lock)
{
  mproc_shared_options_t o = {.raw = !lock};

  return create(out, t, n, &o, &mproc__array_ops);
}

int mproc_shared_value_new(mproc_shared_t **out, mproc_ctype_t t,
                           const mproc_shared_options_t *opts)
{
  return create(out, t, 1, opts, &mproc__value_ops);
}

int mproc_shared_array_new(mproc_shared_t **out, mproc_ctype_t t, size_t n,
                           const mproc_shared_options_t *opts)
{
  return create(out, t, n, opts, &mproc__array_ops);
}

static mproc_shared_t *check(const mproc_shared_t *v)
{
  mproc__obj_t *o = mproc__obj_check(v);

  if (o == NULL || (o->ops != &mproc__value_ops && o->ops != &mproc__array_ops))
    return NULL;
  return (mproc_shared_t *)v;
}

void *mproc_shared_ptr(mproc_shared_t *v)
{
  return check(v) ? v->seg.addr : NULL;
}

size_t mproc_shared_len(const mproc_shared_t *v)
{
  return check(v) ? v->n : 0;
}

mproc_ctype_t mproc_shared_ctype(const mproc_shared_t *v)
{
  return check(v) ? v->type : (mproc_ctype_t)0;
}

mproc_lock_t *mproc_shared_lock(mproc_shared_t *v)
{
  return check(v) ? v->lock : NULL;
}

void mproc_shared_free(mproc_shared_t *v)
{
  if (v != NULL)
    mproc__obj_unref(&v->hdr);
}
