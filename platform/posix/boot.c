/*
 * POSIX backend, child side of re-execution: the command-line markers,
 * reading the bootstrap message, and mproc__plat_main.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "os.h"
#include "posix.h"

static int read_fd(void *ctx, void *buf, size_t len)
{
  return mproc__read_full(*(int *)ctx, buf, len) == 0 ? 0 : -1;
}

void mproc__posix_boot_from_fd(int fd)
{
  mproc__boot_from_reader(read_fd, &fd);
}

static int parse_fd(const char *s, int *fd)
{
  char *end;
  long v;

  errno = 0;
  v = strtol(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v < 0 || v > 65535)
    return -1;
  *fd = (int)v;
  return 0;
}

int mproc__plat_main(int argc, char **argv)
{
  size_t n = strlen(MPROC__SPAWN_ARG);
  int fd;

  if (argv[0] != NULL)
    mproc__argv0 = argv[0];
  if (argc < 2 || argv[1] == NULL)
    return 0;
  if (strncmp(argv[1], MPROC__SPAWN_ARG, n) == 0) {
    if (parse_fd(argv[1] + n, &fd) != 0) {
      mproc__err(MPROC_EINVAL, "bad marker '%s'", argv[1]);
      mproc__boot_fail("cannot be found");
    }
    mproc__posix_boot_from_fd(fd);
  }
  n = strlen(MPROC__FORKSERVER_ARG);
  if (strncmp(argv[1], MPROC__FORKSERVER_ARG, n) == 0)
    mproc__fs_serve(argv[1] + n);
  return 0;
}

/* Read before main() may have run: the command line from /proc. */
int mproc__plat_is_spawned_child(void)
{
  static int known = -1;
  char buf[4096];
  ssize_t len = 0, r;
  int fd;

  if (known >= 0)
    return known;
  known = 0;
  fd = os_open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return known;
  while (len < (ssize_t)sizeof buf - 1 &&
         (r = os_read(fd, buf + len, sizeof buf - 1 - (size_t)len)) > 0)
    len += r;
  close(fd);
  buf[len] = '\0';
  /* argv[1] starts right after argv[0]'s NUL. */
  size_t first = strlen(buf) + 1;
  if ((ssize_t)first < len &&
      (strncmp(buf + first, MPROC__SPAWN_ARG, strlen(MPROC__SPAWN_ARG)) == 0 ||
       strncmp(buf + first, MPROC__FORKSERVER_ARG,
               strlen(MPROC__FORKSERVER_ARG)) == 0))
    known = 1;
  return known;
}
