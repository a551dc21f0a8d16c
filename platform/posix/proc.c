/*
 * POSIX backend: starting children (fork, spawn), waiting with deadlines,
 * signals, reaping, and the small OS queries of platform.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "posix.h"

extern char **environ;

const char *mproc__argv0 = "mproc-child";

static int pidfd_open_(pid_t pid)
{
  return (int)syscall(SYS_pidfd_open, pid, 0);
}

static int pidfd_signal(int pidfd, int sig)
{
  return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

int mproc__posix_exitcode(int status)
{
  if (WIFSIGNALED(status))
    return -WTERMSIG(status);
  return WEXITSTATUS(status);
}

int mproc__read_full(int fd, void *buf, size_t len)
{
  char *p = buf;

  while (len > 0) {
    ssize_t n = read(fd, p, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -errno;
    if (n == 0)
      return -EPIPE;
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

int mproc__write_full(int fd, const void *buf, size_t len)
{
  const char *p = buf;

  while (len > 0) {
    /* send() with MSG_NOSIGNAL: a child that died early must not kill
     * its parent with SIGPIPE. */
    ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
    if (n < 0 && errno == ENOTSOCK)
      n = write(fd, p, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -errno;
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

int mproc__spawn_self(const char *marker, const int *fds, int nfds, pid_t *pid)
{
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  sigset_t none, all;
  char *argv[3];
  int rc, tmp = MPROC__BOOT_FD + nfds;

  argv[0] = (char *)mproc__argv0;
  argv[1] = (char *)marker;
  argv[2] = NULL;
  posix_spawn_file_actions_init(&fa);
  posix_spawnattr_init(&attr);
  /* Descriptors are first moved above both the target range and every
   * source, so that dup2 of fd N onto 3 + i never clobbers a later
   * source. */
  for (int i = 0; i < nfds; i++)
    if (fds[i] >= tmp)
      tmp = fds[i] + 1;
  for (int i = 0; i < nfds; i++)
    posix_spawn_file_actions_adddup2(&fa, fds[i], tmp + i);
  for (int i = 0; i < nfds; i++)
    posix_spawn_file_actions_adddup2(&fa, tmp + i, MPROC__BOOT_FD + i);
  /* Nothing but stdio and what we pass reaches the child, as on
   * Windows with a handle list. */
  posix_spawn_file_actions_addclosefrom_np(&fa, MPROC__BOOT_FD + nfds);
  sigemptyset(&none);
  sigfillset(&all);
  sigdelset(&all, SIGKILL);
  sigdelset(&all, SIGSTOP);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  rc = posix_spawn(pid, "/proc/self/exe", &fa, &attr, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0)
    return mproc__err_os("posix_spawn", rc);
  return 0;
}

int mproc__move_fds(const int *fds, size_t n, int base)
{
  int tmp = base + (int)n;
  int *moved;

  if (n == 0)
    return 0;
  moved = malloc(n * sizeof *moved);
  if (moved == NULL)
    return -1;
  /* Above every target first, as in mproc__spawn_self. */
  for (size_t i = 0; i < n; i++) {
    moved[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, tmp);
    if (moved[i] < 0) {
      free(moved);
      return -1;
    }
    close(fds[i]);
  }
  for (size_t i = 0; i < n; i++) {
    if (dup2(moved[i], base + (int)i) < 0) {
      free(moved);
      return -1;
    }
    close(moved[i]);
  }
  free(moved);
  return 0;
}

intptr_t mproc__plat_child_handle(mproc_start_method_t method, size_t i,
                                  intptr_t parent_value)
{
  if (method == MPROC_FORK)
    return parent_value;
  return MPROC__HANDLE_FD + (intptr_t)i;
}

void mproc__plat_handle_close(intptr_t h)
{
  if (h >= 0)
    close((int)h);
}

static int start_fork(const mproc__launch_t *l, mproc__child_t *c)
{
  pid_t pid;

  /* As CPython does: what the parent buffered must not print twice. */
  fflush(stdout);
  fflush(stderr);
  pid = fork();

  if (pid < 0)
    return mproc__err_os("fork", errno);
  if (pid == 0) {
    l->fork_child(l->fork_arg);
    _exit(MPROC_EXIT_BOOTSTRAP); /* not reached */
  }
  c->pid = pid;
  return 0;
}

static int start_spawn(const mproc__launch_t *l, mproc__child_t *c)
{
  int sv[2] = {-1, -1};
  char marker[64];
  int *fds, rc, err;

  fds = malloc((1 + l->nhandles) * sizeof *fds);
  if (fds == NULL)
    return mproc__err(MPROC_ENOMEM, "out of memory");
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    free(fds);
    return mproc__err_os("socketpair", errno);
  }
  /* The bootstrap socket is descriptor 3, the objects' handles follow:
   * MPROC__HANDLE_FD + i. */
  fds[0] = sv[1];
  for (size_t i = 0; i < l->nhandles; i++)
    fds[1 + i] = (int)l->handles[i];
  snprintf(marker, sizeof marker, "%s%d", MPROC__SPAWN_ARG, MPROC__BOOT_FD);
  rc = mproc__spawn_self(marker, fds, 1 + (int)l->nhandles, &c->pid);
  free(fds);
  close(sv[1]);
  if (rc == 0) {
    /* EPIPE means the child has already ended; its exit code says why. */
    err = mproc__write_full(sv[0], l->boot, l->boot_len);
    if (err != 0 && err != -EPIPE && err != -ECONNRESET)
      rc = mproc__err_os("send(bootstrap)", -err);
  }
  close(sv[0]);
  return rc;
}

