/*
 * Windows backend: spawn by CreateProcessW of the running executable with
 * only the bootstrap pipe and stdio inherited (PROC_THREAD_ATTRIBUTE_
 * HANDLE_LIST), waits with deadlines, TerminateProcess with exit codes that
 * read as -SIGTERM / -SIGKILL, daemonic children in a kill-on-close Job.
 */
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
#include <winsock2.h> /* the WSAE* codes */

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "os.h"
#include "platform.h"
#include "win32.h"

/* Exit codes TerminateProcess uses, read back as -signal (CPython uses
 * 0x10000 for terminate; we add the signal number so kill differs). */
#define SIGNAL_EXIT_BASE 0x10000u
#ifndef SIGKILL
#define SIGKILL 9
#endif

struct mproc__child {
  HANDLE proc;
  DWORD pid;
  int reaped;
  int exitcode;
};

/* One Job for all daemonic children: when the parent dies, in any way,
 * the system closes its last handle and kills them. */
static HANDLE daemon_job;
static SRWLOCK job_lock = SRWLOCK_INIT;

int mproc__win_exitcode(unsigned long code)
{
  if (code >= SIGNAL_EXIT_BASE && code < SIGNAL_EXIT_BASE + 64)
    return -(int)(code - SIGNAL_EXIT_BASE);
  switch (code) {
  case 0xC0000005u: /* access violation */
  case 0xC00000FDu: /* stack overflow */
    return -SIGSEGV;
  case 0xC000001Du: /* illegal instruction */
    return -SIGILL;
  case 0xC0000094u: /* integer divide by zero */
  case 0xC000008Eu: /* float divide by zero */
    return -SIGFPE;
  case 0xC000013Au: /* Ctrl-C */
    return -SIGINT;
  default:
    return (int)code;
  }
}

static int get_job(HANDLE *out)
{
  JOBOBJECT_EXTENDED_LIMIT_INFORMATION info;
  HANDLE job;

  AcquireSRWLockExclusive(&job_lock);
  if (daemon_job == NULL) {
    job = CreateJobObjectW(NULL, NULL);
    if (job != NULL) {
      memset(&info, 0, sizeof info);
      info.BasicLimitInformation.LimitFlags =
          JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
      if (!SetInformationJobObject(job, JobObjectExtendedLimitInformation,
                                   &info, sizeof info)) {
        CloseHandle(job);
        job = NULL;
      }
    }
    daemon_job = job;
  }
  *out = daemon_job;
  ReleaseSRWLockExclusive(&job_lock);
  if (*out == NULL)
    return mproc__err_os("CreateJobObject", (long)GetLastError());
  return 0;
}

/* "path" --mproc-spawn=<handle>, with the path quoted. */
static wchar_t *command_line(HANDLE boot)
{
  wchar_t path[32768];
  DWORD n = GetModuleFileNameW(NULL, path, 32768);
  size_t cap;
  wchar_t *cmd;

  if (n == 0 || n >= 32768)
    return NULL;
  cap = n + 64;
  cmd = malloc(cap * sizeof *cmd);
  if (cmd != NULL)
    swprintf(cmd, cap, L"\"%ls\" %hs%llu", path, MPROC__SPAWN_ARG,
             (unsigned long long)(uintptr_t)boot);
  return cmd;
}

static int dup_inheritable(HANDLE h, HANDLE *out)
{
  *out = NULL;
  if (h == NULL || h == INVALID_HANDLE_VALUE)
    return 0;
  if (!os_DuplicateHandle(GetCurrentProcess(), h, GetCurrentProcess(), out, 0,
                          TRUE, DUPLICATE_SAME_ACCESS))
    *out = NULL; /* a detached stdio is no reason to fail */
  return 0;
}

typedef struct spawn_handles {
  HANDLE boot_r, boot_w;
  HANDLE std[3];
  HANDLE *list; /* the bootstrap pipe, stdio, the objects' handles */
  DWORD n_list;
} spawn_handles_t;

static int make_handles(spawn_handles_t *h, const mproc__launch_t *l)
{
  SECURITY_ATTRIBUTES sa = {sizeof sa, NULL, TRUE};
  static const DWORD which[3] = {STD_INPUT_HANDLE, STD_OUTPUT_HANDLE,
                                 STD_ERROR_HANDLE};

  memset(h, 0, sizeof *h);
  h->list = malloc((4 + l->nhandles) * sizeof *h->list);
  if (h->list == NULL)
    return mproc__err(MPROC_ENOMEM, "out of memory");
  /* The read end is inheritable, but only the handle list decides what
   * this child gets: other children started meanwhile never see it. */
  if (!os_CreatePipe(&h->boot_r, &h->boot_w, &sa, 0))
    return mproc__err_os("CreatePipe", (long)GetLastError());
  SetHandleInformation(h->boot_w, HANDLE_FLAG_INHERIT, 0);
  h->list[h->n_list++] = h->boot_r;
  for (int i = 0; i < 3; i++) {
    dup_inheritable(GetStdHandle(which[i]), &h->std[i]);
    if (h->std[i] != NULL)
      h->list[h->n_list++] = h->std[i];
  }
  /* The objects' handles keep their values in the child (that is what
   * lets shared memory hold HANDLE values); they are made inheritable
   * only around CreateProcess (see create()). */
  for (size_t i = 0; i < l->nhandles; i++)
    h->list[h->n_list++] = (HANDLE)l->handles[i];
  return 0;
}

