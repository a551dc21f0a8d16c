/*
 * The forkserver under attack and under faults. Its socket is
 * authenticated: a client without the key is refused before anything
 * runs, and the server goes on serving. Hostile peers (silent, trickling,
 * garbage, another user) do not slow the program's own starts. A start
 * that fails (out of descriptors) leaves no child running. A server
 * killed again and again costs restarts, never a failed start.
 * POSIX only (Windows has no forkserver).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#ifndef _WIN32
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

/* Starts of the two loops below: 1000, as the issue asks, except under
 * AddressSanitizer, where a start costs ten times as much (its fork
 * copies the shadow memory's page tables): 200 there. */
#if defined(__SANITIZE_ADDRESS__)
#define MPROC_TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MPROC_TEST_SANITIZED 1
#endif
#endif
#ifdef MPROC_TEST_SANITIZED
#define STARTS 200
#else
#define STARTS 1000
#endif
/* No start under hostile peers may take 100 ms (the bound; the
 * suite runs alone: ctest's RUN_SERIAL). Under AddressSanitizer a start
 * alone takes 40 ms on average on a loaded machine: 500 ms there. */
#ifdef MPROC_TEST_SANITIZED
#define SLOW 0.5
#else
#define SLOW 0.1
#endif
#define NOBODY 65534

MPROC_TARGET(t_fs_seven)
{
  (void)args;
  return 7;
}

/* Creates file @dir/ran-@n: proof that a child ran its target. */
MPROC_TARGET(t_fs_mark)
{
  const char *dir;
  char path[600];
  int n;

  if (mproc_args_parse(args, "si", &dir, &n) != 0)
    return 99;
  snprintf(path, sizeof path, "%s/ran-%d", dir, n);
  return mproc_test_write_file(path, "ran") == 0 ? 0 : 98;
}

static int run_seven(const mproc_context_t *ctx)
{
  mproc_process_t *p = NULL;
  int code = MPROC_EXITCODE_NONE;

  if (mproc_context_process(ctx, &p, t_fs_seven, NULL) == 0 &&
      mproc_process_start(p) == 0 && mproc_process_join(p, 30) == 0)
    (void)mproc_process_exitcode(p, &code);
  mproc_process_free(p);
  return code;
}

/* The abstract address "@mproc-fs-<our pid>-..." from /proc/net/unix. */
static int find_server(struct sockaddr_un *addr, socklen_t *len)
{
  char line[512], want[64];
  FILE *f = fopen("/proc/net/unix", "r");
  int found = 0;

  if (f == NULL)
    return 0;
  snprintf(want, sizeof want, "@mproc-fs-%ld-", mproc_test_getpid());
  while (!found && fgets(line, sizeof line, f) != NULL) {
    char *at = strstr(line, want);
    if (at == NULL)
      continue;
    at[strcspn(at, " \n")] = '\0';
    memset(addr, 0, sizeof *addr);
    addr->sun_family = AF_UNIX;
    memcpy(addr->sun_path + 1, at + 1, strlen(at + 1));
    *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(at));
    found = 1;
  }
  fclose(f);
  return found;
}

static int connect_to(const struct sockaddr_un *addr, socklen_t len)
{
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

  if (fd >= 0 && connect(fd, (const struct sockaddr *)addr, len) != 0) {
    close(fd);
    fd = -1;
  }
  return fd;
}

/* ---- the key ---- */

