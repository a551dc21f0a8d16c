/*
 * Any target name is safe: targets named write, read, close and exit (the
 * seeds' own names; targets.c defines them) run under every start method,
 * while this program's write(), read(), close() and exit() stay the C
 * library's: the whole test binary, which calls them, links these
 * targets. This file sees unistd.h's close() (through the harness), so
 * it starts the targets by MPROC_TARGET_FN(NAME).
 */
#include <string.h>
#include <unistd.h>

#include "harness.h"

int MPROC_TARGET_FN(write)(mproc_args_t *args);
int MPROC_TARGET_FN(read)(mproc_args_t *args);
int MPROC_TARGET_FN(close)(mproc_args_t *args);
int MPROC_TARGET_FN(exit)(mproc_args_t *args);
mproc_target_fn mproc_test_local_write(void);

static void test_targets_named_like_libc(void)
{
  mproc_queue_t *q = NULL;

  CU_ASSERT_EQUAL_FATAL(mproc_queue_create(&q, 0), 0);
  EXPECT_EXIT(mproc_test_run(MPROC_TARGET_FN(write), "o", q), 0);
  CU_ASSERT_EQUAL(mproc_queue_qsize(q), 11);
  EXPECT_EXIT(mproc_test_run(MPROC_TARGET_FN(read), "o", q), 0);
  CU_ASSERT_EQUAL(mproc_queue_qsize(q), 0);
  EXPECT_EXIT(mproc_test_run(MPROC_TARGET_FN(close), "i", 7), 7);
  EXPECT_EXIT(mproc_test_run(MPROC_TARGET_FN(exit), MPROC_ARGS(8)), 9);
  mproc_queue_free(q);
}

/* Registered under the seeds' names; the file-local name is the prefixed
 * function; and the C library's functions are still the C library's. */
static void test_target_symbols_are_prefixed(void)
{
  int fds[2] = {-1, -1};

  CU_ASSERT_STRING_EQUAL(mproc_target_name(MPROC_TARGET_FN(write)), "write");
  CU_ASSERT_STRING_EQUAL(mproc_target_name(MPROC_TARGET_FN(read)), "read");
  CU_ASSERT_STRING_EQUAL(mproc_target_name(MPROC_TARGET_FN(close)), "close");
  CU_ASSERT_STRING_EQUAL(mproc_target_name(MPROC_TARGET_FN(exit)), "exit");
  CU_ASSERT_PTR_EQUAL(mproc_test_local_write(), MPROC_TARGET_FN(write));
  CU_ASSERT_PTR_NOT_EQUAL((void *)(uintptr_t)&write,
                          (void *)(uintptr_t)MPROC_TARGET_FN(write));
#ifndef _WIN32
  /* libc's write() and close() on a real pipe. */
  CU_ASSERT_EQUAL_FATAL(pipe(fds), 0);
  CU_ASSERT_EQUAL(write(fds[1], "x", 1), 1);
  CU_ASSERT_EQUAL(close(fds[1]), 0);
  CU_ASSERT_EQUAL(close(fds[0]), 0);
#else
  (void)fds;
#endif
}

void mproc_test_register_names(void)
{
  static const mproc_test_case_t cases[] = {
      MPROC_TEST_CASE(test_targets_named_like_libc),
      MPROC_TEST_CASE(test_target_symbols_are_prefixed),
      {NULL, NULL}};

  (void)mproc_test_add_suite("names", cases);
}
