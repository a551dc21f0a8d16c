/*
 * mproc_faults: every OS call failing in turn (SQLite's discipline).
 * Built only with MPROC_FAULT_INJECTION, where the backends' OS wrappers
 * can be told to fail the Nth call (lib/fault.h).
 *
 * For each scenario (start and join, queue put/get, a lock, a pool map,
 * a manager call, a listener accept), each start method and each kind of
 * fault (hard: the call's realistic error; soft: EINTR or a short
 * transfer), the driver runs the scenario in a fresh process with the
 * Nth wrapped call failing, for N = 1, 2, 3, ... until a run in which
 * the Nth call never came (the scenario passed untouched). Every run must
 * end within its time limit, without a crash, in success or a clear
 * MPROC_E* status (soft faults: in success), leaving no descriptor or
 * handle, no child process and no named shared block behind.
 *
 *   mproc_faults [--scenario NAME] [--method M] [--mode hard|soft]
 *                [--jobs N] [--limit SECONDS]
 *   mproc_faults --run NAME --method M --mode hard|soft --nth N --out FILE
 *
 * The summary counts the faults injected and what became of them.
 */
#if !defined(_WIN32) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fault.h"
#include "harness.h"

#ifdef _WIN32
#include <windows.h>
#else
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
extern char **environ;
#endif

#define KEY "mproc-faults-key"

/* ---- helper children ---- */

MPROC_TARGET(f_seven)
{
  (void)args;
  return 7;
}

/* Gets one item from @in and puts it, plus one, on @out. */
MPROC_TARGET(f_echo_queue)
{
  mproc_queue_t *in, *out;
  mproc_args_t *item = NULL;
  int v = 0, rc;

  if (mproc_args_parse(args, "oo", MPROC_KIND_QUEUE, &in, MPROC_KIND_QUEUE,
                       &out) != 0)
    return 99;
  rc = mproc_queue_get(in, 30, &item);
  if (rc == 0 && mproc_args_parse(item, "i", &v) == 0)
    rc = mproc_queue_put(out, 30, "i", v + 1);
  mproc_args_free(item);
  return rc == 0 ? 0 : 1;
}

/* Takes and gives back @lock. */
MPROC_TARGET(f_lock_once)
{
  mproc_lock_t *l;

  if (mproc_args_parse(args, "o", MPROC_KIND_LOCK, &l) != 0)
    return 99;
  if (mproc_lock_acquire(l, 30) != 0)
    return 1;
  return mproc_lock_release(l) == 0 ? 0 : 2;
}

MPROC_TARGET(f_square)
{
  int x;

  if (mproc_args_parse(args, "i", &x) != 0)
    return 1;
  return mproc_return("i", x * x);
}

/* Connects to @address with the key, sends "ping", expects "pong". */
MPROC_TARGET(f_client)
{
  const char *address, *family;
  mproc_conn_t *c = NULL;
  void *buf = NULL;
  size_t len = 0;
  int rc;

  if (mproc_args_parse(args, "ss", &address, &family) != 0)
    return 99;
  rc = mproc_client(&c, address, family, KEY, strlen(KEY), 30);
  if (rc == 0)
    rc = mproc_conn_send_bytes(c, "ping", 4, 0, MPROC_ALL);
  if (rc == 0)
    rc = mproc_conn_recv_bytes(c, 16, &buf, &len);
  mproc_free(buf);
  mproc_conn_free(c);
  return rc == 0 ? 0 : 1;
}

/* ---- scenarios: careful user code, every error path cleaned up ---- */

/* A scenario's status when a child started without an error did not
 * run as it should have (never a clean outcome). */
#define NOT_AS_STARTED 1

/* Join @p if it started (killing it if the scenario failed first), and
 * free it. */
static int finish(mproc_process_t *p, int rc, int want_code)
{
  int code = MPROC_EXITCODE_NONE, jrc;

  if (p == NULL)
    return rc;
  if (mproc_process_pid(p) > 0) {
    if (rc != 0)
      (void)mproc_process_kill(p);
    jrc = mproc_process_join(p, MPROC_FOREVER);
    /* A join that failed (its wait did) leaves the child running: end
     * it, as a careful program would. */
    if (jrc != 0) {
      (void)mproc_process_kill(p);
      (void)mproc_process_join(p, MPROC_FOREVER);
    }
    if (rc == 0)
      rc = jrc;
    /* Started, joined, but not run as it should have: the start said
     * yes to a child that could not run (a failure of the run). */
    if (rc == 0 && mproc_process_exitcode(p, &code) == 0 && code != want_code)
      rc = NOT_AS_STARTED;
  }
  mproc_process_free(p);
  return rc;
}

