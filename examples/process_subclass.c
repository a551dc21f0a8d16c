/* Seed 000, 2.2: the "subclass" style. C has no classes: a target plays
 * MyProcess.run. Python: examples/python/process_subclass.py */
#include "common.h"

MPROC_TARGET(my_process_run)
{
  (void)args;
  printf("hello bf girl\n");
  fflush(stdout);
  mproc_sleep(1);
  printf("get out!\n");
  return 0;
}

int main(int argc, char **argv)
{
  mproc_process_t *p;

  mproc_main(argc, argv);
  CHECK(mproc_process_create(&p, my_process_run, NULL));
  CHECK(mproc_process_start(p));
  printf("主\n");
  fflush(stdout);
  mproc_process_free(p);
  return 0;
}
