/*
 * Processes started and joined from several threads at once: the children
 * table, the forkserver's connections and the reaping must hold up, and
 * every child's exit code must reach the thread that started it.
 */
#include <apr_general.h>
#include <apr_thread_proc.h>

#include "harness.h"

#define THREADS 4
#define PER_THREAD 10

MPROC_TARGET(t_echo_code)
{
  int code;

  if (mproc_args_parse(args, "i:t_echo_code", &code) != 0)
    return 99;
  return code;
}

typedef struct worker {
  int id;
  int ok;     /* children whose exit code came back right */
  int failed; /* calls that returned an error */
} worker_t;

static void *APR_THREAD_FUNC run_worker(apr_thread_t *t, void *arg)
{
  worker_t *w = arg;

  for (int i = 0; i < PER_THREAD; i++) {
    mproc_process_t *p = NULL;
    int want = w->id * 16 + i, code = MPROC_EXITCODE_NONE;
    if (mproc_process_create(&p, t_echo_code, "i", want) != 0 ||
        mproc_process_start(p) != 0 || mproc_process_join(p, 60) != 0 ||
        mproc_process_exitcode(p, &code) != 0)
      w->failed++;
    else if (code == want)
      w->ok++;
    mproc_process_free(p);
  }
  /* A plain return, not apr_thread_exit(): pthread_exit's unwinding trips
   * a known false positive of GCC 12's ASan (stack-buffer-underflow in
   * sigaltstack at thread teardown). */
  (void)t;
  return NULL;
}

static void test_start_from_threads(void)
{
  apr_pool_t *pool = NULL;
  apr_thread_t *th[THREADS];
  worker_t w[THREADS];
  apr_status_t st;

  CU_ASSERT_EQUAL_FATAL(apr_pool_create(&pool, NULL), APR_SUCCESS);
  for (int i = 0; i < THREADS; i++) {
    w[i] = (worker_t){.id = i};
    CU_ASSERT_EQUAL_FATAL(
        apr_thread_create(&th[i], NULL, run_worker, &w[i], pool), APR_SUCCESS);
  }
  for (int i = 0; i < THREADS; i++) {
    /* APR's win32 join waits, then says APR_INCOMPLETE for a thread that
     * returned without apr_thread_exit(): joined either way. */
    apr_status_t rv = apr_thread_join(&st, th[i]);
    CU_ASSERT(rv == APR_SUCCESS || rv == APR_INCOMPLETE);
    CU_ASSERT_EQUAL(w[i].failed, 0);
    CU_ASSERT_EQUAL(w[i].ok, PER_THREAD);
  }
  apr_pool_destroy(pool);
}

void mproc_test_register_threads(void)
{
  static const mproc_test_case_t cases[] = {
      MPROC_TEST_CASE(test_start_from_threads), {NULL, NULL}};

  (void)mproc_test_add_suite("threads", cases);
}
