/*
 * The forkserver start method. On first use a process spawns a clean copy
 * of the program (the server) that listens on an abstract unix socket.
 * The server exits when the process that started it goes away (EOF on
 * the "alive" pipe); daemonic children die with the server.
 *
 * The server never reads from a peer, so no peer can hold it up: it
 * refuses a peer of another user before reading a byte (SO_PEERCRED),
 * and forks each other connection at once. The forked process, the
 * handler, is the child to be. Side by side with any other handler, and
 * within a short total deadline, it authenticates both ways with
 * HMAC-SHA256 over the server's random key; it then reads the bootstrap
 * message and the objects' descriptors, and sends its pid and a pidfd of
 * itself. It runs the target only when the client acknowledges that it
 * holds them; a client that fails first (too many open files, say) just
 * closes the connection, and the handler exits without running anything.
 * The server writes the child's exit code on the connection when it
 * ends: that connection is the sentinel.
 *
 * A handler dies with the server until it has sent its pid, so a server
 * that dies during a start shows as a refusal or a hang-up before the
 * acknowledgement, when nothing can have run: the client then reaps the
 * server, starts a new one and tries again.
 *
 * The wire, after connect: the server side sends a 4-byte status (0, or
 * -errno when it could not fork a handler), then the handshake (32-byte
 * challenges and HMACs, the handler's first); the client sends the
 * bootstrap message's length (8 bytes) and bytes, then the descriptors'
 * count (4 bytes) with the descriptors as SCM_RIGHTS; the handler sends
 * its pid (8 bytes, -errno on failure) with its pidfd as SCM_RIGHTS (none
 * without pidfds); the client sends one acknowledgement byte; the server
 * sends the exit code (4 bytes) when the child ends.
 */
#include <errno.h>
#include <fcntl.h>
#include <nettle/hmac.h>
#include <nettle/memops.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "object.h"
#include "os.h"
#include "posix.h"

#define KEY_LEN 32
#define CHALLENGE_LEN 32
#define LISTEN_FD MPROC__BOOT_FD
#define ALIVE_FD (MPROC__BOOT_FD + 1)

/* Seconds a handler gives a peer to authenticate, all messages together
 * (the program's own client needs well under a millisecond). */
#define AUTH_LIMIT 2.0
/* Seconds an authenticated client has for the rest of its request, and
 * then for its acknowledgement. */
#define REQUEST_LIMIT 60.0

#define ACK 'G'

/* Tries at a start whose server keeps dying under it. */
#define MAX_TRIES 8

/* The objects' descriptors follow the request: a count, and the
 * descriptors themselves as SCM_RIGHTS (none: the count alone). */
#define MAX_PASSED 253 /* SCM_MAX_FD */

/* Client state, owned by the process that started the server. */
static pthread_mutex_t fs_lock = PTHREAD_MUTEX_INITIALIZER;
static pid_t fs_owner;
static pid_t fs_pid;
static int fs_alive_w = -1;
static struct sockaddr_un fs_addr;
static socklen_t fs_addr_len;
static unsigned char fs_key[KEY_LEN];

/* In the server and its children: the server's pid. */
long mproc__fs_server_pid;

static void hmac(const unsigned char *key, const unsigned char *msg,
                 unsigned char out[SHA256_DIGEST_SIZE])
{
  struct hmac_sha256_ctx ctx;

  hmac_sha256_set_key(&ctx, KEY_LEN, key);
  hmac_sha256_update(&ctx, CHALLENGE_LEN, msg);
  hmac_sha256_digest(&ctx, SHA256_DIGEST_SIZE, out);
}

/* Read exactly @len bytes by @deadline (MPROC__NEVER: block). 0, or
 * -errno: -EPIPE at an early end, -ETIMEDOUT at the deadline. */