int mproc__plat_start(const mproc__launch_t *l, mproc__child_t **out)
{
  mproc__child_t *c = calloc(1, sizeof *c);
  int rc;

  if (c == NULL)
    return mproc__err(MPROC_ENOMEM, "out of memory");
  c->pidfd = c->conn = -1;
  c->exitcode = MPROC_EXITCODE_NONE;
  if (l->method == MPROC_FORK)
    rc = start_fork(l, c);
  else if (l->method == MPROC_SPAWN)
    rc = start_spawn(l, c);
  else
    rc = mproc__fs_start(l, c);
  if (rc == 0 && c->pidfd < 0) {
    c->pidfd = pidfd_open_(c->pid);
    if (c->pidfd < 0) {
      rc = mproc__err_os("pidfd_open", errno);
      kill(c->pid, SIGKILL);
      waitpid(c->pid, NULL, 0);
    }
  }
  if (rc != 0) {
    if (c->conn >= 0)
      close(c->conn);
    free(c);
    return rc;
  }
  *out = c;
  return 0;
}

static int poll_ms(double timeout, double deadline)
{
  double left;

  if (timeout >= 1e9)
    return -1;
  left = deadline - mproc__plat_now();
  return left <= 0 ? 0 : (int)(left * 1000.0 + 0.999);
}

/* A forkserver connection that is readable but at EOF means the server
 * died without reporting: from then on only the pidfd tells the end. */
