/*
 * Another program using a manager's registered type, for the test of
 * user-registered types (test_mtypes.c): it does not register the type
 * itself (CPython's client-side register(typeid) without a callable), it
 * only knows the server's address, its key, the typeid and the methods.
 *
 *   mproc_manager_client ADDRESS KEY
 *     connects, makes a "Counter" starting at 40 and adds 2 to it, then
 *     adds 1 to the Counter the server's program named "shared". Exits 0
 *     when the first counter says 42, 10 + the step that failed
 *     otherwise (the reason on stderr).
 */
#include <stdio.h>
#include <string.h>

#include "mproc.h"

static int fail(int step, const char *what)
{
  fprintf(stderr, "mproc_manager_client: %s: %s\n", what, mproc_last_error());
  return 10 + step;
}

int main(int argc, char **argv)
{
  mproc_manager_options_t o;
  mproc_manager_t *m = NULL;
  mproc_proxy_t *c = NULL, *shared = NULL;
  mproc_args_t *r = NULL;
  int v = 0, code = 0;

  mproc_main(argc, argv);
  if (argc != 3)
    return 2;
  memset(&o, 0, sizeof o);
  o.address = argv[1];
  o.authkey = argv[2];
  o.authkey_len = strlen(argv[2]);
  if (mproc_manager_create(&m, &o) != 0)
    code = fail(0, "create");
  else if (mproc_manager_connect(m) != 0)
    code = fail(1, "connect");
  else if (mproc_manager_instance(m, &c, "Counter", NULL, "i", 40) != 0)
    code = fail(2, "Counter(40)");
  else if (mproc_proxy_call(c, NULL, "add", "i", 2) != 0)
    code = fail(3, "add(2)");
  else if (mproc_proxy_call(c, &r, "get", NULL) != 0 ||
           mproc_args_parse(r, "i", &v) != 0 || v != 42)
    code = fail(4, "get()");
  else if (mproc_manager_instance(m, &shared, "Counter", "shared", NULL) != 0 ||
           mproc_proxy_call(shared, NULL, "add", "i", 1) != 0)
    code = fail(5, "shared.add(1)");
  else if (strcmp(mproc_proxy_typeid(c), "Counter") != 0)
    code = fail(6, "typeid");
  mproc_args_free(r);
  mproc_proxy_free(c);
  mproc_proxy_free(shared);
  mproc_manager_free(m);
  return code;
}
