/*
 * The Pool's MPI backend (lib/mpi/): what only it has. Run as its own
 * ctest entry under mpirun (mpi.pool_mpi: rank 0 runs the tests, ranks
 * 1..3 serve), where MPROC_MPI_MAX_MESSAGE makes every message travel in
 * pieces; in the other legs, the tests that launch whole programs with
 * mpirun run, and the others say they are skipped. The whole pool suite
 * also runs on this backend (mpi.pool).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#ifndef _WIN32
#include <errno.h>
#include <signal.h>
#endif

#ifdef MPROC_TEST_MPI_HELPER
#define HAVE_MPI 1
#else
#define HAVE_MPI 0
#define MPROC_TEST_MPI_HELPER ""
#define MPROC_TEST_MPIRUN ""
#endif

/* Whether this run is rank 0 of an mpirun launch, pools on the ranks. */
static int under_mpi(void)
{
  return HAVE_MPI && getenv("OMPI_COMM_WORLD_SIZE") != NULL;
}

static int skip_unless_mpi(void)
{
  if (under_mpi())
    return 0;
  if (!HAVE_MPI) {
    printf("skipped: built without the MPI backend (-DMPROC_WITH_MPI=ON)\n");
    return 1;
  }
  printf("skipped: runs under mpirun (the mpi.pool_mpi entry)\n");
  return 1;
}

static int skip_unless_launcher(void)
{
  if (!HAVE_MPI || MPROC_TEST_MPIRUN[0] == '\0') {
    printf("skipped: built without the MPI backend (-DMPROC_WITH_MPI=ON)\n");
    return 1;
  }
  if (under_mpi()) {
    printf("skipped: launches mpirun itself (runs in the other legs)\n");
    return 1;
  }
  return 0;
}

MPROC_TARGET(m_sqr)
{
  int x;

  if (mproc_args_parse(args, "i", &x) != 0)
    return 1;
  return mproc_return("i", x * x);
}

MPROC_TARGET(m_rank)
{
  const char *r = getenv("OMPI_COMM_WORLD_RANK");

  (void)args;
  return mproc_return("i", r != NULL ? atoi(r) : -1);
}

MPROC_TARGET(m_echo)
{
  const char *s;

  if (mproc_args_parse(args, "s", &s) != 0)
    return 1;
  return mproc_return("s", s);
}

MPROC_TARGET(m_sleep)
{
  double s;

  if (mproc_args_parse(args, "d", &s) != 0)
    return 1;
  mproc_sleep(s);
  return mproc_return("d", s);
}

/* Fails on rank 2 only. */
MPROC_TARGET(m_init_rank2_fails)
{
  const char *r = getenv("OMPI_COMM_WORLD_RANK");

  (void)args;
  if (r != NULL && strcmp(r, "2") == 0)
    return mproc_fail("no database on rank %s", r);
  return 0;
}

static mproc_pool_t *mpi_pool(int n)
{
  mproc_pool_options_t o = {.processes = n, .backend = MPROC_POOL_BACKEND_MPI};
  mproc_pool_t *p = NULL;

  CU_ASSERT_EQUAL_FATAL(mproc_pool_create(&p, &o), 0);
  return p;
}

static void end_pool(mproc_pool_t *p)
{
  CU_ASSERT_EQUAL(mproc_pool_close(p), 0);
  CU_ASSERT_EQUAL(mproc_pool_join(p), 0);
  mproc_pool_free(p);
}

static int64_t int_at(mproc_args_t *r, size_t i)
{
  int64_t v = -1;

  if (mproc_value_int(mproc_args_at(r, i), &v) != 0)
    return -1;
  return v;
}

/* Tasks run on the serving ranks, each of them, and not on rank 0. */
static void test_pool_mpi_runs_on_ranks(void)
{
  mproc_pool_t *p;
  mproc_items_t *it;
  mproc_args_t *r = NULL;
  int seen[4] = {0};

  if (skip_unless_mpi())
    return;
  p = mpi_pool(0);
  CU_ASSERT_EQUAL(mproc_pool_processes(p), 3);
  CU_ASSERT_EQUAL(mproc_pool_worker_pids(p, (long[3]){0}, 3), 0);
  CU_ASSERT_EQUAL_FATAL(mproc_items_create(&it), 0);
  for (int i = 0; i < 300; i++)
    CU_ASSERT_EQUAL(mproc_items_add(it, "i", i), 0);
  CU_ASSERT_EQUAL_FATAL(mproc_pool_map(p, &r, m_rank, it, 1), 0);
  for (size_t i = 0; i < 300; i++) {
    int64_t k = int_at(r, i);
    CU_ASSERT(k >= 1 && k <= 3);
    if (k >= 0 && k < 4)
      seen[k]++;
  }
  CU_ASSERT_EQUAL(seen[0], 0);
  CU_ASSERT(seen[1] > 0 && seen[2] > 0 && seen[3] > 0);
  mproc_args_free(r);
  mproc_items_free(it);
  end_pool(p);
}