static void test_wrong_key_refused(void)
{
  const mproc_context_t *ctx = mproc_get_context("forkserver");
  unsigned char challenge[32], wrong[32];
  struct timeval tv = {.tv_sec = 10};
  struct sockaddr_un addr;
  socklen_t len = 0;
  int32_t status = -1;
  char byte;
  int fd;

  CU_ASSERT_PTR_NOT_NULL_FATAL(ctx);
  /* A first start makes sure the server runs. */
  CU_ASSERT_EQUAL(run_seven(ctx), 7);
  CU_ASSERT_FATAL(find_server(&addr, &len));
  fd = connect_to(&addr, len);
  CU_ASSERT_FATAL(fd >= 0);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  /* The server speaks first: a status, then a challenge to answer with
   * HMAC(key). */
  CU_ASSERT_EQUAL(recv(fd, &status, sizeof status, MSG_WAITALL),
                  (ssize_t)sizeof status);
  CU_ASSERT_EQUAL(status, 0);
  CU_ASSERT_EQUAL(recv(fd, challenge, sizeof challenge, MSG_WAITALL),
                  (ssize_t)sizeof challenge);
  memset(wrong, 0xa5, sizeof wrong);
  CU_ASSERT_EQUAL(send(fd, wrong, sizeof wrong, MSG_NOSIGNAL),
                  (ssize_t)sizeof wrong);
  /* Refused: the connection is closed, nothing else is said but the
   * refused handler's end. */
  CU_ASSERT_EQUAL(recv(fd, &status, sizeof status, MSG_WAITALL),
                  (ssize_t)sizeof status);
  CU_ASSERT_EQUAL(recv(fd, &byte, 1, 0), 0);
  close(fd);
  /* And the server still serves its owner. */
  CU_ASSERT_EQUAL(run_seven(ctx), 7);
}

static void test_truncated_request_refused(void)
{
  const mproc_context_t *ctx = mproc_get_context("forkserver");
  struct sockaddr_un addr;
  socklen_t len = 0;
  int fd;

  CU_ASSERT_EQUAL(run_seven(ctx), 7);
  CU_ASSERT_FATAL(find_server(&addr, &len));
  /* Connect and hang up at once: the server must drop it and go on. */
  fd = connect_to(&addr, len);
  CU_ASSERT_FATAL(fd >= 0);
  close(fd);
  CU_ASSERT_EQUAL(run_seven(ctx), 7);
}

/* ---- hostile peers ---- */

/* Keeps @n silent connections open (another as soon as one is dropped),
 * one that trickles a byte every 20 ms, and a stream of garbage, until
 * killed. Says 'r' on @ready once it has connected. A raw forked
 * process, so that it can become another user. */
__attribute__((noreturn)) static void hostile(const struct sockaddr_un *addr,
                                              socklen_t len, int n, int trickle,
                                              int ready)
{
  int fds[16];
  unsigned char junk[64];

  memset(junk, 0x5a, sizeof junk);
  for (int i = 0; i < n; i++)
    fds[i] = connect_to(addr, len);
  (void)write(ready, "r", 1);
  close(ready);
  for (unsigned round = 0;; round++) {
    for (int i = 0; i < n; i++) {
      char b;
      /* Dropped (EOF or an error): come back at once. */
      if (fds[i] < 0 || recv(fds[i], &b, 1, MSG_DONTWAIT) == 0) {
        if (fds[i] >= 0)
          close(fds[i]);
        fds[i] = connect_to(addr, len);
      }
      if (trickle && i == 0 && fds[i] >= 0)
        (void)send(fds[i], junk, 1, MSG_NOSIGNAL);
    }
    if (trickle) {
      int g = connect_to(addr, len);
      if (g >= 0) {
        (void)send(g, junk, sizeof junk, MSG_NOSIGNAL);
        close(g);
      }
    }
    (void)round;
    mproc_test_sleep_ms(20);
  }
}

static pid_t start_hostile(const struct sockaddr_un *addr, socklen_t len,
                           uid_t uid, int n, int trickle)
{
  int p[2];
  char b = 0;
  pid_t pid;

  if (pipe(p) != 0)
    return -1;
  pid = fork();
  if (pid == 0) {
    close(p[0]);
    if (uid != geteuid() && (setgid(uid) != 0 || setuid(uid) != 0))
      _exit(3);
    hostile(addr, len, n, trickle, p[1]);
  }
  close(p[1]);
  /* Wait until it is connected (or gone). */
  if (pid > 0 && read(p[0], &b, 1) != 1)
    b = 0;
  close(p[0]);
  if (pid > 0 && b != 'r') {
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return -1;
  }
  return pid;
}

