/*
 * POSIX backend: starting children (fork, spawn), waiting with deadlines,
 * signals, reaping, and the small OS queries of platform.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "object.h"
#include "os.h"
#include "posix.h"

extern char **environ;

const char *mproc__argv0 = "mproc-child";

static int pidfd_signal(int pidfd, int sig)
{
  return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

int mproc__posix_has_pidfd(void)
{
  static atomic_int known = -1;
  int has = atomic_load(&known);

  if (has < 0) {
    const char *env = getenv("MPROC_NO_PIDFD");
    int fd = -1;
    if (env == NULL || strcmp(env, "1") != 0)
      fd = (int)syscall(SYS_pidfd_open, getpid(), 0);
    /* Only a kernel without the call is a kernel without pidfds (EMFILE
     * now says nothing about later). */
    has = fd >= 0 || (errno != ENOSYS && (env == NULL || strcmp(env, "1")));
    if (fd >= 0)
      close(fd);
    atomic_store(&known, has);
  }
  return has;
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
    ssize_t n = os_read(fd, p, len);
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
    ssize_t n = os_send(fd, p, len, MSG_NOSIGNAL);
    if (n < 0 && errno == ENOTSOCK)
      n = os_write(fd, p, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -errno;
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

/* The file to re-execute: /proc/self/exe (this very program, even if its
 * file was replaced or removed since), unless that is not this program:
 * valgrind runs a program as its own, and /proc/self/exe is then
 * valgrind (whose readlink() gives the program's path). */
static char self_path[4096];

static void find_self(void)
{
  struct stat a, b;
  ssize_t n = readlink("/proc/self/exe", self_path, sizeof self_path - 1);

  if (n > 0) {
    self_path[n] = '\0';
    if (stat("/proc/self/exe", &a) == 0 && stat(self_path, &b) == 0 &&
        (a.st_ino != b.st_ino || a.st_dev != b.st_dev))
      return;
  }
  snprintf(self_path, sizeof self_path, "/proc/self/exe");
}

static const char *self_exe(void)
{
  static pthread_once_t once = PTHREAD_ONCE_INIT;

  pthread_once(&once, find_self);
  return self_path;
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
  rc = os_posix_spawn(pid, self_exe(), &fa, &attr, argv, environ);
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
    moved[i] = os_dupfd(fds[i], tmp);
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

/* Without pidfds, a pipe stands for the child: its write end goes to the
 * child alone (close-on-exec here, so that no other program started
 * meanwhile keeps it), and the read end is at EOF once the child has
 * ended. @w is closed by the caller once the child has started. */
static int sentinel_pipe(mproc__child_t *c, int *w)
{
  int fds[2];

  *w = -1;
  if (mproc__posix_has_pidfd())
    return 0;
  if (os_pipe2(fds, O_CLOEXEC) != 0)
    return mproc__err_os("pipe2", errno);
  c->sentinel = fds[0];
  *w = fds[1];
  return 0;
}

static int start_fork(const mproc__launch_t *l, mproc__child_t *c)
{
  int w, rc = sentinel_pipe(c, &w);
  pid_t pid;

  if (rc != 0)
    return rc;
  /* As CPython does: what the parent buffered must not print twice. */
  fflush(stdout);
  fflush(stderr);
  pid = os_fork();
  if (pid == 0) {
    /* The sentinel's write end stays open here until this process ends. */
    l->fork_child(l->fork_arg);
    _exit(MPROC_EXIT_BOOTSTRAP); /* not reached */
  }
  if (w >= 0)
    close(w);
  if (pid < 0)
    return mproc__err_os("fork", errno);
  c->pid = pid;
  return 0;
}

static int start_spawn(const mproc__launch_t *l, mproc__child_t *c)
{
  int sv[2] = {-1, -1}, w = -1;
  char marker[64];
  int *fds = NULL, nfds = 1 + (int)l->nhandles, rc, err;

  if ((rc = sentinel_pipe(c, &w)) != 0)
    return rc;
  fds = malloc((size_t)(nfds + 1) * sizeof *fds);
  if (fds == NULL) {
    rc = mproc__err(MPROC_ENOMEM, "out of memory");
    goto out;
  }
  if (os_socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    rc = mproc__err_os("socketpair", errno);
    goto out;
  }
  /* The bootstrap socket is descriptor 3, the objects' handles follow:
   * MPROC__HANDLE_FD + i; then the sentinel's write end, which the child
   * never looks at and keeps open until it ends. */
  fds[0] = sv[1];
  for (size_t i = 0; i < l->nhandles; i++)
    fds[1 + i] = (int)l->handles[i];
  if (w >= 0)
    fds[nfds++] = w;
  snprintf(marker, sizeof marker, "%s%d", MPROC__SPAWN_ARG, MPROC__BOOT_FD);
  rc = mproc__spawn_self(marker, fds, nfds, &c->pid);
  close(sv[1]);
  sv[1] = -1;
  if (rc == 0) {
    /* EPIPE means the child has already ended; its exit code says why. */
    err = mproc__write_full(sv[0], l->boot, l->boot_len);
    if (err != 0 && err != -EPIPE && err != -ECONNRESET)
      rc = mproc__err_os("send(bootstrap)", -err);
  }
out:
  free(fds);
  if (w >= 0)
    close(w);
  if (sv[0] >= 0)
    close(sv[0]);
  if (sv[1] >= 0)
    close(sv[1]);
  return rc;
}

/* A child of ours that started but is not wanted (its start failed
 * after it was made): it must not run on untracked. */
static void discard_own(mproc__child_t *c)
{
  if (c->pid <= 0)
    return;
  kill(c->pid, SIGKILL);
  while (os_waitpid(c->pid, NULL, 0) < 0 && errno == EINTR)
    ;
}

/* Our child that no longer exists, not even as a zombie, just after it
 * was made: it ran and ended, and the program reaped it behind our back
 * (SIGCHLD ignored, waitpid(-1)). Its exit status is lost; its sentinel
 * is a pipe already at EOF. */
static int reaped_already(mproc__child_t *c)
{
  int fds[2];

  if (os_pipe2(fds, O_CLOEXEC) != 0)
    return mproc__err_os("pipe2", errno);
  close(fds[1]);
  c->sentinel = fds[0];
  c->sentinel_eof = 1;
  c->exitcode = MPROC_EXITCODE_LOST;
  c->reaped = 1; /* nothing to wait for or signal */
  return 0;
}

static void child_close(mproc__child_t *c)
{
  if (c->pidfd >= 0)
    close(c->pidfd);
  if (c->sentinel >= 0)
    close(c->sentinel);
  if (c->conn >= 0)
    close(c->conn);
  free(c);
}

int mproc__plat_start(const mproc__launch_t *l, mproc__child_t **out)
{
  mproc__child_t *c = calloc(1, sizeof *c);
  int rc;

  if (c == NULL)
    return mproc__err(MPROC_ENOMEM, "out of memory");
  c->pidfd = c->conn = c->sentinel = -1;
  c->exitcode = MPROC_EXITCODE_NONE;
  if (l->method == MPROC_FORKSERVER) {
    /* The server's reply brings the pidfd (none without pidfds). */
    rc = mproc__fs_start(l, c);
  } else {
    rc = l->method == MPROC_FORK ? start_fork(l, c) : start_spawn(l, c);
    if (rc == 0 && mproc__posix_has_pidfd() &&
        (c->pidfd = os_pidfd_open(c->pid)) < 0)
      rc = errno == ESRCH ? reaped_already(c)
                          : mproc__err_os("pidfd_open", errno);
    if (rc != 0)
      discard_own(c);
  }
  if (rc != 0) {
    child_close(c);
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

/* ---- tracking by pid, without pidfds ---- */

/* Whether our own (unreaped) child has ended, without reaping it. A
 * child reaped behind our back (SIGCHLD ignored) has ended too. */
static int own_ended(const mproc__child_t *c)
{
  siginfo_t si;

  memset(&si, 0, sizeof si);
  if (waitid(P_PID, (id_t)c->pid, &si, WEXITED | WNOHANG | WNOWAIT) != 0)
    return errno == ECHILD;
  return si.si_pid == c->pid;
}

int mproc__posix_pid_ended(long pid)
{
  char path[64], buf[256];
  ssize_t n;
  int fd;

  snprintf(path, sizeof path, "/proc/%ld/stat", pid);
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return errno == ENOENT || errno == ESRCH;
  n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0)
    return 1;
  buf[n] = '\0';
  char *p = strrchr(buf, ')');
  return p != NULL && (p[2] == 'Z' || p[2] == 'X');
}

/* Whether a forkserver child whose server died has ended: it is no
 * longer ours to wait for, so only its entry in /proc tells. */
static int orphan_ended(const mproc__child_t *c)
{
  return mproc__posix_pid_ended((long)c->pid);
}

static int ended_by_pid(mproc__child_t *c)
{
  return c->conn >= 0 ? orphan_ended(c) : own_ended(c);
}

/* Wait by pid: on the sentinel pipe while it can tell (it may come at
 * EOF a moment before waitid() sees the end, or never, if the child
 * closed its end), else by polling, backing off as CPython's
 * Popen.wait() does. */
static int wait_by_pid(mproc__child_t *c, double timeout)
{
  double deadline = mproc__plat_now() + (timeout > 0 ? timeout : 0);
  double nap = 0.0005;

  for (;;) {
    if (ended_by_pid(c))
      return 0;
    int ms = poll_ms(timeout, deadline);
    if (ms == 0)
      return MPROC_ETIMEDOUT;
    int cap = (int)(nap * 1000.0) + 1;
    if (ms < 0 || ms > cap)
      ms = cap;
    if (c->sentinel >= 0 && !c->sentinel_eof) {
      struct pollfd pfd = {.fd = c->sentinel, .events = POLLIN};
      if (os_poll(&pfd, 1, ms) == 1) {
        c->sentinel_eof = 1;
        nap = 0.0005;
        continue;
      }
    } else {
      struct timespec ts = {0, (long)ms * 1000000L};
      nanosleep(&ts, NULL);
    }
    nap = nap * 2 < 0.05 ? nap * 2 : 0.05;
  }
}

int mproc__plat_wait(mproc__child_t *c, double timeout)
{
  double deadline = mproc__plat_now() + (timeout > 0 ? timeout : 0);

  if (c->reaped)
    return 0;
  for (;;) {
    int use_conn = c->conn >= 0 && !c->server_gone;
    if (!use_conn && c->pidfd < 0)
      return wait_by_pid(c, deadline - mproc__plat_now());
    struct pollfd pfd = {.fd = use_conn ? c->conn : c->pidfd, .events = POLLIN};
    int n = os_poll(&pfd, 1, poll_ms(timeout, deadline));
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

/* Whether the child has ended, by its pidfd or, without one, by pid. */
static int child_ended(mproc__child_t *c)
{
  struct pollfd pfd = {.fd = c->pidfd, .events = POLLIN};

  if (c->pidfd < 0)
    return ended_by_pid(c);
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
  /* The server went away without a status: only the pidfd (or the pid)
   * tells when the child ends, and nobody can tell us how. */
  c->server_gone = 1;
  if (!child_ended(c))
    return MPROC_ETIMEDOUT;
  c->exitcode = MPROC_EXITCODE_LOST;
  return 0;
}

/* Our own child: waitpid, unless the program reaped it behind our back
 * (SIGCHLD ignored, waitpid(-1)); then the pidfd tells that it ended
 * (without one, waitpid's ECHILD alone: it is no longer ours, so it
 * ended). */
static int reap_own(mproc__child_t *c)
{
  int status;
  pid_t r;

  do
    r = os_waitpid(c->pid, &status, WNOHANG);
  while (r < 0 && errno == EINTR);
  if (r == 0)
    return MPROC_ETIMEDOUT;
  if (r < 0 && errno == ECHILD && (c->pidfd < 0 || child_ended(c))) {
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

/* Signal by pid, with what care a pid allows: never once the child is
 * known to have ended, since its pid may then be another process's. Our
 * own child's pid cannot be reused before we reap it (waitid says
 * whether it ended); a forkserver child's status on the connection says
 * it ended (the server reaped it). Only a forkserver child whose server
 * died is left to a bare kill(). */
static int signal_by_pid(mproc__child_t *c, int sig)
{
  char byte;

  if (c->conn < 0 && own_ended(c))
    return 0;
  if (c->conn >= 0 && !c->server_gone &&
      recv(c->conn, &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 1)
    return 0;
  if (c->conn >= 0 && orphan_ended(c))
    return 0;
  if (kill(c->pid, sig) != 0 && errno != ESRCH)
    return mproc__err_os("kill", errno);
  return 0;
}

int mproc__plat_signal(mproc__child_t *c, int hard)
{
  int sig = hard ? SIGKILL : SIGTERM;

  if (c->reaped)
    return 0;
  if (c->pidfd < 0)
    return signal_by_pid(c, sig);
  if (pidfd_signal(c->pidfd, sig) != 0 && errno != ESRCH)
    return mproc__err_os("pidfd_send_signal", errno);
  return 0;
}

long mproc__plat_child_pid(const mproc__child_t *c)
{
  return (long)c->pid;
}

mproc_sentinel_t mproc__plat_sentinel(const mproc__child_t *c)
{
  if (c->conn >= 0)
    return c->conn;
  return c->pidfd >= 0 ? c->pidfd : c->sentinel;
}

void mproc__plat_child_free(mproc__child_t *c)
{
  if (c != NULL)
    child_close(c);
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
  int fd = -1, n, rc = MPROC_ETIMEDOUT;

  if (mproc__posix_has_pidfd() && (fd = os_pidfd_open((pid_t)parent_pid)) < 0 &&
      errno == ESRCH)
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
  mproc__posix_named_exit();
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
