/*
 * Writes the seed corpus: valid bootstrap messages and argument encodings
 * of several shapes, so the fuzzers start from the real format.
 * Usage: make_corpus DIR (writes the files under DIR/bootstrap, DIR/args).
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define N_SEEDS 4

static void write_file(const char *dir, const char *name, const void *data,
                       size_t len)
{
  char path[1024];
  FILE *f;

  snprintf(path, sizeof path, "%s/%s", dir, name);
  f = fopen(path, "wb");
  if (f == NULL) {
    perror(path);
    return;
  }
  fwrite(data, 1, len, f);
  fclose(f);
}

static void encode(msgpack_sbuffer *out, const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  (void)mproc__encode_args(out, fmt, &ap);
  va_end(ap);
}

static void encode_kw(msgpack_sbuffer *out, const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  (void)mproc__encode_kwargs(out, fmt, &ap);
  va_end(ap);
}

int main(int argc, char **argv)
{
  static unsigned char key[32] = {7};
  static char long_str[200];
  int64_t ident[5] = {1, 2, 3, 4, 5};
  char dir[900], name[64];
  msgpack_sbuffer args[N_SEEDS], kw, msg;
  unsigned char buf[4096];

  if (argc != 2)
    return 2;
  memset(long_str, 'x', sizeof long_str);
  for (int i = 0; i < N_SEEDS; i++)
    msgpack_sbuffer_init(&args[i]);
  msgpack_sbuffer_init(&kw);
  encode(&args[0], "");
  encode(&args[1], "sidp", "jason", 3, 2.5, 1);
  encode(&args[2], "[i,s]{s:y#}N", 1, "x", "k", "ab", (size_t)2);
  /* Nesting, a str8, negative and 64-bit numbers (under 256 bytes: the
   * args seeds give the positional length in one byte). */
  encode(&args[3], "[[[i,s#]]]{s:{s:[d,N,L]}}z", -70000, long_str,
         sizeof long_str, "m", "n", -0.125, (int64_t)INT64_MIN,
         (const char *)NULL);
  encode_kw(&kw, "{s:s,s:i}", "a", "egon", "b", 18);
  snprintf(dir, sizeof dir, "%s/args", argv[1]);
  for (int i = 0; i < N_SEEDS; i++) {
    /* First byte: how many bytes are positional; then kwargs. */
    size_t n = args[i].size + (i % 2 == 1 ? kw.size : 0);
    if (args[i].size > 255 || n + 1 > sizeof buf)
      continue;
    buf[0] = (unsigned char)args[i].size;
    memcpy(buf + 1, args[i].data, args[i].size);
    if (i % 2 == 1)
      memcpy(buf + 1 + args[i].size, kw.data, kw.size);
    snprintf(name, sizeof name, "seed%d", i);
    write_file(dir, name, buf, n + 1);
  }
  snprintf(dir, sizeof dir, "%s/bootstrap", argv[1]);
  for (int i = 0; i < N_SEEDS; i++) {
    mproc__boot_t b = {0};
    b.target = "task";
    b.name = i ? "Process-1:2" : "Process-1";
    b.authkey = key;
    b.authkey_len = sizeof key;
    b.identity = ident;
    b.identity_len = i == 3 ? 5 : i ? 2 : 1;
    b.parent_pid = 100 + i;
    b.parent_name = "MainProcess";
    b.daemon = i == 2;
    b.method = i % 3 + 1;
    b.args = args[i].data;
    b.args_len = args[i].size;
    b.kwargs = i % 2 == 1 ? kw.data : NULL;
    b.kwargs_len = i % 2 == 1 ? kw.size : 0;
    msgpack_sbuffer_init(&msg);
    if (mproc__boot_encode(&b, &msg) == 0) {
      snprintf(name, sizeof name, "seed%d", i);
      write_file(dir, name, msg.data, msg.size);
    }
    msgpack_sbuffer_destroy(&msg);
  }
  for (int i = 0; i < N_SEEDS; i++)
    msgpack_sbuffer_destroy(&args[i]);
  msgpack_sbuffer_destroy(&kw);
  return 0;
}