/* Start a process just created (a status from mproc_process_create). */
static int start_created(mproc_process_t **p, int rc)
{
  return rc == 0 ? mproc_process_start(*p) : rc;
}
#define start(pp, ...)                                                         \
  start_created((pp), mproc_process_create((pp), __VA_ARGS__))

static int s_start_join(void)
{
  mproc_process_t *p = NULL;
  int rc = start(&p, f_seven, NULL);

  return finish(p, rc, 7);
}

static int s_queue(void)
{
  mproc_queue_t *in = NULL, *out = NULL;
  mproc_process_t *p = NULL;
  mproc_args_t *item = NULL;
  int rc, v = 0;

  rc = mproc_queue_create(&in, 0);
  if (rc == 0)
    rc = mproc_queue_create(&out, 0);
  if (rc == 0)
    rc = start(&p, f_echo_queue, "oo", in, out);
  if (rc == 0)
    rc = mproc_queue_put(in, 30, "i", 41);
  if (rc == 0)
    rc = mproc_queue_get(out, 30, &item);
  if (rc == 0 && (mproc_args_parse(item, "i", &v) != 0 || v != 42))
    rc = MPROC_ECODEC;
  mproc_args_free(item);
  rc = finish(p, rc, 0);
  mproc_queue_free(in);
  mproc_queue_free(out);
  return rc;
}

static int s_lock(void)
{
  mproc_lock_t *l = NULL;
  mproc_process_t *p = NULL;
  int rc = mproc_lock_create(&l);

  if (rc == 0)
    rc = mproc_lock_acquire(l, 30);
  if (rc == 0)
    rc = start(&p, f_lock_once, "o", l);
  if (rc == 0 || mproc_process_pid(p) > 0)
    (void)mproc_lock_release(l);
  rc = finish(p, rc, 0);
  mproc_lock_free(l);
  return rc;
}

static int s_pool_map(void)
{
  mproc_pool_options_t o = {.processes = 2};
  mproc_pool_t *pool = NULL;
  mproc_items_t *items = NULL;
  mproc_args_t *r = NULL;
  int rc = mproc_items_create(&items), x[6];

  for (int i = 0; rc == 0 && i < 6; i++)
    rc = mproc_items_add(items, "i", i);
  if (rc == 0)
    rc = mproc_pool_create(&pool, &o);
  if (rc == 0)
    rc = mproc_pool_map(pool, &r, f_square, items, 0);
  if (rc == 0 && (mproc_args_parse(r, "iiiiii", &x[0], &x[1], &x[2], &x[3],
                                   &x[4], &x[5]) != 0 ||
                  x[5] != 25))
    rc = MPROC_ECODEC;
  mproc_args_free(r);
  if (pool != NULL) {
    if (rc == 0)
      rc = mproc_pool_close(pool);
    else
      (void)mproc_pool_terminate(pool);
    int jrc = mproc_pool_join(pool);
    if (rc == 0)
      rc = jrc;
  }
  mproc_pool_free(pool);
  mproc_items_free(items);
  return rc;
}

static int s_manager(void)
{
  mproc_manager_t *m = NULL;
  mproc_proxy_t *d = NULL;
  mproc_args_t *r = NULL;
  int rc = mproc_manager(&m), v = 0;

  if (rc == 0)
    rc = mproc_manager_object(m, &d, MPROC_MANAGED_DICT, NULL);
  if (rc == 0)
    rc = mproc_proxy_call(d, NULL, "__setitem__", "si", "k", 41);
  if (rc == 0)
    rc = mproc_proxy_call(d, &r, "__getitem__", "s", "k");
  if (rc == 0 && (mproc_args_parse(r, "i", &v) != 0 || v != 41))
    rc = MPROC_ECODEC;
  mproc_args_free(r);
  mproc_proxy_free(d);
  if (m != NULL && mproc_manager_address(m) != NULL) {
    int src = mproc_manager_shutdown(m);
    if (rc == 0)
      rc = src;
  }
  mproc_manager_free(m);
  return rc;
}