static void stop_hostile(pid_t pid)
{
  if (pid <= 0)
    return;
  kill(pid, SIGKILL);
  while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
    ;
}

/* Silent, trickling, garbage and (as root) another user's peers knock
 * while the program starts STARTS children, one after the other: no
 * start may be slow (SLOW above; one silent peer used to cost 10 s). */
static void hostile_peers(const mproc_context_t *ctx);

static void test_hostile_peers_delay_no_start(void)
{
  const mproc_context_t *ctx = mproc_get_context("forkserver");

  if (mproc_get_start_method() != MPROC_FORKSERVER) {
    printf("skipped: a loop of forkserver starts, run in the forkserver leg\n");
    return;
  }
  hostile_peers(ctx);
}

static void hostile_peers(const mproc_context_t *ctx)
{
  struct sockaddr_un addr;
  socklen_t len = 0;
  pid_t mine, other = 0;
  double worst = 0, total = 0;
  int failed = 0, wrong = 0, slow = 0;

  CU_ASSERT_EQUAL(run_seven(ctx), 7);
  CU_ASSERT_FATAL(find_server(&addr, &len));
  mine = start_hostile(&addr, len, geteuid(), 8, 1);
  CU_ASSERT(mine > 0);
  if (geteuid() == 0) {
    other = start_hostile(&addr, len, NOBODY, 8, 1);
    CU_ASSERT(other > 0);
  } else {
    printf("(another user's peers: not root, cannot become another user) ");
  }
  for (int i = 0; i < STARTS; i++) {
    mproc_process_t *p = NULL;
    double t0 = mproc_test_now(), dt;
    int code = MPROC_EXITCODE_NONE;
    int rc = mproc_context_process(ctx, &p, t_fs_seven, NULL);
    if (rc == 0)
      rc = mproc_process_start(p);
    dt = mproc_test_now() - t0;
    total += dt;
    worst = dt > worst ? dt : worst;
    slow += dt >= SLOW;
    if (rc == 0 && mproc_process_join(p, 30) == 0)
      (void)mproc_process_exitcode(p, &code);
    failed += rc != 0;
    wrong += rc == 0 && code != 7;
    mproc_process_free(p);
  }
  stop_hostile(mine);
  stop_hostile(other);
  CU_ASSERT_EQUAL(failed, 0);
  CU_ASSERT_EQUAL(wrong, 0);
  CU_ASSERT_EQUAL(slow, 0);
  if (failed || wrong || slow > 0)
    printf("\n  %d starts failed, %d wrong exit codes; %d of %d over %.0f ms, "
           "slowest %.1f ms, mean %.2f ms\n",
           failed, wrong, slow, STARTS, SLOW * 1e3, worst * 1e3,
           total / STARTS * 1e3);
}

/* ---- a failed start leaves nothing running ---- */

/* Leave exactly one descriptor free: the start's own connection takes
 * it, and the pidfd the server sends cannot be received. Returns how
 * many were taken (to give back with give_back()). */
static int take_all_but_one(int *taken, int cap)
{
  int n = 0;

  while (n < cap && (taken[n] = dup(0)) >= 0)
    n++;
  if (n > 0)
    close(taken[--n]);
  return n;
}

static void give_back(int *taken, int n)
{
  for (int i = 0; i < n; i++)
    close(taken[i]);
}

/* Whether process @pid has children (the forkserver's handlers). */
static int has_children(long pid)
{
  char path[128], buf[64];

  snprintf(path, sizeof path, "/proc/%ld/task/%ld/children", pid, pid);
  return mproc_test_read_file(path, buf, sizeof buf) == 0 && buf[0] != '\0';
}

