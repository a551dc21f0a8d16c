/* Compiles: the type-checked argument form with every kind of value it
 * takes. The twin of args_bad.c, so that the compile-fail check proves
 * the headers compile and only the wrong type is refused. */
#include <mproc.h>
#include <stdint.h>

MPROC_TARGET(task)
{
  (void)args;
  return 0;
}

int start(mproc_queue_t *q, mproc_lock_t *l, mproc_proxy_t *d);

int start(mproc_queue_t *q, mproc_lock_t *l, mproc_proxy_t *d)
{
  mproc_process_t *p;
  unsigned char raw[2] = {1, 2};
  char name[8] = "egon";
  int rc;

  rc = mproc_process_create(&p, task,
                            MPROC_ARGS(1, 2L, (int64_t)3, (size_t)4, 5.0, 6.0f,
                                       'c', "jason", name, (const char *)NULL,
                                       q, l, d, MPROC_BYTES(raw, sizeof raw),
                                       MPROC_NIL, MPROC_BOOL(1), (_Bool)0,
                                       MPROC_LIST(1, "a", MPROC_MAP("k", 2.5)),
                                       MPROC_OBJ((void *)q)));
  if (rc == 0)
    rc = mproc_process_set_kwargs(p, MPROC_KWARGS("name", "egon", "age", 18));
  if (rc == 0)
    rc = mproc_queue_put(q, MPROC_FOREVER, MPROC_ARGS("item", 1));
  mproc_process_free(p);
  return rc;
}
