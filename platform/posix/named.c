/*
 * POSIX backend (Linux): named shared memory for SharedMemory, in
 * /dev/shm as "mproc-<name>". Every user holds a shared OFD lock on the
 * file's first byte, which the kernel drops when the user's last
 * descriptor of it closes, however the process ends. "No user left" is
 * then a test the kernel answers: can an exclusive lock be taken through
 * a descriptor of our own? Whoever sees that (the last user closing, or a
 * sweep after a child was reaped) removes the block. So a crashed creator
 * leaks nothing, and a block in use is never removed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "posix.h"

#define PREFIX "mproc-"
#define DIR_PATH "/dev/shm"

static void shm_path(const char *name, char *buf, size_t cap)
{
  snprintf(buf, cap, "/%s%s", PREFIX, name);
}

static int lock_byte(int fd, short type, int wait)
{
  struct flock fl = {
      .l_type = type, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1};
  int rc;

  do
    rc = fcntl(fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &fl);
  while (rc != 0 && errno == EINTR);
  return rc;
}

/* Whether @fd and @path are the same file (a name may be reused). */
static int same_file(int fd, const char *path)
{
  struct stat a, b;

  return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_ino == b.st_ino &&
         a.st_dev == b.st_dev;
}

/* Remove /dev/shm entry @shm ("/...") if nobody uses it: an exclusive
 * lock through a new open file description succeeds only when no user
 * holds its shared one. */
static void remove_path_if_unused(const char *shm)
{
  char full[300];
  int fd;

  snprintf(full, sizeof full, "%s%s", DIR_PATH, shm);
  fd = shm_open(shm, O_RDWR | O_CLOEXEC, 0);
  if (fd < 0)
    return;
  if (lock_byte(fd, F_WRLCK, 0) == 0 && same_file(fd, full))
    shm_unlink(shm);
  close(fd); /* drops our lock */
}

static void remove_if_unused(const char *name)
{
  char shm[128];

  shm_path(name, shm, sizeof shm);
  remove_path_if_unused(shm);
}

static int map_fd(int fd, mproc__named_t *out)
{
  struct stat st;
  void *map;

  if (fstat(fd, &st) != 0)
    return mproc__err_os("fstat", errno);
  if (st.st_size <= 0)
    return mproc__err(MPROC_ENOTFOUND, "shared memory block is empty "
                                       "(being removed)");
  map =
      mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (map == MAP_FAILED)
    return mproc__err_os("mmap", errno);
  out->handle = fd;
  out->map = map;
  out->map_size = (size_t)st.st_size;
  return 0;
}

int mproc__plat_named_create(const char *name, size_t size, mproc__named_t *out)
{
  char tmp[128], shm[128], full_tmp[160], full[160];
  static unsigned counter;
  int fd, rc;

  /* Made under a temporary name, locked, sized, then linked to its real
   * name: no one can see the block unlocked or half made. */
  snprintf(tmp, sizeof tmp, "/.mproc-tmp-%ld-%u", (long)getpid(),
           __atomic_add_fetch(&counter, 1, __ATOMIC_SEQ_CST));
  shm_path(name, shm, sizeof shm);
  snprintf(full_tmp, sizeof full_tmp, "%s%s", DIR_PATH, tmp);
  snprintf(full, sizeof full, "%s%s", DIR_PATH, shm);
  fd = shm_open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    return mproc__err_os("shm_open", errno);
  if (lock_byte(fd, F_RDLCK, 0) != 0 || ftruncate(fd, (off_t)size) != 0) {
    rc = mproc__err_os("ftruncate", errno);
    goto fail;
  }
  if (link(full_tmp, full) != 0) {
    rc = errno == EEXIST ? mproc__err(MPROC_EEXIST, "File exists: '%s'", name)
                         : mproc__err_os("link", errno);
    goto fail;
  }
  shm_unlink(tmp);
  rc = map_fd(fd, out);
  if (rc != 0) {
    shm_unlink(shm);
    close(fd);
  }
  return rc;
fail:
  shm_unlink(tmp);
  close(fd);
  return rc;
}

int mproc__plat_named_open(const char *name, mproc__named_t *out)
{
  char shm[128], full[160];
  int fd, rc;

  shm_path(name, shm, sizeof shm);
  snprintf(full, sizeof full, "%s%s", DIR_PATH, shm);
  fd = shm_open(shm, O_RDWR | O_CLOEXEC, 0);
  if (fd < 0 && errno == ENOENT)
    return mproc__err(MPROC_ENOTFOUND, "No such file or directory: '%s'", name);
  if (fd < 0)
    return mproc__err_os("shm_open", errno);
  /* A sweeper holding the exclusive lock is about to remove it. */
  if (lock_byte(fd, F_RDLCK, 1) != 0 || !same_file(fd, full)) {
    close(fd);
    return mproc__err(MPROC_ENOTFOUND, "No such file or directory: '%s'", name);
  }
  rc = map_fd(fd, out);
  if (rc != 0)
    close(fd);
  return rc;
}

int mproc__plat_named_adopt(intptr_t h, mproc__named_t *out)
{
  int rc = map_fd((int)h, out);

  if (rc == 0)
    (void)fcntl((int)h, F_SETFD, FD_CLOEXEC);
  return rc;
}

void mproc__plat_named_close(const char *name, mproc__named_t *m)
{
  if (m->map != NULL)
    munmap(m->map, m->map_size);
  if (m->handle >= 0)
    close((int)m->handle);
  m->map = NULL;
  m->handle = -1;
  remove_if_unused(name);
}

int mproc__plat_named_unlink(const char *name)
{
  char shm[128];

  shm_path(name, shm, sizeof shm);
  if (shm_unlink(shm) != 0) {
    if (errno == ENOENT)
      return mproc__err(MPROC_ENOTFOUND, "No such file or directory: '%s'",
                        name);
    return mproc__err_os("shm_unlink", errno);
  }
  return 0;
}

void mproc__plat_named_sweep(void)
{
  DIR *d = opendir(DIR_PATH);
  struct dirent *e;

  if (d == NULL)
    return;
  /* Blocks, and the temporary names of creators that died before
   * linking theirs. */
  while ((e = readdir(d)) != NULL)
    if (strncmp(e->d_name, PREFIX, strlen(PREFIX)) == 0 ||
        strncmp(e->d_name, ".mproc-tmp-", 11) == 0) {
      char shm[300];
      snprintf(shm, sizeof shm, "/%s", e->d_name);
      remove_path_if_unused(shm);
    }
  closedir(d);
}
