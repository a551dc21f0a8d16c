/*
 * The value codec: Py_BuildValue-style formats packed as MessagePack
 * (msgpack-c), and PyArg_ParseTuple-style parsing of what a child
 * receives. mproc_value_t is a msgpack_object seen through an opaque type.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "object.h"
#include "platform.h"

/* msgpack-c's unpacker holds at most this many open containers
 * (MSGPACK_EMBED_STACK_SIZE of its private unpack_define.h; deeper, it
 * reports running out of memory). The builder refuses to nest deeper than
 * a child can decode, and the decoder refuses deeper input itself so that
 * bad data is never mistaken for a lack of memory. The codec suite checks
 * the limit against msgpack-c. */
#define MAX_DEPTH 32

/* ------------------------------------------------------------------ */
/* Building                                                            */
/* ------------------------------------------------------------------ */

typedef struct build {
  const char *fmt; /* the whole format, for messages */
  const char *p;   /* the next unit */
  va_list *ap;
  msgpack_sbuffer *out;
  msgpack_packer pk;
  int nomem;              /* a write into @out failed */
  mproc__objlist_t *objs; /* where `o` may go; NULL: not allowed */
  int level;              /* containers open around the next unit */
} build_t;

static int build_err(const build_t *b, const char *what)
{
  return mproc__err(MPROC_EINVAL, "format \"%s\", position %d: %s", b->fmt,
                    (int)(b->p - b->fmt), what);
}

/* The packer's writer: msgpack_pack_* report a failed write only through
 * their return values, which are easy to drop; recording it here lets
 * the encoder check once, at the end. */
static int build_write(void *data, const char *buf, size_t len)
{
  build_t *b = data;

  if (msgpack_sbuffer_write(b->out, buf, len) != 0)
    b->nomem = 1;
  return b->nomem ? -1 : 0;
}

static const char *skip_separators(const char *p)
{
  while (*p == ' ' || *p == ',' || *p == ':' || *p == '\t')
    p++;
  return p;
}

/* Check, before packing anything, that every bracket closes the bracket
 * it should and that the nesting stays decodable; @base is 1 when the
 * units go into an implicit top-level array. Afterwards the format can be
 * walked without re-checking. */
static int check_brackets(build_t *b, int base)
{
  char open[MAX_DEPTH];
  int level = base;

  for (b->p = b->fmt; *b->p != '\0'; b->p++) {
    if (*b->p == '[' || *b->p == '{') {
      if (level == MAX_DEPTH)
        return build_err(b, "lists and maps nested too deeply");
      open[level++] = *b->p == '[' ? ']' : '}';
    } else if (*b->p == ']' || *b->p == '}') {
      if (level == base || open[level - 1] != *b->p)
        return build_err(b, "unbalanced brackets");
      level--;
    }
  }
  if (level != base)
    return build_err(b, "unbalanced brackets");
  b->p = b->fmt;
  return 0;
}

/* Count the units before @close (or the end when @close is 0), without
 * consuming anything. The brackets are known to balance. */
static size_t count_units(const char *p, char close)
{
  size_t n = 0;
  int level = 0;

  for (;; p++) {
    p = skip_separators(p);
    if (*p == '\0' || (level == 0 && *p == close))
      return n;
    if (*p == '[' || *p == '{') {
      if (level == 0)
        n++;
      level++;
    } else if (*p == ']' || *p == '}') {
      level--;
    } else if (*p != '#' && *p != '*' && level == 0) {
      n++;
    }
  }
}

static int pack_unit(build_t *b);
static int pack_string_unit(build_t *b, char unit, int is_key);

static int pack_sequence(build_t *b, char close, int is_map)
{
  size_t n = count_units(b->p, close);
  int rc = 0;

  if (is_map && n % 2 != 0)
    return build_err(b, "a map needs key:value pairs");
  if (is_map)
    msgpack_pack_map(&b->pk, n / 2);
  else
    msgpack_pack_array(&b->pk, n);
  b->level++;
  for (size_t i = 0; i < n && rc == 0; i++) {
    b->p = skip_separators(b->p);
    if (!is_map || i % 2 != 0)
      rc = pack_unit(b);
    else if (*b->p != 's')
      rc = build_err(b, "map keys must be strings ('s' or 's#')");
    else
      rc = pack_string_unit(b, *b->p++, 1);
  }
  b->level--;
  if (rc != 0)
    return rc;
  b->p = skip_separators(b->p);
  if (*b->p != close)
    return build_err(b, "stray '#'");
  b->p++;
  return 0;
}

/* s, s#, z, z#, y#: the unit letter is consumed, b->p is at '#' if any. */
static int pack_string_unit(build_t *b, char unit, int is_key)
{
  const char *s = va_arg(*b->ap, const char *);
  size_t len;

  if (*b->p == '#') {
    b->p++;
    len = va_arg(*b->ap, size_t);
    if (s == NULL && len != 0)
      return build_err(b, "NULL data with a non-zero length");
  } else {
    len = s ? strlen(s) : 0;
  }
  /* MessagePack lengths are 32-bit; msgpack-c would cut a longer one. */
  if (len > UINT32_MAX)
    return build_err(b, "string or bytes longer than 4 GiB - 1");
  if (is_key && s == NULL)
    return build_err(b, "map key is NULL");
  if (unit == 'y') {
    msgpack_pack_bin(&b->pk, len);
    msgpack_pack_bin_body(&b->pk, s, len);
  } else if (s == NULL) {
    msgpack_pack_nil(&b->pk);
  } else {
    msgpack_pack_str(&b->pk, len);
    msgpack_pack_str_body(&b->pk, s, len);
  }
  return 0;
}

/* The index of @o in @l, adding it (with a reference) if new. */
static int objlist_index(mproc__objlist_t *l, mproc__obj_t *o, uint32_t *idx)
{
  for (size_t i = 0; i < l->n; i++)
    if (l->items[i] == o) {
      *idx = (uint32_t)i;
      return 0;
    }
  if (l->n == MPROC__MAX_OBJS)
    return mproc__err(MPROC_EINVAL,
                      "more than %d objects in one process's "
                      "arguments",
                      MPROC__MAX_OBJS);
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 4;
    void **grown = realloc(l->items, cap * sizeof *grown);
    if (grown == NULL)
      return mproc__err(MPROC_ENOMEM, "out of memory");
    l->items = grown;
    l->cap = cap;
  }
  mproc__obj_ref(o);
  l->items[l->n] = o;
  *idx = (uint32_t)l->n++;
  return 0;
}

void mproc__objlist_clear(mproc__objlist_t *l)
{
  for (size_t i = 0; i < l->n; i++)
    mproc__obj_unref(l->items[i]);
  free(l->items);
  l->items = NULL;
  l->n = l->cap = 0;
}

/* An object that is a value: ext MPROC__EXT_VALUE_OBJ, its kind, its
 * bytes. */
static int pack_value_object(build_t *b, mproc__obj_t *o)
{
  msgpack_sbuffer body;
  int rc;

  msgpack_sbuffer_init(&body);
  rc = msgpack_sbuffer_write(&body, (const char[]){(char)o->ops->kind}, 1);
  if (rc != 0)
    rc = mproc__err(MPROC_ENOMEM, "out of memory");
  else
    rc = o->ops->pack_value(o, &body);
  if (rc == 0) {
    msgpack_pack_ext(&b->pk, body.size, MPROC__EXT_VALUE_OBJ);
    msgpack_pack_ext_body(&b->pk, body.data, body.size);
  }
  msgpack_sbuffer_destroy(&body);
  return rc;
}

/* @o is a checked object: a value, or an index into the process's
 * objects. */
