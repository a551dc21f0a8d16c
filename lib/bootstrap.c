/*
 * The bootstrap message: what a re-executed (spawn) or forkserver child
 * needs to become the process its parent created. A header ("MPB1" and a
 * big-endian u64 payload length) and one MessagePack map. The decoder
 * takes arbitrary bytes (it is fuzzed): every field is checked, and any
 * failure leaves the output cleared with a message naming the field.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define BOOT_VERSION 1
#define MAX_AUTHKEY 1024
#define MAX_IDENTITY 64

/* Each returns msgpack-c's status: 0, or -1 when a write failed. */
static int pack_key(msgpack_packer *pk, const char *key)
{
  return msgpack_pack_str_with_body(pk, key, strlen(key));
}

static int pack_cstr(msgpack_packer *pk, const char *key, const char *val)
{
  return pack_key(pk, key) |
         msgpack_pack_str_with_body(pk, val ? val : "", val ? strlen(val) : 0);
}

static int pack_bin(msgpack_packer *pk, const char *key, const void *data,
                    size_t len)
{
  return pack_key(pk, key) | msgpack_pack_bin_with_body(pk, data, len);
}

static int pack_int(msgpack_packer *pk, const char *key, int64_t v)
{
  return pack_key(pk, key) | msgpack_pack_int64(pk, v);
}

static int pack_identity(msgpack_packer *pk, const mproc__boot_t *b)
{
  int rc = pack_key(pk, "ident") | msgpack_pack_array(pk, b->identity_len);

  for (size_t i = 0; i < b->identity_len; i++)
    rc |= msgpack_pack_int64(pk, b->identity[i]);
  return rc;
}

/* "objs": [[kind, [handle, ...], extra], ...] */
static int pack_objs(msgpack_packer *pk, const mproc__boot_t *b)
{
  int rc = pack_key(pk, "objs") | msgpack_pack_array(pk, b->nobjs);

  for (size_t i = 0; i < b->nobjs; i++) {
    const mproc__boot_obj_t *o = &b->objs[i];
    rc |= msgpack_pack_array(pk, 3) | msgpack_pack_int64(pk, o->kind) |
          msgpack_pack_array(pk, o->nhandles);
    for (size_t j = 0; j < o->nhandles; j++)
      rc |= msgpack_pack_int64(pk, (int64_t)o->handles[j]);
    rc |= msgpack_pack_bin_with_body(pk, o->extra, o->extra_len);
  }
  return rc;
}

static int pack_fields(msgpack_packer *pk, const mproc__boot_t *b)
{
  return msgpack_pack_map(pk, 14) | pack_objs(pk, b) |
         pack_int(pk, "v", BOOT_VERSION) | pack_cstr(pk, "target", b->target) |
         pack_cstr(pk, "name", b->name) |
         pack_bin(pk, "authkey", b->authkey, b->authkey_len) |
         pack_identity(pk, b) | pack_int(pk, "ppid", b->parent_pid) |
         pack_cstr(pk, "pname", b->parent_name) | pack_key(pk, "daemon") |
         (b->daemon ? msgpack_pack_true(pk) : msgpack_pack_false(pk)) |
         pack_int(pk, "method", b->method) |
         pack_bin(pk, "args", b->args, b->args_len) |
         pack_bin(pk, "kwargs", b->kwargs, b->kwargs_len) |
         pack_int(pk, "report", b->has_report ? (int64_t)b->report : -1) |
         pack_int(pk, "log", b->log_level);
}

/* Refuse in the parent what cannot be sent, or what a user could set
 * and the child's decoder would refuse, so that start fails with a
 * reason instead of a child exiting with MPROC_EXIT_BOOTSTRAP. (Fields
 * the core always fills correctly are left to the decoder, which tests
 * use to craft bad messages.) */
static int check_encodable(const mproc__boot_t *b)
{
  const char *why = NULL;

  if (b->authkey_len > MAX_AUTHKEY)
    why = "the authkey is longer than 1024 bytes";
  else if (b->identity_len > MAX_IDENTITY)
    why = "processes are nested more than 64 deep";
  else if (b->args_len > UINT32_MAX || b->kwargs_len > UINT32_MAX)
    why = "the arguments are larger than 4 GiB - 1";
  else if (b->nobjs > MPROC__MAX_OBJS)
    why = "too many objects in the arguments";
  if (why != NULL)
    return mproc__err(MPROC_EINVAL, "bootstrap message: %s", why);
  return 0;
}

