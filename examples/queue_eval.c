/* Seed 004, 9.5.3: a child evaluates an expression and puts three results
 * on a Queue; the parent gets them first in, first out. Python:
 * examples/python/queue_eval.py */
#include <stdlib.h>

#include "common.h"

/* eval() for what the seed feeds it: integers joined by + and -. */
static long eval(const char *exp)
{
  char *end;
  long sum = strtol(exp, &end, 10);

  while (*end == '+' || *end == '-') {
    int sign = *end == '-' ? -1 : 1;
    sum += sign * strtol(end + 1, &end, 10);
  }
  return sum;
}

MPROC_TARGET(func)
{
  const char *exp;
  mproc_queue_t *q;
  long ret;

  if (mproc_args_parse(args, "so", &exp, MPROC_KIND_QUEUE, &q) != 0)
    return 1;
  ret = eval(exp);
  CHECK(mproc_queue_put(q, MPROC_FOREVER, "[lii]", ret, 2, 3)); /* {ret,2,3} */
  CHECK(mproc_queue_put(q, MPROC_FOREVER, "l", ret * 2));
  CHECK(mproc_queue_put(q, MPROC_FOREVER, "l", ret * 4));
  return 0;
}

static int by_value(const void *x, const void *y)
{
  int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
  return (a > b) - (a < b);
}

int main(int argc, char **argv)
{
  mproc_queue_t *q;
  mproc_process_t *p;
  mproc_args_t *item;
  const mproc_value_t *set;
  int64_t v[3];
  long n;

  mproc_main(argc, argv);
  CHECK(mproc_queue_create(&q, 0));
  CHECK(mproc_process_create(&p, func, "so", "1+2+3", q));
  CHECK(mproc_process_start(p));

  /* print(q.get()): the set {ret, 2, 3}, printed the way Python orders
   * a set of small ints. */
  CHECK(mproc_queue_get(q, MPROC_FOREVER, &item));
  CHECK(mproc_args_parse(item, "O", &set));
  for (size_t i = 0; i < 3; i++)
    CHECK(mproc_value_int(mproc_value_at(set, i), &v[i]));
  qsort(v, 3, sizeof v[0], by_value);
  printf("{%lld, %lld, %lld}\n", (long long)v[0], (long long)v[1],
         (long long)v[2]);
  mproc_args_free(item);

  CHECK(mproc_queue_get(q, MPROC_FOREVER, &item)); /* print(q.get()) */
  CHECK(mproc_args_parse(item, "l", &n));
  printf("%ld\n", n);
  mproc_args_free(item);

  CHECK(mproc_process_join(p, MPROC_FOREVER));
  mproc_process_free(p);
  mproc_queue_free(q);
  return 0;
}
