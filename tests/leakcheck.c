/*
 * The platform-specific parts of the harness: counting descriptors or
 * handles, finding child processes a test left behind, and the few OS
 * calls the tests need (pids, signals, sentinels, running a program).
 * tests/ may use #ifdef; lib/ may not.
 */
#if !defined(_WIN32) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#ifdef _WIN32
#include <process.h>
#include <windows.h>
#else
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
extern char **environ;
#endif

#ifdef _WIN32

double mproc_test_now(void)
{
  return (double)GetTickCount64() / 1000.0;
}

void mproc_test_sleep_ms(int ms)
{
  Sleep((DWORD)ms);
}

void mproc_test_block_forever(void)
{
  for (;;)
    Sleep(1000);
}

long mproc_test_getpid(void)
{
  return (long)GetCurrentProcessId();
}

int mproc_test_online_cpus(void)
{
  SYSTEM_INFO si;
  GetSystemInfo(&si);
  return (int)si.dwNumberOfProcessors;
}

int mproc_test_pid_gone(long pid)
{
  HANDLE h = OpenProcess(SYNCHRONIZE, FALSE, (DWORD)pid);
  int gone;
  if (h == NULL)
    return 1;
  gone = WaitForSingleObject(h, 0) == WAIT_OBJECT_0;
  CloseHandle(h);
  return gone;
}

void mproc_test_default_crash_handling(void)
{
  SetErrorMode(SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX);
}

/* TerminateProcess with the exit code mproc's backend uses for "ended by
 * signal sig" (0x10000 + sig), so the parent reads -sig as on POSIX. */
int mproc_test_kill_pid(long pid, int sig)
{
  HANDLE h = OpenProcess(PROCESS_TERMINATE, FALSE, (DWORD)pid);
  BOOL ok;
  if (h == NULL)
    return -1;
  ok = TerminateProcess(h, 0x10000u + (UINT)sig);
  CloseHandle(h);
  return ok ? 0 : -1;
}

int mproc_test_sentinel_wait(mproc_sentinel_t s, double timeout)
{
  DWORD ms = timeout <= 0 ? 0 : (DWORD)(timeout * 1000.0);
  DWORD rc = WaitForSingleObject((HANDLE)s, ms);
  if (rc == WAIT_OBJECT_0)
    return 1;
  return rc == WAIT_TIMEOUT ? 0 : -1;
}

int mproc_test_run_program(const char *path, const char *const *argv,
                           int *exitcode)
{
  intptr_t rc = _spawnv(_P_WAIT, path, argv);
  if (rc == -1)
    return -1;
  *exitcode = (int)rc;
  return 0;
}

int mproc_test_run_program_timeout(const char *path, const char *const *argv,
                                   double timeout, int *exitcode)
{
  intptr_t h = _spawnv(_P_NOWAIT, path, argv);
  DWORD rc, code = 0;
  if (h == -1)
    return -1;
  rc = WaitForSingleObject((HANDLE)h, (DWORD)(timeout * 1000.0));
  if (rc == WAIT_TIMEOUT) {
    TerminateProcess((HANDLE)h, 0x10000u + SIGKILL);
    WaitForSingleObject((HANDLE)h, INFINITE);
    CloseHandle((HANDLE)h);
    return 1;
  }
  GetExitCodeProcess((HANDLE)h, &code);
  CloseHandle((HANDLE)h);
  if (rc != WAIT_OBJECT_0)
    return -1;
  *exitcode = (int)code;
  return 0;
}

long mproc_test_count_handles(void)
{
  DWORD n = 0;
  if (!GetProcessHandleCount(GetCurrentProcess(), &n))
    return -1;
  return (long)n;
}

long mproc_test_forkserver_pid(void)
{
  return 0;
}

int mproc_test_stray_children(char *msg, size_t cap, int kill_them)
{
  /* Windows keeps no parent/child tree that can be listed cheaply (a
   * Toolhelp snapshot gives parent ids, but they are reused freely); the
   * handle count above catches process handles a test failed to close. */
  (void)kill_them;
  if (cap > 0)
    msg[0] = '\0';
  return 0;
}

void mproc_test_keep_children(void) {}

#else /* POSIX */

