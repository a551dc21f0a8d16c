/* A long map with a progress bar: map_async reports each finished chunk
 * (done / total) from the pool's result thread; the caller draws. Python:
 * examples/python/pool_progress.py (imap and a counter). */
#include "common.h"

MPROC_TARGET(slow_square)
{
  int x;

  if (mproc_args_parse(args, "i", &x) != 0)
    return 1;
  mproc_sleep(0.001);
  return mproc_return(MPROC_ARGS(x * x)); /* return x * x */
}

static void bar(size_t done, size_t total, void *ud)
{
  int width = 40, filled = (int)(done * width / total);

  (void)ud;
  printf("\r[%.*s%*s] %3d%%", filled,
         "########################################", width - filled, "",
         (int)(done * 100 / total));
  fflush(stdout);
}

int main(int argc, char **argv)
{
  mproc_callbacks_t cb = {.on_progress = bar};
  mproc_pool_t *pool;
  mproc_items_t *items;
  mproc_async_t *ar;
  mproc_args_t *r;
  long long sum = 0;

  mproc_main(argc, argv);
  CHECK(mproc_pool_create(&pool, NULL));
  CHECK(mproc_items_create(&items));
  for (int i = 0; i < 2000; i++)
    CHECK(mproc_items_add(items, "i", i));
  CHECK(mproc_pool_map_async(pool, &ar, &cb, slow_square, items, 25));
  CHECK(mproc_async_get(ar, MPROC_FOREVER, &r));
  for (size_t i = 0; i < mproc_args_count(r); i++) {
    int64_t v;
    CHECK(mproc_value_int(mproc_args_at(r, i), &v));
    sum += v;
  }
  printf("\nsum of squares of range(2000) = %lld\n", sum);
  mproc_args_free(r);
  mproc_async_free(ar);
  mproc_items_free(items);
  CHECK(mproc_pool_close(pool));
  CHECK(mproc_pool_join(pool));
  mproc_pool_free(pool);
  return 0;
}