static int pack_checked_object(build_t *b, mproc__obj_t *o)
{
  unsigned char be_idx[4];
  uint32_t idx = 0;
  int rc;

  if (o->ops->pack_value != NULL)
    return pack_value_object(b, o);
  if (b->objs == NULL)
    return mproc__err(MPROC_ETYPE,
                      "%s objects should only be shared between processes "
                      "through inheritance (pass them as a process's "
                      "arguments)",
                      mproc_kind_name(o->ops->kind));
  rc = objlist_index(b->objs, o, &idx);
  if (rc != 0)
    return rc;
  for (int i = 0; i < 4; i++)
    be_idx[i] = (unsigned char)(idx >> (24 - 8 * i));
  msgpack_pack_ext(&b->pk, sizeof be_idx, MPROC__EXT_OBJECT);
  msgpack_pack_ext_body(&b->pk, be_idx, sizeof be_idx);
  return 0;
}

static int pack_object(build_t *b)
{
  mproc__obj_t *o = mproc__obj_check(va_arg(*b->ap, void *));

  if (o == NULL)
    return mproc__err(MPROC_ETYPE,
                      "format \"%s\", position %d: 'o' needs "
                      "an mproc object (a Queue, Lock, ...)",
                      b->fmt, (int)(b->p - 1 - b->fmt));
  return pack_checked_object(b, o);
}

/* Whether value @o, placed inside @level containers, can be sent as it
 * is: no deeper than a receiver decodes, and no object received by
 * inheritance (its handles belong to the message it came in). */
static int check_value(const build_t *b, const msgpack_object *o, int level)
{
  uint32_t n;
  int rc = 0;

  if (o->type == MSGPACK_OBJECT_EXT && o->via.ext.type == MPROC__EXT_OBJECT)
    return mproc__err(MPROC_ETYPE,
                      "format \"%s\", position %d: 'O' cannot forward an "
                      "object received by inheritance (a Queue, Lock...); "
                      "pass the object itself with 'o'",
                      b->fmt, (int)(b->p - 1 - b->fmt));
  if (o->type != MSGPACK_OBJECT_ARRAY && o->type != MSGPACK_OBJECT_MAP)
    return 0;
  if (level + 1 > MAX_DEPTH)
    return build_err(b, "lists and maps nested too deeply");
  n = o->type == MSGPACK_OBJECT_ARRAY ? o->via.array.size : o->via.map.size;
  for (uint32_t i = 0; i < n && rc == 0; i++)
    if (o->type == MSGPACK_OBJECT_ARRAY)
      rc = check_value(b, &o->via.array.ptr[i], level + 1);
    else if ((rc = check_value(b, &o->via.map.ptr[i].key, level + 1)) == 0)
      rc = check_value(b, &o->via.map.ptr[i].val, level + 1);
  return rc;
}

/* O: a value received earlier (CPython's O), packed as it is. */
static int pack_value(build_t *b, const mproc_value_t *v, int level)
{
  const msgpack_object *o = (const msgpack_object *)(const void *)v;
  int rc;

  if (v == NULL)
    return build_err(b, "'O' needs a value, not NULL");
  if ((rc = check_value(b, o, level)) != 0)
    return rc;
  msgpack_pack_object(&b->pk, *o);
  return 0;
}

/* X*: a list of the @n elements of a C array, each packed as unit X. */
static int pack_array(build_t *b, char unit)
{
  size_t n = va_arg(*b->ap, size_t);
  const void *a = va_arg(*b->ap, const void *);
  const char *s;
  int rc = 0;

  b->p += 2; /* the unit and its '*' */
  if (strchr("ilLdpsO", unit) == NULL)
    return build_err(b, "only 'i', 'l', 'L', 'd', 'p', 's' and 'O' take '*'");
  if (a == NULL && n != 0)
    return build_err(b, "NULL array with a non-zero length");
  if (n > UINT32_MAX)
    return build_err(b, "list longer than 2^32 - 1");
  if (b->level + 1 > MAX_DEPTH)
    return build_err(b, "lists and maps nested too deeply");
  msgpack_pack_array(&b->pk, n);
  for (size_t i = 0; i < n && rc == 0; i++) {
    switch (unit) {
    case 'i':
      msgpack_pack_int64(&b->pk, ((const int *)a)[i]);
      break;
    case 'l':
      msgpack_pack_int64(&b->pk, ((const long *)a)[i]);
      break;
    case 'L':
      msgpack_pack_int64(&b->pk, ((const int64_t *)a)[i]);
      break;
    case 'd':
      msgpack_pack_double(&b->pk, ((const double *)a)[i]);
      break;
    case 'p':
      if (((const int *)a)[i])
        msgpack_pack_true(&b->pk);
      else
        msgpack_pack_false(&b->pk);
      break;
    case 's':
      s = ((const char *const *)a)[i];
      if (s == NULL)
        msgpack_pack_nil(&b->pk);
      else if (strlen(s) > UINT32_MAX)
        rc = build_err(b, "string longer than 4 GiB - 1");
      else
        msgpack_pack_str_with_body(&b->pk, s, strlen(s));
      break;
    default:
      rc = pack_value(b, ((const mproc_value_t *const *)a)[i], b->level + 1);
      break;
    }
  }
  return rc;
}

static int pack_unit(build_t *b)
{
  char unit;

  b->p = skip_separators(b->p);
  unit = *b->p;
  if (unit == '\0')
    return build_err(b, "missing format unit");
  if (b->p[1] == '*')
    return pack_array(b, unit);
  if (b->p[1] == '#' && strchr("szy", unit) == NULL)
    return build_err(b, "only 's', 'z' and 'y' take '#'");
  b->p++;
  switch (unit) {
  case 'i':
    return msgpack_pack_int64(&b->pk, va_arg(*b->ap, int)), 0;
  case 'l':
    return msgpack_pack_int64(&b->pk, va_arg(*b->ap, long)), 0;
  case 'L':
    return msgpack_pack_int64(&b->pk, va_arg(*b->ap, int64_t)), 0;
  case 'd':
    return msgpack_pack_double(&b->pk, va_arg(*b->ap, double)), 0;
  case 'p':
    if (va_arg(*b->ap, int))
      msgpack_pack_true(&b->pk);
    else
      msgpack_pack_false(&b->pk);
    return 0;
  case 'N':
    return msgpack_pack_nil(&b->pk), 0;
  case 'o':
    return pack_object(b);
  case 'O':
    return pack_value(b, va_arg(*b->ap, const mproc_value_t *), b->level);
  case 's':
  case 'z':
    return pack_string_unit(b, 's', 0);
  case 'y':
    if (*b->p != '#')
      return build_err(b, "'y' needs a length: use 'y#'");
    return pack_string_unit(b, 'y', 0);
  case '[':
    return pack_sequence(b, ']', 0);
  case '{':
    return pack_sequence(b, '}', 1);
  default:
    b->p--;
    return build_err(b, "unknown format unit");
  }
}

static void build_init(build_t *b, msgpack_sbuffer *out, const char *fmt,
                       va_list *ap)
{
  b->objs = NULL;
  b->fmt = fmt ? fmt : "";
  b->p = b->fmt;
  b->ap = ap;
  b->out = out;
  b->nomem = 0;
  b->level = 0;
  msgpack_packer_init(&b->pk, b, build_write);
}

/* On failure @out is put back as it was, so a caller never sends half a
 * value. */
static int build_finish(build_t *b, size_t start, int rc)
{
  if (rc == 0 && b->nomem)
    rc = mproc__err(MPROC_ENOMEM, "out of memory encoding arguments");
  if (rc != 0)
    b->out->size = start;
  return rc;
}

/* ---- the type-checked form (MPROC_ARGS) ---- */

/* The values of MPROC_ARGS come as the format MPROC_ARGS_FORMAT followed
 * by an array of tagged values and its length: the compiler chose each
 * tag, so only what it cannot check is checked here (map keys, NULL
 * data, lengths, nesting, objects). */
static int is_typed(const char *fmt)
{
  return fmt != NULL && strcmp(fmt, MPROC_ARGS_FORMAT) == 0;
}