/* Two pools at once share the ranks; neither sees the other's results. */
static void test_pool_mpi_two_pools(void)
{
  mproc_pool_t *a, *b;
  mproc_async_t *ra[200], *rb[200];

  if (skip_unless_mpi())
    return;
  a = mpi_pool(3);
  b = mpi_pool(2);
  for (int i = 0; i < 200; i++) {
    CU_ASSERT_EQUAL_FATAL(
        mproc_pool_apply_async(a, &ra[i], NULL, m_sqr, "i", i), 0);
    CU_ASSERT_EQUAL_FATAL(
        mproc_pool_apply_async(b, &rb[i], NULL, m_sqr, "i", 1000 + i), 0);
  }
  for (int i = 0; i < 200; i++) {
    mproc_args_t *x = NULL, *y = NULL;
    CU_ASSERT_EQUAL(mproc_async_get(ra[i], 60, &x), 0);
    CU_ASSERT_EQUAL(mproc_async_get(rb[i], 60, &y), 0);
    CU_ASSERT_EQUAL(int_at(x, 0), (int64_t)i * i);
    CU_ASSERT_EQUAL(int_at(y, 0), (int64_t)(1000 + i) * (1000 + i));
    mproc_args_free(x);
    mproc_args_free(y);
    mproc_async_free(ra[i]);
    mproc_async_free(rb[i]);
  }
  end_pool(a);
  /* b still works after a is gone. */
  mproc_args_t *r = NULL;
  CU_ASSERT_EQUAL(mproc_pool_apply(b, &r, m_sqr, "i", 7), 0);
  CU_ASSERT_EQUAL(int_at(r, 0), 49);
  mproc_args_free(r);
  end_pool(b);
}

/* An initializer that fails on one rank fails the pool's creation, and
 * says which rank and why. */
static void test_pool_mpi_initializer_fails_on_one_rank(void)
{
  mproc_pool_options_t o = {.processes = 3,
                            .initializer = m_init_rank2_fails,
                            .initargs = "",
                            .backend = MPROC_POOL_BACKEND_MPI};
  mproc_pool_t *p = NULL;

  if (skip_unless_mpi())
    return;
  CU_ASSERT_EQUAL(mproc_pool_create(&p, &o), MPROC_ETASK);
  CU_ASSERT_PTR_NULL(p);
  CU_ASSERT_PTR_NOT_NULL(strstr(mproc_last_error(), "rank 2"));
  CU_ASSERT_PTR_NOT_NULL(strstr(mproc_last_error(), "no database on rank 2"));
  /* A pool on ranks 1 only (one worker) does not run it on rank 2. */
  o.processes = 1;
  CU_ASSERT_EQUAL_FATAL(mproc_pool_create(&p, &o), 0);
  end_pool(p);
}

/* What cannot carry over fails at create time. */
static void test_pool_mpi_limits(void)
{
  mproc_pool_options_t o = {
      .processes = 2, .maxtasksperchild = 5, .backend = MPROC_POOL_BACKEND_MPI};
  mproc_pool_t *p = NULL;

  if (skip_unless_mpi())
    return;
  CU_ASSERT_EQUAL(mproc_pool_create(&p, &o), MPROC_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(mproc_last_error(), "maxtasksperchild"));
  CU_ASSERT_PTR_NULL(p);
}

/* Items far larger than a message piece (MPROC_MPI_MAX_MESSAGE in this
 * entry) travel split and come back whole. */
static void test_pool_mpi_large_messages(void)
{
  size_t n = 300000;
  char *s = malloc(n + 1);
  mproc_pool_t *p;
  mproc_args_t *r = NULL;
  const char *back = NULL;

  if (skip_unless_mpi() || s == NULL) {
    free(s);
    return;
  }
  for (size_t i = 0; i < n; i++)
    s[i] = (char)('a' + i % 26);
  s[n] = '\0';
  p = mpi_pool(2);
  CU_ASSERT_EQUAL(mproc_pool_apply(p, &r, m_echo, "s", s), 0);
  CU_ASSERT_EQUAL(mproc_args_parse(r, "s", &back), 0);
  CU_ASSERT(back != NULL && strcmp(back, s) == 0);
  mproc_args_free(r);
  end_pool(p);
  free(s);
}