static int s_listener(void)
{
  mproc_listener_t *l = NULL;
  mproc_process_t *p = NULL;
  mproc_conn_t *c = NULL;
  void *buf = NULL;
  size_t len = 0;
  int rc = mproc_listener_create(&l, NULL, NULL, 4, KEY, strlen(KEY));

  if (rc == 0)
    rc = start(&p, f_client, "ss", mproc_listener_address(l),
               mproc_listener_family(l));
  /* The client may have failed (its handshake's thread did): do not
   * wait for it longer than it lives. */
  while (rc == 0 &&
         (rc = mproc_listener_accept(l, &c, 0.2)) == MPROC_ETIMEDOUT &&
         mproc_process_is_alive(p) == 1)
    rc = 0;
  if (rc == 0)
    rc = mproc_conn_recv_bytes(c, 16, &buf, &len);
  if (rc == 0)
    rc = mproc_conn_send_bytes(c, "pong", 4, 0, MPROC_ALL);
  mproc_free(buf);
  mproc_conn_free(c);
  /* A client left waiting for an accept that failed is ended. */
  rc = finish(p, rc, 0);
  mproc_listener_free(l);
  return rc;
}

typedef struct scenario {
  const char *name;
  int (*fn)(void);
} scenario_t;

static const scenario_t scenarios[] = {{"start_join", s_start_join},
                                       {"queue", s_queue},
                                       {"lock", s_lock},
                                       {"pool_map", s_pool_map},
                                       {"manager", s_manager},
                                       {"listener", s_listener},
                                       {NULL, NULL}};

/* ---- one run ---- */

#ifndef _WIN32
/* The forkserver's children still alive (handlers of failed starts are
 * given a moment to see their client gone). */
static int forkserver_children(void)
{
  long server = mproc_test_forkserver_pid();
  char path[128], buf[256];
  double end = mproc_test_now() + 5;

  if (server <= 0)
    return 0;
  snprintf(path, sizeof path, "/proc/%ld/task/%ld/children", server, server);
  while (mproc_test_read_file(path, buf, sizeof buf) == 0 && buf[0] != '\0') {
    if (mproc_test_now() > end)
      return 1;
    mproc_test_sleep_ms(5);
  }
  return 0;
}

/* Named blocks and their temporary names in /dev/shm made by this
 * process (scenarios' blocks all come from it). */
static int shm_entries(void)
{
  DIR *d = opendir("/dev/shm");
  struct dirent *e;
  char tmp[64];
  int n = 0;

  if (d == NULL)
    return 0;
  snprintf(tmp, sizeof tmp, ".mproc-tmp-%ld-", (long)getpid());
  while ((e = readdir(d)) != NULL)
    n += strncmp(e->d_name, tmp, strlen(tmp)) == 0;
  closedir(d);
  return n;
}
#else
static int forkserver_children(void)
{
  return 0;
}

static int shm_entries(void)
{
  return 0;
}
#endif

/* Warm the method up unarmed, so that what it keeps for the life of the
 * program (the forkserver) is in the baseline. */
static void warm_up(void)
{
  mproc_process_t *p = NULL;

  if (start(&p, f_seven, NULL) == 0)
    (void)mproc_process_join(p, 60);
  mproc_process_free(p);
}

static int run_one(const scenario_t *s, long nth, int soft, const char *out)
{
  char strays[512] = "", leaks[600] = "";
  const char *failed = NULL;
  long before, after, calls;
  int rc, active, n;
  FILE *f;

  warm_up();
  before = mproc_test_count_handles();
  mproc__fault_arm(nth, soft);
  rc = s->fn();
  calls = mproc__fault_disarm(&failed);
  active = mproc_active_children(NULL, 0);
  n = mproc_test_stray_children(strays, sizeof strays, 1);
  if (n > 0 || active > 0)
    snprintf(leaks, sizeof leaks, "children left: %d active, %d stray (%s)",
             active, n, strays);
  else if (forkserver_children())
    snprintf(leaks, sizeof leaks, "forkserver children left");
  else if ((after = mproc_test_count_handles()) != before)
    snprintf(leaks, sizeof leaks, "descriptors: %ld before, %ld after", before,
             after);
  else if (shm_entries() != 0)
    snprintf(leaks, sizeof leaks, "named shared memory left");
  f = fopen(out, "w");
  if (f == NULL)
    return 2;
  /* hit|rc|calls|leaks|message */
  fprintf(f, "%s|%d|%ld|%s|%s\n", failed ? failed : "-", rc, calls, leaks,
          rc != 0 ? mproc_last_error() : "");
  fclose(f);
  return 0;
}

/* ---- the driver ---- */

typedef struct tally {
  long runs, injected, recovered, clean, bad;
  long by_status[40];
} tally_t;