/* In a child, under a low RLIMIT_NOFILE: a forkserver start that cannot
 * receive the pidfd fails with "Too many open files", and its child,
 * never acknowledged, exits without running. Exit: 0, or the step that
 * failed. */
MPROC_TARGET(t_fs_emfile)
{
  const mproc_context_t *ctx = mproc_get_context("forkserver");
  const char *dir;
  struct rlimit old, low;
  mproc_process_t *p = NULL;
  char path[600];
  int taken[256], n, rc, code = -1;
  long server;

  if (mproc_args_parse(args, "s", &dir) != 0)
    return 99;
  /* The server runs before the limit is lowered. */
  if (run_seven(ctx) != 7 || (server = mproc_test_forkserver_pid()) <= 0)
    return 10;
  if (getrlimit(RLIMIT_NOFILE, &old) != 0)
    return 11;
  low = old;
  low.rlim_cur = 64;
  if (setrlimit(RLIMIT_NOFILE, &low) != 0)
    return 12;
  n = take_all_but_one(taken, 256);
  if (mproc_context_process(ctx, &p, t_fs_mark, "si", dir, 1) != 0)
    return 13;
  rc = mproc_process_start(p);
  give_back(taken, n);
  setrlimit(RLIMIT_NOFILE, &old);
  if (rc != MPROC_EOS) {
    printf("start under EMFILE: %s (%s)\n", mproc_strerror(rc),
           mproc_last_error());
    if (rc == 0)
      mproc_process_join(p, 30);
    mproc_process_free(p);
    return 14;
  }
  if (strstr(mproc_last_error(), "Too many open files") == NULL) {
    printf("start under EMFILE: %s\n", mproc_last_error());
    mproc_process_free(p);
    return 15;
  }
  mproc_process_free(p);
  /* The unacknowledged child goes (the server reaps it). */
  for (double end = mproc_test_now() + 30; has_children(server);) {
    if (mproc_test_now() > end)
      return 16;
    mproc_test_sleep_ms(5);
  }
  snprintf(path, sizeof path, "%s/ran-1", dir);
  if (mproc_test_read_file(path, (char[8]){0}, 8) == 0)
    return 17; /* it ran */
  /* And the next start, with descriptors to spare, runs as usual. */
  p = NULL;
  if (mproc_context_process(ctx, &p, t_fs_mark, "si", dir, 2) == 0 &&
      mproc_process_start(p) == 0 && mproc_process_join(p, 30) == 0)
    mproc_process_exitcode(p, &code);
  mproc_process_free(p);
  snprintf(path, sizeof path, "%s/ran-2", dir);
  if (code != 0 || mproc_test_read_file(path, (char[8]){0}, 8) != 0)
    return 18;
  return 0;
}

static void test_failed_start_runs_nothing(void)
{
  char dir[512], path[600];

  CU_ASSERT_EQUAL_FATAL(mproc_test_tmp_path(dir, sizeof dir), 0);
  CU_ASSERT_EQUAL_FATAL(mkdir(dir, 0700), 0);
  EXPECT_EXIT(mproc_test_run(t_fs_emfile, "s", dir), 0);
  for (int i = 1; i <= 2; i++) {
    snprintf(path, sizeof path, "%s/ran-%d", dir, i);
    mproc_test_remove(path);
  }
  rmdir(dir);
}

/* ---- a server killed again and again ---- */

typedef struct killer {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int armed, stop;
  atomic_int kills;
} killer_t;

/* Once armed, waits 0-3 ms (so that the kill lands before, during or
 * just after the start that armed it) and kills the server of the
 * moment. */
static void *kill_servers(void *arg)
{
  killer_t *k = arg;
  unsigned seed = 1;

  pthread_mutex_lock(&k->mu);
  for (;;) {
    while (!k->armed && !k->stop)
      pthread_cond_wait(&k->cv, &k->mu);
    if (k->stop)
      break;
    k->armed = 0;
    pthread_mutex_unlock(&k->mu);
    seed = seed * 1103515245u + 12345u;
    usleep((seed >> 16) % 3000);
    long server = mproc_test_forkserver_pid();
    if (server > 0 && kill((pid_t)server, SIGKILL) == 0)
      atomic_fetch_add(&k->kills, 1);
    pthread_mutex_lock(&k->mu);
  }
  pthread_mutex_unlock(&k->mu);
  return NULL;
}

