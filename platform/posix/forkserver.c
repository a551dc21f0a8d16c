/*
 * The forkserver start method. On first use a process spawns a clean copy
 * of the program (the server) that listens on an abstract unix socket.
 * Each start connects, authenticates both ways with HMAC-SHA256 over the
 * server's random key, sends the bootstrap message, and gets back the
 * child's pid and a pidfd. The server forks the child, and writes its exit
 * code on the same connection when it ends: that connection is the
 * sentinel. The server exits when the process that started it goes away
 * (EOF on the "alive" pipe); daemonic children die with the server.
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
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "posix.h"

#define KEY_LEN 32
#define CHALLENGE_LEN 32
#define LISTEN_FD MPROC__BOOT_FD
#define ALIVE_FD (MPROC__BOOT_FD + 1)

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

/* Prove we know the key: answer the peer's challenge. */
static int answer_challenge(int fd, const unsigned char *key)
{
  unsigned char ch[CHALLENGE_LEN], mac[SHA256_DIGEST_SIZE];

  if (mproc__read_full(fd, ch, sizeof ch) != 0)
    return -1;
  hmac(key, ch, mac);
  return mproc__write_full(fd, mac, sizeof mac) == 0 ? 0 : -1;
}

/* Make the peer prove it knows the key. */
static int deliver_challenge(int fd, const unsigned char *key)
{
  unsigned char ch[CHALLENGE_LEN], want[SHA256_DIGEST_SIZE], got[sizeof want];

  if (mproc__random(ch, sizeof ch) != 0 ||
      mproc__write_full(fd, ch, sizeof ch) != 0 ||
      mproc__read_full(fd, got, sizeof got) != 0)
    return -1;
  hmac(key, ch, want);
  return memeql_sec(want, got, sizeof want) ? 0 : -1;
}

/* ------------------------------------------------------------------ */
/* Client                                                              */
/* ------------------------------------------------------------------ */

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
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

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
  if (bind(fd, (struct sockaddr *)&fs_addr, fs_addr_len) != 0 ||
      listen(fd, 128) != 0) {
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

  rc = make_listener(&lfd);
  if (rc == 0 && pipe2(alive, O_CLOEXEC) != 0)
    rc = mproc__err_os("pipe2", errno);
  if (rc == 0)
    rc = mproc__random(fs_key, sizeof fs_key);
  if (rc == 0) {
    fds[0] = lfd;
    fds[1] = alive[0];
    snprintf(marker, sizeof marker, "%s%d,%d", MPROC__FORKSERVER_ARG, LISTEN_FD,
             ALIVE_FD);
    rc = mproc__spawn_self(marker, fds, 2, &fs_pid);
  }
  /* The key travels on the alive pipe, never on a command line. */
  if (rc == 0 && mproc__write_full(alive[1], fs_key, sizeof fs_key) != 0)
    rc = mproc__err(MPROC_EOS, "forkserver did not start");
  if (lfd >= 0)
    close(lfd);
  if (alive[0] >= 0)
    close(alive[0]);
  if (rc != 0) {
    if (alive[1] >= 0)
      close(alive[1]);
    return rc;
  }
  fs_alive_w = alive[1];
  fs_owner = getpid();
  return 0;
}

static int ensure_server(void)
{
  int rc = 0, status;

  pthread_mutex_lock(&fs_lock);
  if (fs_owner != getpid())
    forget_server();
  /* A server that died (killed, say) is reaped and replaced, not left a
   * zombie that every later start fails to reach. */
  if (fs_pid != 0 && waitpid(fs_pid, &status, WNOHANG) == fs_pid) {
    MPROC__LOG(MPROC_LOG_WARNING,
               "forkserver (pid %ld) died; starting a new one", (long)fs_pid);
    forget_server();
  }
  if (fs_pid == 0 && (rc = start_server_locked()) == 0)
    MPROC__LOG(MPROC_LOG_INFO, "forkserver started (pid %ld)", (long)fs_pid);
  pthread_mutex_unlock(&fs_lock);
  return rc;
}

static int recv_reply(int fd, mproc__child_t *c)
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
    n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC | MSG_WAITALL);
  while (n < 0 && errno == EINTR);
  if (n != (ssize_t)sizeof pid)
    return mproc__err(MPROC_EOS, "forkserver closed the connection");
  if (pid <= 0)
    return mproc__err_os("forkserver fork", (long)-pid);
  cm = CMSG_FIRSTHDR(&mh);
  if (cm == NULL || cm->cmsg_type != SCM_RIGHTS)
    return mproc__err(MPROC_EOS, "forkserver sent no pidfd");
  memcpy(&c->pidfd, CMSG_DATA(cm), sizeof(int));
  c->pid = (pid_t)pid;
  return 0;
}

/* The objects' descriptors follow the request: a count, and the
 * descriptors themselves as SCM_RIGHTS (none: the count alone). */
#define MAX_PASSED 253 /* SCM_MAX_FD */

static int send_handles(int fd, const mproc__launch_t *l)
{
  uint32_t n = (uint32_t)l->nhandles;
  char cbuf[CMSG_SPACE(MAX_PASSED * sizeof(int))];
  struct iovec iov = {.iov_base = &n, .iov_len = sizeof n};
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
  ssize_t r;

  if (n > MAX_PASSED)
    return -1;
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
    r = sendmsg(fd, &mh, MSG_NOSIGNAL);
  while (r < 0 && errno == EINTR);
  return r == (ssize_t)sizeof n ? 0 : -1;
}

