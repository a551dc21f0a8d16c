/*
 * The POSIX backend's OS calls, each through a thin wrapper: the seam
 * where a fault-injection build (lib/fault.h) makes the Nth call fail as
 * it really can. Outside such a build each wrapper is the plain call.
 *
 * Every wrapper fails the way its call does (-1 and errno, or the error
 * number for posix_spawn), with the error a real system gives under
 * pressure: EMFILE for a new descriptor, ENOMEM for memory, EAGAIN for
 * a new process, ENOSPC for a tmpfs file that cannot grow, a reset or a
 * full buffer for a socket. Soft failures (EINTR, a short transfer) are
 * the ones a correct caller absorbs.
 *
 * Not wrapped: calls that release (close, munmap, unlink), that cannot
 * fail for a valid argument (getpid, F_SETFD), and child-side set-up
 * between fork and exec.
 */
#ifndef MPROC__POSIX_OS_H
#define MPROC__POSIX_OS_H

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fault.h"

/* -1 with @err for a hard failure, -1 with EINTR for a soft one; 0 to
 * make the call. */
static inline int os_fault(const char *call, int soft, int err)
{
  switch (MPROC__FAULT(call, soft)) {
  case MPROC__FAULT_NONE:
  case MPROC__FAULT_SHORT:
    return 0;
  case MPROC__FAULT_INTR:
    errno = EINTR;
    return -1;
  default:
    errno = err;
    return -1;
  }
}

/* The length a transfer may use: 1 when the seam asks for a short one,
 * or -1 (and errno) when it fails. */
static inline ssize_t os_transfer_len(const char *call, size_t len, int err)
{
  switch (MPROC__FAULT(call, MPROC__SOFT_SHORT)) {
  case MPROC__FAULT_NONE:
    return (ssize_t)len;
  case MPROC__FAULT_SHORT:
    if (len > 1)
      return 1;
    errno = EINTR;
    return -1;
  case MPROC__FAULT_INTR:
    errno = EINTR;
    return -1;
  default:
    errno = err;
    return -1;
  }
}

/* ---- descriptors ---- */

static inline int os_socket(int domain, int type, int proto)
{
  return os_fault("socket", MPROC__SOFT_NONE, EMFILE)
             ? -1
             : socket(domain, type, proto);
}

static inline int os_socketpair(int domain, int type, int proto, int sv[2])
{
  return os_fault("socketpair", MPROC__SOFT_NONE, EMFILE)
             ? -1
             : socketpair(domain, type, proto, sv);
}

static inline int os_pipe2(int fds[2], int flags)
{
  return os_fault("pipe2", MPROC__SOFT_NONE, EMFILE) ? -1 : pipe2(fds, flags);
}

static inline int os_open(const char *path, int flags)
{
  return os_fault("open", MPROC__SOFT_NONE, EMFILE) ? -1 : open(path, flags);
}

static inline int os_dupfd(int fd, int min)
{
  return os_fault("fcntl(F_DUPFD_CLOEXEC)", MPROC__SOFT_NONE, EMFILE)
             ? -1
             : fcntl(fd, F_DUPFD_CLOEXEC, min);
}

static inline int os_shm_open(const char *name, int flags, mode_t mode)
{
  return os_fault("shm_open", MPROC__SOFT_NONE, EMFILE)
             ? -1
             : shm_open(name, flags, mode);
}

static inline int os_memfd_create(const char *name, unsigned flags)
{
  return os_fault("memfd_create", MPROC__SOFT_NONE, EMFILE)
             ? -1
             : memfd_create(name, flags);
}

static inline int os_ftruncate(int fd, off_t len)
{
  return os_fault("ftruncate", MPROC__SOFT_NONE, ENOSPC) ? -1
                                                         : ftruncate(fd, len);
}

/* fcntl(F_OFD_SETLK / F_OFD_SETLKW): a waiting lock can be interrupted. */
static inline int os_ofd_lock(int fd, int cmd, struct flock *fl)
{
  return os_fault("fcntl(F_OFD_SETLK)",
                  cmd == F_OFD_SETLKW ? MPROC__SOFT_INTR : MPROC__SOFT_NONE,
                  ENOLCK)
             ? -1
             : fcntl(fd, cmd, fl);
}

static inline void *os_mmap(void *addr, size_t len, int prot, int flags, int fd,
                            off_t off)
{
  if (os_fault("mmap", MPROC__SOFT_NONE, ENOMEM))
    return MAP_FAILED;
  return mmap(addr, len, prot, flags, fd, off);
}

/* ---- transfers ---- */

static inline ssize_t os_read(int fd, void *buf, size_t len)
{
  ssize_t n = os_transfer_len("read", len, EIO);

  return n < 0 ? -1 : read(fd, buf, (size_t)n);
}

static inline ssize_t os_write(int fd, const void *buf, size_t len)
{
  ssize_t n = os_transfer_len("write", len, EIO);

  return n < 0 ? -1 : write(fd, buf, (size_t)n);
}

