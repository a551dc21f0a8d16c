/*
 * The value codec: Py_BuildValue-style formats packed as MessagePack
 * (msgpack-c), and PyArg_ParseTuple-style parsing of what a child
 * receives. mproc_value_t is a msgpack_object seen through an opaque type.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define MAX_NEST 32

/* ------------------------------------------------------------------ */
/* Building                                                            */
/* ------------------------------------------------------------------ */

typedef struct build {
  const char *fmt; /* the whole format, for messages */
  const char *p;   /* the next unit */
  va_list *ap;
  msgpack_packer pk;
  int depth;
} build_t;

static int build_err(const build_t *b, const char *what)
{
  return mproc__err(MPROC_EINVAL, "format \"%s\", position %d: %s", b->fmt,
                    (int)(b->p - b->fmt), what);
}

static const char *skip_separators(const char *p)
{
  while (*p == ' ' || *p == ',' || *p == ':' || *p == '\t')
    p++;
  return p;
}

/* Count the units before @close (or the end when @close is 0), without
 * consuming anything. -1 when brackets do not balance. */
static int count_units(const char *p, char close)
{
  int n = 0, level = 0;

  for (;; p++) {
    p = skip_separators(p);
    if (*p == '\0')
      return level == 0 && close == 0 ? n : -1;
    if (level == 0 && *p == close)
      return n;
    if (*p == '[' || *p == '{') {
      if (level == 0)
        n++;
      level++;
    } else if (*p == ']' || *p == '}') {
      if (--level < 0)
        return -1;
    } else if (*p != '#' && level == 0) {
      n++;
    }
  }
}

static int pack_unit(build_t *b);

static int pack_sequence(build_t *b, char close, int is_map)
{
  int n = count_units(b->p, close);
  int rc = 0;

  if (n < 0)
    return build_err(b, "unbalanced brackets");
  if (is_map && n % 2 != 0)
    return build_err(b, "a map needs key:value pairs");
  if (++b->depth > MAX_NEST)
    return build_err(b, "nested too deeply");
  if (is_map)
    msgpack_pack_map(&b->pk, (size_t)n / 2);
  else
    msgpack_pack_array(&b->pk, (size_t)n);
  for (int i = 0; i < n && rc == 0; i++) {
    b->p = skip_separators(b->p);
    if (is_map && i % 2 == 0 && *b->p != 's')
      return build_err(b, "map keys must be strings ('s')");
    rc = pack_unit(b);
  }
  b->depth--;
  if (rc == 0) {
    b->p = skip_separators(b->p);
    b->p++; /* the closing bracket, checked by count_units */
  }
  return rc;
}

static void pack_str(msgpack_packer *pk, const char *s, size_t len)
{
  msgpack_pack_str(pk, len);
  msgpack_pack_str_body(pk, s, len);
}

static int pack_string_unit(build_t *b, char unit)
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
  if (unit == 'y') {
    msgpack_pack_bin(&b->pk, len);
    msgpack_pack_bin_body(&b->pk, s, len);
  } else if (s == NULL) {
    msgpack_pack_nil(&b->pk);
  } else {
    pack_str(&b->pk, s, len);
  }
  return 0;
}

static int pack_unit(build_t *b)
{
  char unit;

  b->p = skip_separators(b->p);
  unit = *b->p++;
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
  case 's':
  case 'z':
    return pack_string_unit(b, 's');
  case 'y':
    if (*b->p != '#')
      return build_err(b, "'y' needs a length: use 'y#'");
    return pack_string_unit(b, 'y');
  case '[':
    return pack_sequence(b, ']', 0);
  case '{':
    return pack_sequence(b, '}', 1);
  default:
    b->p--;
    return build_err(b, "unknown format unit");
  }
}

static int build_init(build_t *b, msgpack_sbuffer *out, const char *fmt,
                      va_list *ap)
{
  b->fmt = fmt ? fmt : "";
  b->p = b->fmt;
  b->ap = ap;
  b->depth = 0;
  msgpack_packer_init(&b->pk, out, msgpack_sbuffer_write);
  return 0;
}

