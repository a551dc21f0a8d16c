/* Seed 004, 9.4.1 and seed 000, 5: terminate() is asynchronous; is_alive()
 * right after it may still say 1 until the system has ended the child.
 * Python: examples/python/terminate.py */
#include "common.h"

MPROC_TARGET(son1)
{
  (void)args;
  for (;;) {
    printf("is alive\n");
    fflush(stdout);
    mproc_sleep(0.5);
  }
}

int main(int argc, char **argv)
{
  mproc_process_t *p;
  int code;

  mproc_main(argc, argv);
  CHECK(mproc_process_create(&p, son1, NULL));
  CHECK(mproc_process_start(p)); /* asynchronous, non-blocking */
  printf("%s\n", mproc_process_is_alive(p) ? "True" : "False");
  fflush(stdout);
  mproc_sleep(1);
  CHECK(mproc_process_terminate(p)); /* asynchronous too */
  /* Python prints is_alive() here and usually gets True; so may we. */
  printf("%s\n", mproc_process_is_alive(p) ? "True" : "False");
  /* The seed sleeps 0.01 s; waiting for the end is the reliable form. */
  CHECK(mproc_process_join(p, MPROC_FOREVER));
  printf("%s\n", mproc_process_is_alive(p) ? "True" : "False");
  CHECK(mproc_process_exitcode(p, &code));
  printf("exitcode %d\n", code); /* -15: ended by SIGTERM */
  mproc_process_free(p);
  return 0;
}
