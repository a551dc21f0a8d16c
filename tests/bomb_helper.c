/*
 * A program that breaks the rule "call mproc_main() first", for the test
 * of the fork-bomb guard (test_process.c, bootstrap_guard). It cannot be
 * the test binary itself, whose main() calls mproc_main() first.
 *
 *   mproc_bomb_helper never METHOD
 *     never calls mproc_main(); starts a process with METHOD and exits
 *     with -status of mproc_process_start (0 when it started, which it
 *     then joins). Expected: 9 (MPROC_EBOOTSTRAP) for a method that
 *     re-executes the program, 0 for fork.
 *
 *   mproc_bomb_helper early METHOD
 *     calls mproc_main(), then starts a child with METHOD. The child,
 *     re-executed, tries to start a process before its mproc_main(); its
 *     target then exits with -status of that attempt (100 if it started).
 *     The helper exits with the child's exit code. Expected under spawn:
 *     9 (MPROC_EBOOTSTRAP).
 *
 * The environment variable MPROC_BOMB_HELPER_STAGE tells a re-executed
 * copy what it is, so that even a library that lets a start through can
 * never recurse: "early" tries one start before the guard, "inner" none.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mproc.h"

#define STAGE_ENV "MPROC_BOMB_HELPER_STAGE"

/* Status of the start attempted before mproc_main() in this process
 * (1: none attempted). */
static int early_status = 1;

MPROC_TARGET(bomb_child)
{
  (void)args;
  if (early_status == 1)
    return 0;
  return early_status == 0 ? 100 : -early_status;
}

static int set_stage(const char *stage)
{
#ifdef _WIN32
  char buf[64];
  snprintf(buf, sizeof buf, "%s=%s", STAGE_ENV, stage);
  return _putenv(buf);
#else
  return setenv(STAGE_ENV, stage, 1);
#endif
}

/* Start bomb_child with @method; join it when it started. Gives the
 * status of start and the child's exit code. */
static int start_one(const char *method, int *exitcode)
{
  const mproc_context_t *ctx = mproc_get_context(method);
  mproc_process_t *p = NULL;
  int rc;

  *exitcode = MPROC_EXITCODE_NONE;
  if (ctx == NULL)
    return MPROC_EINVAL;
  rc = mproc_context_process(ctx, &p, bomb_child, NULL);
  if (rc == 0)
    rc = mproc_process_start(p);
  if (rc == 0 && mproc_process_join(p, 60.0) == 0)
    (void)mproc_process_exitcode(p, exitcode);
  if (rc != 0)
    fprintf(stderr, "bomb_helper: start: %s (%s)\n", mproc_strerror(rc),
            mproc_last_error());
  mproc_process_free(p);
  return rc;
}

int main(int argc, char **argv)
{
  const char *stage = getenv(STAGE_ENV);
  int code, rc;

  if (stage != NULL) {
    /* A re-executed copy: the code before the guard, as in a Python
     * module imported by a spawned child. */
    if (strcmp(stage, "early") == 0) {
      set_stage("inner");
      early_status = start_one("spawn", &code);
    }
    mproc_main(argc, argv);
    fprintf(stderr, "bomb_helper: mproc_main returned in a child\n");
    return 3;
  }

  if (argc != 3 || (strcmp(argv[1], "never") && strcmp(argv[1], "early"))) {
    fprintf(stderr, "usage: mproc_bomb_helper never|early METHOD\n");
    return 2;
  }
  if (strcmp(argv[1], "never") == 0) {
    set_stage("inner");
    rc = start_one(argv[2], &code);
    return rc < 0 ? -rc : 0;
  }

  mproc_main(argc, argv);
  set_stage("early");
  rc = start_one(argv[2], &code);
  if (rc != 0)
    return 50;
  printf("bomb_helper: child exit code %d\n", code);
  return code < 0 ? 60 : code;
}
