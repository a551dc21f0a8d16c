/*
 * A program that leaves its pool running when it returns from main(), as
 * the README's Pool snippet does: for the exit test (test_pool_exit.c).
 * It cannot be the test binary, whose main() must return to the harness.
 *
 *   mproc_pool_exit_helper METHOD [busy]
 *     creates a pool of two workers with METHOD, maps 100 squares, checks
 *     them, and returns 0 from main() without closing or freeing the
 *     pool. With "busy", a task that never ends is still running (and
 *     others queued) when main() returns. Exits with 0, or 1 when the
 *     map failed. A hang at exit is the failure the test looks for.
 */
#include <stdio.h>
#include <string.h>

#include "mproc.h"

MPROC_TARGET(exit_sqr)
{
  int x;

  if (mproc_args_parse(args, "i", &x) != 0)
    return 1;
  return mproc_return("i", x * x);
}

MPROC_TARGET(exit_block)
{
  (void)args;
  for (;;)
    mproc_args_count(args); /* spins until the pool ends it */
  return 0;
}

/* File scope: left as they are at exit, yet reachable (not leaks). */
static mproc_pool_t *pool;
static mproc_items_t *items;
static mproc_args_t *out;
static mproc_async_t *ar[11];

int main(int argc, char **argv)
{
  mproc_pool_options_t o = {.processes = 2};
  int64_t v;

  mproc_main(argc, argv);
  if (argc < 2 || (o.context = mproc_get_context(argv[1])) == NULL)
    return 2;
  if (mproc_pool_create(&pool, &o) != 0 || mproc_items_create(&items) != 0)
    return 1;
  for (int i = 0; i < 100; i++)
    mproc_items_add(items, "i", i);
  if (mproc_pool_map(pool, &out, exit_sqr, items, 0) != 0 ||
      mproc_args_count(out) != 100 ||
      mproc_value_int(mproc_args_at(out, 99), &v) != 0 || v != 99 * 99) {
    fprintf(stderr, "map failed: %s\n", mproc_last_error());
    return 1;
  }
  if (argc > 2 && strcmp(argv[2], "busy") == 0) {
    mproc_pool_apply_async(pool, &ar[10], NULL, exit_block, NULL);
    for (int i = 0; i < 10; i++)
      mproc_pool_apply_async(pool, &ar[i], NULL, exit_sqr, "i", i);
  }
  return 0; /* the pool, its items and results are left as they are */
}