double mproc_test_now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void mproc_test_sleep_ms(int ms)
{
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
    ;
}

void mproc_test_block_forever(void)
{
  for (;;)
    sleep(1);
}

long mproc_test_getpid(void)
{
  return (long)getpid();
}

int mproc_test_online_cpus(void)
{
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n < 1 ? 1 : (int)n;
}

/* State letter of @pid from /proc/PID/stat, 0 when the process does not
 * exist, '?' when /proc cannot tell. */
static char proc_state(long pid, long *ppid)
{
  char path[64], buf[512];
  FILE *f;
  size_t n;
  char *p, state;
  long pp = 0;

  snprintf(path, sizeof path, "/proc/%ld/stat", pid);
  f = fopen(path, "r");
  if (f == NULL)
    return errno == ENOENT ? 0 : '?';
  n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  /* The command name may contain spaces and parentheses: the fields
   * start after the last ')'. */
  p = strrchr(buf, ')');
  if (p == NULL || sscanf(p + 1, " %c %ld", &state, &pp) != 2)
    return '?';
  if (ppid != NULL)
    *ppid = pp;
  return state;
}

int mproc_test_pid_gone(long pid)
{
  char st;
  if (access("/proc/self/stat", R_OK) != 0)
    return kill((pid_t)pid, 0) == -1 && errno == ESRCH;
  st = proc_state(pid, NULL);
  return st == 0 || st == 'Z' || st == 'X';
}

int mproc_test_kill_pid(long pid, int sig)
{
  return kill((pid_t)pid, sig) == 0 ? 0 : -1;
}

void mproc_test_default_crash_handling(void)
{
  signal(SIGSEGV, SIG_DFL);
  signal(SIGBUS, SIG_DFL);
}

int mproc_test_sentinel_wait(mproc_sentinel_t s, double timeout)
{
  double deadline = mproc_test_now() + (timeout > 0 ? timeout : 0);
  for (;;) {
    struct pollfd pfd = {(int)s, POLLIN, 0};
    double left = deadline - mproc_test_now();
    int rc = poll(&pfd, 1, left > 0 ? (int)(left * 1000.0) + 1 : 0);
    if (rc > 0)
      return (pfd.revents & POLLNVAL) ? -1 : 1;
    if (rc < 0 && errno != EINTR)
      return -1;
    if (rc == 0 && mproc_test_now() >= deadline)
      return 0;
  }
}

int mproc_test_run_program(const char *path, const char *const *argv,
                           int *exitcode)
{
  pid_t pid;
  int status;
  if (posix_spawn(&pid, path, NULL, NULL, (char *const *)argv, environ) != 0)
    return -1;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR)
      return -1;
  if (WIFEXITED(status))
    *exitcode = WEXITSTATUS(status);
  else if (WIFSIGNALED(status))
    *exitcode = -WTERMSIG(status);
  else
    return -1;
  return 0;
}

int mproc_test_run_program_timeout(const char *path, const char *const *argv,
                                   double timeout, int *exitcode)
{
  double end = mproc_test_now() + timeout;
  pid_t pid, got;
  int status;
  if (posix_spawn(&pid, path, NULL, NULL, (char *const *)argv, environ) != 0)
    return -1;
  for (;;) {
    got = waitpid(pid, &status, WNOHANG);
    if (got == pid)
      break;
    if (got < 0 && errno != EINTR)
      return -1;
    if (mproc_test_now() > end) {
      kill(pid, SIGKILL);
      while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
      return 1;
    }
    mproc_test_sleep_ms(2); /* pacing a poll of waitpid */
  }
  if (WIFEXITED(status))
    *exitcode = WEXITSTATUS(status);
  else if (WIFSIGNALED(status))
    *exitcode = -WTERMSIG(status);
  else
    return -1;
  return 0;
}

long mproc_test_count_handles(void)
{
  DIR *d = opendir("/proc/self/fd");
  long n = 0;
  struct dirent *e;
  if (d == NULL) {
    /* No /proc (not Linux): probe the low descriptors. */
    for (int fd = 0; fd < 4096; fd++)
      if (fcntl(fd, F_GETFD) != -1)
        n++;
    return n;
  }
  while ((e = readdir(d)) != NULL)
    if (e->d_name[0] != '.')
      n++;
  closedir(d);
  return n - 1; /* the directory's own descriptor */
}

