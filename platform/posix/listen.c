/*
 * POSIX backend: listeners and clients (CPython's
 * multiprocessing.connection Listener and Client) over unix-domain and
 * TCP stream sockets. A connected socket is a plain descriptor, so the
 * pipe functions (read, send with MSG_NOSIGNAL, poll) work on it as on
 * a duplex pipe. Windows named pipes (AF_PIPE) do not exist here.
 *
 * A unix address that starts with '@' is Linux's abstract namespace (the
 * name after the '@' with a NUL before it, as ss(8) and /proc/net/unix
 * show it): no file, so nothing is left behind by a listener whose
 * process is killed. A private listener (no address given) is abstract;
 * since no file mode guards it, it accepts only peers of its own user,
 * refusing others before they can say a word.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <apr_general.h>
#include <stdatomic.h>

#include "object.h"
#include "os.h"
#include "posix.h"

/* Prefix of the abstract name a listener without an address takes. */
#define PRIVATE_PREFIX "@mproc-listener-"

/* How long a connect to a unix socket whose backlog is full waits before
 * trying again (the kernel offers no way to wait for room). */
#define RETRY_NAP 0.005

struct mproc__lsn {
  int fd; /* non-blocking, so accept never hangs on a vanished peer */
  int family;
  char *path;    /* UNIX: the socket path ("@name": abstract); else NULL */
  int same_user; /* accept only peers of our own user (private) */
  int bound;     /* @path was created by our bind, so it is ours to remove */
  dev_t dev;     /* the socket file as bound, to remove only that one */
  ino_t ino;
  pid_t owner; /* the process that made @path */
};

int mproc__plat_has_family(int family)
{
  return family == MPROC__AF_UNIX || family == MPROC__AF_INET;
}

int mproc__plat_default_family(void)
{
  return MPROC__AF_UNIX;
}

static int check_family(int family)
{
  if (mproc__plat_has_family(family))
    return 0;
  if (family == MPROC__AF_PIPE)
    return mproc__err(MPROC_ENOSYS,
                      "AF_PIPE (Windows named pipes) is not available on "
                      "this platform; use AF_UNIX or AF_INET");
  return mproc__err(MPROC_EINVAL, "unknown address family %d", family);
}

/* Milliseconds poll() may wait for @deadline: -1 for none, capped so
 * that a far deadline does not overflow an int (callers poll again). */
static int ms_left(double deadline)
{
  double left;

  if (deadline >= MPROC__NEVER)
    return -1;
  left = deadline - mproc__plat_now();
  if (left <= 0)
    return 0;
  if (left > 3600.0)
    return 3600 * 1000;
  return (int)(left * 1000.0 + 0.999);
}

/* Wait until @fd has @events or @deadline passes: 1 ready, 0 at the
 * deadline, or an error. */
static int poll_until(int fd, short events, double deadline)
{
  struct pollfd pfd = {.fd = fd, .events = events};

  for (;;) {
    int n = os_poll(&pfd, 1, ms_left(deadline));
    if (n > 0)
      return 1;
    if (n == 0 && mproc__plat_now() >= deadline)
      return 0;
    if (n < 0 && errno != EINTR)
      return mproc__err_os("poll", errno);
  }
}

static int set_blocking(int fd)
{
  int flags = fcntl(fd, F_GETFL);

  if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0)
    return mproc__err_os("fcntl", errno);
  return 0;
}

/* Request/response traffic (managers) must not wait for Nagle's timer. */
static int set_nodelay(int fd)
{
  int one = 1;

  if (os_setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0)
    return mproc__err_os("setsockopt(TCP_NODELAY)", errno);
  return 0;
}

/* ---- addresses ---- */