static int conn_at_eof(mproc__child_t *c)
{
  char byte;

  if (recv(c->conn, &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 0)
    c->server_gone = 1;
  return c->server_gone;
}

int mproc__plat_wait(mproc__child_t *c, double timeout)
{
  double deadline = mproc__plat_now() + (timeout > 0 ? timeout : 0);

  if (c->reaped)
    return 0;
  for (;;) {
    int use_conn = c->conn >= 0 && !c->server_gone;
    struct pollfd pfd = {.fd = use_conn ? c->conn : c->pidfd, .events = POLLIN};
    int n = poll(&pfd, 1, poll_ms(timeout, deadline));
    if (n > 0 && use_conn && conn_at_eof(c))
      continue;
    if (n > 0)
      return 0;
    if (n == 0)
      return MPROC_ETIMEDOUT;
    if (errno != EINTR)
      return mproc__err_os("poll", errno);
  }
}

/* Whether the pidfd says the process has ended. */
static int pidfd_ended(const mproc__child_t *c)
{
  struct pollfd pfd = {.fd = c->pidfd, .events = POLLIN};

  return poll(&pfd, 1, 0) == 1;
}

/* Forkserver children are the server's, not ours: their status arrives
 * on the request connection. */
static int reap_fs(mproc__child_t *c)
{
  int32_t code;
  ssize_t n = 0;

  if (!c->server_gone)
    n = recv(c->conn, &code, sizeof code, MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
    return MPROC_ETIMEDOUT;
  if (n == (ssize_t)sizeof code) {
    c->exitcode = code;
    return 0;
  }
  /* The server went away without a status: only the pidfd knows when the
   * child ends, and nobody can tell us how. */
  c->server_gone = 1;
  if (!pidfd_ended(c))
    return MPROC_ETIMEDOUT;
  c->exitcode = MPROC_EXITCODE_LOST;
  return 0;
}

/* Our own child: waitpid, unless the program reaped it behind our back
 * (SIGCHLD ignored, waitpid(-1)); then the pidfd tells that it ended. */
static int reap_own(mproc__child_t *c)
{
  int status;
  pid_t r;

  do
    r = waitpid(c->pid, &status, WNOHANG);
  while (r < 0 && errno == EINTR);
  if (r == 0)
    return MPROC_ETIMEDOUT;
  if (r < 0 && errno == ECHILD && pidfd_ended(c)) {
    c->exitcode = MPROC_EXITCODE_LOST;
    return 0;
  }
  if (r < 0)
    return mproc__err_os("waitpid", errno);
  c->exitcode = mproc__posix_exitcode(status);
  return 0;
}

int mproc__plat_reap(mproc__child_t *c, int *exitcode)
{
  if (!c->reaped) {
    int rc = c->conn >= 0 ? reap_fs(c) : reap_own(c);
    if (rc != 0)
      return rc;
    c->reaped = 1;
  }
  *exitcode = c->exitcode;
  return 0;
}

int mproc__plat_signal(mproc__child_t *c, int hard)
{
  if (c->reaped)
    return 0;
  if (pidfd_signal(c->pidfd, hard ? SIGKILL : SIGTERM) != 0 && errno != ESRCH)
    return mproc__err_os("pidfd_send_signal", errno);
  return 0;
}

long mproc__plat_child_pid(const mproc__child_t *c)
{
  return (long)c->pid;
}

mproc_sentinel_t mproc__plat_sentinel(const mproc__child_t *c)
{
  return c->conn >= 0 ? c->conn : c->pidfd;
}

void mproc__plat_child_free(mproc__child_t *c)
{
  if (c == NULL)
    return;
  if (c->pidfd >= 0)
    close(c->pidfd);
  if (c->conn >= 0)
    close(c->conn);
  free(c);
}

void mproc__plat_child_setup(mproc_start_method_t method, int daemon,
                             long parent_pid)
{
  /* A forkserver child's parent is the server, not the process that
   * asked for it; the server dies with that process. */
  long expect = method == MPROC_FORKSERVER ? mproc__fs_server_pid : parent_pid;

  if (!daemon)
    return;
  /* Checked after setting the signal: if the parent died before, the
   * signal will never come, and we are already an orphan. */
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != expect)
    raise(SIGKILL);
}

void mproc__plat_after_fork_child(void)
{
  mproc__fs_after_fork();
}

int mproc__plat_pid_alive(long pid)
{
  return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

/* Whether the process that is our parent while the creator lives is
 * not any more. A forkserver child's parent is the server, which ends
 * with the process that asked for the child (see mproc__fs_serve). */
static int orphaned(mproc_start_method_t method, long parent_pid)
{
  return (long)getppid() !=
         (method == MPROC_FORKSERVER ? mproc__fs_server_pid : parent_pid);
}

int mproc__plat_parent_wait(mproc_start_method_t method, long parent_pid,
                            double timeout)
{
  double deadline = mproc__plat_now() + (timeout > 0 ? timeout : 0);
  /* The pidfd is opened before the parentage is checked: if the parent
   * was still ours after that, the pidfd is the parent's, never a
   * process that took its id later. */
  int fd = pidfd_open_((pid_t)parent_pid), n, rc = MPROC_ETIMEDOUT;

  if (fd < 0 && errno == ESRCH)
    return 0;
  for (;;) {
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    int ms = poll_ms(timeout, deadline);
    if (orphaned(method, parent_pid)) {
      rc = 0;
      break;
    }
    /* Without pidfds (Linux < 5.3): look again every 20 ms. */
    if (fd < 0 && (ms < 0 || ms > 20))
      ms = 20;
    n = poll(fd >= 0 ? &pfd : NULL, fd >= 0 ? 1 : 0, ms);
    if (n > 0) {
      rc = 0;
      break;
    }
    if (n < 0 && errno != EINTR) {
      rc = mproc__err_os("poll", errno);
      break;
    }
    if (timeout < 1e9 && mproc__plat_now() >= deadline &&
        !orphaned(method, parent_pid))
      break;
  }
  if (fd >= 0)
    close(fd);
  return rc;
}

long mproc__plat_getpid(void)
{
  return (long)getpid();
}

int mproc__plat_cpu_count(void)
{
  cpu_set_t set;

  if (sched_getaffinity(0, sizeof set, &set) == 0)
    return CPU_COUNT(&set);
  return (int)sysconf(_SC_NPROCESSORS_ONLN);
}

int mproc__plat_has_method(mproc_start_method_t m)
{
  return m == MPROC_FORK || m == MPROC_SPAWN || m == MPROC_FORKSERVER;
}

void mproc__plat_exit_now(int code)
{
  fflush(NULL);
  _exit(code);
}

double mproc__plat_now(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void mproc__plat_strerror(long oserr, char *buf, size_t len)
{
  snprintf(buf, len, "%s", strerror((int)oserr));
}

int mproc__plat_errcode(long oserr)
{
  switch (oserr) {
  case EINVAL:
    return MPROC_EINVAL;
  case ENOMEM:
    return MPROC_ENOMEM;
  case EPERM:
  case EACCES:
    return MPROC_EPERM;
  case ETIMEDOUT:
    return MPROC_ETIMEDOUT;
  case ENOSYS:
    return MPROC_ENOSYS;
  case ENOENT:
  case ESRCH:
    return MPROC_ENOTFOUND;
  case ECHILD:
    return MPROC_ENOTCHILD;
  case EADDRINUSE:
    return MPROC_EADDRINUSE;
  case ECONNREFUSED: /* nothing listens at the address connected to */
    return MPROC_ENOTFOUND;
  default:
    return MPROC_EOS;
  }
}