static int read_by(int fd, void *buf, size_t len, double deadline)
{
  char *p = buf;

  while (len > 0) {
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    double left = deadline - mproc__plat_now();
    int ms = deadline >= MPROC__NEVER ? -1
             : left <= 0              ? 0
                                      : (int)(left * 1e3) + 1;
    int r = os_poll(&pfd, 1, ms);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      return -errno;
    if (r == 0)
      return -ETIMEDOUT;
    ssize_t n = os_read(fd, p, len);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
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

/* Prove we know the key: answer the peer's challenge. 0 or -errno. */
static int answer_challenge(int fd, const unsigned char *key, double deadline)
{
  unsigned char ch[CHALLENGE_LEN], mac[SHA256_DIGEST_SIZE];
  int rc = read_by(fd, ch, sizeof ch, deadline);

  if (rc != 0)
    return rc;
  hmac(key, ch, mac);
  return mproc__write_full(fd, mac, sizeof mac);
}

/* Make the peer prove it knows the key. 0, -errno, or -EACCES when it
 * does not. */
static int deliver_challenge(int fd, const unsigned char *key, double deadline)
{
  unsigned char ch[CHALLENGE_LEN], want[SHA256_DIGEST_SIZE], got[sizeof want];
  int rc;

  if ((rc = mproc__random(ch, sizeof ch)) != 0)
    return -EIO;
  if ((rc = mproc__write_full(fd, ch, sizeof ch)) != 0 ||
      (rc = read_by(fd, got, sizeof got, deadline)) != 0)
    return rc;
  hmac(key, ch, want);
  return memeql_sec(want, got, sizeof want) ? 0 : -EACCES;
}

/* ------------------------------------------------------------------ */
/* Client                                                              */
/* ------------------------------------------------------------------ */

/* What a start needs of the server, copied under the lock: another
 * thread may replace the server meanwhile. */
typedef struct server_ref {
  pid_t pid;
  struct sockaddr_un addr;
  socklen_t addr_len;
  unsigned char key[KEY_LEN];
} server_ref_t;

static void forget_server(void)
{
  if (fs_alive_w >= 0)
    close(fs_alive_w);
  fs_alive_w = -1;
  fs_pid = 0;
  fs_owner = 0;
}

void mproc__fs_after_fork(void)
{
  /* The parent's server is not ours: holding its alive pipe would keep
   * it running after the parent is gone. */
  pthread_mutex_init(&fs_lock, NULL);
  forget_server();
}

static int make_listener(int *out)
{
  unsigned char rnd[12];
  int fd = os_socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

  if (fd < 0)
    return mproc__err_os("socket", errno);
  memset(&fs_addr, 0, sizeof fs_addr);
  fs_addr.sun_family = AF_UNIX;
  if (mproc__random(rnd, sizeof rnd) != 0) {
    close(fd);
    return MPROC_EOS;
  }
  /* Abstract namespace: no file to clean up after a crash. */
  int n = snprintf(fs_addr.sun_path + 1, sizeof fs_addr.sun_path - 1,
                   "mproc-fs-%ld-", (long)getpid());
  for (size_t i = 0; i < sizeof rnd; i++)
    n += snprintf(fs_addr.sun_path + 1 + n, 3, "%02x", rnd[i]);
  fs_addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
  if (os_bind(fd, (struct sockaddr *)&fs_addr, fs_addr_len) != 0 ||
      os_listen(fd, 128) != 0) {
    int rc = mproc__err_os("bind/listen", errno);
    close(fd);
    return rc;
  }
  *out = fd;
  return 0;
}

static int start_server_locked(void)
{
  int lfd = -1, alive[2] = {-1, -1}, fds[2], rc;
  char marker[64];
  pid_t pid = 0;

  rc = make_listener(&lfd);
  if (rc == 0 && os_pipe2(alive, O_CLOEXEC) != 0)
    rc = mproc__err_os("pipe2", errno);
  if (rc == 0)
    rc = mproc__random(fs_key, sizeof fs_key);
  if (rc == 0) {
    fds[0] = lfd;
    fds[1] = alive[0];
    snprintf(marker, sizeof marker, "%s%d,%d", MPROC__FORKSERVER_ARG, LISTEN_FD,
             ALIVE_FD);
    rc = mproc__spawn_self(marker, fds, 2, &pid);
  }
  /* The key travels on the alive pipe, never on a command line. A server
   * that cannot be told it is not left behind. */
  if (rc == 0 && mproc__write_full(alive[1], fs_key, sizeof fs_key) != 0) {
    rc = mproc__err(MPROC_EOS, "forkserver did not start");
    kill(pid, SIGKILL);
    while (os_waitpid(pid, NULL, 0) < 0 && errno == EINTR)
      ;
  }
  if (lfd >= 0)
    close(lfd);
  if (alive[0] >= 0)
    close(alive[0]);
  if (rc != 0) {
    if (alive[1] >= 0)
      close(alive[1]);
    return rc;
  }
  fs_pid = pid;
  fs_alive_w = alive[1];
  fs_owner = getpid();
  return 0;
}

static int ensure_server(server_ref_t *ref)
{
  int rc = 0, status;

  pthread_mutex_lock(&fs_lock);
  if (fs_owner != getpid())
    forget_server();
  /* A server that died (killed, say) is reaped and replaced, not left a
   * zombie that every later start fails to reach. */
  if (fs_pid != 0 && os_waitpid(fs_pid, &status, WNOHANG) == fs_pid) {
    MPROC__LOG(MPROC_LOG_WARNING,
               "forkserver (pid %ld) died; starting a new one", (long)fs_pid);
    forget_server();
  }
  if (fs_pid == 0 && (rc = start_server_locked()) == 0)
    MPROC__LOG(MPROC_LOG_INFO, "forkserver started (pid %ld)", (long)fs_pid);
  if (rc == 0) {
    ref->pid = fs_pid;
    ref->addr = fs_addr;
    ref->addr_len = fs_addr_len;
    memcpy(ref->key, fs_key, KEY_LEN);
  }
  pthread_mutex_unlock(&fs_lock);
  return rc;
}

/* The server @pid failed a start: it refused the connection (it no
 * longer listens: it is dying or dead), or a handler hung up before the
 * acknowledgement (the server may have died). Reap it if so, so that the
 * next ensure_server() starts a new one. Another thread may have done it
 * already. */
static void server_failed(pid_t pid, int refused)
{
  int status;

  pthread_mutex_lock(&fs_lock);
  if (fs_owner == getpid() && fs_pid == pid) {
    if (refused) {
      /* Only a dying server stops listening; make sure, then wait. */
      kill(pid, SIGKILL);
      while (os_waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
      forget_server();
    } else if (os_waitpid(pid, &status, WNOHANG) == pid) {
      forget_server();
    }
  }
  pthread_mutex_unlock(&fs_lock);
}

/* How an attempt ended, for the retry. */
enum { DONE, RETRY_REFUSED, RETRY_HUNG_UP };

static int hung_up(int err)
{
  return err == -EPIPE || err == -ECONNRESET;
}

static int recv_reply(int fd, mproc__child_t *c, int *retry)
{
  int64_t pid = 0;
  char cbuf[CMSG_SPACE(sizeof(int))];
  struct iovec iov = {.iov_base = &pid, .iov_len = sizeof pid};
  struct msghdr mh = {.msg_iov = &iov,
                      .msg_iovlen = 1,
                      .msg_control = cbuf,
                      .msg_controllen = sizeof cbuf};
  struct cmsghdr *cm;
  ssize_t n;

  do
    n = os_recvmsg(fd, &mh, MSG_CMSG_CLOEXEC | MSG_WAITALL);
  while (n < 0 && errno == EINTR);
  if (n < 0 && !hung_up(-errno))
    return mproc__err_os("forkserver: recvmsg", errno);
  if (n != (ssize_t)sizeof pid) {
    *retry = RETRY_HUNG_UP;
    return mproc__err(MPROC_EOS, "forkserver: the server hung up");
  }
  cm = CMSG_FIRSTHDR(&mh);
  if (cm != NULL && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
    memcpy(&c->pidfd, CMSG_DATA(cm), sizeof(int));
  /* A pidfd this process cannot use (valgrind runs it, not the server):
   * tracked by pid, as any child here. */
  if (c->pidfd >= 0 && !mproc__posix_has_pidfd()) {
    close(c->pidfd);
    c->pidfd = -1;
  }
  if (pid <= 0)
    return mproc__err_os("forkserver: the child's set-up", (long)-pid);
  /* The kernel drops descriptors it cannot install: this process is out
   * of them. */
  if (mh.msg_flags & MSG_CTRUNC)
    return mproc__err_os("forkserver: receiving the child's pidfd", EMFILE);
  if (c->pidfd < 0 && mproc__posix_has_pidfd())
    return mproc__err(MPROC_EOS, "forkserver: the child sent no pidfd");
  c->pid = (pid_t)pid;
  return 0;
}

static int send_handles(int fd, const mproc__launch_t *l)
{
  uint32_t n = (uint32_t)l->nhandles;
  char cbuf[CMSG_SPACE(MAX_PASSED * sizeof(int))];
  struct iovec iov = {.iov_base = &n, .iov_len = sizeof n};
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
  ssize_t r;

  if (n > MAX_PASSED)
    return -EINVAL;
  if (n > 0) {
    memset(cbuf, 0, sizeof cbuf);
    mh.msg_control = cbuf;
    mh.msg_controllen = CMSG_SPACE(n * sizeof(int));
    struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(n * sizeof(int));
    for (uint32_t i = 0; i < n; i++) {
      int h = (int)l->handles[i];
      memcpy(CMSG_DATA(cm) + i * sizeof(int), &h, sizeof(int));
    }
  }
  do
    r = os_sendmsg(fd, &mh, MSG_NOSIGNAL);
  while (r < 0 && errno == EINTR);
  if (r < 0)
    return -errno;
  return r == (ssize_t)sizeof n ? 0 : -EPIPE;
}

/* Record a failed step of the conversation: a hang-up may be retried. */
static int step_failed(const char *what, int err, int *retry)
{
  if (hung_up(err)) {
    *retry = RETRY_HUNG_UP;
    return mproc__err(MPROC_EOS, "forkserver: the server hung up (%s)", what);
  }
  if (err == -EACCES)
    return mproc__err(MPROC_EAUTH, "forkserver authentication failed");
  return mproc__err_os(what, -err);
}

/* Authenticate both ways and send the request. */
static int converse(int fd, const mproc__launch_t *l, const server_ref_t *s,
                    int *retry)
{
  uint64_t len = l->boot_len;
  int32_t status;
  int err;

  if ((err = read_by(fd, &status, sizeof status, MPROC__NEVER)) != 0)
    return step_failed("forkserver: read", err, retry);
  if (status != 0)
    return mproc__err_os("forkserver: fork", -(long)status);
  if ((err = answer_challenge(fd, s->key, MPROC__NEVER)) != 0 ||
      (err = deliver_challenge(fd, s->key, MPROC__NEVER)) != 0)
    return step_failed("forkserver: handshake", err, retry);
  if ((err = mproc__write_full(fd, &len, sizeof len)) != 0 ||
      (err = mproc__write_full(fd, l->boot, l->boot_len)) != 0 ||
      (err = send_handles(fd, l)) != 0)
    return step_failed("forkserver: sending the request", err, retry);
  return 0;
}

static int connect_server(int fd, const server_ref_t *s, int *retry)
{
  int r;

  /* An interrupted connect goes on in the background: the next one says
   * it is still under way (EALREADY) or done (EISCONN). */
  for (;;) {
    r = os_connect(fd, (const struct sockaddr *)&s->addr, s->addr_len);
    if (r == 0 || errno == EISCONN)
      return 0;
    if (errno == EINTR || errno == EALREADY) {
      struct pollfd pfd = {.fd = fd, .events = POLLOUT};
      (void)poll(&pfd, 1, 10);
      continue;
    }
    break;
  }
  /* Nothing listens: the server is gone (its socket dies with it). */
  if (errno == ECONNREFUSED || errno == ENOENT)
    *retry = RETRY_REFUSED;
  return mproc__err_os("forkserver: connect", errno);
}

/* One try at a start. On failure *retry says whether the server refused
 * or hung up before the child could run (DONE otherwise). */
static int attempt(const mproc__launch_t *l, mproc__child_t *c,
                   const server_ref_t *s, int *retry)
{
  const char ack = ACK;
  int fd, err, rc;

  *retry = DONE;
  fd = os_socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return mproc__err_os("forkserver: socket", errno);
  rc = connect_server(fd, s, retry);
  if (rc == 0)
    rc = converse(fd, l, s, retry);
  if (rc == 0)
    rc = recv_reply(fd, c, retry);
  /* Only now may the child run: we hold what tracks it. */
  if (rc == 0 && (err = mproc__write_full(fd, &ack, 1)) != 0)
    rc = step_failed("forkserver: acknowledging", err, retry);
  if (rc != 0) {
    if (c->pidfd >= 0)
      close(c->pidfd);
    c->pidfd = -1;
    c->pid = 0;
    close(fd);
    return rc;
  }
  c->conn = fd;
  return 0;
}

int mproc__fs_start(const mproc__launch_t *l, mproc__child_t *c)
{
  server_ref_t s;
  int rc, retry = DONE;

  if (l->nhandles > MAX_PASSED)
    return mproc__err(MPROC_EINVAL, "forkserver: more than %d descriptors",
                      MAX_PASSED);
  /* A dead server costs a restart, not a failed start. One death can
   * take two tries to see (a hang-up while it dies, then a refusal), and
   * the new server may be killed in turn: a few tries, but not forever,
   * for a server that cannot start at all. */
  for (int tries = 0; tries < MAX_TRIES; tries++) {
    if ((rc = ensure_server(&s)) != 0)
      return rc;
    rc = attempt(l, c, &s, &retry);
    if (rc == 0 || retry == DONE)
      return rc;
    server_failed(s.pid, retry == RETRY_REFUSED);
  }
  return rc;
}

/* ------------------------------------------------------------------ */
/* Server                                                              */
/* ------------------------------------------------------------------ */

typedef struct waiting {
  pid_t pid;
  int conn;
} waiting_t;

static waiting_t *table;
static size_t n_table, cap_table;
static int sig_fd = -1;

static int table_add(pid_t pid, int conn)
{
  if (n_table == cap_table) {
    size_t cap = cap_table ? cap_table * 2 : 64;
    waiting_t *grown = realloc(table, cap * sizeof *grown);
    if (grown == NULL)
      return -1;
    table = grown;
    cap_table = cap;
  }
  table[n_table].pid = pid;
  table[n_table].conn = conn;
  n_table++;
  return 0;
}

/* In a handler: drop every descriptor of the server's but @conn. */
static void handler_reset(int conn)
{
  sigset_t none;

  close(LISTEN_FD);
  close(ALIVE_FD);
  close(sig_fd);
  for (size_t i = 0; i < n_table; i++)
    if (table[i].conn != conn)
      close(table[i].conn);
  signal(SIGCHLD, SIG_DFL);
  signal(SIGINT, SIG_DFL);
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
}

static void send_pid(int conn, int64_t pid, int pidfd)
{
  char cbuf[CMSG_SPACE(sizeof(int))];
  struct iovec iov = {.iov_base = &pid, .iov_len = sizeof pid};
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
  ssize_t r;

  if (pidfd >= 0) {
    memset(cbuf, 0, sizeof cbuf);
    mh.msg_control = cbuf;
    mh.msg_controllen = sizeof cbuf;
    struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &pidfd, sizeof(int));
  }
  do
    r = os_sendmsg(conn, &mh, MSG_NOSIGNAL);
  while (r < 0 && errno == EINTR);
}

/* Receive the descriptors that follow a request; -1 unless exactly the
 * announced number came by @deadline. */
static int recv_handles(int conn, int *fds, size_t *nfds, double deadline)
{
  uint32_t n = 0;
  char cbuf[CMSG_SPACE(MAX_PASSED * sizeof(int))];
  struct iovec iov = {.iov_base = &n, .iov_len = sizeof n};
  struct msghdr mh = {.msg_iov = &iov,
                      .msg_iovlen = 1,
                      .msg_control = cbuf,
                      .msg_controllen = sizeof cbuf};
  struct pollfd pfd = {.fd = conn, .events = POLLIN};
  struct cmsghdr *cm;
  size_t got = 0;
  ssize_t r = -1;
  double left = deadline - mproc__plat_now();

  /* The count and its descriptors are one message, sent at once. */
  if (left > 0 && poll(&pfd, 1, (int)(left * 1e3) + 1) == 1)
    do
      r = os_recvmsg(conn, &mh, MSG_CMSG_CLOEXEC | MSG_WAITALL);
    while (r < 0 && errno == EINTR);
  for (cm = r > 0 ? CMSG_FIRSTHDR(&mh) : NULL; cm != NULL;
       cm = CMSG_NXTHDR(&mh, cm)) {
    if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
      continue;
    size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < k && got < MAX_PASSED; i++)
      memcpy(&fds[got++], CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
  }
  *nfds = got;
  if (r != (ssize_t)sizeof n || (mh.msg_flags & MSG_CTRUNC) || n != got) {
    for (size_t i = 0; i < got; i++)
      close(fds[i]);
    *nfds = 0;
    return -1;
  }
  return 0;
}

static void *read_request(int conn, size_t *len, double deadline)
{
  uint64_t n;
  void *buf;

  if (read_by(conn, &n, sizeof n, deadline) != 0 || n < MPROC__BOOT_HDR ||
      n > MPROC__BOOT_MAX)
    return NULL;
  buf = malloc((size_t)n);
  if (buf != NULL && read_by(conn, buf, (size_t)n, deadline) != 0) {
    free(buf);
    buf = NULL;
  }
  *len = (size_t)n;
  return buf;
}

/* The handler's exit when a peer fails the conversation: nothing ran. */
#define HANDLER_REFUSED 125

/* Tell the client who we are (pid and pidfd), and wait for its go. */
static int handshake_done(int conn)
{
  int pidfd = mproc__posix_has_pidfd() ? os_pidfd_open(getpid()) : -1;
  char ack = 0;

  if (pidfd < 0 && mproc__posix_has_pidfd()) {
    send_pid(conn, -(int64_t)errno, -1);
    return -1;
  }
  /* From here on the child outlives the server, as any forkserver child
   * does (daemons excepted: mproc__plat_child_setup). */
  prctl(PR_SET_PDEATHSIG, 0);
  send_pid(conn, getpid(), pidfd);
  if (pidfd >= 0)
    close(pidfd);
  if (read_by(conn, &ack, 1, mproc__plat_now() + REQUEST_LIMIT) != 0 ||
      ack != ACK)
    return -1;
  return 0;
}

static MPROC__NORETURN void handle(int conn, const unsigned char *key)
{
  double deadline = mproc__plat_now() + AUTH_LIMIT;
  const int32_t ok = 0;
  int fds[MAX_PASSED];
  size_t len = 0, nfds = 0;
  void *buf = NULL;

  handler_reset(conn);
  /* Until it has told its client who it is, a handler dies with the
   * server, so that the client sees the server's death and retries. */
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 ||
      getppid() != (pid_t)mproc__fs_server_pid)
    _exit(HANDLER_REFUSED);
  if (mproc__write_full(conn, &ok, sizeof ok) != 0 ||
      deliver_challenge(conn, key, deadline) != 0 ||
      answer_challenge(conn, key, deadline) != 0)
    _exit(HANDLER_REFUSED);
  deadline = mproc__plat_now() + REQUEST_LIMIT;
  if ((buf = read_request(conn, &len, deadline)) == NULL ||
      recv_handles(conn, fds, &nfds, deadline) != 0 ||
      handshake_done(conn) != 0)
    _exit(HANDLER_REFUSED);
  close(conn);
  signal(SIGPIPE, SIG_DFL);
  if (mproc__move_fds(fds, nfds, MPROC__HANDLE_FD) != 0) {
    mproc__err_os("moving the objects' descriptors", errno);
    mproc__boot_fail("cannot be set up");
  }
  mproc__boot_from_mem(buf, len);
}

/* Whether the peer on @conn runs as our user: others are refused before
 * a byte is read. */
static int same_user(int conn)
{
  struct ucred cred;
  socklen_t len = sizeof cred;

  return getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 &&
         cred.uid == geteuid();
}

static void serve_connection(int conn, const unsigned char *key)
{
  int32_t status;
  pid_t pid;

  if (!same_user(conn)) {
    close(conn);
    return;
  }
  pid = os_fork();
  if (pid == 0)
    handle(conn, key);
  if (pid < 0) {
    status = -(int32_t)errno;
    (void)mproc__write_full(conn, &status, sizeof status);
    close(conn);
    return;
  }
  if (table_add(pid, conn) != 0) {
    kill(pid, SIGKILL); /* its exit could not be reported */
    close(conn);
  }
}

/* Accept every waiting peer. -1 when out of descriptors: the peers wait
 * in the backlog until a child ends (or a while has passed), rather than
 * the server spinning on a listener it cannot empty. */
static int accept_all(const unsigned char *key)
{
  for (;;) {
    int conn = os_accept4(LISTEN_FD, SOCK_CLOEXEC);
    if (conn < 0 && (errno == EINTR || errno == ECONNABORTED))
      continue;
    if (conn < 0)
      return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
    serve_connection(conn, key);
  }
}

static void report_exits(void)
{
  struct signalfd_siginfo si;
  int status;
  pid_t pid;

  while (read(sig_fd, &si, sizeof si) == (ssize_t)sizeof si)
    ;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
    int32_t code = mproc__posix_exitcode(status);
    for (size_t i = 0; i < n_table; i++) {
      if (table[i].pid != pid)
        continue;
      (void)send(table[i].conn, &code, sizeof code, MSG_NOSIGNAL);
      close(table[i].conn);
      table[i] = table[--n_table];
      break;
    }
  }
}

void mproc__fs_serve(const char *arg)
{
  unsigned char key[KEY_LEN];
  sigset_t chld;

  (void)arg; /* the descriptors are fixed: LISTEN_FD, ALIVE_FD */
  mproc__fs_server_pid = getpid();
  if (mproc__read_full(ALIVE_FD, key, sizeof key))
    _exit(MPROC_EXIT_BOOTSTRAP);
  signal(SIGINT, SIG_IGN);
  signal(SIGPIPE, SIG_IGN);
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, NULL);
  sig_fd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sig_fd < 0)
    _exit(MPROC_EXIT_BOOTSTRAP);
  for (int paused = 0;;) {
    struct pollfd pfd[3] = {{.fd = ALIVE_FD, .events = POLLIN},
                            {.fd = sig_fd, .events = POLLIN},
                            {.fd = LISTEN_FD, .events = POLLIN}};
    int n = poll(pfd, paused ? 2 : 3, paused ? 100 : -1);
    if (n < 0 && errno != EINTR)
      _exit(1);
    if (n < 0)
      continue;
    /* EOF on the alive pipe: our owner has gone; so do we, and with us
     * (through PR_SET_PDEATHSIG) the daemonic children. */
    if (pfd[0].revents)
      _exit(0);
    if (pfd[1].revents)
      report_exits();
    if (paused)
      paused = 0;
    else if (pfd[2].revents & POLLIN)
      paused = accept_all(key) != 0;
  }
}
