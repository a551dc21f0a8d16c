/* Must not compile: a pointer to int is no argument type, and the
 * type-checked form says so at compile time (with a format string,
 * "s" given an int crashes at run time instead). The compile-fail check
 * expects the compiler's _Generic diagnostic for the line below. */
#include <mproc.h>

MPROC_TARGET(task)
{
  (void)args;
  return 0;
}

int start(void);

int start(void)
{
  mproc_process_t *p;
  int age = 18;

  return mproc_process_create(&p, task, MPROC_ARGS("jason", &age));
}