static int typed_err(int code, size_t index, const char *what)
{
  return mproc__err(code, "MPROC_ARGS, value %zu: %s", index + 1, what);
}

static int pack_arg(build_t *b, const mproc_arg_t *a, size_t index, int depth);

static int pack_args_seq(build_t *b, const mproc_arg_t *items, size_t n,
                         int is_map, size_t index, int depth)
{
  int rc = 0;

  if (depth > MAX_DEPTH)
    return typed_err(MPROC_EINVAL, index, "lists and maps nested too deeply");
  if (n > UINT32_MAX || (n > 0 && items == NULL))
    return typed_err(MPROC_EINVAL, index, "a bad list or map");
  if (is_map)
    msgpack_pack_map(&b->pk, n / 2);
  else
    msgpack_pack_array(&b->pk, n);
  for (size_t i = 0; i < n && rc == 0; i++) {
    if (is_map && i % 2 == 0 &&
        (items[i].type != MPROC__A_STR || items[i].v.s == NULL))
      return typed_err(MPROC_ETYPE, index, "map keys must be strings");
    rc = pack_arg(b, &items[i], index, depth);
  }
  return rc;
}

static int pack_arg(build_t *b, const mproc_arg_t *a, size_t index, int depth)
{
  mproc__obj_t *o;

  switch (a->type) {
  case MPROC__A_NIL:
    return msgpack_pack_nil(&b->pk), 0;
  case MPROC__A_BOOL:
    return (a->v.i ? msgpack_pack_true(&b->pk) : msgpack_pack_false(&b->pk)), 0;
  case MPROC__A_INT:
    return msgpack_pack_int64(&b->pk, a->v.i), 0;
  case MPROC__A_UINT:
    return msgpack_pack_uint64(&b->pk, a->v.u), 0;
  case MPROC__A_DOUBLE:
    return msgpack_pack_double(&b->pk, a->v.d), 0;
  case MPROC__A_STR:
    if (a->v.s == NULL)
      return msgpack_pack_nil(&b->pk), 0;
    if (strlen(a->v.s) > UINT32_MAX)
      return typed_err(MPROC_EINVAL, index, "string longer than 4 GiB - 1");
    return msgpack_pack_str_with_body(&b->pk, a->v.s, strlen(a->v.s)), 0;
  case MPROC__A_BYTES:
    if ((a->v.p == NULL && a->len != 0) || a->len > UINT32_MAX)
      return typed_err(MPROC_EINVAL, index,
                       "bytes: NULL data with a length, or longer than "
                       "4 GiB - 1");
    return msgpack_pack_bin_with_body(&b->pk, a->v.p, a->len), 0;
  case MPROC__A_OBJ:
    o = mproc__obj_check(a->v.p);
    if (o == NULL)
      return typed_err(MPROC_ETYPE, index,
                       "not an mproc object (a Queue, Lock, ...)");
    return pack_checked_object(b, o);
  case MPROC__A_LIST:
  case MPROC__A_MAP:
    return pack_args_seq(b, a->v.items, a->len, a->type == MPROC__A_MAP, index,
                         depth + 1);
  default:
    return typed_err(MPROC_EINVAL, index,
                     "not a value made by MPROC_ARGS (an uninitialised "
                     "mproc_arg_t?)");
  }
}

/* The whole argument list: MPROC_ARGS's values, as one array. */
static int pack_typed(build_t *b, int kwargs)
{
  const mproc_arg_t *items = va_arg(*b->ap, const mproc_arg_t *);
  size_t n = va_arg(*b->ap, size_t);
  int rc = 0;

  if (kwargs) {
    if (n != 1 || items == NULL || items[0].type != MPROC__A_MAP)
      return mproc__err(MPROC_EINVAL, "keyword arguments must be one map: "
                                      "MPROC_KWARGS(\"name\", value, ...)");
    return pack_arg(b, &items[0], 0, 0);
  }
  if (n > 0 && items == NULL)
    return mproc__err(MPROC_EINVAL, "MPROC_ARGS: NULL values");
  msgpack_pack_array(&b->pk, n);
  for (size_t i = 0; i < n && rc == 0; i++)
    rc = pack_arg(b, &items[i], i, 1);
  return rc;
}

int mproc__encode_args(msgpack_sbuffer *out, const char *fmt, va_list *ap)
{
  return mproc__encode_args_o(out, fmt, ap, NULL);
}

int mproc__encode_kwargs(msgpack_sbuffer *out, const char *fmt, va_list *ap)
{
  return mproc__encode_kwargs_o(out, fmt, ap, NULL);
}

int mproc__encode_args_o(msgpack_sbuffer *out, const char *fmt, va_list *ap,
                         mproc__objlist_t *objs)
{
  size_t start = out->size;
  build_t b;
  size_t n;
  int rc;

  build_init(&b, out, fmt, ap);
  b.objs = objs;
  if (is_typed(fmt))
    return build_finish(&b, start, pack_typed(&b, 0));
  rc = check_brackets(&b, 1);
  if (rc != 0)
    return rc;
  n = count_units(b.fmt, 0);
  msgpack_pack_array(&b.pk, n);
  b.level = 1;
  for (size_t i = 0; i < n && rc == 0; i++)
    rc = pack_unit(&b);
  if (rc == 0 && *skip_separators(b.p) != '\0')
    rc = build_err(&b, "stray '#'");
  return build_finish(&b, start, rc);
}

int mproc__encode_kwargs_o(msgpack_sbuffer *out, const char *fmt, va_list *ap,
                           mproc__objlist_t *objs)
{
  size_t start = out->size;
  build_t b;
  int rc;

  build_init(&b, out, fmt, ap);
  b.objs = objs;
  if (is_typed(fmt))
    return build_finish(&b, start, pack_typed(&b, 1));
  rc = check_brackets(&b, 0);
  if (rc != 0)
    return rc;
  b.p = skip_separators(b.p);
  if (*b.p != '{' || count_units(b.fmt, 0) != 1)
    return build_err(&b, "keyword arguments must be one map, like "
                         "\"{s:i,s:s}\"");
  rc = pack_unit(&b);
  return build_finish(&b, start, rc);
}

/* ------------------------------------------------------------------ */
/* Decoding arguments                                                  */
/* ------------------------------------------------------------------ */

/* Big-endian unsigned of @n bytes. */
static uint64_t be(const unsigned char *p, int n)
{
  uint64_t v = 0;

  for (int i = 0; i < n; i++)
    v = v << 8 | p[i];
  return v;
}

/* Header sizes of MessagePack's 0xc4..0xdf codes: bytes after the type
 * byte, and what they give (payload length, element count, fixed size). */
enum { FIXED, PAYLOAD, ITEMS, PAIRS };
static const struct {
  unsigned char kind, hdr, size;
} codes[] = {
    /* c4 bin8/16/32 */ {PAYLOAD, 1, 0},
    {PAYLOAD, 2, 0},
    {PAYLOAD, 4, 0},
    /* c7 ext8/16/32 (+1 type byte) */ {PAYLOAD, 1, 1},
    {PAYLOAD, 2, 1},
    {PAYLOAD, 4, 1},
    /* ca float32/64 */ {FIXED, 0, 4},
    {FIXED, 0, 8},
    /* cc uint8..64 */ {FIXED, 0, 1},
    {FIXED, 0, 2},
    {FIXED, 0, 4},
    {FIXED, 0, 8},
    /* d0 int8..64 */ {FIXED, 0, 1},
    {FIXED, 0, 2},
    {FIXED, 0, 4},
    {FIXED, 0, 8},
    /* d4 fixext 1..16 (+1 type byte) */ {FIXED, 0, 2},
    {FIXED, 0, 3},
    {FIXED, 0, 5},
    {FIXED, 0, 9},
    {FIXED, 0, 17},
    /* d9 str8/16/32 */ {PAYLOAD, 1, 0},
    {PAYLOAD, 2, 0},
    {PAYLOAD, 4, 0},
    /* dc array16/32 */ {ITEMS, 2, 0},
    {ITEMS, 4, 0},
    /* de map16/32 */ {PAIRS, 2, 0},
    {PAIRS, 4, 0},
};