int mproc__encode_args(msgpack_sbuffer *out, const char *fmt, va_list *ap)
{
  build_t b;
  int n, rc = 0;

  build_init(&b, out, fmt, ap);
  n = count_units(b.fmt, 0);
  if (n < 0)
    return build_err(&b, "unbalanced brackets");
  msgpack_pack_array(&b.pk, (size_t)n);
  for (int i = 0; i < n && rc == 0; i++)
    rc = pack_unit(&b);
  return rc;
}

int mproc__encode_kwargs(msgpack_sbuffer *out, const char *fmt, va_list *ap)
{
  build_t b;
  int rc;

  build_init(&b, out, fmt, ap);
  b.p = skip_separators(b.p);
  if (*b.p != '{' || count_units(b.fmt, 0) != 1)
    return build_err(&b, "keyword arguments must be one map, like "
                         "\"{s:i,s:s}\"");
  rc = pack_unit(&b);
  if (rc == 0 && *skip_separators(b.p) != '\0')
    return build_err(&b, "unexpected text after the map");
  return rc;
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

/* msgpack-c allocates a container's slots before reading its elements, so
 * a 5-byte header claiming 2^32 entries would ask for ~100 GB. Before
 * unpacking untrusted bytes, walk the headers once: every element still
 * owed needs at least one byte of input, or the data is refused. This
 * validates sizes only; msgpack-c still does the decoding. */
int mproc__msgpack_bounded(const void *data, size_t len)
{
  const unsigned char *p = data, *end = p + len;
  uint64_t owed = 1; /* elements still to read; one top-level object */

  while (owed > 0) {
    uint64_t skip = 0, add = 0;
    unsigned char c;

    if (p >= end || owed > (uint64_t)(end - p))
      return -1;
    c = *p++;
    owed--;
    if (c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3)
      continue;
    if (c >= 0x80 && c <= 0x8f)
      add = 2u * (c & 0x0fu);
    else if (c >= 0x90 && c <= 0x9f)
      add = c & 0x0fu;
    else if (c >= 0xa0 && c <= 0xbf)
      skip = c & 0x1fu;
    else if (c < 0xc4) /* 0xc1: never used */
      return -1;
    else {
      int h = codes[c - 0xc4].hdr;
      if ((size_t)(end - p) < (size_t)h)
        return -1;
      uint64_t n = be(p, h);
      p += h;
      switch (codes[c - 0xc4].kind) {
      case FIXED:
        skip = codes[c - 0xc4].size;
        break;
      case PAYLOAD:
        skip = n + codes[c - 0xc4].size;
        break;
      case ITEMS:
        add = n;
        break;
      default:
        add = 2 * n;
        break;
      }
    }
    if (skip > (uint64_t)(end - p))
      return -1;
    p += skip;
    owed += add;
  }
  return 0;
}

/* Copy @len bytes into @zone and unpack exactly one object from them.
 * msgpack-c's objects point into their input, so the copy makes them live
 * as long as the zone. */
static int unpack_copy(msgpack_zone *zone, const void *data, size_t len,
                       msgpack_object *out, const char *what)
{
  char *copy = msgpack_zone_malloc(zone, len ? len : 1);
  size_t off = 0;
  msgpack_unpack_return r;

  if (copy == NULL)
    return mproc__err(MPROC_ENOMEM, "out of memory decoding %s", what);
  if (mproc__msgpack_bounded(data, len) != 0)
    return mproc__err(MPROC_ECODEC, "%s: truncated or malformed", what);
  if (len)
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

void mproc__args_free(mproc_args_t *args)
{
  if (args == NULL)
    return;
  msgpack_zone_destroy(&args->zone);
  free(args);
}

/* ------------------------------------------------------------------ */
/* Parsing arguments                                                   */
/* ------------------------------------------------------------------ */

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
    return "extension";
  }
}

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