int mproc__boot_encode(const mproc__boot_t *b, msgpack_sbuffer *out)
{
  static const char zero_len[MPROC__BOOT_HDR - 4] = {0};
  size_t start = out->size;
  msgpack_packer pk;
  uint64_t len;
  int rc = check_encodable(b);

  if (rc != 0)
    return rc;
  /* The header first with the length left zero, then the payload packed
   * straight after it, then the length filled in: no copy of the
   * (possibly large) arguments. */
  msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
  if (msgpack_sbuffer_write(out, MPROC__BOOT_MAGIC, 4) != 0 ||
      msgpack_sbuffer_write(out, zero_len, sizeof zero_len) != 0 ||
      pack_fields(&pk, b) != 0) {
    out->size = start;
    return mproc__err(MPROC_ENOMEM, "out of memory encoding the bootstrap "
                                    "message");
  }
  len = out->size - start - MPROC__BOOT_HDR;
  for (int i = 0; i < 8; i++)
    out->data[start + 4 + i] = (char)(unsigned char)(len >> (56 - 8 * i));
  return 0;
}

int mproc__boot_header(const unsigned char hdr[MPROC__BOOT_HDR], uint64_t *len)
{
  uint64_t n = 0;

  if (memcmp(hdr, MPROC__BOOT_MAGIC, 4) != 0)
    return mproc__err(MPROC_ECODEC, "bootstrap message: bad magic (not an "
                                    "mproc bootstrap message)");
  for (int i = 0; i < 8; i++)
    n = n << 8 | hdr[4 + i];
  if (n > MPROC__BOOT_MAX)
    return mproc__err(MPROC_ECODEC,
                      "bootstrap message: length %llu is too large",
                      (unsigned long long)n);
  *len = n;
  return 0;
}

/* ---- decoding ---- */

static int bad(const char *key, const char *what)
{
  return mproc__err(MPROC_ECODEC, "bootstrap message: field '%s' %s", key,
                    what);
}

static int get_str(const msgpack_object *map, const char *key, int nonempty,
                   char **out)
{
  const msgpack_object *o = mproc__map_get(map, key);
  uint32_t n;

  if (o == NULL)
    return bad(key, "is missing");
  if (o->type != MSGPACK_OBJECT_STR)
    return bad(key, "must be a string");
  n = o->via.str.size;
  if (nonempty && n == 0)
    return bad(key, "must not be empty");
  if (n > 0 && memchr(o->via.str.ptr, '\0', n) != NULL)
    return bad(key, "contains a NUL byte");
  *out = malloc((size_t)n + 1);
  if (*out == NULL)
    return mproc__err(MPROC_ENOMEM, "out of memory");
  if (n > 0)
    memcpy(*out, o->via.str.ptr, n);
  (*out)[n] = '\0';
  return 0;
}

static int get_bin(const msgpack_object *map, const char *key, size_t max,
                   void **out, size_t *len)
{
  const msgpack_object *o = mproc__map_get(map, key);
  uint32_t n;

  if (o == NULL)
    return bad(key, "is missing");
  if (o->type != MSGPACK_OBJECT_BIN)
    return bad(key, "must be bytes");
  n = o->via.bin.size;
  if (n > max)
    return bad(key, "is too long");
  *out = malloc(n ? n : 1);
  if (*out == NULL)
    return mproc__err(MPROC_ENOMEM, "out of memory");
  if (n > 0)
    memcpy(*out, o->via.bin.ptr, n);
  *len = n;
  return 0;
}

static int get_int(const msgpack_object *map, const char *key, int64_t lo,
                   int64_t hi, int64_t *out)
{
  const msgpack_object *o = mproc__map_get(map, key);
  int64_t v;

  if (o == NULL)
    return bad(key, "is missing");
  if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
    v = o->via.i64;
  else if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
           o->via.u64 <= (uint64_t)INT64_MAX)
    v = (int64_t)o->via.u64;
  else
    return bad(key, "must be an integer");
  if (v < lo || v > hi)
    return bad(key, "is out of range");
  *out = v;
  return 0;
}

