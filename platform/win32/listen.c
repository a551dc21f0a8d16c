/*
 * Windows backend: listeners and clients (CPython's
 * multiprocessing.connection Listener and Client) over TCP sockets
 * (AF_INET) and named pipes (AF_PIPE), and the socket side of the
 * Connection I/O in pipe.c.
 *
 * A named pipe listener keeps one instance listening, as CPython's
 * PipeListener does. The instances are in non-blocking mode while they
 * listen, so that accept can poll ConnectNamedPipe under a deadline; an
 * accepted instance is switched back to blocking mode and is then a
 * synchronous handle like the ends of mproc__plat_pipe(). (An overlapped
 * instance would let accept sleep on an event instead, but the blocking
 * ReadFile/WriteFile of pipe.c on such a handle wait on the handle
 * itself, which a concurrent read and write on one connection would
 * confuse.)
 *
 * Sockets are made with the overlapped attribute (as socket() makes them
 * and CPython uses them) and are only ever used through recv, send and
 * select, which block properly on it; pipe.c tells a socket from a pipe
 * with mproc__win_is_socket().
 */
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
#include <winsock2.h>
#include <ws2tcpip.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "object.h"
#include "os.h"
#include "win32.h"

#define PIPE_PREFIX "\\\\.\\pipe\\"

/* How long a client waits at most, in one call, for a busy pipe to offer
 * an instance (it then checks its deadline and tries again). */
#define BUSY_WAIT_MS 1000

struct mproc__lsn {
  int family;
  SOCKET sock;    /* INET: the listening socket (non-blocking) */
  wchar_t *name;  /* PIPE: the pipe's name */
  HANDLE pending; /* PIPE: the instance listening for the next client */
};

int mproc__plat_has_family(int family)
{
  return family == MPROC__AF_INET || family == MPROC__AF_PIPE;
}

int mproc__plat_default_family(void)
{
  return MPROC__AF_PIPE;
}

static int check_family(int family)
{
  if (mproc__plat_has_family(family))
    return 0;
  if (family == MPROC__AF_UNIX)
    return mproc__err(MPROC_ENOSYS,
                      "AF_UNIX (unix-domain sockets) is not available on "
                      "Windows; use AF_PIPE or AF_INET");
  return mproc__err(MPROC_EINVAL, "unknown address family %d", family);
}

static int past(double deadline)
{
  return deadline < MPROC__NEVER && mproc__plat_now() >= deadline;
}

/* ---- Winsock ---- */

static INIT_ONCE wsa_once = INIT_ONCE_STATIC_INIT;
static int wsa_status;

static BOOL CALLBACK wsa_start(PINIT_ONCE once, PVOID arg, PVOID *ctx)
{
  WSADATA wd;

  (void)once;
  (void)arg;
  (void)ctx;
  wsa_status = WSAStartup(MAKEWORD(2, 2), &wd);
  return TRUE;
}

/* Start Winsock in this process, once (never cleaned up: sockets may
 * live until exit). */
static int wsa_init(void)
{
  InitOnceExecuteOnce(&wsa_once, wsa_start, NULL, NULL);
  if (wsa_status != 0)
    return mproc__err_os("WSAStartup", wsa_status);
  return 0;
}

int mproc__win_is_socket(intptr_t h)
{
  int type, len = sizeof type;

  if (h == 0 || h == (intptr_t)INVALID_HANDLE_VALUE || wsa_init() != 0)
    return 0;
  /* Winsock knows its sockets: for any other handle this fails at once
   * (WSAENOTSOCK) without asking the kernel. */
  return getsockopt((SOCKET)h, SOL_SOCKET, SO_TYPE, (char *)&type, &len) == 0;
}

int mproc__win_close_socket(intptr_t h)
{
  if (!mproc__win_is_socket(h))
    return 0;
  closesocket((SOCKET)h);
  return 1;
}

/* A reset or aborted connection is an end like any other (as on POSIX). */
static int is_reset(int err)
{
  return err == WSAECONNRESET || err == WSAECONNABORTED ||
         err == WSAENETRESET || err == WSAESHUTDOWN;
}

int mproc__win_sock_read(intptr_t h, void *buf, size_t cap, size_t *got)
{
  int n = os_recv((SOCKET)h, buf, cap > INT_MAX ? INT_MAX : (int)cap);
  int err;

  *got = 0;
  if (n >= 0) {
    *got = (size_t)n;
    return 0;
  }
  err = WSAGetLastError();
  return is_reset(err) ? 0 : mproc__err_os("recv", err);
}