static int parse_int(const parse_t *ps, const msgpack_object *o, char unit,
                     va_list *ap)
{
  char label[160];
  int64_t v;
  int rc = get_int64(o, &v);

  if (rc == MPROC_ETYPE)
    return type_err(ps, "int", o);
  if (rc == 0 && unit == 'i' && (v < INT_MIN || v > INT_MAX))
    rc = MPROC_ERANGE;
  if (rc == 0 && unit == 'l' && (v < LONG_MIN || v > LONG_MAX))
    rc = MPROC_ERANGE;
  if (rc != 0) {
    arg_label(ps, label, sizeof label);
    return mproc__err(MPROC_ERANGE, "%s: integer does not fit", label);
  }
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
  const char *data = is_str ? o->via.str.ptr : is_bin ? o->via.bin.ptr : NULL;
  uint32_t len = is_str ? o->via.str.size : is_bin ? o->via.bin.size : 0;
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
  case 'y':
    if (!sized)
      return mproc__err(MPROC_EINVAL, "format unit 'y' needs '#'");
    return parse_string(ps, o, unit, sized, ap);
  case 'O':
    *va_arg(*ap, const mproc_value_t **) = (const mproc_value_t *)o;
    return 0;
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
  if (strchr("ilLdpszyO", unit) == NULL || unit == '\0')
    return mproc__err(MPROC_EINVAL, "unknown format unit '%c'", unit);
  (void)va_arg(*ap, void *);
  if (sized)
    (void)va_arg(*ap, size_t *);
  return 0;
}

/* Count the units of @fmt and find ":name". */
static int scan_format(const char *fmt, parse_t *ps, int *n_units,
                       int *n_required)
{
  int n = 0, required = -1;
  const char *p;

  snprintf(ps->func, sizeof ps->func, "function");
  for (p = fmt; *p != '\0' && *p != ':'; p++) {
    if (*p == '|') {
      if (required >= 0)
        return mproc__err(MPROC_EINVAL, "format has two '|'");
      required = n;
    } else if (*p == '#') {
      continue;
    } else if (strchr("ilLdpszyO", *p) != NULL) {
      n++;
    } else {
      return mproc__err(MPROC_EINVAL, "unknown format unit '%c' in \"%s\"", *p,
                        fmt);
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
    const msgpack_object *k = &map->via.map.ptr[i].key;
    if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == klen &&
        memcmp(k->via.str.ptr, key, klen) == 0)
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
    int known = 0;
    for (int u = 0; u < n_units && !known; u++)
      known = strlen(ps->kw[u]) == k->via.str.size &&
              memcmp(ps->kw[u], k->via.str.ptr, k->via.str.size) == 0;
    if (!known)
      return mproc__err(MPROC_EINVAL,
                        "%s() got an unexpected keyword argument '%.*s'",
                        ps->func, (int)k->via.str.size, k->via.str.ptr);
  }
  return 0;
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
    if (o == NULL && ps->index < n_required) {
      char label[160];
      arg_label(ps, label, sizeof label);
      return mproc__err(MPROC_EINVAL, "%s() missing required argument: %s",
                        ps->func, label);
    }
    rc = o ? parse_one(ps, o, &fp, ap) : skip_unit(&fp, ap);
  }
  return rc;
}

int mproc_args_parse(mproc_args_t *args, const char *fmt, ...)
{
  parse_t ps = {.args = args};
  va_list ap;
  int rc;

  if (args == NULL || fmt == NULL)
    return mproc__err(MPROC_EINVAL, "mproc_args_parse: NULL argument");
  va_start(ap, fmt);
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
  if (v == NULL || data == NULL || len == NULL)
    return value_err(v, "str or bytes");
  if (OBJ(v)->type == MSGPACK_OBJECT_STR) {
    *data = OBJ(v)->via.str.ptr;
    *len = OBJ(v)->via.str.size;
  } else if (OBJ(v)->type == MSGPACK_OBJECT_BIN) {
    *data = OBJ(v)->via.bin.ptr;
    *len = OBJ(v)->via.bin.size;
  } else {
    return value_err(v, "str or bytes");
  }
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
