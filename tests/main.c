/*
 * mproc_tests: runs the CUnit suites; helper children are MPROC_TARGETs of
 * this same binary, so mproc_main() comes first.
 *
 *   mproc_tests [--method fork|spawn|forkserver] [--suite NAME] [--list]
 *
 * Every test registered in CUnit's registry is wrapped with the leak
 * checks of check_after_test(), whichever way its suite registered it.
 */
#include <CUnit/Basic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

MPROC_TARGET(mproc_test_noop)
{
  (void)args;
  return 0;
}

/* ---- registering ---- */

int mproc_test_add_suite(const char *name, const mproc_test_case_t *cases)
{
  CU_pSuite suite = CU_add_suite(name, NULL, NULL);
  if (suite == NULL)
    goto fail;
  for (; cases->name != NULL; cases++)
    if (CU_add_test(suite, cases->name, cases->fn) == NULL)
      goto fail;
  return 0;
fail:
  fprintf(stderr, "mproc_tests: cannot register suite %s: %s\n", name,
          CU_get_error_msg());
  return -1;
}

/* ---- the leak-check wrapper ---- */

/* The original function of each wrapped test. CUnit calls a test without
 * arguments, so the wrapper finds its test through CU_get_current_test(). */
typedef struct wrapped {
  CU_pTest test;
  CU_TestFunc fn;
} wrapped_t;

static wrapped_t *wrapped_tests;
static size_t wrapped_count;

static void report(const char *file, int line, const char *fmt, ...)
{
  char msg[1200];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  /* CUnit copies the condition text into its failure record. */
  CU_assertImplementation(CU_FALSE, (unsigned)line, msg, file, "", CU_FALSE);
}

/* What a test must leave behind: no active mproc child, no child process
 * but the forkserver, no more descriptors than it found. */
static void check_after_test(long handles_before)
{
  char msg[1024];
  mproc_process_t *list[64];
  long handles;
  int strays, active;

  /* Zombies first: mproc_active_children() would reap them and hide a
   * test that forgot to join. */
  strays = mproc_test_stray_children(msg, sizeof msg, 1);
  if (strays > 0)
    report(__FILE__, __LINE__, "leak check: test left %d child process(es): %s",
           strays, msg);

  active = mproc_active_children(list, 64);
  if (active != 0) {
    double deadline = mproc_test_now() + 5.0;
    report(__FILE__, __LINE__,
           "leak check: mproc_active_children() == %d after the test "
           "(tests must join what they start)",
           active);
    /* For the next test's sake: kill what the test left running (under
     * forkserver they are not our children, so the stray check above
     * could not), and give the library time to reap them. */
    for (int i = 0; i < active && i < 64; i++)
      (void)mproc_process_kill(list[i]);
    while (mproc_active_children(NULL, 0) > 0 && mproc_test_now() < deadline)
      mproc_test_sleep_ms(10);
  }

  handles = mproc_test_count_handles();
  if (handles_before >= 0 && handles > handles_before)
    report(__FILE__, __LINE__,
           "leak check: %ld descriptor(s)/handle(s) open before the test, "
           "%ld after",
           handles_before, handles);
}

static void run_wrapped(void)
{
  CU_pTest test = CU_get_current_test();
  CU_TestFunc fn = NULL;
  long before;

  for (size_t i = 0; i < wrapped_count; i++)
    if (wrapped_tests[i].test == test)
      fn = wrapped_tests[i].fn;
  if (fn == NULL) {
    report(__FILE__, __LINE__, "harness: no function for this test");
    return;
  }
  before = mproc_test_count_handles();
  fn();
  check_after_test(before);
}

static int wrap_all_tests(void)
{
  size_t n = 0;
  for (CU_pSuite s = CU_get_registry()->pSuite; s != NULL; s = s->pNext)
    for (CU_pTest t = s->pTest; t != NULL; t = t->pNext)
      n++;
  wrapped_tests = calloc(n ? n : 1, sizeof *wrapped_tests);
  if (wrapped_tests == NULL)
    return -1;
  for (CU_pSuite s = CU_get_registry()->pSuite; s != NULL; s = s->pNext)
    for (CU_pTest t = s->pTest; t != NULL; t = t->pNext) {
      wrapped_tests[wrapped_count].test = t;
      wrapped_tests[wrapped_count].fn = t->pTestFunc;
      wrapped_count++;
      t->pTestFunc = run_wrapped;
    }
  return 0;
}

/* With the pools on MPI in spawn mode (MPROC_POOL_BACKEND=mpi, no
 * mpirun), the first MPI pool starts MPI and its serving ranks for the
 * rest of the run: Open MPI's daemon (a child) and its descriptors. One
 * pool that runs a task on each rank makes them part of the baseline. */
