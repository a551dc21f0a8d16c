/* Seed 000, 2.1: create a process with a function target and arguments.
 * Python: examples/python/process_basic.py */
#include "common.h"

MPROC_TARGET(task)
{
  const char *name;

  if (mproc_args_parse(args, "s:task", &name) != 0)
    return 1;
  printf("%s is running\n", name);
  fflush(stdout);
  mproc_sleep(3);
  printf("%s is over\n", name);
  return 0;
}

int main(int argc, char **argv)
{
  mproc_process_t *p;

  mproc_main(argc, argv); /* if __name__ == '__main__': */
  CHECK(mproc_process_create(&p, task,
                             MPROC_ARGS("jason"))); /* args=('jason',) */
  CHECK(mproc_process_start(p)); /* asynchronous: returns at once */
  printf("主\n");
  fflush(stdout);
  /* Python joins non-daemonic children at exit; so does mproc. */
  mproc_process_free(p);
  return 0;
}
