/*
 * What a child inherits: nothing but what mproc passes. A descriptor
 * (POSIX) or handle (Windows) the parent opened as inheritable, and did not
 * pass, must not be open in a child that re-executes the program. Under
 * fork the child is a copy of the parent, so the test does not apply.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"

#ifdef _WIN32
#include <windows.h>
#else
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

/* Exit codes of t_probe_handle. */
#define PROBE_CLOSED 0
#define PROBE_OPEN 3
#define PROBE_BADARG 4

/* A descriptor/handle number can be taken in the child by something else
 * (a sanitizer's runtime opens files, say), so the probe compares the
 * identity of the file behind it, not just whether the number is open. */
#ifdef _WIN32
static int64_t file_identity(int64_t h)
{
  BY_HANDLE_FILE_INFORMATION info;

  if (!GetFileInformationByHandle((HANDLE)(uintptr_t)h, &info))
    return -1;
  return (int64_t)((uint64_t)info.dwVolumeSerialNumber << 40 ^
                   (uint64_t)info.nFileIndexHigh << 32 ^ info.nFileIndexLow);
}

/* Opens a new temporary file as an inheritable handle. */
static int64_t open_inheritable(const char *path)
{
  SECURITY_ATTRIBUTES sa = {sizeof sa, NULL, TRUE};
  HANDLE h = CreateFileA(path, GENERIC_READ | GENERIC_WRITE, 0, &sa,
                         CREATE_ALWAYS, FILE_FLAG_DELETE_ON_CLOSE, NULL);
  return h == INVALID_HANDLE_VALUE ? -1 : (int64_t)(uintptr_t)h;
}

static void close_inheritable(int64_t h)
{
  CloseHandle((HANDLE)(uintptr_t)h);
}
#else
static int64_t file_identity(int64_t fd)
{
  struct stat st;

  if (fstat((int)fd, &st) != 0)
    return -1;
  return (int64_t)((uint64_t)st.st_dev << 40 ^ (uint64_t)st.st_ino);
}

/* Opens a new temporary file without O_CLOEXEC, on purpose. */
static int64_t open_inheritable(const char *path)
{
  int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
  if (fd >= 0)
    unlink(path);
  return fd;
}

static void close_inheritable(int64_t h)
{
  close((int)h);
}
#endif

MPROC_TARGET(t_probe_handle)
{
  int64_t h, id;

  if (mproc_args_parse(args, "LL:t_probe_handle", &h, &id) != 0)
    return PROBE_BADARG;
  return file_identity(h) == id ? PROBE_OPEN : PROBE_CLOSED;
}

static void test_unpassed_handle_not_inherited(void)
{
  mproc_process_t *p = NULL;
  char path[512];
  int64_t h, id;
  int code = MPROC_EXITCODE_NONE;

  if (mproc_get_start_method() == MPROC_FORK) {
    printf("skipped: a forked child is a copy of its parent, descriptors "
           "included\n");
    return;
  }
  CU_ASSERT_EQUAL_FATAL(mproc_test_tmp_path(path, sizeof path), 0);
  h = open_inheritable(path);
  CU_ASSERT_FATAL(h >= 0);
  id = file_identity(h);
  CU_ASSERT_FATAL(id != -1);
  CU_ASSERT_EQUAL(mproc_process_create(&p, t_probe_handle, "LL", h, id), 0);
  if (p != NULL) {
    CU_ASSERT_EQUAL(mproc_process_start(p), 0);
    CU_ASSERT_EQUAL(mproc_process_join(p, 60), 0);
    CU_ASSERT_EQUAL(mproc_process_exitcode(p, &code), 0);
    CU_ASSERT_EQUAL(code, PROBE_CLOSED);
    mproc_process_free(p);
  }
  close_inheritable(h);
}

/* The probe itself must be able to fail: under fork, where descriptors
 * are inherited, the same child sees the file. */
static void test_probe_sees_inherited_handle(void)
{
  const mproc_context_t *fork_ctx = mproc_get_context("fork");
  mproc_process_t *p = NULL;
  char path[512];
  int64_t h, id;
  int code = MPROC_EXITCODE_NONE;

  if (fork_ctx == NULL) {
    printf("skipped: the probe's control case needs fork\n");
    return;
  }
  CU_ASSERT_EQUAL_FATAL(mproc_test_tmp_path(path, sizeof path), 0);
  h = open_inheritable(path);
  CU_ASSERT_FATAL(h >= 0);
  id = file_identity(h);
  CU_ASSERT_EQUAL(
      mproc_context_process(fork_ctx, &p, t_probe_handle, "LL", h, id), 0);
  if (p != NULL) {
    CU_ASSERT_EQUAL(mproc_process_start(p), 0);
    CU_ASSERT_EQUAL(mproc_process_join(p, 60), 0);
    CU_ASSERT_EQUAL(mproc_process_exitcode(p, &code), 0);
    CU_ASSERT_EQUAL(code, PROBE_OPEN);
    mproc_process_free(p);
  }
  close_inheritable(h);
}

void mproc_test_register_isolation(void)
{
  static const mproc_test_case_t cases[] = {
      MPROC_TEST_CASE(test_probe_sees_inherited_handle),
      MPROC_TEST_CASE(test_unpassed_handle_not_inherited),
      {NULL, NULL}};

  (void)mproc_test_add_suite("isolation", cases);
}