/* What one MessagePack header announces: bytes of payload that follow
 * it, and for a container the number of elements (pairs count twice). */
typedef struct head {
  uint64_t skip;
  uint64_t items;
  int container;
} head_t;

/* Read the header at *@pp (at least one byte is there). -1 for the
 * never-used code 0xc1 or a header cut short. */
static int read_head(const unsigned char **pp, const unsigned char *end,
                     head_t *h)
{
  unsigned char c = *(*pp)++;
  int hdr;
  uint64_t n;

  memset(h, 0, sizeof *h);
  if (c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3)
    return 0;
  if (c <= 0x8f || (c >= 0x90 && c <= 0x9f)) {
    h->container = 1;
    h->items = c <= 0x8f ? 2u * (c & 0x0fu) : c & 0x0fu;
    return 0;
  }
  if (c <= 0xbf) {
    h->skip = c & 0x1fu;
    return 0;
  }
  if (c < 0xc4)
    return -1;
  hdr = codes[c - 0xc4].hdr;
  if ((size_t)(end - *pp) < (size_t)hdr)
    return -1;
  n = be(*pp, hdr);
  *pp += hdr;
  switch (codes[c - 0xc4].kind) {
  case FIXED:
    h->skip = codes[c - 0xc4].size;
    break;
  case PAYLOAD:
    h->skip = n + codes[c - 0xc4].size;
    break;
  default:
    h->container = 1;
    h->items = codes[c - 0xc4].kind == ITEMS ? n : 2 * n;
    break;
  }
  return 0;
}

/* msgpack-c allocates a container's slots before reading its elements, so
 * a 5-byte header claiming 2^32 entries would ask for ~100 GB. Before
 * unpacking untrusted bytes, walk the headers once: every element still
 * owed needs at least one byte of input, and containers may not nest
 * deeper than msgpack-c can unpack, or the data is refused. This
 * validates sizes only (and so finds where the object ends); msgpack-c
 * still does the decoding. */
size_t mproc__msgpack_len(const void *data, size_t len)
{
  const unsigned char *p = data, *end;
  uint64_t left[MAX_DEPTH + 1]; /* elements not yet started, per level */
  uint64_t owed = 1;            /* their sum; level 0 holds the root */
  int top = 0;                  /* open containers */
  head_t h;

  if (data == NULL || len == 0)
    return 0;
  end = p + len;
  left[0] = 1;
  while (owed > 0) {
    while (left[top] == 0)
      top--; /* that container is complete */
    if (p >= end || owed > (uint64_t)(end - p))
      return 0;
    if (read_head(&p, end, &h) != 0 || h.skip > (uint64_t)(end - p))
      return 0;
    p += h.skip;
    left[top]--;
    owed--;
    if (!h.container)
      continue;
    if (top == MAX_DEPTH)
      return 0;
    if (h.items > 0) {
      left[++top] = h.items;
      owed += h.items;
    }
  }
  return (size_t)(p - (const unsigned char *)data);
}

int mproc__msgpack_bounded(const void *data, size_t len)
{
  return mproc__msgpack_len(data, len) > 0 ? 0 : -1;
}

/* Copy @len bytes into @zone and unpack exactly one object from them.
 * msgpack-c's objects point into their input, so the copy makes them live
 * as long as the zone. */
static int unpack_copy(msgpack_zone *zone, const void *data, size_t len,
                       msgpack_object *out, const char *what)
{
  size_t off = 0;
  msgpack_unpack_return r;
  char *copy;

  if (data == NULL || len == 0)
    return mproc__err(MPROC_ECODEC, "%s: no data", what);
  if (mproc__msgpack_bounded(data, len) != 0)
    return mproc__err(MPROC_ECODEC,
                      "%s: truncated, malformed or nested more than %d deep",
                      what, MAX_DEPTH);
  copy = msgpack_zone_malloc(zone, len);
  if (copy == NULL)
    return mproc__err(MPROC_ENOMEM, "out of memory decoding %s", what);
  memcpy(copy, data, len);
  r = msgpack_unpack(copy, len, &off, zone, out);
  if (r == MSGPACK_UNPACK_SUCCESS)
    return 0;
  if (r == MSGPACK_UNPACK_EXTRA_BYTES)
    return mproc__err(MPROC_ECODEC, "%s: %zu bytes after the value", what,
                      len - off);
  if (r == MSGPACK_UNPACK_CONTINUE)
    return mproc__err(MPROC_ECODEC, "%s: truncated", what);
  if (r == MSGPACK_UNPACK_NOMEM_ERROR)
    return mproc__err(MPROC_ENOMEM, "out of memory decoding %s", what);
  return mproc__err(MPROC_ECODEC, "%s: malformed MessagePack", what);
}

static int check_string_keys(const msgpack_object *map, const char *what)
{
  for (uint32_t i = 0; i < map->via.map.size; i++)
    if (map->via.map.ptr[i].key.type != MSGPACK_OBJECT_STR)
      return mproc__err(MPROC_ECODEC, "%s: keys must be strings", what);
  return 0;
}

int mproc__args_new(mproc_args_t **out, const void *pos, size_t poslen,
                    const void *kw, size_t kwlen)
{
  mproc_args_t *a = calloc(1, sizeof *a);
  int rc;

  *out = NULL;
  if (a == NULL)
    return mproc__err(MPROC_ENOMEM, "out of memory");
  if (!msgpack_zone_init(&a->zone, 4096)) {
    free(a);
    return mproc__err(MPROC_ENOMEM, "out of memory");
  }
  a->kw.type = MSGPACK_OBJECT_NIL;
  rc = unpack_copy(&a->zone, pos, poslen, &a->pos, "arguments");
  if (rc == 0 && a->pos.type != MSGPACK_OBJECT_ARRAY)
    rc = mproc__err(MPROC_ECODEC, "arguments: not a list");
  if (rc == 0 && kwlen > 0) {
    rc = unpack_copy(&a->zone, kw, kwlen, &a->kw, "keyword arguments");
    if (rc == 0 && a->kw.type != MSGPACK_OBJECT_MAP)
      rc = mproc__err(MPROC_ECODEC, "keyword arguments: not a map");
    if (rc == 0)
      rc = check_string_keys(&a->kw, "keyword arguments");
  }
  if (rc != 0) {
    mproc__args_free(a);
    return rc;
  }
  *out = a;
  return 0;
}

/* Decode @len bytes at a->buf into @a; frees @a on failure. */
static int args_decode(mproc_args_t **out, mproc_args_t *a, size_t len)
{
  msgpack_unpack_return r;
  size_t off = 0;
  int rc = 0;

  a->kw.type = MSGPACK_OBJECT_NIL;
  if (a->buf == NULL || len == 0 || mproc__msgpack_bounded(a->buf, len) != 0)
    rc = mproc__err(MPROC_ECODEC,
                    "message: truncated, malformed or nested "
                    "more than %d deep",
                    MAX_DEPTH);
  if (rc == 0) {
    r = msgpack_unpack(a->buf, len, &off, &a->zone, &a->pos);
    if (r == MSGPACK_UNPACK_NOMEM_ERROR)
      rc = mproc__err(MPROC_ENOMEM, "out of memory decoding a message");
    else if (r != MSGPACK_UNPACK_SUCCESS)
      rc = mproc__err(MPROC_ECODEC, "message: malformed MessagePack");
    else if (a->pos.type != MSGPACK_OBJECT_ARRAY)
      rc = mproc__err(MPROC_ECODEC, "message: not a list");
  }
  if (rc != 0) {
    mproc__args_free(a);
    return rc;
  }
  *out = a;
  return 0;
}

