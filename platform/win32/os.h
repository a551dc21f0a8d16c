/*
 * The Windows backend's OS calls, each through a thin wrapper: the seam
 * where a fault-injection build (lib/fault.h) makes the Nth call fail as
 * it really can, as platform/posix/os.h does for POSIX. Outside such a
 * build each wrapper is the plain call.
 *
 * A hard failure gives the call's realistic error (out of memory or
 * resources for a new object or process, a busy or broken pipe, a reset
 * or full socket); Windows has no EINTR, so the only soft failure is a
 * short transfer (ReadFile, WriteFile, send, recv).
 *
 * Not wrapped: calls that release (CloseHandle, UnmapViewOfFile), that
 * cannot fail for a valid argument, and the waits (the nap loops make
 * them a matter of time, not of resources).
 */
#ifndef MPROC__WIN32_OS_H
#define MPROC__WIN32_OS_H

#include <windows.h>
#include <winsock2.h>

#include "fault.h"

/* Nonzero (and the last error set) when the call must fail. */
static inline int os_fault(const char *call, DWORD err)
{
  if (MPROC__FAULT(call, MPROC__SOFT_NONE) != MPROC__FAULT_FAIL)
    return 0;
  SetLastError(err);
  return 1;
}

static inline int os_fault_wsa(const char *call, int err)
{
  if (MPROC__FAULT(call, MPROC__SOFT_NONE) != MPROC__FAULT_FAIL)
    return 0;
  WSASetLastError(err);
  return 1;
}

/* The length a transfer may use: 1 when the seam asks for a short one;
 * 0 (and the last error @err) when it fails. */
static inline DWORD os_transfer_len(const char *call, DWORD len, DWORD err,
                                    int wsa)
{
  switch (MPROC__FAULT(call, MPROC__SOFT_SHORT)) {
  case MPROC__FAULT_FAIL:
    if (wsa)
      WSASetLastError((int)err);
    else
      SetLastError(err);
    return 0;
  case MPROC__FAULT_SHORT:
    return len > 1 ? 1 : len;
  default:
    return len;
  }
}

/* ---- processes and objects ---- */

static inline BOOL os_CreateProcessW(LPCWSTR app, LPWSTR cmd,
                                     LPSECURITY_ATTRIBUTES pa,
                                     LPSECURITY_ATTRIBUTES ta, BOOL inherit,
                                     DWORD flags, LPVOID env, LPCWSTR dir,
                                     LPSTARTUPINFOW si,
                                     LPPROCESS_INFORMATION pi)
{
  if (os_fault("CreateProcess", ERROR_NOT_ENOUGH_MEMORY))
    return FALSE;
  return CreateProcessW(app, cmd, pa, ta, inherit, flags, env, dir, si, pi);
}

static inline BOOL os_AssignProcessToJobObject(HANDLE job, HANDLE proc)
{
  if (os_fault("AssignProcessToJobObject", ERROR_NOT_ENOUGH_QUOTA))
    return FALSE;
  return AssignProcessToJobObject(job, proc);
}

static inline BOOL os_DuplicateHandle(HANDLE sp, HANDLE h, HANDLE tp,
                                      LPHANDLE out, DWORD access, BOOL inherit,
                                      DWORD options)
{
  if (os_fault("DuplicateHandle", ERROR_NO_SYSTEM_RESOURCES))
    return FALSE;
  return DuplicateHandle(sp, h, tp, out, access, inherit, options);
}

static inline HANDLE os_CreateFileMappingW(HANDLE file,
                                           LPSECURITY_ATTRIBUTES sa,
                                           DWORD protect, DWORD high, DWORD low,
                                           LPCWSTR name)
{
  if (os_fault("CreateFileMapping", ERROR_COMMITMENT_LIMIT))
    return NULL;
  return CreateFileMappingW(file, sa, protect, high, low, name);
}

static inline HANDLE os_OpenFileMappingW(DWORD access, BOOL inherit,
                                         LPCWSTR name)
{
  if (os_fault("OpenFileMapping", ERROR_NO_SYSTEM_RESOURCES))
    return NULL;
  return OpenFileMappingW(access, inherit, name);
}

static inline LPVOID os_MapViewOfFile(HANDLE h, DWORD access, DWORD high,
                                      DWORD low, SIZE_T len)
{
  if (os_fault("MapViewOfFile", ERROR_NOT_ENOUGH_MEMORY))
    return NULL;
  return MapViewOfFile(h, access, high, low, len);
}

