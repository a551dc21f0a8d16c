/*
 * The guard (mproc_main), the child's life after bootstrap, and
 * mproc_exit.
 */
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"
#include "platform.h"
#include "process.h"

int mproc__main_called;

int mproc_main(int argc, char **argv)
{
  if (argv == NULL || argc < 1)
    return mproc__err(MPROC_EINVAL, "mproc_main: pass main()'s argc, argv");
  mproc__main_called = 1;
  /* In a spawned child or the forkserver this does not return. */
  return mproc__plat_main(argc, argv);
}

/* Bootstrap failures are reported on stderr with a distinct exit code:
 * the parent sees the code, a person reads the reason. */
static MPROC__NORETURN void die(int code, const char *what)
{
  fprintf(stderr, "mproc: child process cannot start: %s: %s\n", what,
          mproc_last_error());
  mproc__plat_exit_now(code);
}

void mproc__child_run(mproc__boot_t *b)
{
  mproc_target_fn fn = b->fn;
  mproc_args_t *args = NULL;
  int rc;

  mproc__plat_child_setup((mproc_start_method_t)b->method, b->daemon,
                          b->parent_pid);
  if (mproc__become(b) != 0)
    die(MPROC_EXIT_BOOTSTRAP, "setting up the process");
  if (fn == NULL)
    fn = mproc__target_lookup(b->target);
  if (fn == NULL) {
    mproc__err(MPROC_ENOTREG,
               "target '%s' is not registered in this program; define it "
               "with MPROC_TARGET(%s)",
               b->target, b->target);
    die(MPROC_EXIT_NOTARGET, "unknown target");
  }
  if (mproc__args_new(&args, b->args, b->args_len, b->kwargs, b->kwargs_len) !=
      0)
    die(MPROC_EXIT_BOOTSTRAP, "bad arguments");
  rc = fn(args);
  mproc__args_free(args);
  mproc_exit(rc);
}

void mproc_exit(int code)
{
  mproc_process_t *self = mproc_current_process();

  if (!self->is_child)
    exit(code); /* the atexit hook does the cleanup */
  mproc__exit_cleanup();
  mproc__plat_exit_now(code);
}