static int unix_sockaddr(const char *path, struct sockaddr_un *sa,
                         socklen_t *len)
{
  size_t n = strlen(path);
  int abstract = path[0] == '@';

  /* A C string cannot start with the NUL of an abstract name: "@name"
   * stands for it. An empty path names nothing. */
  if (n == (size_t)abstract)
    return mproc__err(MPROC_EINVAL, "a unix socket path must not be empty");
  if (n >= sizeof sa->sun_path)
    return mproc__err(MPROC_EINVAL,
                      "unix socket path '%s' is too long: %zu bytes, at "
                      "most %zu",
                      path, n, sizeof sa->sun_path - 1);
  memset(sa, 0, sizeof *sa);
  sa->sun_family = AF_UNIX;
  memcpy(sa->sun_path, path, n + 1);
  if (abstract)
    sa->sun_path[0] = '\0';
  /* An abstract name is exactly its bytes, without a final NUL. */
  *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + !abstract);
  return 0;
}

/* Resolve "host:port" to one IPv4 address, the first the resolver gives
 * (as CPython's socket.connect does). An empty host is any address when
 * @passive (binding), the loopback otherwise. */
static int inet_sockaddr(const char *address, int passive,
                         struct sockaddr_in *sa, socklen_t *len)
{
  char host[256], port[8];
  struct addrinfo hints, *res = NULL;
  int rc;

  rc = mproc__split_host_port(address, host, sizeof host, port, sizeof port);
  if (rc != 0)
    return rc;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
  rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
  if (rc == EAI_SYSTEM)
    return mproc__err_os("getaddrinfo", errno);
  if (rc == EAI_MEMORY)
    return mproc__err(MPROC_ENOMEM, "out of memory");
  if (rc != 0)
    return mproc__err(MPROC_EINVAL, "cannot resolve host '%s': %s", host,
                      gai_strerror(rc));
  memcpy(sa, res->ai_addr, sizeof *sa);
  *len = sizeof *sa;
  freeaddrinfo(res);
  return 0;
}

static int resolve(int family, const char *address, int passive,
                   struct sockaddr_storage *sa, socklen_t *len)
{
  if (address == NULL)
    return mproc__err(MPROC_EINVAL, "no address given");
  if (family == MPROC__AF_UNIX)
    return unix_sockaddr(address, (struct sockaddr_un *)sa, len);
  return inet_sockaddr(address, passive, (struct sockaddr_in *)sa, len);
}

/* The address @l is bound to, as the core shows it ("host:port" with
 * the port the OS chose, or the path). */
static int describe(const mproc__lsn_t *l, char *bound, size_t cap)
{
  struct sockaddr_in sa;
  socklen_t len = sizeof sa;
  char ip[INET_ADDRSTRLEN];
  int n;

  if (l->family == MPROC__AF_UNIX) {
    n = snprintf(bound, cap, "%s", l->path);
  } else {
    if (getsockname(l->fd, (struct sockaddr *)&sa, &len) != 0)
      return mproc__err_os("getsockname", errno);
    inet_ntop(AF_INET, &sa.sin_addr, ip, sizeof ip);
    n = snprintf(bound, cap, "%s:%u", ip, (unsigned)ntohs(sa.sin_port));
  }
  if (n < 0 || (size_t)n >= cap)
    return mproc__err(MPROC_ETOOSHORT,
                      "the bound address does not fit in %zu bytes", cap);
  return 0;
}

/* ---- listening ---- */

/* A fresh abstract name, as CPython 3.12 picks for AF_UNIX on Linux
 * ("\0listener-..."): nothing on disk to leave behind. */
static int make_private_path(mproc__lsn_t *l)
{
  static atomic_uint counter;
  unsigned char r[8];

  if (apr_generate_random_bytes(r, sizeof r) != APR_SUCCESS)
    return mproc__err(MPROC_EOS, "no random bytes for a private address");
  l->path = malloc(sizeof PRIVATE_PREFIX + 48);
  if (l->path == NULL)
    return mproc__err(MPROC_ENOMEM, "out of memory");
  snprintf(l->path, sizeof PRIVATE_PREFIX + 48,
           "%s%ld-%u-%02x%02x%02x%02x%02x%02x%02x%02x", PRIVATE_PREFIX,
           (long)getpid(), atomic_fetch_add(&counter, 1) + 1, r[0], r[1], r[2],
           r[3], r[4], r[5], r[6], r[7]);
  l->same_user = 1;
  return 0;
}