/* A task past task_timeout fails with MPROC_ETIMEDOUT and the pool goes
 * on (its rank finishes the task before it serves again). */
static void test_pool_mpi_task_timeout(void)
{
  mproc_pool_options_t o = {
      .processes = 3, .task_timeout = 0.3, .backend = MPROC_POOL_BACKEND_MPI};
  mproc_pool_t *p = NULL;
  mproc_args_t *r = NULL;

  if (skip_unless_mpi())
    return;
  CU_ASSERT_EQUAL_FATAL(mproc_pool_create(&p, &o), 0);
  double t0 = mproc_test_now();
  CU_ASSERT_EQUAL(mproc_pool_apply(p, &r, m_sleep, "d", 1.5), MPROC_ETIMEDOUT);
  CU_ASSERT(mproc_test_now() - t0 < 1.4);
  CU_ASSERT_PTR_NOT_NULL(strstr(mproc_last_error(), "timed out"));
  for (int i = 0; i < 5; i++) {
    CU_ASSERT_EQUAL(mproc_pool_apply(p, &r, m_sqr, "i", i), 0);
    CU_ASSERT_EQUAL(int_at(r, 0), i * i);
    mproc_args_free(r);
    r = NULL;
  }
  end_pool(p);
}

/* ---- whole programs under mpirun ---- */

/* Run `mpirun -n @n helper @mode` with @env (or @prog instead of the
 * helper); its output into @out. @n 0: the program alone (spawn mode). */
static int launch(int n, const char *mode, const char *env, char *out,
                  size_t cap, double *secs, const char *prog)
{
  char cmd[4096], path[1024];
  double t0 = mproc_test_now();
  int rc;

  out[0] = '\0';
  *secs = 0;
  if (mproc_test_tmp_path(path, sizeof path) != 0)
    return -1;
  if (snprintf(cmd, sizeof cmd,
               "env -u OMPI_COMM_WORLD_SIZE OMPI_ALLOW_RUN_AS_ROOT=1 "
               "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 %s timeout -k 5 60 %s%s%.0d%s "
               "%s %s >%s 2>&1",
               env, n > 0 ? MPROC_TEST_MPIRUN : "", n > 0 ? " -n " : "", n,
               n > 0 ? " --oversubscribe" : "",
               prog != NULL ? prog : MPROC_TEST_MPI_HELPER, mode,
               path) >= (int)sizeof cmd)
    return -1;
  rc = system(cmd);
  *secs = mproc_test_now() - t0;
  out[0] = '\0';
  (void)mproc_test_read_file(path, out, cap);
  mproc_test_remove(path);
  return rc;
}

/* Ranks whose registered targets differ: MPROC_ENOTREG at create, naming
 * the target, not a wrong function called. */
static void test_pool_mpi_registry_mismatch(void)
{
  char out[4096];
  double secs;

  if (skip_unless_launcher())
    return;
  CU_ASSERT_EQUAL(launch(3, "mismatch", "", out, sizeof out, &secs, NULL), 0);
  CU_ASSERT_PTR_NOT_NULL(strstr(out, "create: target is not registered"));
  CU_ASSERT_PTR_NOT_NULL(strstr(out, "h_extra_on_servers"));
  if (strstr(out, "h_extra_on_servers") == NULL)
    printf("output: %s\n", out);
}

/* A program that returns from main with an MPI pool running ends, ranks
 * and all, with its results. */
static void test_pool_mpi_exit_with_live_pool(void)
{
  char out[4096];
  double secs;

  if (skip_unless_launcher())
    return;
  CU_ASSERT_EQUAL(launch(4, "exit", "", out, sizeof out, &secs, NULL), 0);
  CU_ASSERT_PTR_NOT_NULL(strstr(out, "sum 332833500 rc 0"));
  CU_ASSERT(secs < 30);
  if (strstr(out, "sum 332833500 rc 0") == NULL)
    printf("output: %s\n", out);
}

/* A rank still running a task that never returns when rank 0 exits: the
 * job ends after the grace period, saying why, instead of hanging. */
