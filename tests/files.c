/*
 * Temporary files for the tests and the fault driver (harness.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

int mproc_test_tmp_path(char *buf, size_t cap)
{
  static unsigned counter;
  const char *dir = getenv("TMPDIR");
  int n;
  if (dir == NULL || dir[0] == '\0')
    dir = getenv("TEMP");
  if (dir == NULL || dir[0] == '\0')
    dir = MPROC_TEST_POSIX ? "/tmp" : ".";
  n = snprintf(buf, cap, "%s/mproc-test-%ld-%u", dir, mproc_test_getpid(),
               ++counter);
  return n > 0 && (size_t)n < cap ? 0 : -1;
}

int mproc_test_write_file(const char *path, const char *text)
{
  char part[1100];
  FILE *f;
  size_t len = strlen(text);
  int ok;
  if (snprintf(part, sizeof part, "%s.part", path) >= (int)sizeof part)
    return -1;
  f = fopen(part, "wb");
  if (f == NULL)
    return -1;
  ok = fwrite(text, 1, len, f) == len;
  ok = (fclose(f) == 0) && ok;
  /* rename() is atomic on POSIX; Windows' refuses an existing target. */
  remove(path);
  if (!ok || rename(part, path) != 0) {
    remove(part);
    return -1;
  }
  return 0;
}

int mproc_test_read_file(const char *path, char *buf, size_t cap)
{
  FILE *f = fopen(path, "rb");
  size_t n;
  if (f == NULL || cap == 0) {
    if (f != NULL)
      fclose(f);
    return -1;
  }
  n = fread(buf, 1, cap - 1, f);
  buf[n] = '\0';
  fclose(f);
  return 0;
}

int mproc_test_wait_file(const char *path, char *buf, size_t cap,
                         double timeout)
{
  double deadline = mproc_test_now() + timeout;
  for (;;) {
    if (mproc_test_read_file(path, buf, cap) == 0)
      return 0;
    if (mproc_test_now() >= deadline)
      return -1;
    mproc_test_sleep_ms(5);
  }
}

void mproc_test_remove(const char *path)
{
  remove(path);
}