int mproc__fs_start(const mproc__launch_t *l, mproc__child_t *c)
{
  uint64_t len = l->boot_len;
  int fd, rc = ensure_server();

  if (rc != 0)
    return rc;
  fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return mproc__err_os("socket", errno);
  if (connect(fd, (struct sockaddr *)&fs_addr, fs_addr_len) != 0) {
    rc = mproc__err_os("connect(forkserver)", errno);
    goto out;
  }
  if (answer_challenge(fd, fs_key) != 0 || deliver_challenge(fd, fs_key)) {
    rc = mproc__err(MPROC_EAUTH, "forkserver authentication failed");
    goto out;
  }
  if (mproc__write_full(fd, &len, sizeof len) != 0 ||
      mproc__write_full(fd, l->boot, l->boot_len) != 0 ||
      send_handles(fd, l) != 0) {
    rc = mproc__err(MPROC_EOS, "forkserver closed the connection");
    goto out;
  }
  rc = recv_reply(fd, c);
out:
  if (rc != 0)
    close(fd);
  else
    c->conn = fd;
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

/* In the forked child: drop every descriptor of the server's. */
static void child_reset(int conn)
{
  sigset_t none;

  close(LISTEN_FD);
  close(ALIVE_FD);
  close(sig_fd);
  close(conn);
  for (size_t i = 0; i < n_table; i++)
    close(table[i].conn);
  signal(SIGCHLD, SIG_DFL);
  signal(SIGINT, SIG_DFL);
  signal(SIGPIPE, SIG_DFL);
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
}

static void send_pid(int conn, int64_t pid, int pidfd)
{
  char cbuf[CMSG_SPACE(sizeof(int))];
  struct iovec iov = {.iov_base = &pid, .iov_len = sizeof pid};
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};

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
  (void)sendmsg(conn, &mh, MSG_NOSIGNAL);
}

/* Receive the descriptors that follow a request; -1 unless exactly the
 * announced number came. */
static int recv_handles(int conn, int *fds, size_t *nfds)
{
  uint32_t n = 0;
  char cbuf[CMSG_SPACE(MAX_PASSED * sizeof(int))];
  struct iovec iov = {.iov_base = &n, .iov_len = sizeof n};
  struct msghdr mh = {.msg_iov = &iov,
                      .msg_iovlen = 1,
                      .msg_control = cbuf,
                      .msg_controllen = sizeof cbuf};
  struct cmsghdr *cm;
  size_t got = 0;
  ssize_t r;

  do
    r = recvmsg(conn, &mh, MSG_CMSG_CLOEXEC | MSG_WAITALL);
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

static void *read_request(int conn, const unsigned char *key, size_t *len)
{
  uint64_t n;
  void *buf;

  if (deliver_challenge(conn, key) != 0 || answer_challenge(conn, key) != 0)
    return NULL;
  if (mproc__read_full(conn, &n, sizeof n) != 0 || n < MPROC__BOOT_HDR ||
      n > MPROC__BOOT_MAX)
    return NULL;
  buf = malloc((size_t)n);
  if (buf != NULL && mproc__read_full(conn, buf, (size_t)n) != 0) {
    free(buf);
    buf = NULL;
  }
  *len = (size_t)n;
  return buf;
}

static void handle_connection(int conn, const unsigned char *key)
{
  /* A client that stalls must not stall the server for long. */
  struct timeval tv = {.tv_sec = 10};
  int fds[MAX_PASSED];
  size_t len, nfds = 0;
  void *buf;
  pid_t pid;
  int pidfd;

  setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  buf = read_request(conn, key, &len);
  if (buf != NULL && recv_handles(conn, fds, &nfds) != 0) {
    free(buf);
    buf = NULL;
  }
  if (buf == NULL) {
    close(conn);
    return;
  }
  pid = fork();
  if (pid == 0) {
    child_reset(conn);
    if (mproc__move_fds(fds, nfds, MPROC__HANDLE_FD) != 0) {
      mproc__err_os("moving the objects' descriptors", errno);
      mproc__boot_fail("cannot be set up");
    }
    mproc__boot_from_mem(buf, len);
  }
  for (size_t i = 0; i < nfds; i++)
    close(fds[i]);
  free(buf);
  if (pid < 0) {
    send_pid(conn, -(int64_t)errno, -1);
    close(conn);
    return;
  }
  pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  send_pid(conn, pid, pidfd);
  if (pidfd >= 0)
    close(pidfd);
  if (table_add(pid, conn) != 0)
    close(conn);
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
  for (;;) {
    struct pollfd pfd[3] = {{.fd = LISTEN_FD, .events = POLLIN},
                            {.fd = ALIVE_FD, .events = POLLIN},
                            {.fd = sig_fd, .events = POLLIN}};
    if (poll(pfd, 3, -1) < 0) {
      if (errno == EINTR)
        continue;
      _exit(1);
    }
    if (pfd[2].revents)
      report_exits();
    /* EOF on the alive pipe: our owner has gone; so do we, and with us
     * (through PR_SET_PDEATHSIG) the daemonic children. */
    if (pfd[1].revents)
      _exit(0);
    if (pfd[0].revents & POLLIN) {
      int conn = accept4(LISTEN_FD, NULL, NULL, SOCK_CLOEXEC);
      if (conn >= 0)
        handle_connection(conn, key);
    }
  }
}