static inline HANDLE os_CreateSemaphoreW(LPSECURITY_ATTRIBUTES sa, LONG init,
                                         LONG max, LPCWSTR name)
{
  if (os_fault("CreateSemaphore", ERROR_NO_SYSTEM_RESOURCES))
    return NULL;
  return CreateSemaphoreW(sa, init, max, name);
}

static inline HANDLE os_CreateMutexW(LPSECURITY_ATTRIBUTES sa, BOOL owner,
                                     LPCWSTR name)
{
  if (os_fault("CreateMutex", ERROR_NO_SYSTEM_RESOURCES))
    return NULL;
  return CreateMutexW(sa, owner, name);
}

/* ---- pipes ---- */

static inline BOOL os_CreatePipe(PHANDLE r, PHANDLE w, LPSECURITY_ATTRIBUTES sa,
                                 DWORD size)
{
  if (os_fault("CreatePipe", ERROR_NO_SYSTEM_RESOURCES))
    return FALSE;
  return CreatePipe(r, w, sa, size);
}

static inline HANDLE os_CreateNamedPipeW(LPCWSTR name, DWORD open, DWORD mode,
                                         DWORD instances, DWORD out, DWORD in,
                                         DWORD timeout,
                                         LPSECURITY_ATTRIBUTES sa)
{
  if (os_fault("CreateNamedPipe", ERROR_NO_SYSTEM_RESOURCES))
    return INVALID_HANDLE_VALUE;
  return CreateNamedPipeW(name, open, mode, instances, out, in, timeout, sa);
}

/* Opening a pipe's client end: every instance busy is what a real
 * server under load gives. */
static inline HANDLE os_CreateFileW(LPCWSTR name, DWORD access, DWORD share,
                                    LPSECURITY_ATTRIBUTES sa, DWORD disp,
                                    DWORD flags, HANDLE tmpl)
{
  if (os_fault("CreateFile", ERROR_PIPE_BUSY))
    return INVALID_HANDLE_VALUE;
  return CreateFileW(name, access, share, sa, disp, flags, tmpl);
}

static inline BOOL os_ReadFile(HANDLE h, LPVOID buf, DWORD len, LPDWORD got,
                               LPOVERLAPPED ov)
{
  DWORD n = os_transfer_len("ReadFile", len, ERROR_NO_SYSTEM_RESOURCES, 0);

  if (n == 0 && len > 0)
    return FALSE;
  return ReadFile(h, buf, n, got, ov);
}

static inline BOOL os_WriteFile(HANDLE h, LPCVOID buf, DWORD len, LPDWORD done,
                                LPOVERLAPPED ov)
{
  DWORD n = os_transfer_len("WriteFile", len, ERROR_NO_SYSTEM_RESOURCES, 0);

  if (n == 0 && len > 0)
    return FALSE;
  return WriteFile(h, buf, n, done, ov);
}

/* ---- sockets ---- */

static inline SOCKET os_WSASocketW(int af, int type, int proto,
                                   LPWSAPROTOCOL_INFOW info, GROUP g,
                                   DWORD flags)
{
  if (os_fault_wsa("WSASocket", WSAEMFILE))
    return INVALID_SOCKET;
  return WSASocketW(af, type, proto, info, g, flags);
}

static inline int os_bind(SOCKET s, const struct sockaddr *sa, int len)
{
  return os_fault_wsa("bind", WSAENOBUFS) ? SOCKET_ERROR : bind(s, sa, len);
}

static inline int os_listen(SOCKET s, int backlog)
{
  return os_fault_wsa("listen", WSAENOBUFS) ? SOCKET_ERROR : listen(s, backlog);
}

static inline SOCKET os_accept(SOCKET s)
{
  return os_fault_wsa("accept", WSAEMFILE) ? INVALID_SOCKET
                                           : accept(s, NULL, NULL);
}

static inline int os_connect(SOCKET s, const struct sockaddr *sa, int len)
{
  return os_fault_wsa("connect", WSAECONNREFUSED) ? SOCKET_ERROR
                                                  : connect(s, sa, len);
}

static inline int os_send(SOCKET s, const char *buf, int len)
{
  int n = (int)os_transfer_len("send", (DWORD)len, WSAENOBUFS, 1);

  if (n == 0 && len > 0)
    return SOCKET_ERROR;
  return send(s, buf, n, 0);
}

static inline int os_recv(SOCKET s, char *buf, int len)
{
  int n = (int)os_transfer_len("recv", (DWORD)len, WSAECONNRESET, 1);

  if (n == 0 && len > 0)
    return SOCKET_ERROR;
  return recv(s, buf, n, 0);
}

#endif /* MPROC__WIN32_OS_H */