static int get_identity(const msgpack_object *map, mproc__boot_t *b)
{
  const msgpack_object *o = mproc__map_get(map, "ident");
  uint32_t n;

  if (o == NULL)
    return bad("ident", "is missing");
  if (o->type != MSGPACK_OBJECT_ARRAY)
    return bad("ident", "must be a list");
  n = o->via.array.size;
  if (n > MAX_IDENTITY)
    return bad("ident", "is too long");
  b->identity = malloc((n ? n : 1) * sizeof *b->identity);
  if (b->identity == NULL)
    return mproc__err(MPROC_ENOMEM, "out of memory");
  for (uint32_t i = 0; i < n; i++) {
    const msgpack_object *e = &o->via.array.ptr[i];
    if (e->type != MSGPACK_OBJECT_POSITIVE_INTEGER || e->via.u64 < 1 ||
        e->via.u64 > (uint64_t)INT64_MAX)
      return bad("ident", "must hold positive integers");
    b->identity[i] = (int64_t)e->via.u64;
  }
  b->identity_len = n;
  return 0;
}

/* The embedded arguments must decode as the child will decode them. */
static int check_args(const mproc__boot_t *b)
{
  char why[400];
  mproc_args_t *a;
  int rc = mproc__args_new(&a, b->args, b->args_len, b->kwargs, b->kwargs_len);

  if (rc == MPROC_ENOMEM)
    return rc;
  if (rc != 0) {
    /* The detail lives in the buffer mproc__err() writes to: copy it. */
    snprintf(why, sizeof why, "%s", mproc_last_error());
    return mproc__err(MPROC_ECODEC, "bootstrap message: %s", why);
  }
  mproc__args_free(a);
  return 0;
}

static int get_bool(const msgpack_object *map, const char *key, int *out)
{
  const msgpack_object *o = mproc__map_get(map, key);

  if (o == NULL)
    return bad(key, "is missing");
  if (o->type != MSGPACK_OBJECT_BOOLEAN)
    return bad(key, "must be a bool");
  *out = o->via.boolean;
  return 0;
}

