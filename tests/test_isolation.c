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
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#endif

/* Exit codes of t_probe_handle. */
#define PROBE_CLOSED 0
#define PROBE_OPEN 3
#define PROBE_BADARG 4

/* Opens the null device as an inheritable descriptor/handle. */
static int64_t open_inheritable(void)
{
#ifdef _WIN32
  SECURITY_ATTRIBUTES sa = {sizeof sa, NULL, TRUE};
  HANDLE h = CreateFileA("NUL", GENERIC_READ, FILE_SHARE_READ, &sa,
                         OPEN_EXISTING, 0, NULL);
  return h == INVALID_HANDLE_VALUE ? -1 : (int64_t)(uintptr_t)h;
#else
  return open("/dev/null", O_RDONLY); /* no O_CLOEXEC, on purpose */
#endif
}

static void close_inheritable(int64_t h)
{
#ifdef _WIN32
  CloseHandle((HANDLE)(uintptr_t)h);
#else
  close((int)h);
#endif
}

static int is_open(int64_t h)
{
#ifdef _WIN32
  DWORD flags;
  return GetHandleInformation((HANDLE)(uintptr_t)h, &flags) != 0;
#else
  return fcntl((int)h, F_GETFD) != -1 || errno != EBADF;
#endif
}

MPROC_TARGET(t_probe_handle)
{
  int64_t h;

  if (mproc_args_parse(args, "L:t_probe_handle", &h) != 0)
    return PROBE_BADARG;
  return is_open(h) ? PROBE_OPEN : PROBE_CLOSED;
}

static void test_unpassed_handle_not_inherited(void)
{
  mproc_process_t *p = NULL;
  int64_t h;
  int code = MPROC_EXITCODE_NONE;

  if (mproc_get_start_method() == MPROC_FORK) {
    printf("skipped: a forked child is a copy of its parent, descriptors "
           "included\n");
    return;
  }
  h = open_inheritable();
  CU_ASSERT_FATAL(h >= 0);
  CU_ASSERT_TRUE(is_open(h));
  CU_ASSERT_EQUAL(mproc_process_create(&p, t_probe_handle, "L", h), 0);
  if (p != NULL) {
    CU_ASSERT_EQUAL(mproc_process_start(p), 0);
    CU_ASSERT_EQUAL(mproc_process_join(p, 60), 0);
    CU_ASSERT_EQUAL(mproc_process_exitcode(p, &code), 0);
    CU_ASSERT_EQUAL(code, PROBE_CLOSED);
    mproc_process_free(p);
  }
  close_inheritable(h);
}

/* The probe itself must be able to fail: in the parent, the same check
 * sees the handle open. */
static void test_probe_sees_open_handle(void)
{
  int64_t h = open_inheritable();

  CU_ASSERT_FATAL(h >= 0);
  CU_ASSERT_TRUE(is_open(h));
  close_inheritable(h);
  CU_ASSERT_FALSE(is_open(h));
}

void mproc_test_register_isolation(void)
{
  static const mproc_test_case_t cases[] = {
      MPROC_TEST_CASE(test_probe_sees_open_handle),
      MPROC_TEST_CASE(test_unpassed_handle_not_inherited),
      {NULL, NULL}};

  (void)mproc_test_add_suite("isolation", cases);
}
