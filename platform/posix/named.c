/*
 * POSIX backend (Linux): named shared memory for SharedMemory, in
 * /dev/shm as "mproc-<name>". Every user holds a shared OFD lock on the
 * file's first byte, which the kernel drops when the user's last
 * descriptor of it closes, however the process ends. "No user left" is
 * then a test the kernel answers: can an exclusive lock be taken through
 * a descriptor of our own? Whoever sees that (the last user closing, or a
 * sweep after a child was reaped) removes the block. So a crashed creator
 * leaks nothing, and a block in use is never removed.
 *
 * A forked child shares its parent's open file descriptions, locks
 * included, and ends with _exit() without closing what it inherited: if
 * the parent died first, that child is the last user, and nobody would
 * look. So every process knows the blocks it has open, and a child
 * ending (mproc__plat_exit_now) closes them and looks.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "os.h"
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
    rc = os_ofd_lock(fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &fl);
  while (rc != 0 && errno == EINTR);
  return rc;
}

/* ---- the blocks this process has open ---- */

typedef struct open_block {
  char name[64];
  mproc__named_t *m; /* the object's own record */
} open_block_t;

static pthread_mutex_t open_lock = PTHREAD_MUTEX_INITIALIZER;
static open_block_t *open_blocks;
static size_t n_open, cap_open;

/* A forked child's copy of the lock may have been held at fork(). */
static void open_lock_reset(void)
{
  pthread_mutex_init(&open_lock, NULL);
}

__attribute__((constructor)) static void register_open_lock_reset(void)
{
  pthread_atfork(NULL, NULL, open_lock_reset);
}

/* Remember @m as open under @name: -1 when out of memory. */
static int note_open(const char *name, mproc__named_t *m)
{
  int rc = 0;

  pthread_mutex_lock(&open_lock);
  if (n_open == cap_open) {
    size_t cap = cap_open ? cap_open * 2 : 8;
    open_block_t *more = realloc(open_blocks, cap * sizeof *more);
    if (more != NULL) {
      open_blocks = more;
      cap_open = cap;
    }
  }
  if (n_open < cap_open) {
    snprintf(open_blocks[n_open].name, sizeof open_blocks[n_open].name, "%s",
             name);
    open_blocks[n_open++].m = m;
  } else {
    rc = -1;
  }
  pthread_mutex_unlock(&open_lock);
  return rc;
}

static void note_closed(const mproc__named_t *m)
{
  pthread_mutex_lock(&open_lock);
  for (size_t i = 0; i < n_open; i++)
    if (open_blocks[i].m == m) {
      open_blocks[i] = open_blocks[--n_open];
      break;
    }
  pthread_mutex_unlock(&open_lock);
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
  fd = os_shm_open(shm, O_RDWR | O_CLOEXEC, 0);
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
  map = os_mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED,
                fd, 0);
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
  fd = os_shm_open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    return mproc__err_os("shm_open", errno);
  if (lock_byte(fd, F_RDLCK, 0) != 0 || os_ftruncate(fd, (off_t)size) != 0) {
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
  if (rc == 0 && note_open(name, out) != 0) {
    munmap(out->map, out->map_size);
    rc = mproc__err(MPROC_ENOMEM, "out of memory");
  }
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
  fd = os_shm_open(shm, O_RDWR | O_CLOEXEC, 0);
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
  if (rc == 0 && note_open(name, out) != 0) {
    munmap(out->map, out->map_size);
    rc = mproc__err(MPROC_ENOMEM, "out of memory");
  }
  if (rc != 0)
    close(fd);
  return rc;
}

int mproc__plat_named_adopt(const char *name, intptr_t h, mproc__named_t *out)
{
  int rc = map_fd((int)h, out);

  if (rc == 0 && note_open(name, out) != 0) {
    munmap(out->map, out->map_size);
    out->map = NULL;
    rc = mproc__err(MPROC_ENOMEM, "out of memory");
  }
  if (rc == 0)
    (void)fcntl((int)h, F_SETFD, FD_CLOEXEC);
  return rc;
}

void mproc__plat_named_close(const char *name, mproc__named_t *m)
{
  note_closed(m);
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

void mproc__posix_named_exit(void)
{
  /* Ending: no thread of ours uses a block any more. */
  pthread_mutex_lock(&open_lock);
  for (size_t i = 0; i < n_open; i++) {
    mproc__named_t *m = open_blocks[i].m;
    if (m->map != NULL)
      munmap(m->map, m->map_size);
    if (m->handle >= 0)
      close((int)m->handle);
    m->map = NULL;
    m->handle = -1;
    remove_if_unused(open_blocks[i].name);
  }
  n_open = 0;
  pthread_mutex_unlock(&open_lock);
}