static void killer_set(killer_t *k, int *flag)
{
  pthread_mutex_lock(&k->mu);
  *flag = 1;
  pthread_cond_signal(&k->cv);
  pthread_mutex_unlock(&k->mu);
}

/* Starts in a loop while another thread kills the server during every
 * other start, whatever it is doing then (connecting, authenticating,
 * forking, sending the pidfd): every start succeeds, every child is
 * joined (with its exit code, or MPROC_EXITCODE_LOST when the server
 * that would have told it died first). A server killed before it could
 * ever serve is not this test's case: each kill follows a start. */
static void server_killed(const mproc_context_t *ctx);

static void test_server_killed_no_start_fails(void)
{
  if (mproc_get_start_method() != MPROC_FORKSERVER) {
    printf("skipped: a loop of forkserver starts, run in the forkserver leg\n");
    return;
  }
  server_killed(mproc_get_context("forkserver"));
}

static void server_killed(const mproc_context_t *ctx)
{
  killer_t k = {.mu = PTHREAD_MUTEX_INITIALIZER,
                .cv = PTHREAD_COND_INITIALIZER};
  pthread_t t;
  int failed = 0, wrong = 0;
  char why[300] = "";

  CU_ASSERT_EQUAL(run_seven(ctx), 7);
  CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, kill_servers, &k), 0);
  for (int i = 0; i < STARTS; i++) {
    mproc_process_t *p = NULL;
    int code = MPROC_EXITCODE_NONE;
    int rc = mproc_context_process(ctx, &p, t_fs_seven, NULL);
    if (i % 2 == 0)
      killer_set(&k, &k.armed);
    if (rc == 0)
      rc = mproc_process_start(p);
    if (rc != 0 && !failed)
      snprintf(why, sizeof why, "%s", mproc_last_error());
    if (rc == 0 && mproc_process_join(p, 30) == 0)
      (void)mproc_process_exitcode(p, &code);
    failed += rc != 0;
    wrong += rc == 0 && code != 7 && code != MPROC_EXITCODE_LOST;
    mproc_process_free(p);
  }
  killer_set(&k, &k.stop);
  pthread_join(t, NULL);
  CU_ASSERT_EQUAL(failed, 0);
  CU_ASSERT_EQUAL(wrong, 0);
  CU_ASSERT(atomic_load(&k.kills) >= 10);
  if (failed || wrong)
    printf("\n  %d of %d starts failed (first: %s), %d wrong exit codes, %d "
           "kills\n",
           failed, STARTS, why, wrong, atomic_load(&k.kills));
  /* The server of the next start is alive and well. */
  CU_ASSERT_EQUAL(run_seven(ctx), 7);
}
#else
static void skip(void)
{
  printf("skipped: Windows has no forkserver\n");
}
#define test_wrong_key_refused skip
#define test_truncated_request_refused skip
#define test_hostile_peers_delay_no_start skip
#define test_failed_start_runs_nothing skip
#define test_server_killed_no_start_fails skip
#endif

void mproc_test_register_forkserver(void)
{
  static const mproc_test_case_t cases[] = {
      MPROC_TEST_CASE(test_wrong_key_refused),
      MPROC_TEST_CASE(test_truncated_request_refused),
      MPROC_TEST_CASE(test_hostile_peers_delay_no_start),
      MPROC_TEST_CASE(test_failed_start_runs_nothing),
      MPROC_TEST_CASE(test_server_killed_no_start_fails),
      {NULL, NULL}};

  (void)mproc_test_add_suite("forkserver", cases);
}
