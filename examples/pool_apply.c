/* Seed 001, 4, the commented-out twin: apply() blocks until its task is
 * done, so the tasks run one after another, in order, whatever the pool's
 * size (the seed's comment says sixteen at a time; CPython runs them one
 * by one too). 0.02 s per task here. Python: examples/python/pool_apply.py */
#include "common.h"

MPROC_TARGET(foo)
{
  int num;

  if (mproc_args_parse(args, "i", &num) != 0)
    return 1;
  mproc_sleep(0.02);
  printf("%d\n", num);
  fflush(stdout);
  return 0;
}

int main(int argc, char **argv)
{
  mproc_pool_options_t opts = {.processes = 16};
  mproc_pool_t *pool;
  mproc_args_t *r;
  double t0;

  mproc_main(argc, argv);
  CHECK(mproc_pool_create(&pool, &opts));
  t0 = mproc_monotonic();
  for (int i = 0; i < 100; i++) {
    CHECK(mproc_pool_apply(pool, &r, foo, MPROC_ARGS(i))); /* args=(i,) */
    mproc_args_free(r);
  }
  printf("100 tasks of 0.02 s in %.1f s: one at a time\n",
         mproc_monotonic() - t0);
  CHECK(mproc_pool_close(pool));
  CHECK(mproc_pool_join(pool));
  mproc_pool_free(pool);
  return 0;
}
