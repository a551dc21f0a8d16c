/*
 * libFuzzer target: arbitrary bytes as encoded arguments (the first byte
 * splits them into positional and keyword parts), then every reader a
 * target may use: the parse formats and a walk of the whole value tree.
 */
#include <stddef.h>
#include <stdint.h>

#include "internal.h"

static void walk(const mproc_value_t *v, int depth)
{
  const mproc_value_t *k, *e;
  const void *data;
  size_t n = 0;
  int64_t i;
  double d;
  int b;

  if (v == NULL || depth > 64)
    return;
  (void)mproc_value_type(v);
  (void)mproc_value_bool(v, &b);
  (void)mproc_value_int(v, &i);
  (void)mproc_value_double(v, &d);
  (void)mproc_value_bytes(v, &data, &n);
  if (mproc_value_len(v, &n) != 0)
    return;
  for (size_t j = 0; j < n; j++) {
    walk(mproc_value_at(v, j), depth + 1);
    if (mproc_value_entry(v, j, &k, &e) == 0) {
      walk(k, depth + 1);
      walk(e, depth + 1);
    }
  }
  (void)mproc_value_get(v, "name");
}

static void parse_all(mproc_args_t *a)
{
  static const char *const kw[] = {"a", "b", "c", "d", NULL};
  const char *s, *z;
  const void *y;
  const mproc_value_t *o;
  size_t n;
  int i, p;
  long l;
  int64_t L;
  double d;

  (void)mproc_args_parse(a, "|ilLdp:f", &i, &l, &L, &d, &p);
  (void)mproc_args_parse(a, "|ss#y#z:f", &s, &s, &n, &y, &n, &z);
  (void)mproc_args_parse(a, "|OOOO", &o, &o, &o, &o);
  (void)mproc_args_parse_kw(a, "|siOd:f", kw, &s, &i, &o, &d);
  (void)mproc_args_parse_kw(a, "s#|y#z#p:f", kw, &s, &n, &y, &n, &z, &n, &p);
  (void)mproc_args_parse(a, "O|ss", &o, &s, &z);
  for (size_t j = 0; j < mproc_args_count(a); j++)
    walk(mproc_args_at(a, j), 0);
  walk(mproc_args_kw(a, "a"), 0);
  walk((const mproc_value_t *)&a->kw, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  mproc_args_t *a;
  size_t split;

  if (size < 1)
    return 0;
  split = data[0] < size - 1 ? data[0] : size - 1;
  if (mproc__args_new(&a, data + 1, split, data + 1 + split,
                      size - 1 - split) == 0) {
    parse_all(a);
    mproc__args_free(a);
  }
  return 0;
}
