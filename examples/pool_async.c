/* Seed 001, 4: a Pool of 16 processes runs 100 tasks given with
 * apply_async; close() then join() waits for all of them. The seed sleeps
 * 1 s per task; 0.1 s here keeps the demo short. Python:
 * examples/python/pool_async.py */
#include "common.h"

MPROC_TARGET(foo)
{
  int num;

  if (mproc_args_parse(args, "i", &num) != 0)
    return 1;
  mproc_sleep(0.1);
  printf("%d\n", num);
  fflush(stdout);
  return 0;
}

int main(int argc, char **argv)
{
  mproc_pool_options_t opts = {.processes = 16};
  mproc_pool_t *pool;
  mproc_async_t *r[100];

  mproc_main(argc, argv);
  CHECK(mproc_pool_create(&pool, &opts));
  for (int i = 0; i < 100; i++)
    CHECK(mproc_pool_apply_async(pool, &r[i], NULL, foo, "i", i));
  CHECK(mproc_pool_close(pool));
  CHECK(mproc_pool_join(pool));
  for (int i = 0; i < 100; i++)
    mproc_async_free(r[i]);
  mproc_pool_free(pool);
  return 0;
}