static void test_pool_mpi_exit_with_hung_task(void)
{
  char out[4096];
  double secs;

  if (skip_unless_launcher())
    return;
  CU_ASSERT_NOT_EQUAL(launch(3, "hang", "MPROC_MPI_EXIT_GRACE=0.5", out,
                             sizeof out, &secs, NULL),
                      0);
  CU_ASSERT_PTR_NOT_NULL(strstr(out, "sum 328350 rc 0"));
  CU_ASSERT_PTR_NOT_NULL(strstr(out, "ending the MPI job"));
  /* Ended by itself, before launch()'s 60 s timeout would kill mpirun:
   * rank 0 leaves after the 0.5 s grace, but mpirun's own teardown of
   * the rank still in its task took from 1 s to over 30 s here. */
  CU_ASSERT(secs < 55);
  if (strstr(out, "ending the MPI job") == NULL)
    printf("output: %s\n", out);
}

/* A rank that dies under mpirun: Open MPI 4.1 ends the job (no ULFM),
 * rank 0 with it; nothing hangs. */
static void test_pool_mpi_rank_dies_ends_job(void)
{
  char out[4096];
  double secs;

  if (skip_unless_launcher())
    return;
  CU_ASSERT_NOT_EQUAL(launch(3, "die", "", out, sizeof out, &secs, NULL), 0);
  CU_ASSERT_PTR_NOT_NULL(strstr(out, "sum 328350 rc 0"));
  CU_ASSERT(secs < 55);
  if (strstr(out, "sum 328350 rc 0") == NULL)
    printf("output: %s\n", out);
}

/* The seeds' pool program, unchanged, under `mpirun -n 4` prints what
 * it prints alone (tasks in order, one at a time). */
static void test_pool_mpi_example_same_output(void)
{
  char alone[8192], ranks[8192], cmd[2048], path[1024], want[1024];
  const char *dir = MPROC_TEST_EXAMPLES_DIR;
  double secs;
  size_t at = 0;

  if (skip_unless_launcher())
    return;
  if (dir[0] == '\0') {
    printf("skipped: built without the examples\n");
    return;
  }
  for (int i = 0; i < 100; i++)
    at += (size_t)snprintf(want + at, sizeof want - at, "%d\n", i);
  CU_ASSERT_EQUAL_FATAL(mproc_test_tmp_path(path, sizeof path), 0);
  snprintf(cmd, sizeof cmd, "%s/pool_apply_mpi >%s 2>&1", dir, path);
  CU_ASSERT_EQUAL(system(cmd), 0);
  alone[0] = '\0';
  (void)mproc_test_read_file(path, alone, sizeof alone);
  mproc_test_remove(path);
  snprintf(cmd, sizeof cmd, "%s/pool_apply_mpi", dir);
  CU_ASSERT_EQUAL(launch(4, "", "", ranks, sizeof ranks, &secs, cmd), 0);
  CU_ASSERT(strncmp(alone, want, strlen(want)) == 0);
  CU_ASSERT(strncmp(ranks, want, strlen(want)) == 0);
  CU_ASSERT_PTR_NOT_NULL(strstr(ranks + strlen(want), "one at a time"));
  if (strncmp(ranks, want, strlen(want)) != 0)
    printf("output: %s\n", ranks);
}

/* ---- spawn mode: the program run alone starts its serving ranks ---- */

/* Whether process @pid still runs (a zombie does not). */
static int running(long pid)
{
#ifdef _WIN32
  (void)pid;
  return 0;
#else
  char path[64], buf[512];
  char *p;

  if (kill((pid_t)pid, 0) != 0 && errno == ESRCH)
    return 0;
  snprintf(path, sizeof path, "/proc/%ld/stat", pid);
  if (mproc_test_read_file(path, buf, sizeof buf) != 0)
    return 0;
  p = strrchr(buf, ')');
  return p != NULL && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
#endif
}

/* The pids the serving ranks' initializers wrote (MPROC_HELPER_PIDS) into
 * @path: how many, into @pids. */
static int read_pids(const char *path, long *pids, int cap)
{
  char buf[1024], *p = buf, *end;
  int n = 0;

  if (mproc_test_read_file(path, buf, sizeof buf) != 0)
    return 0;
  for (long v; n < cap && (v = strtol(p, &end, 10), end != p); p = end)
    pids[n++] = v;
  return n;
}

/* After the program ended, none of @pids runs (Open MPI ends them as the
 * job ends: a bounded wait for that, not a sleep). */
