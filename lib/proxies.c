/*
 * Proxies that read like Python, client side: a call whose result is
 * parsed in the same statement (mproc_proxy_invoke), and typed helpers
 * for the everyday methods of the managed types (dict get/set, list
 * append/get/len, Queue put/get/qsize, Value get/set, Lock acquire/
 * release), each checked against the proxy's type before anything is
 * sent. Built on manager.c's raw call: the helpers pack their own
 * argument lists.
 *
 * Results: the reply is freed before the call returns, so strings and
 * bytes in a result format (`s`, `z`, `s#`, `z#`, `y#`) are given as
 * copies the caller frees with mproc_free(); `O` and `o`, which would
 * point into the freed reply, are refused.
 */
#include <stdlib.h>
#include <string.h>

#include "manager.h"

/* ---- result formats ---- */

enum { RET_CLEAR, RET_COPY, RET_FREE };

/* Walk the pointers of result format @fmt (checked already): clear the
 * string outputs, replace borrowed strings by copies, or free copies.
 * After a failed copy every later string output is cleared, so that
 * RET_FREE never meets a borrowed pointer. */
static int ret_walk(const char *fmt, va_list *ap, int mode)
{
  int rc = 0;

  for (const char *f = fmt; *f != '\0' && *f != ':'; f++) {
    int sized = f[1] == '#';
    const char **dst;
    size_t *lenp = NULL;

    if (*f == '|')
      continue;
    if (strchr("szy", *f) == NULL) {
      (void)va_arg(*ap, void *);
      continue;
    }
    dst = va_arg(*ap, const char **);
    if (sized) {
      lenp = va_arg(*ap, size_t *);
      f++;
    }
    if (mode == RET_FREE || (mode == RET_COPY && rc != 0)) {
      if (mode == RET_FREE)
        free((void *)*dst);
      *dst = NULL;
    } else if (mode == RET_CLEAR) {
      *dst = NULL;
    } else if (*dst != NULL) {
      size_t n = lenp != NULL ? *lenp : strlen(*dst);
      char *copy = malloc(n + 1);
      if (copy == NULL)
        rc = mproc__err(MPROC_ENOMEM, "out of memory");
      else {
        memcpy(copy, *dst, n);
        copy[n] = '\0';
      }
      *dst = copy;
    }
  }
  return rc;
}

static int ret_check(const char *fmt)
{
  const char *end = strchr(fmt, ':');
  size_t n = end ? (size_t)(end - fmt) : strlen(fmt);

  for (size_t i = 0; i < n; i++)
    if (fmt[i] == 'O' || fmt[i] == 'o')
      return mproc__err(MPROC_EINVAL,
                        "result format \"%s\": 'O' and 'o' would point into "
                        "a freed reply; use mproc_proxy_call()",
                        fmt);
  return 0;
}

/* Call @method with the encoded @args and parse the result into the
 * pointers @ret holds, as @retfmt says (NULL: drop the result). On
 * failure every string output is NULL. */
static int call_parse(mproc_proxy_t *p, const char *method, const void *args,
                      size_t len, const char *retfmt, va_list *ret)
{
  mproc_args_t *r = NULL;
  va_list w;
  int rc = 0;

  if (retfmt != NULL && (rc = ret_check(retfmt)) == 0) {
    va_copy(w, *ret);
    rc = mproc__args_skip(retfmt, &w); /* a bad format fails here */
    va_end(w);
  }
  if (rc == 0 && retfmt != NULL) {
    va_copy(w, *ret);
    rc = ret_walk(retfmt, &w, RET_CLEAR);
    va_end(w);
  }
  if (rc == 0)
    rc = mproc__proxy_call_raw(p, retfmt ? &r : NULL, method, args, len);
  if (rc == 0 && retfmt != NULL) {
    va_copy(w, *ret);
    rc = mproc__args_parsev(r, retfmt, &w);
    va_end(w);
    /* Borrowed strings become copies, or (on failure) go. */
    va_copy(w, *ret);
    if (rc == 0)
      rc = ret_walk(retfmt, &w, RET_COPY);
    else
      (void)ret_walk(retfmt, &w, RET_CLEAR);
    va_end(w);
    if (rc == MPROC_ENOMEM) {
      va_copy(w, *ret);
      (void)ret_walk(retfmt, &w, RET_FREE);
      va_end(w);
    }
  }
  mproc_args_free(r);
  return rc;
}

/* ---- argument lists ---- */

/* Append the one value @fmt builds (a format of one unit, or
 * MPROC_ARGS with one value). */
static int pack_value(msgpack_sbuffer *out, const char *what, const char *fmt,
                      va_list *ap)
{
  msgpack_sbuffer one;
  int rc;

  msgpack_sbuffer_init(&one);
  rc = mproc__encode_args(&one, fmt, ap);
  if (rc == 0 && (one.size < 2 || (unsigned char)one.data[0] != 0x91))
    rc = mproc__err(MPROC_EINVAL,
                    "%s: the format must build exactly one "
                    "value",
                    what);
  if (rc == 0 && msgpack_sbuffer_write(out, one.data + 1, one.size - 1) != 0)
    rc = mproc__err(MPROC_ENOMEM, "out of memory");
  msgpack_sbuffer_destroy(&one);
  return rc;
}