static int bind_error(int err, int family, const char *address)
{
  char text[128];

  mproc__plat_strerror(err, text, sizeof text);
  if (err == EADDRINUSE && family == MPROC__AF_UNIX)
    return mproc__err(MPROC_EADDRINUSE,
                      "address '%s' is already in use (a file exists there; "
                      "a listener that died leaves its socket behind)",
                      address);
  if (err == EADDRINUSE)
    return mproc__err(MPROC_EADDRINUSE, "address '%s' is already in use",
                      address);
  /* Not a local address, or a path in a missing directory: the address,
   * not the system, is at fault. */
  if (err == EADDRNOTAVAIL || err == ENOENT || err == ENOTDIR)
    return mproc__err(MPROC_EINVAL, "cannot bind '%s': %s", address, text);
  return mproc__err_os("bind", err);
}

/* Remember which file our bind made, so that close removes that file
 * and not one somebody put at the same path since. */
static void note_bound_path(mproc__lsn_t *l)
{
  struct stat st;

  if (l->path[0] == '@' || stat(l->path, &st) != 0)
    return;
  l->bound = 1;
  l->dev = st.st_dev;
  l->ino = st.st_ino;
}

static int bind_and_listen(mproc__lsn_t *l, const struct sockaddr_storage *sa,
                           socklen_t len, int backlog, const char *address)
{
  int one = 1;

  l->fd =
      os_socket(sa->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (l->fd < 0)
    return mproc__err_os("socket", errno);
  /* As CPython on POSIX: a restarted server may bind its port again
   * while connections of the old one linger in TIME_WAIT. */
  if (l->family == MPROC__AF_INET &&
      os_setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0)
    return mproc__err_os("setsockopt(SO_REUSEADDR)", errno);
  if (os_bind(l->fd, (const struct sockaddr *)sa, len) != 0)
    return bind_error(errno, l->family, address);
  if (l->family == MPROC__AF_UNIX)
    note_bound_path(l);
  if (os_listen(l->fd, backlog) != 0)
    return mproc__err_os("listen", errno);
  return 0;
}

int mproc__plat_listen(int family, const char *address, int backlog,
                       mproc__lsn_t **out, char *bound, size_t cap)
{
  mproc__lsn_t *l = NULL;
  struct sockaddr_storage sa;
  socklen_t len = 0;
  int rc;

  *out = NULL;
  rc = check_family(family);
  if (rc != 0)
    return rc;
  l = calloc(1, sizeof *l);
  if (l == NULL)
    return mproc__err(MPROC_ENOMEM, "out of memory");
  l->fd = -1;
  l->family = family;
  l->owner = getpid();
  if (family == MPROC__AF_UNIX && address == NULL) {
    rc = make_private_path(l);
  } else if (family == MPROC__AF_UNIX) {
    l->path = strdup(address);
    rc = l->path ? 0 : mproc__err(MPROC_ENOMEM, "out of memory");
  }
  if (rc != 0)
    goto out;
  if (family == MPROC__AF_UNIX)
    address = l->path;
  else if (address == NULL)
    address = "127.0.0.1:0";
  rc = resolve(family, address, 1, &sa, &len);
  if (rc != 0)
    goto out;
  rc = bind_and_listen(l, &sa, len, backlog, address);
  if (rc != 0)
    goto out;
  rc = describe(l, bound, cap);
  if (rc != 0)
    goto out;
  *out = l;
  l = NULL;
out:
  mproc__plat_listen_close(l);
  return rc;
}

/* Whether the peer on @fd runs as our user. */
static int same_user(int fd)
{
  struct ucred cred;
  socklen_t len = sizeof cred;

  return getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 &&
         cred.uid == geteuid();
}

int mproc__plat_accept(mproc__lsn_t *l, double deadline, intptr_t *h)
{
  int fd, rc;

  for (;;) {
    rc = poll_until(l->fd, POLLIN, deadline);
    if (rc < 0)
      return rc;
    if (rc == 0)
      return mproc__err(MPROC_ETIMEDOUT, "no peer connected in time");
    /* The accepted socket blocks: accept4 does not pass on the
     * listener's O_NONBLOCK. */
    fd = os_accept4(l->fd, SOCK_CLOEXEC);
    /* Another user at a private address: refused, unheard. */
    if (fd >= 0 && l->same_user && !same_user(fd)) {
      close(fd);
      continue;
    }
    if (fd >= 0)
      break;
    /* A peer that gave up between poll and accept is no error: wait for
     * the next one. */
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
        errno != ECONNABORTED && errno != EPROTO)
      return mproc__err_os("accept", errno);
  }
  if (l->family == MPROC__AF_INET) {
    rc = set_nodelay(fd);
    if (rc != 0) {
      close(fd);
      return rc;
    }
  }
  *h = fd;
  return 0;
}

