/*
 * POSIX backend: the pipes under Connection. A duplex pair is a
 * socketpair, a one-way pair a pipe; writes use send(MSG_NOSIGNAL) where
 * the descriptor is a socket, so a closed peer is an error, not SIGPIPE.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "object.h"
#include "os.h"
#include "posix.h"

int mproc__plat_pipe(int duplex, intptr_t *r, intptr_t *w)
{
  int fd[2];

  if (duplex) {
    if (os_socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fd) != 0)
      return mproc__err_os("socketpair", errno);
  } else if (os_pipe2(fd, O_CLOEXEC) != 0) {
    return mproc__err_os("pipe", errno);
  }
  *r = fd[0];
  *w = fd[1];
  return 0;
}

int mproc__plat_pipe_read(intptr_t h, void *buf, size_t cap, size_t *got)
{
  ssize_t n;

  do
    n = os_read((int)h, buf, cap);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    *got = 0;
    /* A reset connection is an end like any other. */
    if (errno == ECONNRESET)
      return 0;
    return mproc__err_os("read", errno);
  }
  *got = (size_t)n;
  return 0;
}

int mproc__plat_pipe_write(intptr_t h, const void *buf, size_t len)
{
  int rc;
  sigset_t pipe_set, old;
  ssize_t n;

  /* A socket (duplex) says MSG_NOSIGNAL: no signal mask to touch. */
  do
    n = os_send((int)h, buf, len, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n >= 0 || errno != ENOTSOCK) {
    if (n < 0)
      rc = -errno;
    else if ((size_t)n == len)
      rc = 0;
    else
      rc = mproc__write_full((int)h, (const char *)buf + n, len - (size_t)n);
    if (rc != 0)
      return mproc__err_os("write", -rc);
    return 0;
  }
  /* A pipe has no MSG_NOSIGNAL: block SIGPIPE around the write instead
   * of killing the caller. */
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
  rc = mproc__write_full((int)h, buf, len);
  if (rc == -EPIPE) {
    /* Consume the pending SIGPIPE this write raised, if any. */
    struct timespec zero = {0, 0};
    sigset_t pending;
    sigpending(&pending);
    if (sigismember(&pending, SIGPIPE) && !sigismember(&old, SIGPIPE))
      sigtimedwait(&pipe_set, NULL, &zero);
  }
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (rc != 0)
    return mproc__err_os("write", -rc);
  return 0;
}

int mproc__plat_wait_handles(const intptr_t *h, const int *is_pipe, size_t n,
                             double deadline, int *ready)
{
  struct pollfd *pfd = calloc(n ? n : 1, sizeof *pfd);
  int rc, count = 0;

  (void)is_pipe; /* pidfds and pipes are both readable when ready */
  if (pfd == NULL)
    return mproc__err(MPROC_ENOMEM, "out of memory");
  for (size_t i = 0; i < n; i++) {
    pfd[i].fd = (int)h[i];
    pfd[i].events = POLLIN;
  }
  for (;;) {
    int ms = -1;
    if (deadline < MPROC__NEVER) {
      double left = deadline - mproc__plat_now();
      ms = left <= 0 ? 0 : (int)(left * 1000.0 + 0.999);
    }
    rc = os_poll(pfd, (nfds_t)n, ms);
    if (rc >= 0 || errno != EINTR)
      break;
  }
  if (rc < 0) {
    rc = mproc__err_os("poll", errno);
    free(pfd);
    return rc;
  }
  for (size_t i = 0; i < n; i++) {
    ready[i] = pfd[i].revents != 0;
    count += ready[i];
  }
  free(pfd);
  return count;
}

void mproc__plat_handle_own(intptr_t h)
{
  (void)fcntl((int)h, F_SETFD, FD_CLOEXEC);
}

void mproc__plat_handle_shutdown(intptr_t h)
{
  (void)shutdown((int)h, SHUT_RDWR);
}