static int all_gone(const long *pids, int n, double within)
{
  double end = mproc_test_now() + within;
  int left;

  do {
    left = 0;
    for (int i = 0; i < n; i++)
      left += running(pids[i]);
    if (left > 0)
      mproc_test_sleep_ms(20);
  } while (left > 0 && mproc_test_now() < end);
  return left == 0;
}

/* Run alone with MPROC_MPI_SPAWN=@spawn; the ranks' pids into @pids. */
static int alone(const char *mode, const char *env, int spawn, char *out,
                 size_t cap, double *secs, long *pids, int *npids)
{
  char pidfile[1024], all[1536];
  int rc;

  if (mproc_test_tmp_path(pidfile, sizeof pidfile) != 0)
    return -1;
  snprintf(all, sizeof all, "MPROC_MPI_SPAWN=%d MPROC_HELPER_PIDS=%s %s", spawn,
           pidfile, env);
  rc = launch(0, mode, all, out, cap, secs, NULL);
  *npids = read_pids(pidfile, pids, 16);
  mproc_test_remove(pidfile);
  return rc;
}

/* Run the helper's @mode alone with @env and MPROC_MPI_SPAWN=@spawn, and
 * check: it exits with status 0 (@ok) or not; its output has each of
 * @wants (NULL-terminated); @ranks serving ranks ran the initializer,
 * each its own process; none of them runs once the program has ended
 * (Open MPI ends them as the job ends: a bounded wait, not a sleep). */
static void check_alone(const char *mode, const char *env, int spawn, int ok,
                        int ranks, const char *const *wants)
{
  char out[4096];
  long pids[16];
  int n = 0, missing = 0, rc;
  double secs;

  rc = alone(mode, env, spawn, out, sizeof out, &secs, pids, &n);
  CU_ASSERT(ok ? rc == 0 : rc != 0);
  for (const char *const *w = wants; *w != NULL; w++) {
    CU_ASSERT_PTR_NOT_NULL(strstr(out, *w));
    missing += strstr(out, *w) == NULL;
  }
  CU_ASSERT_EQUAL(n, ranks);
  for (int i = 0; i < n; i++)
    for (int j = i + 1; j < n; j++)
      CU_ASSERT_NOT_EQUAL(pids[i], pids[j]);
  CU_ASSERT(all_gone(pids, n, 30.0));
  CU_ASSERT(secs < 55); /* ended by itself, before launch()'s 60 s */
  if (missing > 0 || n != ranks)
    printf("output (%d ranks): %s\n", n, out);
}

/* `./app` alone with an MPI pool: it starts MPROC_MPI_SPAWN serving
 * ranks (copies of itself: other processes, each running the
 * initializer), gets its results, and at exit nothing it started is left
 * running. */
static void test_pool_mpi_spawn_mode(void)
{
  static const char *const wants[] = {"sum 332833500 rc 0", NULL};

  if (!skip_unless_launcher())
    check_alone("exit", "", 3, 1, 3, wants);
}

/* Spawn mode, a rank still in a task that never returns at exit: the
 * program ends after the grace period, saying why, and the rank with it. */
static void test_pool_mpi_spawn_exit_with_hung_task(void)
{
  static const char *const wants[] = {"sum 328350 rc 0", "ending the MPI job",
                                      NULL};

  if (!skip_unless_launcher())
    check_alone("hang", "MPROC_MPI_EXIT_GRACE=0.5", 2, 0, 2, wants);
}

/* Spawn mode, a rank dies in a task: Open MPI tells rank 0 nothing, and
 * ends the other spawned ranks. The task fails with MPROC_EWORKER,
 * saying so, instead of being waited for for ever; the program goes on
 * and exits by itself, leaving no rank behind. */
static void test_pool_mpi_spawn_rank_dies(void)
{
  static const char *const wants[] = {"sum 328350 rc 0",
                                      "apply: the worker running the task died",
                                      "died; Open MPI ends the other", NULL};

  if (!skip_unless_launcher())
    check_alone("die", "", 2, 1, 2, wants);
}

/* Spawn mode checks the registered targets as mpirun's ranks do. */
static void test_pool_mpi_spawn_registry_mismatch(void)
{
  static const char *const wants[] = {"create: target is not registered",
                                      "h_extra_on_servers", NULL};

  /* The initializer runs only on a pool that was made: no pid. */
  if (!skip_unless_launcher())
    check_alone("mismatch", "", 3, 1, 0, wants);
}

