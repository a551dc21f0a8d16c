/*
 * Version suite: the library reports the version its header declares, in
 * both forms, the macros agree with each other, and a child started by
 * the current method reports the same. (The consumer legs check the same
 * against the installed header and library.)
 */
#include <stdio.h>
#include <string.h>

#include "harness.h"

MPROC_TARGET(t_version_child)
{
  (void)args;
  return mproc_version() == MPROC_VERSION_HEX ? 0 : 1;
}

static void test_version_numbers(void)
{
  char want[32];

  snprintf(want, sizeof want, "%d.%d.%d", MPROC_VERSION_MAJOR,
           MPROC_VERSION_MINOR, MPROC_VERSION_PATCH);
  CU_ASSERT_EQUAL(mproc_version(), (unsigned)MPROC_VERSION_HEX);
  CU_ASSERT_STRING_EQUAL(mproc_version_string(), want);
  CU_ASSERT_EQUAL(MPROC_VERSION_HEX >> 16, MPROC_VERSION_MAJOR);
  CU_ASSERT_EQUAL((MPROC_VERSION_HEX >> 8) & 0xff, MPROC_VERSION_MINOR);
  CU_ASSERT_EQUAL(MPROC_VERSION_HEX & 0xff, MPROC_VERSION_PATCH);
}

static void test_version_in_child(void)
{
  EXPECT_EXIT(mproc_test_run(t_version_child, NULL), 0);
}

void mproc_test_register_version(void)
{
  static const mproc_test_case_t cases[] = {
      MPROC_TEST_CASE(test_version_numbers),
      MPROC_TEST_CASE(test_version_in_child),
      {NULL, NULL},
  };
  (void)mproc_test_add_suite("version", cases);
}