/* The block and timeout arguments of Queue.get/put and Lock.acquire, in
 * the form mproc's own queues take: MPROC_FOREVER blocks, 0 or less does
 * not, anything else waits that long. How many it packs. */
static int block_args(int pack, msgpack_packer *pk, double timeout)
{
  if (timeout >= 1e9)
    return 0;
  if (pack) {
    if (timeout <= 0)
      msgpack_pack_false(pk);
    else {
      msgpack_pack_true(pk);
      msgpack_pack_double(pk, timeout);
    }
  }
  return timeout <= 0 ? 1 : 2;
}

static int check_type(mproc_proxy_t *p, int type, const char *what)
{
  int t = mproc_proxy_type(p);

  if (t == 0)
    return mproc__err(MPROC_EINVAL, "%s: not a proxy", what);
  if (t != type)
    return mproc__err(MPROC_ETYPE, "%s: the proxy is a %s, not a %s", what,
                      mproc_managed_name(t), mproc_managed_name(type));
  return 0;
}

/* ---- the one-statement call ---- */

int mproc_proxy_invoke(mproc_proxy_t *p, const char *method, const char *retfmt,
                       ...)
{
  msgpack_sbuffer args;
  const char *argfmt;
  va_list ap, ret;
  int rc = 0;

  if (mproc_proxy_type(p) == 0 || method == NULL)
    return mproc__err(MPROC_EINVAL, "proxy invoke: not a proxy, or NULL "
                                    "method");
  msgpack_sbuffer_init(&args);
  va_start(ap, retfmt);
  va_copy(ret, ap);
  /* The result's pointers come first; the arguments' format follows. */
  if (retfmt != NULL && (rc = ret_check(retfmt)) == 0)
    rc = mproc__args_skip(retfmt, &ap);
  if (rc == 0) {
    argfmt = va_arg(ap, const char *);
    rc = mproc__encode_args(&args, argfmt, &ap);
  }
  if (rc == 0)
    rc = call_parse(p, method, args.data, args.size, retfmt, &ret);
  va_end(ret);
  va_end(ap);
  msgpack_sbuffer_destroy(&args);
  return rc;
}

/* ---- typed helpers ---- */

/* Call @method with @nargs arguments: the @nkeys leading ones packed by
 * @head (may be NULL), then the value @vfmt builds if @vfmt != NULL, then
 * the block/timeout pair; parse the result with @retfmt. */
typedef struct helper_call {
  const char *what, *method;
  int type;
  const char *key; /* a string key first (dict), or NULL */
  int has_index;   /* an int index first (list) */
  long index;
  int has_value; /* one value from vfmt and @ap */
  const char *vfmt;
  int has_block; /* then block [, timeout] */
  double timeout;
  const char *retfmt; /* the result, from @ap after the value */
} helper_call_t;

static int helper(mproc_proxy_t *p, const helper_call_t *h, va_list *ap)
{
  msgpack_sbuffer args;
  msgpack_packer pk;
  size_t n = (h->key != NULL) + (h->has_index != 0) + (h->has_value != 0);
  int rc = check_type(p, h->type, h->what);

  if (rc != 0)
    return rc;
  if (h->has_block)
    n += (size_t)block_args(0, NULL, h->timeout);
  msgpack_sbuffer_init(&args);
  msgpack_packer_init(&pk, &args, msgpack_sbuffer_write);
  msgpack_pack_array(&pk, n);
  if (h->key != NULL)
    msgpack_pack_str_with_body(&pk, h->key, strlen(h->key));
  if (h->has_index)
    msgpack_pack_int64(&pk, h->index);
  if (h->has_value)
    rc = pack_value(&args, h->what, h->vfmt, ap);
  if (rc == 0 && h->has_block)
    (void)block_args(1, &pk, h->timeout);
  if (rc == 0)
    rc = call_parse(p, h->method, args.data, args.size, h->retfmt, ap);
  msgpack_sbuffer_destroy(&args);
  return rc;
}

int mproc_proxy_dict_get(mproc_proxy_t *d, const char *key, const char *fmt,
                         ...)
{
  helper_call_t h = {.what = "dict get",
                     .method = "__getitem__",
                     .type = MPROC_MANAGED_DICT,
                     .key = key,
                     .retfmt = fmt};
  va_list ap;
  int rc;

  if (key == NULL || fmt == NULL)
    return mproc__err(MPROC_EINVAL, "dict get: NULL key or format");
  va_start(ap, fmt);
  rc = helper(d, &h, &ap);
  va_end(ap);
  return rc;
}

int mproc_proxy_dict_set(mproc_proxy_t *d, const char *key, const char *fmt,
                         ...)
{
  helper_call_t h = {.what = "dict set",
                     .method = "__setitem__",
                     .type = MPROC_MANAGED_DICT,
                     .key = key,
                     .has_value = 1,
                     .vfmt = fmt};
  va_list ap;
  int rc;

  if (key == NULL)
    return mproc__err(MPROC_EINVAL, "dict set: NULL key");
  va_start(ap, fmt);
  rc = helper(d, &h, &ap);
  va_end(ap);
  return rc;
}