static void close_handles(spawn_handles_t *h)
{
  HANDLE all[5] = {h->boot_r, h->boot_w, h->std[0], h->std[1], h->std[2]};

  for (int i = 0; i < 5; i++)
    if (all[i] != NULL)
      CloseHandle(all[i]);
  free(h->list);
}

/* Serialises the window in which objects' handles are inheritable, so
 * that two starts sharing an object cannot clear each other's flag. */
static SRWLOCK inherit_lock = SRWLOCK_INIT;

static void set_inherit(const mproc__launch_t *l, int on)
{
  for (size_t i = 0; i < l->nhandles; i++)
    SetHandleInformation((HANDLE)l->handles[i], HANDLE_FLAG_INHERIT,
                         on ? HANDLE_FLAG_INHERIT : 0);
}

static int create(spawn_handles_t *h, int daemon, PROCESS_INFORMATION *pi)
{
  STARTUPINFOEXW si;
  SIZE_T size = 0;
  wchar_t *cmd = command_line(h->boot_r);
  DWORD flags = EXTENDED_STARTUPINFO_PRESENT | CREATE_UNICODE_ENVIRONMENT;
  int rc = 0;

  memset(&si, 0, sizeof si);
  si.StartupInfo.cb = sizeof si;
  si.StartupInfo.dwFlags = STARTF_USESTDHANDLES;
  si.StartupInfo.hStdInput = h->std[0];
  si.StartupInfo.hStdOutput = h->std[1];
  si.StartupInfo.hStdError = h->std[2];
  if (cmd == NULL)
    return mproc__err(MPROC_ENOMEM, "cannot build the command line");
  InitializeProcThreadAttributeList(NULL, 1, 0, &size);
  si.lpAttributeList = malloc(size);
  if (si.lpAttributeList == NULL ||
      !InitializeProcThreadAttributeList(si.lpAttributeList, 1, 0, &size) ||
      !UpdateProcThreadAttribute(si.lpAttributeList, 0,
                                 PROC_THREAD_ATTRIBUTE_HANDLE_LIST, h->list,
                                 h->n_list * sizeof(HANDLE), NULL, NULL)) {
    rc = mproc__err_os("InitializeProcThreadAttributeList",
                       (long)GetLastError());
    goto out;
  }
  /* A daemonic child starts suspended so that it is in the Job before it
   * can run (and start children of its own). */
  if (daemon)
    flags |= CREATE_SUSPENDED;
  if (!os_CreateProcessW(NULL, cmd, NULL, NULL, TRUE, flags, NULL, NULL,
                         &si.StartupInfo, pi))
    rc = mproc__err_os("CreateProcessW", (long)GetLastError());
out:
  if (si.lpAttributeList != NULL) {
    DeleteProcThreadAttributeList(si.lpAttributeList);
    free(si.lpAttributeList);
  }
  free(cmd);
  return rc;
}

static int join_job(PROCESS_INFORMATION *pi)
{
  HANDLE job;
  int rc = get_job(&job);

  if (rc == 0 && !os_AssignProcessToJobObject(job, pi->hProcess)) {
    DWORD err = GetLastError();
    /* Older Windows refuse nested jobs (access denied) when the parent
     * already sits in one: say so instead of starting an unguarded
     * daemon. */
    rc = mproc__err(mproc__plat_errcode((long)err),
                    "cannot put the daemonic child in a kill-on-close job "
                    "(error %lu); the parent may itself be in a job that "
                    "forbids nesting",
                    (unsigned long)err);
  }
  if (rc != 0) {
    TerminateProcess(pi->hProcess, SIGNAL_EXIT_BASE + SIGKILL);
    WaitForSingleObject(pi->hProcess, INFINITE);
    return rc;
  }
  ResumeThread(pi->hThread);
  return 0;
}

static int write_all(HANDLE h, const void *buf, size_t len)
{
  const char *p = buf;

  while (len > 0) {
    DWORD chunk = len > (1u << 30) ? (1u << 30) : (DWORD)len, done = 0;
    if (!os_WriteFile(h, p, chunk, &done, NULL))
      return (int)GetLastError();
    p += done;
    len -= done;
  }
  return 0;
}