/* The zone's first chunk for decoding @len bytes of a list: room for
 * the list's objects at once (msgpack's zone grows by doubling, so a
 * list of 1M values, 24 MB of objects, would ask 32 MB). The count comes
 * from an unchecked header, so it is bounded by @len (a value takes a
 * byte). */
static size_t zone_chunk(const void *buf, size_t len)
{
  const unsigned char *b = buf;
  size_t n = 0;

  if (len >= 5 && b[0] == 0xdd)
    n = (size_t)b[1] << 24 | (size_t)b[2] << 16 | (size_t)b[3] << 8 | b[4];
  else if (len >= 3 && b[0] == 0xdc)
    n = (size_t)b[1] << 8 | b[2];
  if (n > len)
    n = len;
  return n * sizeof(msgpack_object) + 1024;
}

/* The zone of the last large list freed, kept for the next one. A map of
 * 1M ints decodes its result into 24 MB of objects: allocated afresh
 * each time, glibc maps it, the decode page-faults all of it, and the
 * free unmaps it (in a VM, 75% of the parent's time in such a map; 3.4x
 * slower than with the memory kept). One zone at most, and only between
 * 1 MiB and 64 MiB, is kept. */
#define ZONE_KEEP_MIN ((size_t)1 << 20)
#define ZONE_KEEP_MAX ((size_t)64 << 20)
static _Atomic(msgpack_zone *) kept_zone;

static int zone_init(msgpack_zone *z, size_t need)
{
  msgpack_zone *k =
      need >= ZONE_KEEP_MIN ? atomic_exchange(&kept_zone, NULL) : NULL;

  if (k != NULL && k->chunk_size >= need) {
    *z = *k;
    free(k);
    return 1;
  }
  if (k != NULL) {
    msgpack_zone_destroy(k);
    free(k);
  }
  return msgpack_zone_init(z, need);
}

static void zone_release(msgpack_zone *z)
{
  msgpack_zone *k, *none = NULL;

  if (z->chunk_size >= ZONE_KEEP_MIN && z->chunk_size <= ZONE_KEEP_MAX &&
      (k = malloc(sizeof *k)) != NULL) {
    msgpack_zone_clear(z); /* keeps the first chunk, the large one */
    *k = *z;
    if (atomic_compare_exchange_strong(&kept_zone, &none, k))
      return;
    free(k);
  }
  msgpack_zone_destroy(z);
}

int mproc__args_take(mproc_args_t **out, void *buf, size_t len)
{
  mproc_args_t *a = calloc(1, sizeof *a);

  *out = NULL;
  if (a == NULL || !zone_init(&a->zone, zone_chunk(buf, len))) {
    free(a);
    free(buf);
    return mproc__err(MPROC_ENOMEM, "out of memory");
  }
  a->buf = buf;
  return args_decode(out, a, len);
}

/* The args live right before their bytes: one allocation, one free. */
void *mproc__args_buffer(size_t len)
{
  mproc_args_t *a;

  if (len > SIZE_MAX - sizeof *a)
    return NULL;
  a = malloc(sizeof *a + len);
  if (a == NULL)
    return NULL;
  memset(a, 0, sizeof *a);
  a->buf = a + 1;
  return a->buf;
}

void mproc__args_buffer_free(void *buf)
{
  if (buf != NULL)
    free((mproc_args_t *)buf - 1);
}

int mproc__args_take_buffer(mproc_args_t **out, void *buf, size_t len)
{
  mproc_args_t *a = (mproc_args_t *)buf - 1;

  *out = NULL;
  if (!zone_init(&a->zone, zone_chunk(buf, len))) {
    free(a);
    return mproc__err(MPROC_ENOMEM, "out of memory");
  }
  return args_decode(out, a, len);
}

void mproc__args_adopt_objs(mproc_args_t *a, mproc__boot_obj_t *objs, size_t n,
                            int own_handles)
{
  a->objs = objs;
  a->nobjs = n;
  a->own_handles = own_handles;
}

/* Imported objects drop the args' reference; handles nobody imported are
 * closed, except under fork, where they are the parent's descriptors
 * that the child's copies of the parent's objects still use. */
static void free_objs(mproc_args_t *args)
{
  for (size_t i = 0; i < args->nvalues; i++)
    mproc__obj_unref(args->values[i]);
  free(args->values);
  for (size_t i = 0; i < args->nobjs; i++) {
    mproc__boot_obj_t *bo = &args->objs[i];
    if (bo->obj != NULL)
      mproc__obj_unref(bo->obj);
    else if (args->own_handles)
      for (size_t j = 0; j < bo->nhandles; j++)
        mproc__plat_handle_close(bo->handles[j]);
  }
  free(args->objs);
}

void mproc__args_free(mproc_args_t *args)
{
  if (args == NULL)
    return;
  free_objs(args);
  zone_release(&args->zone);
  if (args->buf != (void *)(args + 1))
    free(args->buf);
  free(args);
}

void mproc_args_free(mproc_args_t *args)
{
  mproc__args_free(args);
}

static const char *type_name(const msgpack_object *o);

/* A value object (a proxy) made from value @o; @args owns it. */
static int resolve_value_object(mproc_args_t *args, const msgpack_object *o,
                                int kind, void **out, const char *label)
{
  const unsigned char *p = (const unsigned char *)o->via.ext.ptr;
  const mproc__obj_ops_t *ops = mproc__obj_ops_of(kind);
  mproc__obj_t *obj = NULL;
  void **more;
  int rc;

  if (o->via.ext.size < 1 || p[0] != kind)
    return mproc__err(
        MPROC_ETYPE, "%s must be %s, not %s", label, mproc_kind_name(kind),
        o->via.ext.size < 1 ? "an empty object" : mproc_kind_name(p[0]));
  if (ops == NULL || ops->pack_value == NULL)
    return mproc__err(MPROC_ENOSYS,
                      "%s: this program cannot receive %s objects", label,
                      mproc_kind_name(kind));
  if (args == NULL)
    return mproc__err(MPROC_EINVAL, "%s: no arguments to own the object",
                      label);
  more = realloc(args->values, (args->nvalues + 1) * sizeof *more);
  if (more == NULL)
    return mproc__err(MPROC_ENOMEM, "out of memory");
  args->values = more;
  rc = ops->import_obj(&obj, NULL, 0, p + 1, o->via.ext.size - 1);
  if (rc != 0)
    return rc;
  args->values[args->nvalues++] = obj;
  *out = obj;
  return 0;
}

