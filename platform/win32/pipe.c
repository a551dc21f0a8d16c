/*
 * Windows backend: the pipes under Connection. Both kinds are named pipes
 * in byte mode (a duplex end must read and write through one handle);
 * the one-way kind opens its ends for one direction only. A pipe handle
 * cannot be waited on for readability, so waits poll PeekNamedPipe, in
 * short slices spent waiting on the process handles among the objects.
 * A Connection of a Listener or Client may hold a socket instead
 * (listen.c): the functions here hand those to recv, send and select.
 */
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>

#include <stdio.h>
#include <stdlib.h>

#include "object.h"
#include "os.h"
#include "win32.h"

int mproc__plat_pipe(int duplex, intptr_t *r, intptr_t *w)
{
  static volatile LONG counter;
  wchar_t name[128];
  HANDLE server, client;
  DWORD err;

  swprintf(name, sizeof name / sizeof name[0],
           L"\\\\.\\pipe\\mproc-%lu-%ld-%llu",
           (unsigned long)GetCurrentProcessId(),
           (long)InterlockedIncrement(&counter),
           (unsigned long long)GetTickCount64());
  server =
      os_CreateNamedPipeW(name,
                          (duplex ? PIPE_ACCESS_DUPLEX : PIPE_ACCESS_INBOUND) |
                              FILE_FLAG_FIRST_PIPE_INSTANCE,
                          PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT, 1,
                          MPROC__WIN_PIPE_BUF, MPROC__WIN_PIPE_BUF, 0, NULL);
  if (server == INVALID_HANDLE_VALUE)
    return mproc__err_os("CreateNamedPipe", (long)GetLastError());
  client = os_CreateFileW(name,
                          duplex ? GENERIC_READ | GENERIC_WRITE : GENERIC_WRITE,
                          0, NULL, OPEN_EXISTING, 0, NULL);
  if (client == INVALID_HANDLE_VALUE) {
    err = GetLastError();
    CloseHandle(server);
    return mproc__err_os("CreateFile(pipe)", (long)err);
  }
  if (!ConnectNamedPipe(server, NULL) &&
      (err = GetLastError()) != ERROR_PIPE_CONNECTED) {
    CloseHandle(client);
    CloseHandle(server);
    return mproc__err_os("ConnectNamedPipe", (long)err);
  }
  *r = (intptr_t)server;
  *w = (intptr_t)client;
  return 0;
}

static int is_eof_error(DWORD err)
{
  return err == ERROR_BROKEN_PIPE || err == ERROR_PIPE_NOT_CONNECTED ||
         err == ERROR_NO_DATA;
}

int mproc__plat_pipe_read(intptr_t h, void *buf, size_t cap, size_t *got)
{
  DWORD n = 0, chunk = cap > (1u << 30) ? (1u << 30) : (DWORD)cap;

  if (mproc__win_is_socket(h))
    return mproc__win_sock_read(h, buf, cap, got);
  *got = 0;
  if (!os_ReadFile((HANDLE)h, buf, chunk, &n, NULL)) {
    DWORD err = GetLastError();
    if (is_eof_error(err))
      return 0;
    if (err != ERROR_MORE_DATA)
      return mproc__err_os("ReadFile", (long)err);
  }
  *got = n;
  return 0;
}

int mproc__plat_pipe_write(intptr_t h, const void *buf, size_t len)
{
  const char *p = buf;

  if (mproc__win_is_socket(h))
    return mproc__win_sock_write(h, buf, len);
  while (len > 0) {
    DWORD chunk = len > (1u << 30) ? (1u << 30) : (DWORD)len, done = 0;
    if (!os_WriteFile((HANDLE)h, p, chunk, &done, NULL))
      return mproc__err_os("WriteFile", (long)GetLastError());
    p += done;
    len -= done;
  }
  return 0;
}

static int pipe_ready(intptr_t h, int is_socket)
{
  DWORD avail = 0;

  if (is_socket)
    return mproc__win_sock_ready(h);
  if (!PeekNamedPipe((HANDLE)h, NULL, 0, NULL, &avail, NULL))
    return 1; /* broken: EOF, which a read reports */
  return avail > 0;
}

unsigned long mproc__win_nap_ms(unsigned long slice, double deadline)
{
  double left;

  if (deadline >= MPROC__NEVER)
    return slice;
  left = (deadline - mproc__plat_now()) * 1000.0;
  if (left >= (double)slice)
    return slice;
  return left > 0 ? (unsigned long)left + 1 : 0;
}

/* Which of the @n pipes among @h are sockets (asked once per wait). */
static int find_sockets(const intptr_t *h, const int *is_pipe, size_t n,
                        char **out, char *local, size_t local_cap)
{
  char *s = n <= local_cap ? local : malloc(n);

  if (s == NULL)
    return mproc__err(MPROC_ENOMEM, "out of memory");
  for (size_t i = 0; i < n; i++)
    s[i] = is_pipe[i] && mproc__win_is_socket(h[i]);
  *out = s;
  return 0;
}

int mproc__plat_wait_handles(const intptr_t *h, const int *is_pipe, size_t n,
                             double deadline, int *ready)
{
  HANDLE objs[MAXIMUM_WAIT_OBJECTS];
  size_t idx[MAXIMUM_WAIT_OBJECTS];
  DWORD nobj = 0, slice = 1;
  char local[64], *sock = NULL;
  int count, rc;

  for (size_t i = 0; i < n; i++) {
    if (is_pipe[i])
      continue;
    if (nobj == MAXIMUM_WAIT_OBJECTS)
      return mproc__err(MPROC_EINVAL, "wait: more than %d processes",
                        MAXIMUM_WAIT_OBJECTS);
    idx[nobj] = i;
    objs[nobj++] = (HANDLE)h[i];
  }
  if ((rc = find_sockets(h, is_pipe, n, &sock, local, sizeof local)) != 0)
    return rc;
  /* Sockets alone: select() sleeps until one is readable. */
  size_t nsock = 0;
  for (size_t i = 0; i < n; i++)
    nsock += sock[i] != 0;
  if (nobj == 0 && nsock == n && n > 0 && n <= MPROC__WIN_SOCKS_MAX) {
    count = mproc__win_socks_wait(h, n, deadline, ready);
    if (sock != local)
      free(sock);
    return count;
  }
  for (;;) {
    count = 0;
    for (size_t i = 0; i < n; i++) {
      ready[i] = is_pipe[i] ? pipe_ready(h[i], sock[i]) : 0;
      count += ready[i];
    }
    for (DWORD k = 0; k < nobj; k++)
      if (WaitForSingleObject(objs[k], 0) == WAIT_OBJECT_0) {
        ready[idx[k]] = 1;
        count++;
      }
    if (count > 0 || (deadline < MPROC__NEVER && mproc__plat_now() >= deadline))
      break;
    /* Nothing yet: sleep a slice (on the processes, if any), growing to
     * 10 ms so that an idle wait costs little. */
    DWORD ms = mproc__win_nap_ms(slice, deadline);
    if (nobj > 0)
      WaitForMultipleObjects(nobj, objs, FALSE, ms);
    else
      Sleep(ms);
    if (slice < 10)
      slice++;
  }
  if (sock != local)
    free(sock);
  return count;
}

void mproc__plat_handle_own(intptr_t h)
{
  SetHandleInformation((HANDLE)h, HANDLE_FLAG_INHERIT, 0);
}
