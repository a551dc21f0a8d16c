/* Seed 000, 4: processes do not share memory; the child's change to a
 * global is not seen by the parent. Python:
 * examples/python/process_isolation.py */
#include "common.h"

static int money = 100;

MPROC_TARGET(task)
{
  (void)args;
  money = 666; /* global money; money = 666 */
  printf("子 %d\n", money);
  return 0;
}

int main(int argc, char **argv)
{
  mproc_process_t *p;

  mproc_main(argc, argv);
  CHECK(mproc_process_create(&p, task, NULL));
  CHECK(mproc_process_start(p));
  CHECK(mproc_process_join(p, MPROC_FOREVER));
  mproc_process_free(p);
  printf("%d\n", money);
  return 0;
}