int mproc__plat_start(const mproc__launch_t *l, mproc__child_t **out)
{
  PROCESS_INFORMATION pi;
  spawn_handles_t h;
  mproc__child_t *c;
  int rc, err, created = 0;

  if (l->method != MPROC_SPAWN)
    return mproc__err(MPROC_ENOSYS,
                      "start method '%s' is not available "
                      "on Windows",
                      mproc_start_method_name(l->method));
  c = calloc(1, sizeof *c);
  if (c == NULL)
    return mproc__err(MPROC_ENOMEM, "out of memory");
  rc = make_handles(&h, l);
  if (rc == 0) {
    AcquireSRWLockExclusive(&inherit_lock);
    set_inherit(l, 1);
    rc = create(&h, l->daemon, &pi);
    set_inherit(l, 0);
    ReleaseSRWLockExclusive(&inherit_lock);
  }
  if (rc == 0) {
    created = 1;
    if (l->daemon)
      rc = join_job(&pi);
  }
  if (rc == 0) {
    CloseHandle(h.boot_r);
    h.boot_r = NULL;
    /* A child that died early breaks the pipe; its exit code says why. */
    err = write_all(h.boot_w, l->boot, l->boot_len);
    if (err != 0 && err != ERROR_BROKEN_PIPE && err != ERROR_NO_DATA) {
      rc = mproc__err_os("WriteFile(bootstrap)", err);
      TerminateProcess(pi.hProcess, SIGNAL_EXIT_BASE + SIGKILL);
      WaitForSingleObject(pi.hProcess, INFINITE);
    }
  }
  close_handles(&h);
  if (created)
    CloseHandle(pi.hThread);
  if (rc != 0) {
    if (created)
      CloseHandle(pi.hProcess);
    free(c);
    return rc;
  }
  c->proc = pi.hProcess;
  c->pid = pi.dwProcessId;
  c->exitcode = MPROC_EXITCODE_NONE;
  *out = c;
  return 0;
}

/* A timeout in seconds (>= 1e9: forever) as WaitForSingleObject's. */
static DWORD ms_of(double timeout)
{
  if (timeout >= 1e9)
    return INFINITE;
  return timeout <= 0 ? 0 : (DWORD)(timeout * 1000.0 + 0.999);
}

int mproc__plat_wait(mproc__child_t *c, double timeout)
{
  DWORD r;

  if (c->reaped)
    return 0;
  r = WaitForSingleObject(c->proc, ms_of(timeout));
  if (r == WAIT_OBJECT_0)
    return 0;
  if (r == WAIT_TIMEOUT)
    return MPROC_ETIMEDOUT;
  return mproc__err_os("WaitForSingleObject", (long)GetLastError());
}

int mproc__plat_reap(mproc__child_t *c, int *exitcode)
{
  DWORD code;

  if (!c->reaped) {
    if (WaitForSingleObject(c->proc, 0) != WAIT_OBJECT_0)
      return MPROC_ETIMEDOUT;
    if (!GetExitCodeProcess(c->proc, &code))
      return mproc__err_os("GetExitCodeProcess", (long)GetLastError());
    c->exitcode = mproc__win_exitcode(code);
    c->reaped = 1;
  }
  *exitcode = c->exitcode;
  return 0;
}

int mproc__plat_signal(mproc__child_t *c, int hard)
{
  if (c->reaped || WaitForSingleObject(c->proc, 0) == WAIT_OBJECT_0)
    return 0;
  if (!TerminateProcess(c->proc,
                        SIGNAL_EXIT_BASE + (hard ? SIGKILL : SIGTERM))) {
    DWORD err = GetLastError();
    /* Access denied is what TerminateProcess says of a process that is
     * already exiting. */
    if (err == ERROR_ACCESS_DENIED &&
        WaitForSingleObject(c->proc, 1000) == WAIT_OBJECT_0)
      return 0;
    return mproc__err_os("TerminateProcess", (long)err);
  }
  return 0;
}

long mproc__plat_child_pid(const mproc__child_t *c)
{
  return (long)c->pid;
}

mproc_sentinel_t mproc__plat_sentinel(const mproc__child_t *c)
{
  return (mproc_sentinel_t)(uintptr_t)c->proc;
}

void mproc__plat_child_free(mproc__child_t *c)
{
  if (c == NULL)
    return;
  if (c->proc != NULL)
    CloseHandle(c->proc);
  free(c);
}

void mproc__plat_child_setup(mproc_start_method_t method, int daemon,
                             long parent_pid)
{
  /* The Job does the work of PR_SET_PDEATHSIG, set up by the parent. */
  (void)method;
  (void)daemon;
  (void)parent_pid;
}

void mproc__plat_after_fork_child(void) {}