static void warm_up_mpi(void)
{
  const char *b = getenv("MPROC_POOL_BACKEND");
  /* The initializer runs on every rank: each one's connection opens. */
  mproc_pool_options_t o = {.backend = MPROC_POOL_BACKEND_MPI,
                            .initializer = mproc_test_noop};
  mproc_pool_t *pool = NULL;
  int rc;

  if (b == NULL || strcmp(b, "mpi") != 0 ||
      getenv("OMPI_COMM_WORLD_SIZE") != NULL)
    return;                 /* local pools, or mpirun -n N started it all */
  static char big[1 << 20]; /* large messages take another way */
  memset(big, 'x', sizeof big - 1);
  rc = mproc_pool_create(&pool, &o);
  for (int i = 0; rc == 0 && i < 4 * mproc_pool_processes(pool); i++)
    rc = mproc_pool_apply(pool, NULL, mproc_test_noop, "s", i % 2 ? big : "");
  if (rc == 0)
    rc = mproc_pool_close(pool);
  if (rc == 0)
    rc = mproc_pool_join(pool);
  if (rc != 0)
    fprintf(stderr, "mproc_tests: warm-up MPI pool failed: %s (%s)\n",
            mproc_strerror(rc), mproc_last_error());
  mproc_pool_free(pool);
  mproc_test_keep_children();
}

/* Start and join one trivial process with every start method the
 * platform has, so that what a method keeps for the life of the program
 * (the forkserver and its descriptors) is in the baseline of the leak
 * checks, whichever test happens to use it first. */
static void warm_up(void)
{
  const char *const *methods = mproc_all_start_methods();

  for (size_t i = 0; methods[i] != NULL; i++) {
    mproc_process_t *p = NULL;
    int rc = mproc_context_process(mproc_get_context(methods[i]), &p,
                                   mproc_test_noop, NULL);
    if (rc == 0)
      rc = mproc_process_start(p);
    if (rc == 0)
      rc = mproc_process_join(p, 60.0);
    if (rc != 0)
      fprintf(stderr, "mproc_tests: warm-up process (%s) failed: %s (%s)\n",
              methods[i], mproc_strerror(rc), mproc_last_error());
    mproc_process_free(p);
  }
  warm_up_mpi();
}

/* ---- main ---- */

static void usage(void)
{
  fprintf(stderr, "usage: mproc_tests [--method fork|spawn|forkserver] "
                  "[--suite NAME] [--list]\n");
}

int main(int argc, char **argv)
{
  int guard = mproc_main(argc, argv);
  const char *method = NULL, *suite = NULL;
  int list = 0, registered = 0, failed;

  if (guard != 0) {
    fprintf(stderr, "mproc_tests: mproc_main: %s\n", mproc_last_error());
    return 2;
  }
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--method") == 0 && i + 1 < argc) {
      method = argv[++i];
    } else if (strcmp(argv[i], "--suite") == 0 && i + 1 < argc) {
      suite = argv[++i];
    } else if (strcmp(argv[i], "--list") == 0) {
      list = 1;
    } else {
      usage();
      return 2;
    }
  }
  if (list) {
    for (const mproc_test_suite_t *s = mproc_test_suites; s->name; s++)
      printf("%s\n", s->name);
    return 0;
  }
  if (method != NULL && mproc_set_start_method(method, 1) != 0) {
    fprintf(stderr, "mproc_tests: --method %s: %s\n", method,
            mproc_last_error());
    return 2;
  }

  if (CU_initialize_registry() != CUE_SUCCESS) {
    fprintf(stderr, "mproc_tests: %s\n", CU_get_error_msg());
    return 2;
  }
  for (const mproc_test_suite_t *s = mproc_test_suites; s->name; s++)
    if (suite == NULL || strcmp(suite, s->name) == 0) {
      s->register_fn();
      registered++;
    }
  if (registered == 0) {
    fprintf(stderr, "mproc_tests: no suite named %s (see --list)\n", suite);
    CU_cleanup_registry();
    return 2;
  }
  if (wrap_all_tests() != 0) {
    fprintf(stderr, "mproc_tests: out of memory\n");
    CU_cleanup_registry();
    return 2;
  }

  printf("mproc_tests: start method %s\n",
         mproc_start_method_name(mproc_get_start_method()));
  warm_up();
  CU_basic_set_mode(CU_BRM_VERBOSE);
  CU_basic_run_tests();
  failed = CU_get_number_of_failures() > 0 ||
           CU_get_run_summary()->nSuitesFailed > 0 ||
           CU_get_error() != CUE_SUCCESS;
  CU_cleanup_registry();
  free(wrapped_tests);
  return failed ? 1 : 0;
}