int mproc__win_sock_write(intptr_t h, const void *buf, size_t len)
{
  const char *p = buf;

  while (len > 0) {
    int n = os_send((SOCKET)h, p, len > INT_MAX ? INT_MAX : (int)len);
    if (n == SOCKET_ERROR)
      return mproc__err_os("send", WSAGetLastError());
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

int mproc__win_sock_ready(intptr_t h)
{
  fd_set r, e;
  struct timeval zero = {0, 0};

  FD_ZERO(&r);
  FD_ZERO(&e);
  FD_SET((SOCKET)h, &r);
  FD_SET((SOCKET)h, &e);
  /* Readable covers data, EOF and a reset; an error is for the read to
   * report. */
  return select(0, &r, NULL, &e, &zero) != 0;
}

/* select()'s timeout until @deadline (at most an hour; NULL: none). */
static struct timeval *tv_until(double deadline, struct timeval *tv)
{
  double left;

  if (deadline >= MPROC__NEVER)
    return NULL;
  left = deadline - mproc__plat_now();
  left = left < 0 ? 0 : left > 3600.0 ? 3600.0 : left;
  tv->tv_sec = (long)left;
  tv->tv_usec = (long)((left - (double)tv->tv_sec) * 1e6) + 1;
  return tv;
}

_Static_assert(MPROC__WIN_SOCKS_MAX <= FD_SETSIZE, "select() takes that many");

int mproc__win_socks_wait(const intptr_t *h, size_t n, double deadline,
                          int *ready)
{
  for (;;) {
    fd_set r, e;
    struct timeval tv, *tvp = tv_until(deadline, &tv);
    int count = 0;

    FD_ZERO(&r);
    FD_ZERO(&e);
    for (size_t i = 0; i < n; i++) {
      FD_SET((SOCKET)h[i], &r);
      FD_SET((SOCKET)h[i], &e);
    }
    if (select(0, &r, NULL, &e, tvp) == SOCKET_ERROR)
      return mproc__err_os("select", WSAGetLastError());
    for (size_t i = 0; i < n; i++) {
      ready[i] = FD_ISSET((SOCKET)h[i], &r) || FD_ISSET((SOCKET)h[i], &e);
      count += ready[i];
    }
    if (count > 0 || past(deadline))
      return count;
  }
}

/* Wait until @s is readable (@write 0) or writable (@write 1), or has
 * failed, or @deadline passes: 1 ready, 0 at the deadline, or an error. */
static int sock_wait(SOCKET s, int write, double deadline)
{
  for (;;) {
    fd_set rw, e;
    struct timeval tv, *tvp = tv_until(deadline, &tv);
    int n;

    FD_ZERO(&rw);
    FD_ZERO(&e);
    FD_SET(s, &rw);
    FD_SET(s, &e);
    n = select(0, write ? NULL : &rw, write ? &rw : NULL, &e, tvp);
    if (n == SOCKET_ERROR)
      return mproc__err_os("select", WSAGetLastError());
    if (n > 0)
      return 1;
    if (past(deadline))
      return 0;
  }
}

/* A TCP socket no child inherits. */
static int new_socket(SOCKET *out)
{
  int rc = wsa_init();

  if (rc != 0)
    return rc;
  *out = os_WSASocketW(AF_INET, SOCK_STREAM, IPPROTO_TCP, NULL, 0,
                       WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT);
  if (*out == INVALID_SOCKET)
    return mproc__err_os("WSASocket", WSAGetLastError());
  return 0;
}

static int set_blocking(SOCKET s, int blocking)
{
  u_long nb = blocking ? 0 : 1;

  if (ioctlsocket(s, FIONBIO, &nb) != 0)
    return mproc__err_os("ioctlsocket(FIONBIO)", WSAGetLastError());
  return 0;
}

/* Make @s a connection as pipe.c expects it: blocking, not inherited,
 * and without Nagle's delay (request/response traffic of managers). */
static int as_connection(SOCKET s)
{
  BOOL one = TRUE;
  int rc;

  if (!SetHandleInformation((HANDLE)s, HANDLE_FLAG_INHERIT, 0))
    return mproc__err_os("SetHandleInformation", (long)GetLastError());
  if ((rc = set_blocking(s, 1)) != 0)
    return rc;
  if (setsockopt(s, IPPROTO_TCP, TCP_NODELAY, (const char *)&one, sizeof one) !=
      0)
    return mproc__err_os("setsockopt(TCP_NODELAY)", WSAGetLastError());
  return 0;
}

/* ---- INET addresses ---- */

/* Resolve "host:port" to one IPv4 address, the first the resolver gives.
 * An empty host is any address when @passive (binding), the loopback
 * otherwise. */
static int inet_sockaddr(const char *address, int passive,
                         struct sockaddr_in *sa)
{
  char host[256], port[8], text[128];
  struct addrinfo hints, *res = NULL;
  int rc;

  if (address == NULL)
    return mproc__err(MPROC_EINVAL, "no address given");
  rc = mproc__split_host_port(address, host, sizeof host, port, sizeof port);
  if (rc != 0 || (rc = wsa_init()) != 0)
    return rc;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
  rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
  if (rc == WSA_NOT_ENOUGH_MEMORY || rc == EAI_MEMORY)
    return mproc__err(MPROC_ENOMEM, "out of memory");
  if (rc != 0) {
    /* Windows' EAI_* codes are Winsock errors, which FormatMessage knows
     * (gai_strerror is not thread-safe there). */
    mproc__plat_strerror(rc, text, sizeof text);
    return mproc__err(MPROC_EINVAL, "cannot resolve host '%s': %s", host, text);
  }
  memcpy(sa, res->ai_addr, sizeof *sa);
  freeaddrinfo(res);
  return 0;
}

/* "a.b.c.d:port" of the address @s is bound to. */
static int inet_describe(SOCKET s, char *bound, size_t cap)
{
  struct sockaddr_in sa;
  int len = sizeof sa, n;
  const unsigned char *ip = (const unsigned char *)&sa.sin_addr;

  if (getsockname(s, (struct sockaddr *)&sa, &len) != 0)
    return mproc__err_os("getsockname", WSAGetLastError());
  n = snprintf(bound, cap, "%u.%u.%u.%u:%u", ip[0], ip[1], ip[2], ip[3],
               (unsigned)ntohs(sa.sin_port));
  if (n < 0 || (size_t)n >= cap)
    return mproc__err(MPROC_ETOOSHORT,
                      "the bound address does not fit in %zu bytes", cap);
  return 0;
}

/* ---- INET ---- */

static int bind_error(int err, const char *address)
{
  char text[128];

  /* WSAEACCES: another socket holds the port exclusively (or the system
   * reserved it). */
  if (err == WSAEADDRINUSE || err == WSAEACCES)
    return mproc__err(MPROC_EADDRINUSE, "address '%s' is already in use",
                      address);
  if (err == WSAEADDRNOTAVAIL) {
    mproc__plat_strerror(err, text, sizeof text);
    return mproc__err(MPROC_EINVAL, "cannot bind '%s': %s", address, text);
  }
  return mproc__err_os("bind", err);
}

static int inet_listen(mproc__lsn_t *l, const char *address, int backlog,
                       char *bound, size_t cap)
{
  struct sockaddr_in sa;
  BOOL one = TRUE;
  int rc;

  if (address == NULL)
    address = "127.0.0.1:0";
  if ((rc = inet_sockaddr(address, 1, &sa)) != 0 ||
      (rc = new_socket(&l->sock)) != 0)
    return rc;
  /* Without it Windows lets another socket that asks for SO_REUSEADDR
   * bind the same port and steal its connections; with it, a port in use
   * is refused, as on POSIX. (CPython sets SO_REUSEADDR on POSIX only.) */
  if (setsockopt(l->sock, SOL_SOCKET, SO_EXCLUSIVEADDRUSE, (const char *)&one,
                 sizeof one) != 0)
    return mproc__err_os("setsockopt(SO_EXCLUSIVEADDRUSE)", WSAGetLastError());
  if (os_bind(l->sock, (const struct sockaddr *)&sa, sizeof sa) != 0)
    return bind_error(WSAGetLastError(), address);
  if (os_listen(l->sock, backlog) != 0)
    return mproc__err_os("listen", WSAGetLastError());
  /* Non-blocking, so that accept never hangs on a peer that left between
   * select and accept. */
  if ((rc = set_blocking(l->sock, 0)) != 0)
    return rc;
  return inet_describe(l->sock, bound, cap);
}

static int inet_accept(mproc__lsn_t *l, double deadline, intptr_t *h)
{
  SOCKET s;
  int rc, err;

  for (;;) {
    rc = sock_wait(l->sock, 0, deadline);
    if (rc < 0)
      return rc;
    if (rc == 0)
      return mproc__err(MPROC_ETIMEDOUT, "no peer connected in time");
    s = os_accept(l->sock);
    if (s != INVALID_SOCKET)
      break;
    /* A peer that gave up between select and accept is no error: wait
     * for the next one. */
    err = WSAGetLastError();
    if (err != WSAEWOULDBLOCK && err != WSAECONNRESET && err != WSAEINTR)
      return mproc__err_os("accept", err);
  }
  /* The accepted socket takes the listener's non-blocking mode. */
  if ((rc = as_connection(s)) != 0) {
    closesocket(s);
    return rc;
  }
  *h = (intptr_t)s;
  return 0;
}

static int connect_error(int err, const char *address)
{
  if (err == WSAECONNREFUSED)
    return mproc__err(MPROC_ENOTFOUND, "nothing listens at '%s'", address);
  if (err == WSAETIMEDOUT)
    return mproc__err(MPROC_ETIMEDOUT, "connecting to '%s' timed out", address);
  return mproc__err_os("connect", err);
}

/* Connect the non-blocking @s by @deadline. */
static int connect_until(SOCKET s, const struct sockaddr_in *sa,
                         double deadline, const char *address)
{
  int err = 0, len = sizeof err, rc;

  if (os_connect(s, (const struct sockaddr *)sa, sizeof *sa) == 0)
    return 0;
  if ((err = WSAGetLastError()) != WSAEWOULDBLOCK)
    return connect_error(err, address);
  /* Windows reports a failed connect in the exception set. */
  rc = sock_wait(s, 1, deadline);
  if (rc < 0)
    return rc;
  if (rc == 0)
    return connect_error(WSAETIMEDOUT, address);
  if (getsockopt(s, SOL_SOCKET, SO_ERROR, (char *)&err, &len) != 0)
    return mproc__err_os("getsockopt(SO_ERROR)", WSAGetLastError());
  return err == 0 ? 0 : connect_error(err, address);
}

static int inet_connect(const char *address, double deadline, intptr_t *h)
{
  struct sockaddr_in sa;
  SOCKET s = INVALID_SOCKET;
  int rc;

  if ((rc = inet_sockaddr(address, 0, &sa)) != 0 || (rc = new_socket(&s)) != 0)
    return rc;
  if ((rc = set_blocking(s, 0)) != 0 ||
      (rc = connect_until(s, &sa, deadline, address)) != 0 ||
      (rc = as_connection(s)) != 0)
    goto out;
  *h = (intptr_t)s;
  s = INVALID_SOCKET;
out:
  if (s != INVALID_SOCKET)
    closesocket(s);
  return rc;
}

/* ---- PIPE ---- */

/* @s (UTF-8) as a new UTF-16 string in *@out. */
static int widen(const char *s, wchar_t **out)
{
  int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, NULL, 0);

  if (n <= 0)
    return mproc__err(MPROC_EINVAL, "pipe name '%s' is not valid UTF-8", s);
  if ((*out = malloc((size_t)n * sizeof **out)) == NULL)
    return mproc__err(MPROC_ENOMEM, "out of memory");
  MultiByteToWideChar(CP_UTF8, 0, s, -1, *out, n);
  return 0;
}

/* Errors that mean the name, not the system, is at fault. */
static int bad_name(DWORD err)
{
  return err == ERROR_INVALID_NAME || err == ERROR_BAD_PATHNAME ||
         err == ERROR_PATH_NOT_FOUND || err == ERROR_BAD_NETPATH ||
         err == ERROR_INVALID_PARAMETER || err == ERROR_INVALID_HANDLE ||
         err == ERROR_FILENAME_EXCED_RANGE;
}

/* A new instance of pipe @name, listening in non-blocking mode, not
 * inherited (no security attributes), local clients only. @first: fail
 * when the name exists already. */
static HANDLE new_instance(const wchar_t *name, int first)
{
  return os_CreateNamedPipeW(
      name, PIPE_ACCESS_DUPLEX | (first ? FILE_FLAG_FIRST_PIPE_INSTANCE : 0),
      PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_NOWAIT |
          PIPE_REJECT_REMOTE_CLIENTS,
      PIPE_UNLIMITED_INSTANCES, MPROC__WIN_PIPE_BUF, MPROC__WIN_PIPE_BUF, 0,
      NULL);
}

/* Whether a pipe named @name exists. FILE_FLAG_FIRST_PIPE_INSTANCE is
 * the real test on Windows; Wine ignores that flag, and this (racy)
 * check catches a name in use there. */
static int pipe_exists(const wchar_t *name)
{
  return WaitNamedPipeW(name, 1) || GetLastError() == ERROR_SEM_TIMEOUT;
}

/* A pipe has no backlog: one instance listens at a time (as in CPython),
 * and clients that find it taken wait in pipe_connect. */
static int pipe_listen(mproc__lsn_t *l, const char *address, char *bound,
                       size_t cap)
{
  static volatile LONG counter;
  char fresh[128];
  DWORD err;
  int rc;

  if (address == NULL) {
    snprintf(fresh, sizeof fresh, PIPE_PREFIX "mproc-listener-%lu-%ld-%llu",
             (unsigned long)GetCurrentProcessId(),
             (long)InterlockedIncrement(&counter),
             (unsigned long long)GetTickCount64());
    address = fresh;
  }
  if (strlen(address) >= cap)
    return mproc__err(MPROC_ETOOSHORT,
                      "the bound address does not fit in %zu bytes", cap);
  if ((rc = widen(address, &l->name)) != 0)
    return rc;
  if (pipe_exists(l->name))
    return mproc__err(MPROC_EADDRINUSE, "address '%s' is already in use",
                      address);
  l->pending = new_instance(l->name, 1);
  if (l->pending == INVALID_HANDLE_VALUE) {
    err = GetLastError();
    l->pending = NULL;
    if (err == ERROR_ACCESS_DENIED || err == ERROR_PIPE_BUSY)
      return mproc__err(MPROC_EADDRINUSE, "address '%s' is already in use",
                        address);
    if (bad_name(err))
      return mproc__err(MPROC_EINVAL, "cannot create pipe '%s' (error %lu)",
                        address, (unsigned long)err);
    return mproc__err_os("CreateNamedPipe", (long)err);
  }
  strcpy(bound, address);
  return 0;
}

/* Whether a client has come to the listening instance @p: 1 yes (it may
 * have left again: its connection then reads what it sent, then EOF), 0
 * not yet, or an error. */
static int pipe_arrived(HANDLE p)
{
  DWORD err;

  if (ConnectNamedPipe(p, NULL))
    return 1;
  err = GetLastError();
  if (err == ERROR_PIPE_CONNECTED || err == ERROR_NO_DATA)
    return 1;
  if (err == ERROR_PIPE_LISTENING)
    return 0;
  return mproc__err_os("ConnectNamedPipe", (long)err);
}

static int pipe_accept(mproc__lsn_t *l, double deadline, intptr_t *h)
{
  DWORD mode = PIPE_READMODE_BYTE | PIPE_WAIT, slice = 1, err;
  HANDLE got;
  int rc;

  /* The previous accept could not make the next instance: try again. */
  if (l->pending == NULL &&
      (l->pending = new_instance(l->name, 0)) == INVALID_HANDLE_VALUE) {
    l->pending = NULL;
    return mproc__err_os("CreateNamedPipe", (long)GetLastError());
  }
  /* A listening pipe cannot be waited on without an overlapped handle
   * (see the top of the file): poll, in slices growing to 10 ms. */
  while ((rc = pipe_arrived(l->pending)) == 0) {
    if (past(deadline))
      return mproc__err(MPROC_ETIMEDOUT, "no peer connected in time");
    Sleep(mproc__win_nap_ms(slice, deadline));
    if (slice < 10)
      slice++;
  }
  if (rc < 0)
    return rc;
  got = l->pending;
  /* The next instance, at once: a client finds the name busy (and
   * waits) until there is one. Failing here loses nothing: the next
   * accept tries again. */
  if ((l->pending = new_instance(l->name, 0)) == INVALID_HANDLE_VALUE)
    l->pending = NULL;
  /* Blocking from now on. A client that has already left makes this
   * fail; its connection only has EOF to give, blocking or not. */
  if (!SetNamedPipeHandleState(got, &mode, NULL, NULL) &&
      (err = GetLastError()) != ERROR_NO_DATA &&
      err != ERROR_PIPE_NOT_CONNECTED && err != ERROR_BROKEN_PIPE) {
    CloseHandle(got);
    return mproc__err_os("SetNamedPipeHandleState", (long)err);
  }
  *h = (intptr_t)got;
  return 0;
}

static int pipe_open_error(DWORD err, const char *address)
{
  if (err == ERROR_FILE_NOT_FOUND)
    return mproc__err(MPROC_ENOTFOUND, "nothing listens at '%s'", address);
  if (bad_name(err))
    return mproc__err(MPROC_EINVAL, "cannot open pipe '%s' (error %lu)",
                      address, (unsigned long)err);
  return mproc__err_os("CreateFile(pipe)", (long)err);
}

static int pipe_connect(const char *address, double deadline, intptr_t *h)
{
  wchar_t *name;
  HANDLE p;
  DWORD err;
  int rc;

  if (address == NULL)
    return mproc__err(MPROC_EINVAL, "no address given");
  if ((rc = widen(address, &name)) != 0)
    return rc;
  for (;;) {
    /* Synchronous, like the ends of mproc__plat_pipe(); the server may
     * learn who we are but not act as us. */
    p = os_CreateFileW(name, GENERIC_READ | GENERIC_WRITE, 0, NULL,
                       OPEN_EXISTING,
                       SECURITY_SQOS_PRESENT | SECURITY_IDENTIFICATION, NULL);
    if (p != INVALID_HANDLE_VALUE) {
      *h = (intptr_t)p;
      rc = 0;
      break;
    }
    if ((err = GetLastError()) != ERROR_PIPE_BUSY) {
      rc = pipe_open_error(err, address);
      break;
    }
    if (past(deadline)) {
      rc = mproc__err(MPROC_ETIMEDOUT, "pipe '%s' stayed busy", address);
      break;
    }
    /* Every instance is taken: wait for the listener to offer the next
     * one (a vanished pipe makes CreateFile say so above). */
    WaitNamedPipeW(name, mproc__win_nap_ms(BUSY_WAIT_MS, deadline) + 1);
  }
  free(name);
  return rc;
}

/* ---- the contract ---- */

int mproc__plat_listen(int family, const char *address, int backlog,
                       mproc__lsn_t **out, char *bound, size_t cap)
{
  mproc__lsn_t *l;
  int rc;

  *out = NULL;
  if ((rc = check_family(family)) != 0)
    return rc;
  if ((l = calloc(1, sizeof *l)) == NULL)
    return mproc__err(MPROC_ENOMEM, "out of memory");
  l->family = family;
  l->sock = INVALID_SOCKET;
  if (family == MPROC__AF_INET)
    rc = inet_listen(l, address, backlog, bound, cap);
  else
    rc = pipe_listen(l, address, bound, cap);
  if (rc != 0) {
    mproc__plat_listen_close(l);
    return rc;
  }
  *out = l;
  return 0;
}

int mproc__plat_accept(mproc__lsn_t *l, double deadline, intptr_t *h)
{
  if (l->family == MPROC__AF_INET)
    return inet_accept(l, deadline, h);
  return pipe_accept(l, deadline, h);
}

void mproc__plat_handle_shutdown(intptr_t h)
{
  /* A socket is shut down; an accepted pipe (our server end) is
   * disconnected: a read or wait on it then ends as at EOF. */
  if (mproc__win_is_socket(h))
    (void)shutdown((SOCKET)h, SD_BOTH);
  else
    (void)DisconnectNamedPipe((HANDLE)h);
}

void mproc__plat_listen_close(mproc__lsn_t *l)
{
  if (l == NULL)
    return;
  if (l->sock != INVALID_SOCKET)
    closesocket(l->sock);
  if (l->pending != NULL)
    CloseHandle(l->pending);
  free(l->name);
  free(l);
}

int mproc__plat_connect(int family, const char *address, double deadline,
                        intptr_t *h)
{
  int rc = check_family(family);

  if (rc != 0)
    return rc;
  if (family == MPROC__AF_INET)
    return inet_connect(address, deadline, h);
  return pipe_connect(address, deadline, h);
}