static inline ssize_t os_send(int fd, const void *buf, size_t len, int flags)
{
  ssize_t n = os_transfer_len("send", len, ENOBUFS);

  return n < 0 ? -1 : send(fd, buf, (size_t)n, flags);
}

static inline ssize_t os_recv(int fd, void *buf, size_t len, int flags)
{
  ssize_t n = os_transfer_len("recv", len, ECONNRESET);

  return n < 0 ? -1 : recv(fd, buf, (size_t)n, flags);
}

/* Messages that carry descriptors are not shortened: their callers send
 * a few bytes at once, as the kernel does. */
static inline ssize_t os_sendmsg(int fd, const struct msghdr *mh, int flags)
{
  return os_fault("sendmsg", MPROC__SOFT_INTR, ENOBUFS)
             ? -1
             : sendmsg(fd, mh, flags);
}

static inline ssize_t os_recvmsg(int fd, struct msghdr *mh, int flags)
{
  return os_fault("recvmsg", MPROC__SOFT_INTR, ECONNRESET)
             ? -1
             : recvmsg(fd, mh, flags);
}

/* ---- sockets ---- */

static inline int os_bind(int fd, const struct sockaddr *sa, socklen_t len)
{
  return os_fault("bind", MPROC__SOFT_NONE, ENOMEM) ? -1 : bind(fd, sa, len);
}

static inline int os_listen(int fd, int backlog)
{
  return os_fault("listen", MPROC__SOFT_NONE, ENOBUFS) ? -1
                                                       : listen(fd, backlog);
}

static inline int os_accept4(int fd, int flags)
{
  return os_fault("accept4", MPROC__SOFT_INTR, EMFILE)
             ? -1
             : accept4(fd, NULL, NULL, flags);
}

/* A refused connection is what a dead server gives. An interrupted
 * connect goes on in the background, as a real one does: the call is
 * made, and then said to be interrupted. */
static inline int os_connect(int fd, const struct sockaddr *sa, socklen_t len)
{
  int f = MPROC__FAULT("connect", MPROC__SOFT_INTR);
  int r;

  if (f == MPROC__FAULT_FAIL) {
    errno = ECONNREFUSED;
    return -1;
  }
  r = connect(fd, sa, len);
  if (f == MPROC__FAULT_INTR && (r == 0 || errno == EINPROGRESS)) {
    errno = EINTR;
    return -1;
  }
  return r;
}

static inline int os_setsockopt(int fd, int level, int name, const void *v,
                                socklen_t len)
{
  return os_fault("setsockopt", MPROC__SOFT_NONE, ENOMEM)
             ? -1
             : setsockopt(fd, level, name, v, len);
}

/* ---- waiting ---- */

/* Linux's poll() allocates only for more descriptors than fit in its
 * stack buffer (256 bytes); below that an interruption is all it can
 * give. */
static inline int os_poll(struct pollfd *pfd, nfds_t n, int ms)
{
  int err = n * sizeof *pfd > 256 ? ENOMEM : EINTR;

  return os_fault("poll", MPROC__SOFT_INTR, err) ? -1 : poll(pfd, n, ms);
}

/* Only interruptions: a wait that fails otherwise is a caller's bug. */
static inline pid_t os_waitpid(pid_t pid, int *status, int options)
{
  return os_fault("waitpid", MPROC__SOFT_INTR, EINTR)
             ? -1
             : waitpid(pid, status, options);
}

/* FUTEX_WAIT_BITSET with an absolute CLOCK_MONOTONIC deadline (NULL:
 * none); shared, not FUTEX_PRIVATE: the waiters are in several
 * processes. A spurious return is the soft failure. */
static inline long os_futex_wait(unsigned *word, unsigned expected,
                                 const struct timespec *abs)
{
  if (os_fault("futex", MPROC__SOFT_INTR, EINTR))
    return -1;
  return syscall(SYS_futex, word, FUTEX_WAIT_BITSET, expected, abs, NULL,
                 FUTEX_BITSET_MATCH_ANY);
}

/* ---- processes ---- */

static inline pid_t os_fork(void)
{
  return os_fault("fork", MPROC__SOFT_NONE, EAGAIN) ? -1 : fork();
}

/* Returns an error number, as posix_spawn does. */
static inline int os_posix_spawn(pid_t *pid, const char *path,
                                 const posix_spawn_file_actions_t *fa,
                                 const posix_spawnattr_t *attr,
                                 char *const argv[], char *const envp[])
{
  if (os_fault("posix_spawn", MPROC__SOFT_NONE, EAGAIN))
    return errno;
  return posix_spawn(pid, path, fa, attr, argv, envp);
}

static inline int os_pidfd_open(pid_t pid)
{
  return os_fault("pidfd_open", MPROC__SOFT_NONE, EMFILE)
             ? -1
             : (int)syscall(SYS_pidfd_open, pid, 0);
}

#endif /* MPROC__POSIX_OS_H */
