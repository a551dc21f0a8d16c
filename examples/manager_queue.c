/* Seed 001, 5: a Manager's Queue shared by a Pool. apply() blocks, so the
 * writer has put every letter of the word before the reader asks qsize()
 * and gets that many. The Queue lives in the manager's server process;
 * the pool's workers reach it through the proxy each task is given.
 * Python: examples/python/manager_queue.py (the seed with its typos
 * fixed: Manager().Queue(), os.getpid(), one close(); and flush=True, so
 * that the workers' lines keep their order through a pipe) */
#include <string.h>

#include "common.h"

MPROC_TARGET(reader)
{
  mproc_proxy_t *q;
  char *s;
  long n;

  if (mproc_args_parse(args, "o", MPROC_KIND_PROXY, &q) != 0)
    return 1;
  printf("reader启动(%ld),父进程为(%ld)\n", mproc_getpid(), mproc_getppid());
  n = mproc_proxy_queue_qsize(q); /* q.qsize() */
  for (long i = 0; i < n; i++) {
    CHECK(mproc_proxy_queue_get(q, MPROC_FOREVER, "s", &s)); /* q.get(True) */
    printf("reader从Queue获取消息L%s\n", s);
    mproc_free(s);
  }
  fflush(stdout);
  return 0;
}

MPROC_TARGET(write) /* the seed's name: MPROC_TARGET never replaces libc's */
{
  mproc_proxy_t *q;
  const char *word = "XiongDiLian";

  if (mproc_args_parse(args, "o", MPROC_KIND_PROXY, &q) != 0)
    return 1;
  printf("write启动(%ld),父进程为(%ld)\n", mproc_getpid(), mproc_getppid());
  fflush(stdout);
  for (size_t i = 0; i < strlen(word); i++)
    CHECK(mproc_proxy_queue_put(q, MPROC_FOREVER, "s#", word + i, (size_t)1));
  return 0;
}

int main(int argc, char **argv)
{
  mproc_manager_t *m;
  mproc_proxy_t *q;
  mproc_pool_t *po;
  mproc_args_t *r;

  mproc_main(argc, argv);
  printf("(%ld) start\n", mproc_getpid());
  CHECK(mproc_manager(&m));
  CHECK(mproc_manager_object(m, &q, MPROC_MANAGED_QUEUE, NULL));
  CHECK(mproc_pool_create(&po, NULL));
  CHECK(mproc_pool_apply(po, &r, write,
                         MPROC_ARGS(q))); /* po.apply(write, (q,)) */
  mproc_args_free(r);
  CHECK(mproc_pool_apply(po, &r, reader, MPROC_ARGS(q)));
  mproc_args_free(r);
  CHECK(mproc_pool_close(po));
  CHECK(mproc_pool_join(po));
  mproc_pool_free(po);
  mproc_proxy_free(q);
  mproc_manager_free(m);
  printf("(%ld) end\n", mproc_getpid());
  return 0;
}