/* The object that value @o refers to, imported on first use. */
static int resolve_object(mproc_args_t *args, const msgpack_object *o, int kind,
                          void **out, const char *label)
{
  const unsigned char *p = (const unsigned char *)o->via.ext.ptr;
  mproc__boot_obj_t *bo;
  const mproc__obj_ops_t *ops;
  mproc__obj_t *obj = NULL;
  uint32_t idx;
  int rc;

  if (o->type == MSGPACK_OBJECT_EXT && o->via.ext.type == MPROC__EXT_VALUE_OBJ)
    return resolve_value_object(args, o, kind, out, label);
  if (o->type != MSGPACK_OBJECT_EXT || o->via.ext.type != MPROC__EXT_OBJECT ||
      o->via.ext.size != 4)
    return mproc__err(MPROC_ETYPE, "%s must be %s, not %s", label,
                      mproc_kind_name(kind), type_name(o));
  idx =
      (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
  if (args == NULL || idx >= args->nobjs)
    return mproc__err(MPROC_ECODEC, "%s: object %u was not received", label,
                      (unsigned)idx);
  bo = &args->objs[idx];
  if (bo->kind != kind)
    return mproc__err(MPROC_ETYPE, "%s must be %s, not %s", label,
                      mproc_kind_name(kind), mproc_kind_name(bo->kind));
  if (bo->obj == NULL) {
    ops = mproc__obj_ops_of(kind);
    if (ops == NULL)
      return mproc__err(MPROC_ENOSYS,
                        "%s: this program cannot receive %s "
                        "objects (it does not link them)",
                        label, mproc_kind_name(kind));
    rc = ops->import_obj(&obj, bo->handles, bo->nhandles, bo->extra,
                         bo->extra_len);
    if (rc != 0)
      return rc;
    bo->obj = obj;
  }
  *out = bo->obj;
  return 0;
}

int mproc_args_object(mproc_args_t *args, const mproc_value_t *v, int kind,
                      void **out)
{
  if (v == NULL || out == NULL)
    return mproc__err(MPROC_EINVAL, "mproc_args_object: NULL argument");
  return resolve_object(args, (const msgpack_object *)(const void *)v, kind,
                        out, "value");
}

/* ------------------------------------------------------------------ */
/* Parsing arguments                                                   */
/* ------------------------------------------------------------------ */

/* The bytes of a string or bytes value, NULL for other types. msgpack-c
 * may give an empty one a NULL pointer; callers get "" instead, so that
 * NULL only ever means nil (z) and zero-length memcmp/memcpy stay
 * defined. */
static const char *obj_data(const msgpack_object *o, uint32_t *len)
{
  const char *p;

  if (o->type == MSGPACK_OBJECT_STR) {
    p = o->via.str.ptr;
    *len = o->via.str.size;
  } else if (o->type == MSGPACK_OBJECT_BIN) {
    p = o->via.bin.ptr;
    *len = o->via.bin.size;
  } else {
    *len = 0;
    return NULL;
  }
  return *len > 0 ? p : "";
}

/* Whether map key @k is the string @name of @len bytes. */
static int key_is(const msgpack_object *k, const char *name, size_t len)
{
  uint32_t n;
  const char *p = obj_data(k, &n);

  return k->type == MSGPACK_OBJECT_STR && n == len && memcmp(p, name, len) == 0;
}

static const char *type_name(const msgpack_object *o)
{
  switch (o->type) {
  case MSGPACK_OBJECT_NIL:
    return "None";
  case MSGPACK_OBJECT_BOOLEAN:
    return "bool";
  case MSGPACK_OBJECT_POSITIVE_INTEGER:
  case MSGPACK_OBJECT_NEGATIVE_INTEGER:
    return "int";
  case MSGPACK_OBJECT_FLOAT32:
  case MSGPACK_OBJECT_FLOAT64:
    return "float";
  case MSGPACK_OBJECT_STR:
    return "str";
  case MSGPACK_OBJECT_BIN:
    return "bytes";
  case MSGPACK_OBJECT_ARRAY:
    return "list";
  case MSGPACK_OBJECT_MAP:
    return "dict";
  default:
    if (o->type == MSGPACK_OBJECT_EXT && o->via.ext.type == MPROC__EXT_OBJECT)
      return "an mproc object";
    if (o->type == MSGPACK_OBJECT_EXT &&
        o->via.ext.type == MPROC__EXT_VALUE_OBJ)
      return "a proxy";
    return "extension";
  }
}

/* The units mproc_args_parse() knows (see mproc.h). */
#define PARSE_UNITS "ilLdpszyOo"

typedef struct parse {
  mproc_args_t *args;
  char func[64];         /* from ":name", for messages */
  const char *const *kw; /* keyword names, or NULL */
  int index;             /* 0-based unit being parsed */
} parse_t;

/* "task() argument 2" or "task() argument 'age' (pos 2)". */
static void arg_label(const parse_t *ps, char *buf, size_t cap)
{
  if (ps->kw != NULL)
    snprintf(buf, cap, "%s() argument '%s' (pos %d)", ps->func,
             ps->kw[ps->index], ps->index + 1);
  else
    snprintf(buf, cap, "%s() argument %d", ps->func, ps->index + 1);
}

static int type_err(const parse_t *ps, const char *want,
                    const msgpack_object *o)
{
  char label[160];

  arg_label(ps, label, sizeof label);
  return mproc__err(MPROC_ETYPE, "%s must be %s, not %s", label, want,
                    type_name(o));
}

static int get_int64(const msgpack_object *o, int64_t *out)
{
  if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
    *out = o->via.i64;
    return 0;
  }
  if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
    if (o->via.u64 > (uint64_t)INT64_MAX)
      return MPROC_ERANGE;
    *out = (int64_t)o->via.u64;
    return 0;
  }
  if (o->type == MSGPACK_OBJECT_BOOLEAN) {
    *out = o->via.boolean;
    return 0;
  }
  return MPROC_ETYPE;
}

static int range_err(const parse_t *ps, const msgpack_object *o,
                     const char *ctype)
{
  char label[160];

  arg_label(ps, label, sizeof label);
  if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
    return mproc__err(MPROC_ERANGE, "%s: %llu does not fit in %s", label,
                      (unsigned long long)o->via.u64, ctype);
  return mproc__err(MPROC_ERANGE, "%s: %lld does not fit in %s", label,
                    (long long)o->via.i64, ctype);
}

static int parse_int(const parse_t *ps, const msgpack_object *o, char unit,
                     va_list *ap)
{
  int64_t v;
  int rc = get_int64(o, &v);

  if (rc == MPROC_ETYPE)
    return type_err(ps, "int", o);
  if (rc != 0)
    return range_err(ps, o, "int64_t");
  if (unit == 'i' && (v < INT_MIN || v > INT_MAX))
    return range_err(ps, o, "int");
  if (unit == 'l' && (v < LONG_MIN || v > LONG_MAX))
    return range_err(ps, o, "long");
  if (unit == 'i')
    *va_arg(*ap, int *) = (int)v;
  else if (unit == 'l')
    *va_arg(*ap, long *) = (long)v;
  else
    *va_arg(*ap, int64_t *) = v;
  return 0;
}

static int parse_string(parse_t *ps, const msgpack_object *o, char unit,
                        int sized, va_list *ap)
{
  const char **dst = va_arg(*ap, const char **);
  int is_str = o->type == MSGPACK_OBJECT_STR;
  int is_bin = o->type == MSGPACK_OBJECT_BIN;
  uint32_t len;
  const char *data = obj_data(o, &len);
  char *copy;

  if (unit == 'z' && o->type == MSGPACK_OBJECT_NIL) {
    *dst = NULL;
    if (sized)
      *va_arg(*ap, size_t *) = 0;
    return 0;
  }
  if (!is_str && !(is_bin && (unit == 'y' || sized)))
    return type_err(ps, unit == 'y' ? "bytes" : "str", o);
  if (sized) {
    *dst = data;
    *va_arg(*ap, size_t *) = len;
    return 0;
  }
  /* Unsized strings promise NUL termination, so they are copied. */
  if (len > 0 && memchr(data, '\0', len) != NULL) {
    char label[160];
    arg_label(ps, label, sizeof label);
    return mproc__err(MPROC_ETYPE, "%s: embedded null character", label);
  }
  copy = msgpack_zone_malloc(&ps->args->zone, (size_t)len + 1);
  if (copy == NULL)
    return mproc__err(MPROC_ENOMEM, "out of memory");
  if (len > 0)
    memcpy(copy, data, len);
  copy[len] = '\0';
  *dst = copy;
  return 0;
}