static const char *self;
static double run_limit = 60;

/* Run @argv; its exit code, -N when killed by signal N, or 1000 when it
 * overran the limit (it is killed). */
static int run_limited(const char *const *argv)
{
#ifdef _WIN32
  char cmd[2048] = "";
  STARTUPINFOA si;
  PROCESS_INFORMATION pi;
  DWORD code = 1;

  memset(&si, 0, sizeof si);
  si.cb = sizeof si;

  for (int i = 0; argv[i] != NULL; i++)
    snprintf(cmd + strlen(cmd), sizeof cmd - strlen(cmd), "%s\"%s\"",
             i ? " " : "", argv[i]);
  if (!CreateProcessA(NULL, cmd, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi))
    return -1;
  if (WaitForSingleObject(pi.hProcess, (DWORD)(run_limit * 1000)) ==
      WAIT_TIMEOUT) {
    TerminateProcess(pi.hProcess, 1000);
    WaitForSingleObject(pi.hProcess, INFINITE);
    code = 1000;
  } else {
    GetExitCodeProcess(pi.hProcess, &code);
  }
  CloseHandle(pi.hProcess);
  CloseHandle(pi.hThread);
  return (int)code;
#else
  double end = mproc_test_now() + run_limit;
  int status, killed = 0;
  pid_t pid, r;

  if (posix_spawn(&pid, argv[0], NULL, NULL, (char *const *)argv, environ) != 0)
    return -1;
  while ((r = waitpid(pid, &status, WNOHANG)) == 0 ||
         (r < 0 && errno == EINTR)) {
    if (!killed && mproc_test_now() > end) {
      /* The whole group: the run's children too. */
      kill(pid, SIGKILL);
      killed = 1;
    }
    mproc_test_sleep_ms(2);
  }
  if (killed)
    return 1000;
  return WIFSIGNALED(status) ? -WTERMSIG(status) : WEXITSTATUS(status);
#endif
}

/* Run scenario @s with the @nth call failing; 1 when the fault was
 * injected (go on with nth + 1), 0 when the scenario ran untouched, -1
 * after a failure (reported). */
static int drive_one(const scenario_t *s, const char *method, int soft,
                     long nth, tally_t *t)
{
  char out[512], nbuf[32], line[1400] = "", hit[128] = "", leaks[700] = "",
                           msg[600] = "";
  const char *argv[12];
  int code, rc = 0, ok;
  long calls = 0;

  snprintf(nbuf, sizeof nbuf, "%ld", nth);
  if (mproc_test_tmp_path(out, sizeof out) != 0)
    return -1;
  argv[0] = self;
  argv[1] = "--run";
  argv[2] = s->name;
  argv[3] = "--method";
  argv[4] = method;
  argv[5] = "--mode";
  argv[6] = soft ? "soft" : "hard";
  argv[7] = "--nth";
  argv[8] = nbuf;
  argv[9] = "--out";
  argv[10] = out;
  argv[11] = NULL;
  code = run_limited(argv);
  t->runs++;
  if (code == 0 && mproc_test_read_file(out, line, sizeof line) == 0) {
    char *f[5] = {line, NULL, NULL, NULL, NULL};
    for (int i = 1; i < 5 && f[i - 1] != NULL; i++) {
      f[i] = strchr(f[i - 1], '|');
      if (f[i] != NULL)
        *f[i]++ = '\0';
    }
    if (f[4] != NULL) {
      snprintf(hit, sizeof hit, "%s", f[0]);
      rc = atoi(f[1]);
      calls = atol(f[2]);
      snprintf(leaks, sizeof leaks, "%s", f[3]);
      snprintf(msg, sizeof msg, "%s", f[4]);
      msg[strcspn(msg, "\n")] = '\0';
    } else {
      code = 2;
    }
  }
  mproc_test_remove(out);
  if (code != 0) {
    t->bad++;
    printf("FAIL %s/%s/%s N=%ld: %s\n", s->name, method, soft ? "soft" : "hard",
           nth,
           code == 1000 ? "hung (killed at the time limit)"
           : code < 0   ? "crashed"
                        : "the run could not report");
    return -1;
  }
  if (strcmp(hit, "-") == 0) {
    /* Untouched: it must have passed like any run. */
    if (rc != 0 || leaks[0] != '\0') {
      t->bad++;
      printf("FAIL %s/%s untouched: %s %s %s\n", s->name, method,
             mproc_strerror(rc), msg, leaks);
      return -1;
    }
    (void)calls;
    return 0;
  }
  t->injected++;
  ok = leaks[0] == '\0' &&
       (rc == 0 ||
        (!soft && rc < 0 && rc >= -39 &&
         strcmp(mproc_strerror(rc), "unknown error") != 0 && msg[0] != '\0'));
  if (!ok) {
    t->bad++;
    printf("FAIL %s/%s/%s N=%ld (%s failed): %s \"%s\" %s\n", s->name, method,
           soft ? "soft" : "hard", nth, hit,
           rc == NOT_AS_STARTED ? "started, but the child did not run"
           : rc                 ? mproc_strerror(rc)
                                : "ok",
           msg, leaks);
    return 1; /* go on: every fault is worth knowing */
  }
  if (rc == 0)
    t->recovered++;
  else {
    t->clean++;
    t->by_status[-rc]++;
  }
  return 1;
}