/* Whether @l's socket file is still the one our bind made. */
static int path_still_ours(const mproc__lsn_t *l)
{
  struct stat st;

  return l->bound && lstat(l->path, &st) == 0 && st.st_dev == l->dev &&
         st.st_ino == l->ino;
}

void mproc__plat_listen_close(mproc__lsn_t *l)
{
  /* A forked child closing its inherited copy must not pull the path
   * from under the parent that still listens there. */
  int mine;

  if (l == NULL)
    return;
  mine = l->owner == getpid();
  if (l->fd >= 0)
    close(l->fd);
  if (mine && path_still_ours(l))
    unlink(l->path);
  free(l->path);
  free(l);
}

/* ---- connecting ---- */

static int connect_error(int err, const char *address)
{
  if (err == ECONNREFUSED || err == ENOENT)
    return mproc__err(MPROC_ENOTFOUND, "nothing listens at '%s'", address);
  return mproc__err_os("connect", err);
}

static int connect_timeout(const char *address)
{
  return mproc__err(MPROC_ETIMEDOUT, "connecting to '%s' timed out", address);
}

/* Wait for a TCP connect in progress to end, then take its outcome. */
static int finish_connect(int fd, double deadline, const char *address)
{
  int err = 0, rc;
  socklen_t len = sizeof err;

  rc = poll_until(fd, POLLOUT, deadline);
  if (rc < 0)
    return rc;
  if (rc == 0)
    return connect_timeout(address);
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
    return mproc__err_os("getsockopt(SO_ERROR)", errno);
  return err == 0 ? 0 : connect_error(err, address);
}

static void nap_until(double deadline)
{
  double left = deadline - mproc__plat_now();
  double nap = left < RETRY_NAP ? left : RETRY_NAP;
  struct timespec ts = {0, (long)(nap * 1e9)};

  if (nap > 0)
    nanosleep(&ts, NULL);
}

/* Connect the non-blocking @fd by @deadline. TCP goes on in the
 * background (EINPROGRESS, or EINTR, after which it goes on too); a unix
 * socket whose listener's backlog is full says EAGAIN and is tried
 * again, as a busy pipe is on Windows. */
static int connect_until(int fd, const struct sockaddr_storage *sa,
                         socklen_t len, double deadline, const char *address)
{
  for (;;) {
    if (os_connect(fd, (const struct sockaddr *)sa, len) == 0)
      return 0;
    if (errno == EINPROGRESS || errno == EINTR || errno == EALREADY)
      return finish_connect(fd, deadline, address);
    if (errno != EAGAIN)
      return connect_error(errno, address);
    if (mproc__plat_now() >= deadline)
      return connect_timeout(address);
    nap_until(deadline);
  }
}

int mproc__plat_connect(int family, const char *address, double deadline,
                        intptr_t *h)
{
  struct sockaddr_storage sa;
  socklen_t len = 0;
  int fd = -1, rc;

  rc = check_family(family);
  if (rc != 0)
    return rc;
  rc = resolve(family, address, 0, &sa, &len);
  if (rc != 0)
    return rc;
  fd = os_socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0)
    return mproc__err_os("socket", errno);
  rc = connect_until(fd, &sa, len, deadline, address);
  if (rc != 0)
    goto out;
  rc = set_blocking(fd);
  if (rc != 0)
    goto out;
  if (family == MPROC__AF_INET)
    rc = set_nodelay(fd);
  if (rc != 0)
    goto out;
  *h = fd;
  fd = -1;
out:
  if (fd >= 0)
    close(fd);
  return rc;
}
