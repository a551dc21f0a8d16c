/* Seed 000, 7: a daemonic child ends with the main program, so its
 * second line never prints. Python: examples/python/daemon.py */
#include "common.h"

MPROC_TARGET(task)
{
  const char *name;

  if (mproc_args_parse(args, "s:task", &name) != 0)
    return 1;
  printf("%s总管正在活着\n", name);
  fflush(stdout);
  mproc_sleep(3);
  printf("%s总管正在死亡\n", name);
  return 0;
}

int main(int argc, char **argv)
{
  mproc_process_t *p;

  mproc_main(argc, argv);
  CHECK(mproc_process_create(&p, task, "s", "egon"));
  /* Must be set before start, or it is an error (MPROC_ESTATE). */
  CHECK(mproc_process_set_daemon(p, 1));
  CHECK(mproc_process_start(p));
  /* Give the child time to print its first line, as the seed's output
   * shows it (Python's child is usually quicker than its exit). */
  mproc_sleep(0.5);
  printf("皇帝jason寿终正寝\n");
  mproc_process_free(p);
  return 0; /* at exit the daemonic child is terminated */
}