static int get_obj(const msgpack_object *e, mproc__boot_obj_t *o)
{
  const msgpack_object *f = e->via.array.ptr, *h;

  if (e->type != MSGPACK_OBJECT_ARRAY || e->via.array.size != 3 ||
      f[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER || f[0].via.u64 < 1 ||
      f[0].via.u64 > 1000 || f[1].type != MSGPACK_OBJECT_ARRAY ||
      f[1].via.array.size > MPROC__OBJ_MAX_HANDLES ||
      f[2].type != MSGPACK_OBJECT_BIN ||
      f[2].via.bin.size > MPROC__OBJ_MAX_EXTRA)
    return bad("objs", "holds a malformed object");
  o->kind = (int)f[0].via.u64;
  h = f[1].via.array.ptr;
  for (uint32_t j = 0; j < f[1].via.array.size; j++) {
    /* Descriptors and HANDLEs are small non-negative numbers. */
    if (h[j].type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
        h[j].via.u64 > (uint64_t)INT32_MAX)
      return bad("objs", "holds a bad handle");
    o->handles[j] = (intptr_t)h[j].via.u64;
  }
  o->nhandles = f[1].via.array.size;
  if (f[2].via.bin.size > 0)
    memcpy(o->extra, f[2].via.bin.ptr, f[2].via.bin.size);
  o->extra_len = f[2].via.bin.size;
  return 0;
}

/* Optional: a message without objects may leave it out. */
static int get_objs(const msgpack_object *map, mproc__boot_t *b)
{
  const msgpack_object *o = mproc__map_get(map, "objs");
  uint32_t n;
  int rc;

  if (o == NULL)
    return 0;
  if (o->type != MSGPACK_OBJECT_ARRAY)
    return bad("objs", "must be a list");
  n = o->via.array.size;
  if (n > MPROC__MAX_OBJS)
    return bad("objs", "is too long");
  if (n == 0)
    return 0;
  b->objs = calloc(n, sizeof *b->objs);
  if (b->objs == NULL)
    return mproc__err(MPROC_ENOMEM, "out of memory");
  b->nobjs = n;
  for (uint32_t i = 0; i < n; i++)
    if ((rc = get_obj(&o->via.array.ptr[i], &b->objs[i])) != 0)
      return rc;
  return 0;
}

/* Optional fields: a message without them (an older parent's, a test's)
 * means no report pipe and no log level. */
static int get_optional(const msgpack_object *map, mproc__boot_t *b)
{
  int64_t v = -1;
  int rc = 0;

  if (mproc__map_get(map, "report") != NULL)
    rc = get_int(map, "report", -1, INT32_MAX, &v);
  b->has_report = v >= 0;
  b->report = b->has_report ? (intptr_t)v : 0;
  v = 0;
  if (rc == 0 && mproc__map_get(map, "log") != NULL)
    rc = get_int(map, "log", 0, 1000, &v);
  b->log_level = (int)v;
  return rc;
}

static int decode_fields(const msgpack_object *map, mproc__boot_t *b)
{
  int64_t v;
  int rc;

  if ((rc = get_int(map, "v", 0, INT64_MAX, &v)) != 0)
    return rc;
  if (v != BOOT_VERSION)
    return mproc__err(MPROC_ECODEC,
                      "bootstrap message: version %lld, this program reads "
                      "version %d (parent and child must be the same build)",
                      (long long)v, BOOT_VERSION);
  if ((rc = get_str(map, "target", 1, &b->target)) != 0 ||
      (rc = get_str(map, "name", 1, &b->name)) != 0 ||
      (rc = get_str(map, "pname", 0, &b->parent_name)) != 0 ||
      (rc = get_bin(map, "authkey", MAX_AUTHKEY, (void **)&b->authkey,
                    &b->authkey_len)) != 0 ||
      (rc = get_identity(map, b)) != 0 ||
      (rc = get_bin(map, "args", SIZE_MAX, &b->args, &b->args_len)) != 0 ||
      (rc = get_bin(map, "kwargs", SIZE_MAX, &b->kwargs, &b->kwargs_len)) !=
          0 ||
      (rc = get_bool(map, "daemon", &b->daemon)) != 0 ||
      (rc = get_objs(map, b)) != 0)
    return rc;
  /* long is 32-bit on Windows. */
  if ((rc = get_int(map, "ppid", 0, LONG_MAX, &v)) != 0)
    return rc;
  b->parent_pid = (long)v;
  if ((rc = get_int(map, "method", MPROC_FORK, MPROC_FORKSERVER, &v)) != 0)
    return rc;
  b->method = (int)v;
  if ((rc = get_optional(map, b)) != 0)
    return rc;
  return check_args(b);
}

int mproc__boot_decode(const void *payload, size_t len, mproc__boot_t *out)
{
  msgpack_zone zone;
  msgpack_object obj;
  size_t off = 0;
  msgpack_unpack_return r;
  int rc;

  memset(out, 0, sizeof *out);
  if (payload == NULL && len > 0)
    return mproc__err(MPROC_EINVAL, "bootstrap message: NULL payload");
  if (mproc__msgpack_bounded(payload, len) != 0)
    return mproc__err(MPROC_ECODEC,
                      "bootstrap message: truncated, malformed or nested "
                      "too deeply");
  if (!msgpack_zone_init(&zone, 4096))
    return mproc__err(MPROC_ENOMEM, "out of memory");
  r = msgpack_unpack(payload, len, &off, &zone, &obj);
  if (r == MSGPACK_UNPACK_CONTINUE)
    rc = mproc__err(MPROC_ECODEC, "bootstrap message: truncated");
  else if (r == MSGPACK_UNPACK_EXTRA_BYTES)
    rc = mproc__err(MPROC_ECODEC, "bootstrap message: trailing bytes");
  else if (r != MSGPACK_UNPACK_SUCCESS)
    rc = mproc__err(MPROC_ECODEC, "bootstrap message: malformed");
  else if (obj.type != MSGPACK_OBJECT_MAP)
    rc = mproc__err(MPROC_ECODEC, "bootstrap message: not a map");
  else
    rc = decode_fields(&obj, out);
  msgpack_zone_destroy(&zone);
  if (rc != 0)
    mproc__boot_clear(out);
  return rc;
}

void mproc__boot_clear(mproc__boot_t *b)
{
  free(b->target);
  free(b->name);
  free(b->authkey);
  free(b->identity);
  free(b->parent_name);
  free(b->args);
  free(b->kwargs);
  free(b->objs);
  memset(b, 0, sizeof *b);
}