static int parse_one(parse_t *ps, const msgpack_object *o, const char **fp,
                     va_list *ap)
{
  char unit = *(*fp)++;
  int sized = **fp == '#';
  int64_t v;

  if (sized)
    (*fp)++;
  switch (unit) {
  case 'i':
  case 'l':
  case 'L':
    return parse_int(ps, o, unit, ap);
  case 'd':
    if (o->type == MSGPACK_OBJECT_FLOAT32 || o->type == MSGPACK_OBJECT_FLOAT64)
      *va_arg(*ap, double *) = o->via.f64;
    else if (get_int64(o, &v) == 0)
      *va_arg(*ap, double *) = (double)v;
    else
      return type_err(ps, "float", o);
    return 0;
  case 'p':
    if (o->type == MSGPACK_OBJECT_NIL)
      *va_arg(*ap, int *) = 0;
    else if (o->type == MSGPACK_OBJECT_BOOLEAN)
      *va_arg(*ap, int *) = o->via.boolean;
    else if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER ||
             o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
      *va_arg(*ap, int *) = o->via.u64 != 0;
    else
      return type_err(ps, "bool", o);
    return 0;
  case 's':
  case 'z':
    return parse_string(ps, o, unit, sized, ap);
  case 'y': /* scan_format made sure of the '#' */
    return parse_string(ps, o, unit, sized, ap);
  case 'O':
    *va_arg(*ap, const mproc_value_t **) = (const mproc_value_t *)o;
    return 0;
  case 'o': {
    int kind = va_arg(*ap, int);
    void **out = va_arg(*ap, void **);
    char label[160];
    arg_label(ps, label, sizeof label);
    return resolve_object(ps->args, o, kind, out, label);
  }
  default:
    return mproc__err(MPROC_EINVAL, "unknown format unit '%c'", unit);
  }
}

/* Skip one unit's pointers when an optional argument is absent. */
static int skip_unit(const char **fp, va_list *ap)
{
  char unit = *(*fp)++;
  int sized = **fp == '#';

  if (sized)
    (*fp)++;
  if (unit == '\0' || strchr(PARSE_UNITS, unit) == NULL)
    return mproc__err(MPROC_EINVAL, "unknown format unit '%c'", unit);
  if (unit == 'o')
    (void)va_arg(*ap, int); /* the kind, before the pointer */
  (void)va_arg(*ap, void *);
  if (sized)
    (void)va_arg(*ap, size_t *);
  return 0;
}

static int format_err(const char *fmt, const char *p, const char *what)
{
  return mproc__err(MPROC_EINVAL, "format \"%s\", position %d: %s", fmt,
                    (int)(p - fmt), what);
}

/* Check @fmt whole before any pointer is read, count its units and find
 * ":name", so that a bad format fails the same way whatever the
 * arguments are. */
static int scan_format(const char *fmt, parse_t *ps, int *n_units,
                       int *n_required)
{
  int n = 0, required = -1;
  const char *p;

  snprintf(ps->func, sizeof ps->func, "function");
  for (p = fmt; *p != '\0' && *p != ':'; p++) {
    if (*p == '|') {
      if (required >= 0)
        return format_err(fmt, p, "a second '|'");
      required = n;
    } else if (strchr(PARSE_UNITS, *p) == NULL) {
      return format_err(fmt, p, "unknown format unit");
    } else if (p[1] == '#') {
      if (strchr("syz", *p) == NULL)
        return format_err(fmt, p, "only 's', 'y' and 'z' take '#'");
      n++, p++;
    } else if (*p == 'y') {
      return format_err(fmt, p, "'y' needs a length: use 'y#'");
    } else {
      n++;
    }
  }
  if (*p == ':')
    snprintf(ps->func, sizeof ps->func, "%s", p + 1);
  *n_units = n;
  *n_required = required < 0 ? n : required;
  return 0;
}

const msgpack_object *mproc__map_get(const msgpack_object *map, const char *key)
{
  size_t klen = strlen(key);

  if (map->type != MSGPACK_OBJECT_MAP)
    return NULL;
  for (uint32_t i = 0; i < map->via.map.size; i++) {
    if (key_is(&map->via.map.ptr[i].key, key, klen))
      return &map->via.map.ptr[i].val;
  }
  return NULL;
}

/* Every keyword given must name a unit. mproc_args_parse(), like
 * PyArg_ParseTuple, looks at positional arguments only. */
static int check_keywords(const parse_t *ps, int n_units)
{
  const msgpack_object *kw = &ps->args->kw;

  if (ps->kw == NULL || kw->type != MSGPACK_OBJECT_MAP)
    return 0;
  for (uint32_t i = 0; i < kw->via.map.size; i++) {
    const msgpack_object *k = &kw->via.map.ptr[i].key;
    uint32_t len;
    const char *name = obj_data(k, &len);
    int known = 0;

    for (int u = 0; u < n_units && !known; u++)
      known = key_is(k, ps->kw[u], strlen(ps->kw[u]));
    if (!known)
      return mproc__err(MPROC_EINVAL,
                        "%s() got an unexpected keyword argument '%.*s'",
                        ps->func, (int)(len > 200 ? 200 : len), name);
  }
  return 0;
}

/* CPython's wording: by keyword name when there is a kwlist, else by
 * position and count. */
static int missing_err(const parse_t *ps, int n_required, uint32_t given)
{
  if (ps->kw != NULL)
    return mproc__err(MPROC_EINVAL,
                      "%s() missing required argument '%s' (pos %d)", ps->func,
                      ps->kw[ps->index], ps->index + 1);
  return mproc__err(MPROC_EINVAL,
                    "%s() missing required argument %d (takes at least %d "
                    "argument%s, %u given)",
                    ps->func, ps->index + 1, n_required,
                    n_required == 1 ? "" : "s", given);
}

static int parse_args(parse_t *ps, const char *fmt, va_list *ap)
{
  const msgpack_object *pos = &ps->args->pos;
  int n_units, n_required, rc;
  uint32_t given = pos->via.array.size;
  const char *fp = fmt;

  rc = scan_format(fmt, ps, &n_units, &n_required);
  if (rc == 0 && given > (uint32_t)n_units)
    rc = mproc__err(MPROC_EINVAL, "%s() takes at most %d argument%s (%u given)",
                    ps->func, n_units, n_units == 1 ? "" : "s", given);
  if (rc == 0)
    rc = check_keywords(ps, n_units);
  for (ps->index = 0; rc == 0 && ps->index < n_units; ps->index++) {
    const msgpack_object *o = NULL, *byname = NULL;
    if (*fp == '|')
      fp++;
    if ((uint32_t)ps->index < given)
      o = &pos->via.array.ptr[ps->index];
    if (ps->kw != NULL)
      byname = mproc__map_get(&ps->args->kw, ps->kw[ps->index]);
    if (o != NULL && byname != NULL)
      return mproc__err(MPROC_EINVAL,
                        "argument for %s() given by name ('%s') and "
                        "position (%d)",
                        ps->func, ps->kw[ps->index], ps->index + 1);
    if (o == NULL)
      o = byname;
    if (o == NULL && ps->index < n_required)
      return missing_err(ps, n_required, given);
    rc = o ? parse_one(ps, o, &fp, ap) : skip_unit(&fp, ap);
  }
  return rc;
}

/* The commonest call, one number from one argument ("i", "d", ...),
 * parsed at once: 1 when done, 0 to take the general path, which gives
 * the same results and every error message. Nothing is read from @ap
 * before the value is known to fit. */
static int parse_one_number(mproc_args_t *args, const char *fmt, va_list *ap)
{
  const msgpack_object *o;
  int64_t v;

  if (fmt[0] == '\0' || fmt[1] != '\0' || args->pos.via.array.size != 1 ||
      args->kw.type != MSGPACK_OBJECT_NIL)
    return 0;
  o = &args->pos.via.array.ptr[0];
  if (fmt[0] == 'd' && (o->type == MSGPACK_OBJECT_FLOAT32 ||
                        o->type == MSGPACK_OBJECT_FLOAT64)) {
    *va_arg(*ap, double *) = o->via.f64;
    return 1;
  }
  if (get_int64(o, &v) != 0)
    return 0;
  switch (fmt[0]) {
  case 'i':
    if (v < INT_MIN || v > INT_MAX)
      return 0;
    *va_arg(*ap, int *) = (int)v;
    return 1;
  case 'l':
    if (v < LONG_MIN || v > LONG_MAX)
      return 0;
    *va_arg(*ap, long *) = (long)v;
    return 1;
  case 'L':
    *va_arg(*ap, int64_t *) = v;
    return 1;
  case 'd':
    *va_arg(*ap, double *) = (double)v;
    return 1;
  default:
    return 0;
  }
}