static int is_forkserver(long pid)
{
  char path[64], buf[4096];
  FILE *f;
  size_t n;
  snprintf(path, sizeof path, "/proc/%ld/cmdline", pid);
  f = fopen(path, "r");
  if (f == NULL)
    return 0;
  n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  /* Arguments are NUL-separated: look inside each. */
  for (size_t i = 0; i < n; i += strlen(buf + i) + 1) {
    buf[n] = '\0';
    if (strstr(buf + i, "--mproc-forkserver") != NULL)
      return 1;
  }
  return 0;
}

/* Append the pids listed in /proc/self/task/ * /children to @pids;
 * returns the count, or -1 when the kernel does not provide the files. */
static int children_from_tasks(long *pids, int cap)
{
  DIR *d = opendir("/proc/self/task");
  struct dirent *e;
  int n = 0, found_file = 0;
  if (d == NULL)
    return -1;
  while ((e = readdir(d)) != NULL) {
    char path[300];
    FILE *f;
    long pid;
    if (e->d_name[0] == '.')
      continue;
    snprintf(path, sizeof path, "/proc/self/task/%s/children", e->d_name);
    f = fopen(path, "r");
    if (f == NULL)
      continue;
    found_file = 1;
    while (n < cap && fscanf(f, "%ld", &pid) == 1)
      pids[n++] = pid;
    fclose(f);
  }
  closedir(d);
  return found_file ? n : -1;
}

/* Fallback: scan every process for our pid as its parent. */
static int children_from_scan(long *pids, int cap)
{
  DIR *d = opendir("/proc");
  struct dirent *e;
  long self = (long)getpid();
  int n = 0;
  if (d == NULL)
    return 0;
  while (n < cap && (e = readdir(d)) != NULL) {
    long pid, ppid = 0;
    char *end;
    pid = strtol(e->d_name, &end, 10);
    if (*end != '\0' || pid <= 0)
      continue;
    if (proc_state(pid, &ppid) != 0 && ppid == self)
      pids[n++] = pid;
  }
  closedir(d);
  return n;
}

long mproc_test_forkserver_pid(void)
{
  long pids[256];
  int n = children_from_tasks(pids, 256);

  if (n < 0)
    n = children_from_scan(pids, 256);
  for (int i = 0; i < n; i++)
    if (proc_state(pids[i], NULL) != 'Z' && is_forkserver(pids[i]))
      return pids[i];
  return 0;
}

static long kept[16];
static int nkept;

void mproc_test_keep_children(void)
{
  long pids[256];
  int n = children_from_tasks(pids, 256);

  if (n < 0)
    n = children_from_scan(pids, 256);
  for (int i = 0; i < n && nkept < 16; i++)
    if (proc_state(pids[i], NULL) != 'Z')
      kept[nkept++] = pids[i];
}

static int is_kept(long pid)
{
  for (int i = 0; i < nkept; i++)
    if (kept[i] == pid)
      return 1;
  return 0;
}

int mproc_test_stray_children(char *msg, size_t cap, int kill_them)
{
  long pids[256];
  int n, strays = 0;
  size_t used = 0;

  if (cap > 0)
    msg[0] = '\0';
  n = children_from_tasks(pids, 256);
  if (n < 0)
    n = children_from_scan(pids, 256);
  for (int i = 0; i < n; i++) {
    char st = proc_state(pids[i], NULL);
    const char *what;
    if (st == 0)
      continue; /* reaped while we looked */
    if (st == 'Z' || st == 'X') {
      what = "zombie";
    } else if (is_forkserver(pids[i]) || is_kept(pids[i])) {
      continue;
    } else {
      what = "live";
      if (kill_them)
        (void)kill((pid_t)pids[i], SIGKILL);
    }
    strays++;
    if (used < cap) {
      int w = snprintf(msg + used, cap - used, "%s%s child %ld",
                       used ? ", " : "", what, pids[i]);
      if (w > 0)
        used += (size_t)w;
    }
  }
  return strays;
}

#endif