/* Spawn mode on a machine with no network but loopback (a container):
 * Open MPI's ranks would find no interface to reach rank 0 by; mproc
 * points them at loopback. Run in a network namespace of its own. */
static void test_pool_mpi_spawn_without_network(void)
{
  char out[4096], prog[1400];
  double secs;

  if (skip_unless_launcher())
    return;
  if (system("unshare -n ip link set lo up >/dev/null 2>&1") != 0) {
    printf("skipped: cannot make a network namespace (unshare -n, ip: "
           "root only)\n");
    return;
  }
  snprintf(prog, sizeof prog,
           "unshare -n sh -c 'ip link set lo up && exec \"$0\" \"$@\"' %s",
           MPROC_TEST_MPI_HELPER);
  CU_ASSERT_EQUAL(
      launch(0, "exit", "MPROC_MPI_SPAWN=2", out, sizeof out, &secs, prog), 0);
  CU_ASSERT_PTR_NOT_NULL(strstr(out, "sum 332833500 rc 0"));
  if (strstr(out, "sum 332833500 rc 0") == NULL)
    printf("output: %s\n", out);
}

/* Copies of a program that never called mproc_main() would run all of
 * main(): spawn mode refuses, with a clear error, and starts nothing. */
static void test_pool_mpi_spawn_needs_mproc_main(void)
{
  static const char *const wants[] = {"create: ", "mproc_main(argc, argv)",
                                      NULL};

  if (!skip_unless_launcher())
    check_alone("nomain", "", 2, 1, 0, wants);
}

/* The seeds' pool program, unchanged, run alone with
 * MPROC_POOL_BACKEND=mpi (spawn mode) prints what it prints with local
 * workers. */
static void test_pool_mpi_spawn_example_same_output(void)
{
  char ranks[8192], cmd[2048], want[1024];
  const char *dir = MPROC_TEST_EXAMPLES_DIR;
  double secs;
  size_t at = 0;

  if (skip_unless_launcher())
    return;
  if (dir[0] == '\0') {
    printf("skipped: built without the examples\n");
    return;
  }
  for (int i = 0; i < 100; i++)
    at += (size_t)snprintf(want + at, sizeof want - at, "%d\n", i);
  snprintf(cmd, sizeof cmd, "%s/pool_apply_mpi", dir);
  CU_ASSERT_EQUAL(
      launch(0, "", "MPROC_POOL_BACKEND=mpi", ranks, sizeof ranks, &secs, cmd),
      0);
  CU_ASSERT(strncmp(ranks, want, strlen(want)) == 0);
  CU_ASSERT_PTR_NOT_NULL(strstr(ranks + strlen(want), "one at a time"));
  if (strncmp(ranks, want, strlen(want)) != 0)
    printf("output: %s\n", ranks);
}

void mproc_test_register_pool_mpi(void)
{
  static const mproc_test_case_t cases[] = {
      MPROC_TEST_CASE(test_pool_mpi_runs_on_ranks),
      MPROC_TEST_CASE(test_pool_mpi_two_pools),
      MPROC_TEST_CASE(test_pool_mpi_initializer_fails_on_one_rank),
      MPROC_TEST_CASE(test_pool_mpi_limits),
      MPROC_TEST_CASE(test_pool_mpi_large_messages),
      MPROC_TEST_CASE(test_pool_mpi_task_timeout),
      MPROC_TEST_CASE(test_pool_mpi_registry_mismatch),
      MPROC_TEST_CASE(test_pool_mpi_exit_with_live_pool),
      MPROC_TEST_CASE(test_pool_mpi_exit_with_hung_task),
      MPROC_TEST_CASE(test_pool_mpi_example_same_output),
      MPROC_TEST_CASE(test_pool_mpi_rank_dies_ends_job),
      MPROC_TEST_CASE(test_pool_mpi_spawn_mode),
      MPROC_TEST_CASE(test_pool_mpi_spawn_rank_dies),
      MPROC_TEST_CASE(test_pool_mpi_spawn_exit_with_hung_task),
      MPROC_TEST_CASE(test_pool_mpi_spawn_registry_mismatch),
      MPROC_TEST_CASE(test_pool_mpi_spawn_without_network),
      MPROC_TEST_CASE(test_pool_mpi_spawn_needs_mproc_main),
      MPROC_TEST_CASE(test_pool_mpi_spawn_example_same_output),
      {NULL, NULL}};
  mproc_test_add_suite("pool_mpi", cases);
}