int mproc_proxy_list_append(mproc_proxy_t *l, const char *fmt, ...)
{
  helper_call_t h = {.what = "list append",
                     .method = "append",
                     .type = MPROC_MANAGED_LIST,
                     .has_value = 1,
                     .vfmt = fmt};
  va_list ap;
  int rc;

  va_start(ap, fmt);
  rc = helper(l, &h, &ap);
  va_end(ap);
  return rc;
}

int mproc_proxy_list_get(mproc_proxy_t *l, long index, const char *fmt, ...)
{
  helper_call_t h = {.what = "list get",
                     .method = "__getitem__",
                     .type = MPROC_MANAGED_LIST,
                     .has_index = 1,
                     .index = index,
                     .retfmt = fmt};
  va_list ap;
  int rc;

  if (fmt == NULL)
    return mproc__err(MPROC_EINVAL, "list get: NULL format");
  va_start(ap, fmt);
  rc = helper(l, &h, &ap);
  va_end(ap);
  return rc;
}

/* helper() with the variable arguments of this call. */
static int helper_v(mproc_proxy_t *p, const helper_call_t *h, ...)
{
  va_list ap;
  int rc;

  va_start(ap, h);
  rc = helper(p, h, &ap);
  va_end(ap);
  return rc;
}

/* A method without arguments whose result is an int: the int, or a
 * negative status. */
static long call_long(mproc_proxy_t *p, int type, const char *what,
                      const char *method)
{
  helper_call_t h = {
      .what = what, .method = method, .type = type, .retfmt = "l"};
  long n = 0;
  int rc = helper_v(p, &h, &n);

  return rc != 0 ? rc : n;
}

long mproc_proxy_len(mproc_proxy_t *p)
{
  int t = mproc_proxy_type(p);

  if (t != MPROC_MANAGED_DICT && t != MPROC_MANAGED_LIST)
    return check_type(p, MPROC_MANAGED_LIST, "len");
  return call_long(p, t, "len", "__len__");
}

long mproc_proxy_queue_qsize(mproc_proxy_t *q)
{
  return call_long(q, MPROC_MANAGED_QUEUE, "Queue qsize", "qsize");
}

int mproc_proxy_queue_put(mproc_proxy_t *q, double timeout, const char *fmt,
                          ...)
{
  helper_call_t h = {.what = "Queue put",
                     .method = "put",
                     .type = MPROC_MANAGED_QUEUE,
                     .has_value = 1,
                     .vfmt = fmt,
                     .has_block = 1,
                     .timeout = timeout};
  va_list ap;
  int rc;

  va_start(ap, fmt);
  rc = helper(q, &h, &ap);
  va_end(ap);
  return rc;
}

int mproc_proxy_queue_get(mproc_proxy_t *q, double timeout, const char *fmt,
                          ...)
{
  helper_call_t h = {.what = "Queue get",
                     .method = "get",
                     .type = MPROC_MANAGED_QUEUE,
                     .has_block = 1,
                     .timeout = timeout,
                     .retfmt = fmt};
  va_list ap;
  int rc;

  if (fmt == NULL)
    return mproc__err(MPROC_EINVAL, "Queue get: NULL format");
  va_start(ap, fmt);
  rc = helper(q, &h, &ap);
  va_end(ap);
  return rc;
}

int mproc_proxy_value_get(mproc_proxy_t *v, const char *fmt, ...)
{
  helper_call_t h = {.what = "Value get",
                     .method = "get",
                     .type = MPROC_MANAGED_VALUE,
                     .retfmt = fmt};
  va_list ap;
  int rc;

  if (fmt == NULL)
    return mproc__err(MPROC_EINVAL, "Value get: NULL format");
  va_start(ap, fmt);
  rc = helper(v, &h, &ap);
  va_end(ap);
  return rc;
}

int mproc_proxy_value_set(mproc_proxy_t *v, const char *fmt, ...)
{
  helper_call_t h = {.what = "Value set",
                     .method = "set",
                     .type = MPROC_MANAGED_VALUE,
                     .has_value = 1,
                     .vfmt = fmt};
  va_list ap;
  int rc;

  va_start(ap, fmt);
  rc = helper(v, &h, &ap);
  va_end(ap);
  return rc;
}

int mproc_proxy_lock_acquire(mproc_proxy_t *l, double timeout)
{
  helper_call_t h = {.what = "Lock acquire",
                     .method = "acquire",
                     .type = MPROC_MANAGED_LOCK,
                     .has_block = 1,
                     .timeout = timeout,
                     .retfmt = "p"};
  int got = 0;
  int rc = helper_v(l, &h, &got);

  if (rc == 0 && !got)
    rc = mproc__err(MPROC_ETIMEDOUT, "Lock acquire: not acquired in time");
  return rc;
}

int mproc_proxy_lock_release(mproc_proxy_t *l)
{
  helper_call_t h = {
      .what = "Lock release", .method = "release", .type = MPROC_MANAGED_LOCK};

  return helper_v(l, &h);
}
