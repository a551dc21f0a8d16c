/* Seed 001, 5: a writer puts the letters of a word on a Queue; once it
 * has finished, a reader takes as many items as qsize() says. The seed
 * runs both through a Pool with a Manager's Queue (that is
 * examples/manager_queue.c); this is the same pair with Process and a
 * plain Queue. Python: examples/python/queue_reader_writer.py */
#include <string.h>

#include "common.h"

MPROC_TARGET(reader)
{
  mproc_queue_t *q;
  mproc_args_t *item;
  const char *s;

  if (mproc_args_parse(args, "o", MPROC_KIND_QUEUE, &q) != 0)
    return 1;
  printf("reader启动(%ld),父进程为(%ld)\n", mproc_getpid(), mproc_getppid());
  for (long i = 0, n = mproc_queue_qsize(q); i < n; i++) {
    CHECK(mproc_queue_get(q, MPROC_FOREVER, &item));
    CHECK(mproc_args_parse(item, "s", &s));
    printf("reader从Queue获取消息L%s\n", s);
    mproc_args_free(item);
  }
  return 0;
}

MPROC_TARGET(write) /* the seed's name: MPROC_TARGET never replaces libc's */
{
  mproc_queue_t *q;
  const char *word = "XiongDiLian";

  if (mproc_args_parse(args, "o", MPROC_KIND_QUEUE, &q) != 0)
    return 1;
  printf("write启动(%ld),父进程为(%ld)\n", mproc_getpid(), mproc_getppid());
  for (size_t i = 0; i < strlen(word); i++) {
    char letter[2] = {word[i], '\0'};
    CHECK(mproc_queue_put(q, MPROC_FOREVER, MPROC_ARGS(letter))); /* q.put(i) */
  }
  return 0;
}

/* Start @fn with the queue and wait for it: the seed's blocking apply. */
static void run(mproc_target_fn fn, mproc_queue_t *q)
{
  mproc_process_t *p;

  CHECK(mproc_process_create(&p, fn, "o", q));
  CHECK(mproc_process_start(p));
  CHECK(mproc_process_join(p, MPROC_FOREVER));
  mproc_process_free(p);
}

int main(int argc, char **argv)
{
  mproc_queue_t *q;

  mproc_main(argc, argv);
  printf("(%ld) start\n", mproc_getpid());
  CHECK(mproc_queue_create(&q, 0));
  run(write, q);
  run(reader, q);
  mproc_queue_free(q);
  printf("(%ld) end\n", mproc_getpid());
  return 0;
}
