/*
 * mproc_porting_helper: whole programs whose output the porting suite
 * (test_porting.c) reads, since a child's stderr and the log lines of
 * other processes can only be seen from outside.
 *
 *   mproc_porting_helper fail   a child fails with mproc_fail(): its
 *                               stderr line, then the parent's report
 *   mproc_porting_helper log    a little of everything that logs (run with
 *                               MPROC_LOG set)
 *
 * The start method comes from MPROC_START_METHOD, as for any program.
 */
#include <mproc.h>
#include <stdio.h>
#include <string.h>

MPROC_TARGET(fails)
{
  (void)args;
  return mproc_fail("the answer is %d, not %d", 42, 41);
}

MPROC_TARGET(returns)
{
  (void)args;
  return 0;
}

MPROC_TARGET(blocks)
{
  (void)args;
  for (;;)
    mproc_sleep(1.0);
}

static int fail_scenario(void)
{
  mproc_process_t *p;
  int code = 0;

  printf("parent before start\n");
  if (mproc_process_create(&p, fails, NULL) != 0 ||
      mproc_process_start(p) != 0 ||
      mproc_process_join(p, MPROC_FOREVER) != 0 ||
      mproc_process_exitcode(p, &code) != 0) {
    printf("error: %s\n", mproc_last_error());
    return 1;
  }
  printf("exitcode %d, error: %s\n", code,
         mproc_process_error(p) ? mproc_process_error(p) : "(none)");
  mproc_process_free(p);
  return 0;
}

/* A started manager, one object used, a client with a wrong key turned
 * away; a child run to its end; a daemonic child left for the exit to
 * terminate. */
static int log_scenario(void)
{
  mproc_manager_t *m = NULL;
  mproc_proxy_t *d = NULL;
  mproc_process_t *daemon = NULL, *p = NULL;
  mproc_conn_t *c = NULL;
  int rc;

  rc = mproc_process_create(&daemon, blocks, NULL);
  if (rc == 0)
    rc = mproc_process_set_daemon(daemon, 1);
  if (rc == 0)
    rc = mproc_process_start(daemon);
  if (rc == 0)
    rc = mproc_process_create(&p, returns, NULL);
  if (rc == 0)
    rc = mproc_process_start(p);
  if (rc == 0)
    rc = mproc_process_join(p, MPROC_FOREVER);
  if (rc == 0)
    rc = mproc_manager(&m);
  if (rc == 0)
    rc = mproc_manager_object(m, &d, MPROC_MANAGED_DICT, NULL);
  if (rc == 0)
    rc = mproc_proxy_dict_set(d, "k", "i", 1);
  /* The server refuses it (the client sees MPROC_EAUTH, or EOF). */
  if (rc == 0 && mproc_client(&c, mproc_manager_address(m), NULL, "wrong key",
                              9, 10.0) == 0)
    rc = -1;
  mproc_conn_free(c);
  mproc_proxy_free(d);
  mproc_manager_free(m);
  mproc_process_free(p);
  mproc_process_free(daemon);
  if (rc != 0)
    printf("error: %s\n", mproc_last_error());
  return rc != 0;
}

int main(int argc, char **argv)
{
  mproc_main(argc, argv);
  if (argc == 2 && strcmp(argv[1], "fail") == 0)
    return fail_scenario();
  if (argc == 2 && strcmp(argv[1], "log") == 0)
    return log_scenario();
  fprintf(stderr, "usage: mproc_porting_helper fail|log\n");
  return 2;
}
