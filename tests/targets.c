/*
 * Targets named after C library functions (the seeds' own names), defined
 * here and started from test_names.c. Only <mproc.h> and <string.h> are
 * included: a file that also declared write(), read(), close() or exit()
 * could not use these names for its targets (MPROC_TARGET makes a
 * file-local `NAME`), and test_names.c, which needs the harness (whose
 * <signal.h> brings <unistd.h> under _GNU_SOURCE), refers to them by
 * MPROC_TARGET_FN(NAME) instead.
 */
#include <mproc.h>
#include <string.h>

static const char word[] = "XiongDiLian";

/* The seed's write(q): the letters of a word, one item each. */
MPROC_TARGET(write)
{
  mproc_queue_t *q;

  if (mproc_args_parse(args, "o", MPROC_KIND_QUEUE, &q) != 0)
    return 99;
  for (size_t i = 0; i < strlen(word); i++)
    if (mproc_queue_put(q, MPROC_FOREVER, "s#", word + i, (size_t)1) != 0)
      return 1;
  return 0;
}

/* The seed's read(q): as many items as qsize() says; 0 when they spell
 * the word. */
MPROC_TARGET(read)
{
  mproc_queue_t *q;
  mproc_args_t *item;
  char got[sizeof word] = "";
  const char *s;
  long n;

  if (mproc_args_parse(args, "o", MPROC_KIND_QUEUE, &q) != 0)
    return 99;
  n = mproc_queue_qsize(q);
  for (long i = 0; i < n && i < (long)sizeof word - 1; i++) {
    if (mproc_queue_get(q, MPROC_FOREVER, &item) != 0 ||
        mproc_args_parse(item, "s", &s) != 0)
      return 1;
    got[i] = s[0];
    mproc_args_free(item);
  }
  return strcmp(got, word) == 0 ? 0 : 2;
}

/* Exits with the int it is given. */
MPROC_TARGET(close)
{
  int code;

  if (mproc_args_parse(args, "i", &code) != 0)
    return 99;
  return code;
}

/* Exits with the int it is given, plus one. */
MPROC_TARGET(exit)
{
  int code;

  if (mproc_args_parse(args, "i", &code) != 0)
    return 99;
  return code + 1;
}

/* This file's `write` is the target: the name works where it is defined. */
mproc_target_fn mproc_test_local_write(void);
mproc_target_fn mproc_test_local_write(void)
{
  return write;
}
