/* Seed 000, 3: join waits for each child; three children sleeping 1, 2
 * and 3 s run side by side, so the whole takes about 3 s.
 * Python: examples/python/process_join.py */
#include "common.h"

MPROC_TARGET(task)
{
  const char *name;
  int n;

  if (mproc_args_parse(args, "si:task", &name, &n) != 0)
    return 1;
  printf("%s is running\n", name);
  fflush(stdout);
  mproc_sleep(n);
  printf("%s is over\n", name);
  return 0;
}

int main(int argc, char **argv)
{
  mproc_process_t *p_list[3];
  char name[32];
  double start;

  mproc_main(argc, argv);
  start = mproc_monotonic();
  for (int i = 1; i < 4; i++) {
    snprintf(name, sizeof name, "子进程%d", i);
    CHECK(mproc_process_create(&p_list[i - 1], task, MPROC_ARGS(name, i)));
    CHECK(mproc_process_start(p_list[i - 1]));
  }
  for (int i = 0; i < 3; i++) {
    CHECK(mproc_process_join(p_list[i], MPROC_FOREVER));
    mproc_process_free(p_list[i]);
  }
  printf("主 %.2f\n", mproc_monotonic() - start);
  return 0;
}
