/* Seed 001, 3: a "JieCheng" process class and a sunToN function target.
 * The seed reads n with input(); here it is argv[1] (default 5).
 * Python: examples/python/factorial_sum.py */
#include "common.h"

MPROC_TARGET(sun_to_n)
{
  long long s = 0;
  int n;

  if (mproc_args_parse(args, "i:sunToN", &n) != 0)
    return 1;
  for (int i = 0; i < n; i++) {
    s += i;
    printf("1~%d的累加和为%lld\n", n, s);
  }
  return 0;
}

/* JieCheng.run: the fields of the Python object travel as arguments. */
MPROC_TARGET(jie_cheng_run)
{
  long long j = 1;
  int n;

  if (mproc_args_parse(args, "i:JieCheng", &n) != 0)
    return 1;
  for (int i = 1; i < n; i++)
    j = j * i;
  printf("%d!=%lld\n", n, j);
  return 0;
}

int main(int argc, char **argv)
{
  mproc_process_t *p1, *p2;
  int n;

  mproc_main(argc, argv);
  n = argc > 1 ? atoi(argv[1]) : 5;
  CHECK(mproc_process_create(&p1, sun_to_n, "i", n));
  CHECK(mproc_process_start(p1));
  CHECK(mproc_process_join(p1, MPROC_FOREVER));
  CHECK(mproc_process_create(&p2, jie_cheng_run, "i", n));
  CHECK(mproc_process_start(p2));
  CHECK(mproc_process_join(p2, MPROC_FOREVER));
  mproc_process_free(p1);
  mproc_process_free(p2);
  return 0;
}
