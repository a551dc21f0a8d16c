/*
 * A program outside mproc's tree, built against an installed mproc by each
 * consumer leg of scripts/test.sh (CMake package, pkg-config, FetchContent,
 * Debian packages; MinGW too). It checks that the header and the library
 * agree on the version, starts a child with spawn (the method that
 * re-executes the program: the hardest for a consumer's build to get
 * right) and passes it an argument and a Queue, and runs a Pool.
 * Prints "consumer: ok ..." and exits 0, or says what failed and exits 1.
 */
#include <mproc.h>
#include <stdio.h>
#include <string.h>

MPROC_TARGET(child)
{
  const char *word;
  mproc_queue_t *q;

  if (mproc_args_parse(args, "so", &word, MPROC_KIND_QUEUE, &q) != 0)
    return 2;
  return mproc_queue_put(q, 5.0, "s#", word, strlen(word)) == 0 ? 7 : 3;
}

MPROC_TARGET(square)
{
  int x;

  if (mproc_args_parse(args, "i", &x) != 0)
    return 1;
  return mproc_return("i", x * x);
}

static int fail(const char *what)
{
  fprintf(stderr, "consumer: %s failed: %s\n", what, mproc_last_error());
  return 1;
}

/* A spawned child gets a word and a queue, puts the word back, exits 7. */
static int run_child(const mproc_context_t *spawn)
{
  mproc_process_t *p = NULL;
  mproc_queue_t *q = NULL;
  mproc_args_t *item = NULL;
  const char *word;
  size_t len;
  int code = 0, rc = 1;

  if (mproc_queue_create(&q, 0) != 0 ||
      mproc_context_process(spawn, &p, child, "so", "hello", q) != 0 ||
      mproc_process_start(p) != 0 || mproc_queue_get(q, 30.0, &item) != 0 ||
      mproc_process_join(p, 30.0) != 0 ||
      mproc_process_exitcode(p, &code) != 0 ||
      mproc_args_parse(item, "s#", &word, &len) != 0) {
    rc = fail("child");
    goto out;
  }
  if (code != 7 || len != 5 || memcmp(word, "hello", 5) != 0) {
    fprintf(stderr, "consumer: child exited %d and sent '%.*s'\n", code,
            (int)len, word);
    goto out;
  }
  rc = 0;
out:
  mproc_args_free(item);
  mproc_process_free(p);
  mproc_queue_free(q);
  return rc;
}

/* Two spawned workers square 0..9. */
static int run_pool(const mproc_context_t *spawn)
{
  mproc_pool_options_t opts = {.processes = 2, .context = spawn};
  mproc_pool_t *pool = NULL;
  mproc_items_t *items = NULL;
  mproc_args_t *out = NULL;
  int64_t sum = 0, v;
  int rc = 1;

  if (mproc_pool_create(&pool, &opts) != 0 || mproc_items_create(&items) != 0)
    goto err;
  for (int i = 0; i < 10; i++)
    if (mproc_items_add(items, "i", i) != 0)
      goto err;
  if (mproc_pool_map(pool, &out, square, items, 0) != 0)
    goto err;
  for (size_t i = 0; i < mproc_args_count(out); i++) {
    if (mproc_value_int(mproc_args_at(out, i), &v) != 0)
      goto err;
    sum += v;
  }
  if (mproc_args_count(out) != 10 || sum != 285) {
    fprintf(stderr, "consumer: pool map gave %zu results summing to %lld\n",
            mproc_args_count(out), (long long)sum);
    goto out;
  }
  if (mproc_pool_close(pool) != 0 || mproc_pool_join(pool) != 0)
    goto err;
  rc = 0;
  goto out;
err:
  rc = fail("pool");
out:
  mproc_args_free(out);
  mproc_items_free(items);
  mproc_pool_free(pool);
  return rc;
}

int main(int argc, char **argv)
{
  const mproc_context_t *spawn;

  mproc_main(argc, argv);
  if (mproc_version() != MPROC_VERSION_HEX) {
    fprintf(stderr, "consumer: header %d.%d.%d, library %s\n",
            MPROC_VERSION_MAJOR, MPROC_VERSION_MINOR, MPROC_VERSION_PATCH,
            mproc_version_string());
    return 1;
  }
  spawn = mproc_get_context("spawn");
  if (spawn == NULL)
    return fail("get_context(spawn)");
  if (run_child(spawn) != 0 || run_pool(spawn) != 0)
    return 1;
  printf("consumer: ok (mproc %s: spawned child, pool of 2)\n",
         mproc_version_string());
  return 0;
}
