/*
 * Running another program of the build (an example, a helper) with its
 * stdout and stderr going to a file, and setting the environment it
 * inherits: what tests of whole programs' output need (see harness.h).
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
#include <windows.h>
#else
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
extern char **environ;
#endif

#ifdef _WIN32

int mproc_test_setenv(const char *name, const char *value)
{
  char buf[512];

  /* The C runtime's copy (getenv) and the process's (what CreateProcess
   * passes on) both. */
  if (snprintf(buf, sizeof buf, "%s=%s", name, value ? value : "") >=
      (int)sizeof buf)
    return -1;
  if (_putenv(buf) != 0)
    return -1;
  return SetEnvironmentVariableA(name, value) ? 0 : -1;
}

/* One command line from @argv, each argument quoted (the tests' own
 * arguments hold no quotes). */
static char *command_line(const char *path, const char *const *argv)
{
  size_t cap = strlen(path) + 4;
  char *cmd;

  for (size_t i = 1; argv[i] != NULL; i++)
    cap += strlen(argv[i]) + 3;
  cmd = malloc(cap);
  if (cmd == NULL)
    return NULL;
  snprintf(cmd, cap, "\"%s\"", path);
  for (size_t i = 1; argv[i] != NULL; i++)
    snprintf(cmd + strlen(cmd), cap - strlen(cmd), " \"%s\"", argv[i]);
  return cmd;
}

int mproc_test_run_capture(const char *path, const char *const *argv,
                           const char *out_path, int *exitcode)
{
  SECURITY_ATTRIBUTES sa = {sizeof sa, NULL, TRUE};
  STARTUPINFOA si;
  PROCESS_INFORMATION pi;
  DWORD code = 0;
  HANDLE out;
  char *cmd = command_line(path, argv);
  BOOL ok;

  if (cmd == NULL)
    return -1;
  out = CreateFileA(out_path, GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE,
                    &sa, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
  if (out == INVALID_HANDLE_VALUE) {
    free(cmd);
    return -1;
  }
  memset(&si, 0, sizeof si);
  si.cb = sizeof si;
  si.dwFlags = STARTF_USESTDHANDLES;
  si.hStdInput = GetStdHandle(STD_INPUT_HANDLE);
  si.hStdOutput = out;
  si.hStdError = out;
  ok = CreateProcessA(NULL, cmd, NULL, NULL, TRUE, 0, NULL, NULL, &si, &pi);
  free(cmd);
  CloseHandle(out);
  if (!ok)
    return -1;
  WaitForSingleObject(pi.hProcess, INFINITE);
  GetExitCodeProcess(pi.hProcess, &code);
  CloseHandle(pi.hThread);
  CloseHandle(pi.hProcess);
  *exitcode = (int)code;
  return 0;
}

#else /* POSIX */

int mproc_test_setenv(const char *name, const char *value)
{
  return value != NULL ? setenv(name, value, 1) : unsetenv(name);
}

int mproc_test_run_capture(const char *path, const char *const *argv,
                           const char *out_path, int *exitcode)
{
  posix_spawn_file_actions_t fa;
  pid_t pid;
  int status, rc;

  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, out_path,
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  rc = posix_spawn(&pid, path, &fa, NULL, (char *const *)argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0)
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

#endif
