/* Seed 004, 9.4.1: a daemonic son1 prints until the main program's code
 * ends (2 s); the ordinary son2 runs its 5 rounds to the end, and the
 * main program waits for it. Python: examples/python/daemon_son.py */
#include "common.h"

MPROC_TARGET(son1)
{
  int a, b;

  if (mproc_args_parse(args, "ii:son1", &a, &b) != 0)
    return 1;
  for (;;) {
    printf("is alive\n");
    fflush(stdout);
    mproc_sleep(0.5);
  }
}

MPROC_TARGET(son2)
{
  (void)args;
  for (int i = 0; i < 5; i++) {
    printf("in son2\n");
    fflush(stdout);
    mproc_sleep(1);
  }
  return 0;
}

int main(int argc, char **argv)
{
  mproc_process_t *p, *p2;

  mproc_main(argc, argv);
  CHECK(mproc_process_create(&p, son1, "ii", 1, 2));
  CHECK(mproc_process_set_daemon(p, 1));
  CHECK(mproc_process_start(p));
  CHECK(mproc_process_create(&p2, son2, NULL));
  CHECK(mproc_process_start(p2));
  mproc_sleep(2);
  mproc_process_free(p);
  mproc_process_free(p2);
  return 0; /* son1 is terminated, son2 joined */
}