static void summary(const char *what, const tally_t *t)
{
  printf("%s: %ld faults injected in %ld runs: %ld absorbed (the scenario "
         "succeeded), %ld clean errors",
         what, t->injected, t->runs, t->recovered, t->clean);
  if (t->clean > 0) {
    const char *sep = " (";
    for (int i = 1; i < 40; i++)
      if (t->by_status[i] > 0) {
        printf("%s%s %ld", sep, mproc_strerror(-i), t->by_status[i]);
        sep = ", ";
      }
    printf(")");
  }
  printf(", %ld failures\n", t->bad);
}

static int drive(const char *only, const char *only_method,
                 const char *only_mode)
{
  const char *const *methods = mproc_all_start_methods();
  tally_t all = {0};

  for (const scenario_t *s = scenarios; s->name != NULL; s++) {
    if (only != NULL && strcmp(only, s->name) != 0)
      continue;
    for (size_t m = 0; methods[m] != NULL; m++) {
      if (only_method != NULL && strcmp(only_method, methods[m]) != 0)
        continue;
      for (int soft = 0; soft < 2; soft++) {
        tally_t t = {0};
        char what[128];
        double t0 = mproc_test_now();
        if (only_mode != NULL && strcmp(only_mode, soft ? "soft" : "hard"))
          continue;
        for (long nth = 1; drive_one(s, methods[m], soft, nth, &t) > 0; nth++)
          ;
        snprintf(what, sizeof what, "%s/%s/%s (%.1f s)", s->name, methods[m],
                 soft ? "soft" : "hard", mproc_test_now() - t0);
        summary(what, &t);
        fflush(stdout);
        all.runs += t.runs;
        all.injected += t.injected;
        all.recovered += t.recovered;
        all.clean += t.clean;
        all.bad += t.bad;
        for (int i = 0; i < 40; i++)
          all.by_status[i] += t.by_status[i];
      }
    }
  }
  summary("faults", &all);
  return all.bad == 0 && all.runs > 0 ? 0 : 1;
}

static void usage(void)
{
  fprintf(stderr, "usage: mproc_faults [--scenario NAME] [--method M] "
                  "[--mode hard|soft] [--limit SECONDS]\n");
}

int main(int argc, char **argv)
{
  const char *run = NULL, *only = NULL, *method = NULL, *mode = NULL,
             *out = NULL;
  long nth = 0;

  if (mproc_main(argc, argv) != 0)
    return 2;
  self = argv[0];
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--run") == 0)
      run = argv[i + 1];
    else if (strcmp(argv[i], "--scenario") == 0)
      only = argv[i + 1];
    else if (strcmp(argv[i], "--method") == 0)
      method = argv[i + 1];
    else if (strcmp(argv[i], "--mode") == 0)
      mode = argv[i + 1];
    else if (strcmp(argv[i], "--nth") == 0)
      nth = atol(argv[i + 1]);
    else if (strcmp(argv[i], "--out") == 0)
      out = argv[i + 1];
    else if (strcmp(argv[i], "--limit") == 0)
      run_limit = atof(argv[i + 1]);
    else {
      usage();
      return 2;
    }
  }
  if (argc % 2 == 0) {
    usage();
    return 2;
  }
  if (run == NULL)
    return drive(only, method, mode);
  for (const scenario_t *s = scenarios; s->name != NULL; s++)
    if (strcmp(s->name, run) == 0) {
      if (method == NULL || mproc_set_start_method(method, 1) != 0 ||
          out == NULL || nth < 1)
        return 2;
      return run_one(s, nth, mode != NULL && strcmp(mode, "soft") == 0, out);
    }
  usage();
  return 2;
}