int mproc__plat_pid_alive(long pid)
{
  HANDLE h = OpenProcess(SYNCHRONIZE, FALSE, (DWORD)pid);
  int alive;

  if (h == NULL)
    return GetLastError() == ERROR_ACCESS_DENIED;
  alive = WaitForSingleObject(h, 0) == WAIT_TIMEOUT;
  CloseHandle(h);
  return alive;
}

static ULONGLONG created(HANDLE proc)
{
  FILETIME c, e, k, u;

  if (!GetProcessTimes(proc, &c, &e, &k, &u))
    return 0;
  return (ULONGLONG)c.dwHighDateTime << 32 | c.dwLowDateTime;
}

int mproc__plat_parent_wait(mproc_start_method_t method, long parent_pid,
                            double timeout)
{
  HANDLE h = OpenProcess(SYNCHRONIZE | PROCESS_QUERY_LIMITED_INFORMATION, FALSE,
                         (DWORD)parent_pid);
  DWORD r;

  (void)method;
  if (h == NULL && GetLastError() == ERROR_INVALID_PARAMETER)
    return 0; /* no such process */
  if (h == NULL)
    return mproc__err_os("OpenProcess(parent)", (long)GetLastError());
  /* Windows reuses ids: a process created after us is not our parent,
   * which has then ended. */
  if (created(h) > created(GetCurrentProcess())) {
    CloseHandle(h);
    return 0;
  }
  r = WaitForSingleObject(h, ms_of(timeout));
  CloseHandle(h);
  if (r == WAIT_OBJECT_0)
    return 0;
  if (r == WAIT_TIMEOUT)
    return MPROC_ETIMEDOUT;
  return mproc__err_os("WaitForSingleObject(parent)", (long)GetLastError());
}

long mproc__plat_getpid(void)
{
  return (long)GetCurrentProcessId();
}

int mproc__plat_cpu_count(void)
{
  DWORD_PTR mine, sys;
  int n = 0;

  if (!GetProcessAffinityMask(GetCurrentProcess(), &mine, &sys))
    return 1;
  for (; mine; mine &= mine - 1)
    n++;
  return n;
}

int mproc__plat_has_method(mproc_start_method_t m)
{
  return m == MPROC_SPAWN;
}

void mproc__plat_exit_now(int code)
{
  fflush(NULL);
  ExitProcess((UINT)code);
}

double mproc__plat_now(void)
{
  static LARGE_INTEGER freq;
  LARGE_INTEGER t;

  if (freq.QuadPart == 0)
    QueryPerformanceFrequency(&freq);
  QueryPerformanceCounter(&t);
  return (double)t.QuadPart / (double)freq.QuadPart;
}

void mproc__plat_strerror(long oserr, char *buf, size_t len)
{
  DWORD n =
      FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS,
                     NULL, (DWORD)oserr, 0, buf, (DWORD)len, NULL);

  while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' ||
                   buf[n - 1] == ' ' || buf[n - 1] == '.'))
    buf[--n] = '\0';
  if (n == 0)
    snprintf(buf, len, "Windows error %ld", oserr);
}

int mproc__plat_errcode(long oserr)
{
  switch (oserr) {
  case ERROR_INVALID_PARAMETER:
  case ERROR_INVALID_HANDLE:
    return MPROC_EINVAL;
  case ERROR_NOT_ENOUGH_MEMORY:
  case ERROR_OUTOFMEMORY:
    return MPROC_ENOMEM;
  case ERROR_ACCESS_DENIED:
    return MPROC_EPERM;
  case WAIT_TIMEOUT:
  case ERROR_TIMEOUT:
    return MPROC_ETIMEDOUT;
  case ERROR_CALL_NOT_IMPLEMENTED:
  case ERROR_NOT_SUPPORTED:
    return MPROC_ENOSYS;
  case ERROR_FILE_NOT_FOUND:
  case ERROR_PATH_NOT_FOUND:
    return MPROC_ENOTFOUND;
  /* Winsock's codes (listen.c), as their POSIX twins map. */
  case WSAEADDRINUSE:
    return MPROC_EADDRINUSE;
  case WSAECONNREFUSED: /* nothing listens at the address */
    return MPROC_ENOTFOUND;
  case WSAETIMEDOUT:
    return MPROC_ETIMEDOUT;
  case WSAENOBUFS:
    return MPROC_ENOMEM;
  default:
    return MPROC_EOS;
  }
}

intptr_t mproc__plat_child_handle(mproc_start_method_t method, size_t i,
                                  intptr_t parent_value)
{
  (void)method;
  (void)i;
  return parent_value; /* inherited handles keep their values */
}

void mproc__plat_handle_close(intptr_t h)
{
  if (mproc__win_close_socket(h))
    return;
  if (h != 0 && h != (intptr_t)INVALID_HANDLE_VALUE)
    CloseHandle((HANDLE)h);
}