int mproc__args_parsev(mproc_args_t *args, const char *fmt, va_list *ap)
{
  parse_t ps = {.args = args};

  if (args == NULL || fmt == NULL)
    return mproc__err(MPROC_EINVAL, "mproc_args_parse: NULL argument");
  return parse_args(&ps, fmt, ap);
}

int mproc__args_skip(const char *fmt, va_list *ap)
{
  parse_t ps = {.args = NULL};
  int n_units, n_required, rc = scan_format(fmt, &ps, &n_units, &n_required);
  const char *fp = fmt;

  for (int i = 0; rc == 0 && i < n_units; i++) {
    if (*fp == '|')
      fp++;
    rc = skip_unit(&fp, ap);
  }
  return rc;
}

int mproc_args_parse(mproc_args_t *args, const char *fmt, ...)
{
  parse_t ps = {.args = args};
  va_list ap;
  int rc = 0;

  if (args == NULL || fmt == NULL)
    return mproc__err(MPROC_EINVAL, "mproc_args_parse: NULL argument");
  va_start(ap, fmt);
  if (!parse_one_number(args, fmt, &ap))
    rc = parse_args(&ps, fmt, &ap);
  va_end(ap);
  return rc;
}

int mproc_args_parse_kw(mproc_args_t *args, const char *fmt,
                        const char *const *kwlist, ...)
{
  parse_t ps = {.args = args, .kw = kwlist};
  int n_units, n_required, rc;
  va_list ap;

  if (args == NULL || fmt == NULL || kwlist == NULL)
    return mproc__err(MPROC_EINVAL, "mproc_args_parse_kw: NULL argument");
  rc = scan_format(fmt, &ps, &n_units, &n_required);
  for (int i = 0; rc == 0 && i < n_units; i++)
    if (kwlist[i] == NULL)
      rc = mproc__err(MPROC_EINVAL,
                      "%s(): kwlist has fewer names than the "
                      "format has units",
                      ps.func);
  if (rc != 0)
    return rc;
  va_start(ap, kwlist);
  rc = parse_args(&ps, fmt, &ap);
  va_end(ap);
  return rc;
}

size_t mproc_args_count(const mproc_args_t *args)
{
  return args ? args->pos.via.array.size : 0;
}

const mproc_value_t *mproc_args_at(const mproc_args_t *args, size_t i)
{
  if (args == NULL || i >= args->pos.via.array.size)
    return NULL;
  return (const mproc_value_t *)&args->pos.via.array.ptr[i];
}

const mproc_value_t *mproc_args_kw(const mproc_args_t *args, const char *key)
{
  if (args == NULL || key == NULL)
    return NULL;
  return (const mproc_value_t *)mproc__map_get(&args->kw, key);
}

/* ------------------------------------------------------------------ */
/* Reading values                                                      */
/* ------------------------------------------------------------------ */

#define OBJ(v) ((const msgpack_object *)(const void *)(v))

static int value_err(const mproc_value_t *v, const char *want)
{
  return mproc__err(MPROC_ETYPE, "value must be %s, not %s", want,
                    v ? type_name(OBJ(v)) : "NULL");
}

mproc_type_t mproc_value_type(const mproc_value_t *v)
{
  switch (v ? OBJ(v)->type : MSGPACK_OBJECT_NIL) {
  case MSGPACK_OBJECT_BOOLEAN:
    return MPROC_T_BOOL;
  case MSGPACK_OBJECT_POSITIVE_INTEGER:
  case MSGPACK_OBJECT_NEGATIVE_INTEGER:
    return MPROC_T_INT;
  case MSGPACK_OBJECT_FLOAT32:
  case MSGPACK_OBJECT_FLOAT64:
    return MPROC_T_DOUBLE;
  case MSGPACK_OBJECT_STR:
    return MPROC_T_STR;
  case MSGPACK_OBJECT_BIN:
    return MPROC_T_BYTES;
  case MSGPACK_OBJECT_ARRAY:
    return MPROC_T_LIST;
  case MSGPACK_OBJECT_MAP:
    return MPROC_T_MAP;
  case MSGPACK_OBJECT_EXT:
    /* Extensions other than mproc's objects are never sent by mproc:
     * every reader refuses them (ETYPE). */
    return OBJ(v)->via.ext.type == MPROC__EXT_OBJECT ||
                   OBJ(v)->via.ext.type == MPROC__EXT_VALUE_OBJ
               ? MPROC_T_OBJECT
               : MPROC_T_OTHER;
  default:
    return MPROC_T_NIL;
  }
}

int mproc_value_bool(const mproc_value_t *v, int *out)
{
  if (v == NULL || out == NULL || OBJ(v)->type != MSGPACK_OBJECT_BOOLEAN)
    return value_err(v, "bool");
  *out = OBJ(v)->via.boolean;
  return 0;
}

int mproc_value_int(const mproc_value_t *v, int64_t *out)
{
  int rc;

  if (v == NULL || out == NULL)
    return value_err(v, "int");
  rc = get_int64(OBJ(v), out);
  if (rc == MPROC_ERANGE)
    return mproc__err(rc, "integer does not fit in int64");
  return rc == 0 ? 0 : value_err(v, "int");
}

int mproc_value_double(const mproc_value_t *v, double *out)
{
  int64_t i;

  if (v == NULL || out == NULL)
    return value_err(v, "float");
  if (OBJ(v)->type == MSGPACK_OBJECT_FLOAT32 ||
      OBJ(v)->type == MSGPACK_OBJECT_FLOAT64) {
    *out = OBJ(v)->via.f64;
    return 0;
  }
  if (get_int64(OBJ(v), &i) != 0)
    return value_err(v, "float");
  *out = (double)i;
  return 0;
}

int mproc_value_bytes(const mproc_value_t *v, const void **data, size_t *len)
{
  uint32_t n;
  const char *p = v ? obj_data(OBJ(v), &n) : NULL;

  if (p == NULL || data == NULL || len == NULL)
    return value_err(v, "str or bytes");
  *data = p;
  *len = n;
  return 0;
}

int mproc_value_len(const mproc_value_t *v, size_t *len)
{
  if (v == NULL || len == NULL)
    return value_err(v, "list or dict");
  if (OBJ(v)->type == MSGPACK_OBJECT_ARRAY)
    *len = OBJ(v)->via.array.size;
  else if (OBJ(v)->type == MSGPACK_OBJECT_MAP)
    *len = OBJ(v)->via.map.size;
  else
    return value_err(v, "list or dict");
  return 0;
}

const mproc_value_t *mproc_value_at(const mproc_value_t *v, size_t i)
{
  if (v == NULL || OBJ(v)->type != MSGPACK_OBJECT_ARRAY ||
      i >= OBJ(v)->via.array.size)
    return NULL;
  return (const mproc_value_t *)&OBJ(v)->via.array.ptr[i];
}

const mproc_value_t *mproc_value_get(const mproc_value_t *v, const char *key)
{
  if (v == NULL || key == NULL)
    return NULL;
  return (const mproc_value_t *)mproc__map_get(OBJ(v), key);
}

int mproc_value_entry(const mproc_value_t *v, size_t i,
                      const mproc_value_t **key, const mproc_value_t **val)
{
  if (v == NULL || key == NULL || val == NULL ||
      OBJ(v)->type != MSGPACK_OBJECT_MAP)
    return value_err(v, "dict");
  if (i >= OBJ(v)->via.map.size)
    return mproc__err(MPROC_ERANGE, "map entry %zu of %u", i,
                      OBJ(v)->via.map.size);
  *key = (const mproc_value_t *)&OBJ(v)->via.map.ptr[i].key;
  *val = (const mproc_value_t *)&OBJ(v)->via.map.ptr[i].val;
  return 0;
}
