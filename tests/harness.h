/*
 * The test harness: one binary, mproc_tests, that runs CUnit suites and
 * re-executes itself (through mproc) to get helper children.
 *
 * A suite is a file tests/test_NAME.c that defines
 * `void mproc_test_register_NAME(void)`; the build finds it by its file
 * name, so adding a suite means adding a file. The register function adds
 * CUnit suites and tests as usual (CU_add_suite/CU_add_test, or the
 * mproc_test_add_suite() shortcut below). The harness wraps every test it
 * finds in the registry with leak checks, so tests do not check leaks
 * themselves: after each test no mproc child may be active, no child
 * process may be left (zombie or alive, the forkserver excepted), and the
 * number of open descriptors/handles may not have grown.
 */
#ifndef MPROC_TEST_HARNESS_H
#define MPROC_TEST_HARNESS_H

#include <CUnit/CUnit.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>

#include "mproc.h"

/* Windows' C runtime knows SIGTERM but not SIGKILL; mproc reports
 * -SIGKILL there too, with POSIX's number. */
#ifndef SIGKILL
#define SIGKILL 9
#endif

#ifdef _WIN32
#define MPROC_TEST_POSIX 0
#else
#define MPROC_TEST_POSIX 1
#endif

/* ---- suites (the generated mproc_test_suites.c) ---- */

typedef struct mproc_test_suite {
  const char *name; /* NAME of tests/test_NAME.c */
  void (*register_fn)(void);
} mproc_test_suite_t;

/* Every suite file of the build, ended by {NULL, NULL}. */
extern const mproc_test_suite_t mproc_test_suites[];

/* ---- registering tests ---- */

typedef struct mproc_test_case {
  const char *name;
  CU_TestFunc fn;
} mproc_test_case_t;

#define MPROC_TEST_CASE(fn)                                                    \
  {                                                                            \
#fn, fn                                                                    \
  }

/* Add CUnit suite @name with the tests of @cases (ended by {NULL, NULL}).
 * Returns 0, or -1 after printing CUnit's error. */
int mproc_test_add_suite(const char *name, const mproc_test_case_t *cases);

/* ---- helper children (children.c) ---- */

/* Generous bound for joins expected to succeed: a hang fails the test
 * instead of the whole run. */
#define MPROC_TEST_JOIN_LIMIT 60.0

/* Assert an exit code, saying in the failure what it was. */
#define EXPECT_EXIT(expr, want)                                                \
  mproc_test_expect_exit((expr), (want), #expr, __LINE__)
void mproc_test_expect_exit(int got, int want, const char *what, int line);

/* Create and start a process running @fn with arguments built from @fmt
 * (asserting both succeed); NULL on failure. */
mproc_process_t *mproc_test_start(mproc_target_fn fn, const char *fmt, ...);
mproc_process_t *mproc_test_startv(mproc_target_fn fn, const char *fmt,
                                   va_list ap);
/* Join @p (killing it if it overruns the limit), give its exit code, free
 * it. NULL gives MPROC_EXITCODE_NONE. */
int mproc_test_finish(mproc_process_t *p);
/* Start and finish: the child's exit code. */
int mproc_test_run(mproc_target_fn fn, const char *fmt, ...);
/* Terminate a blocked child and finish it, asserting -SIGTERM. */
void mproc_test_stop(mproc_process_t *p);

/* ---- time ---- */

/* Monotonic clock in seconds. */
double mproc_test_now(void);
/* Sleep @ms milliseconds. For pacing a polling loop or making a helper
 * child slow, never as synchronisation. */
void mproc_test_sleep_ms(int ms);
/* Block the calling process until it is killed (a helper child's body). */
void mproc_test_block_forever(void);

/* ---- temporary files ---- */

/* A unique path in the temporary directory (nothing is created).
 * Returns 0, or -1 when @cap is too small. */
int mproc_test_tmp_path(char *buf, size_t cap);
/* Write @text to @path atomically (a reader sees all of it or no file).
 * Returns 0 or -1. */
int mproc_test_write_file(const char *path, const char *text);
/* Read @path into @buf (NUL-terminated). Returns 0, or -1 when the file
 * does not exist or cannot be read. */
int mproc_test_read_file(const char *path, char *buf, size_t cap);
/* Poll until @path exists (at most @timeout seconds), then read it.
 * Returns 0 or -1 on timeout. */
int mproc_test_wait_file(const char *path, char *buf, size_t cap,
                         double timeout);
/* Remove @path if it exists. */
void mproc_test_remove(const char *path);

/* ---- operating system (leakcheck.c) ---- */

/* The OS's id of the calling process. */
long mproc_test_getpid(void);
/* Number of online CPUs as the OS reports them. */
int mproc_test_online_cpus(void);
/* Whether process @pid has ended (gone, or a zombie waiting to be reaped
 * by someone else): 1 or 0. */
int mproc_test_pid_gone(long pid);
/* In a helper child about to crash on purpose: let the crash take the
 * system's default course (no sanitizer handler, no Windows error box). */
void mproc_test_default_crash_handling(void);
/* Send signal @sig to @pid (Windows: TerminateProcess with the exit code
 * mproc reads as -sig). Returns 0 or -1. */
int mproc_test_kill_pid(long pid, int sig);
/* Wait at most @timeout seconds for a sentinel to become ready:
 * 1 ready, 0 not ready, -1 error. */
int mproc_test_sentinel_wait(mproc_sentinel_t s, double timeout);
/* Run program @path with @argv (NULL-terminated, argv[0] included), wait
 * for it and give its exit code (-N when killed by signal N).
 * Returns 0 or -1 when it could not be run. */
int mproc_test_run_program(const char *path, const char *const *argv,
                           int *exitcode);
/* The same, giving up after @timeout seconds: then the program is killed
 * and 1 is returned (0 when it ended in time, -1 when it could not run). */
int mproc_test_run_program_timeout(const char *path, const char *const *argv,
                                   double timeout, int *exitcode);

/* The pid of this process's forkserver (a child of ours), or 0 when it
 * has none (or the platform has no forkserver). */
long mproc_test_forkserver_pid(void);

/* ---- other programs' output (capture.c) ---- */

/* Run program @path with @argv (NULL-terminated, argv[0] included), its
 * stdout and stderr both into the file @out_path; wait for it and give
 * its exit code (-N when killed by signal N). Returns 0 or -1 when it
 * could not be run. The program inherits this process's environment. */
int mproc_test_run_capture(const char *path, const char *const *argv,
                           const char *out_path, int *exitcode);
/* Set (@value NULL: remove) variable @name of the environment that
 * programs started from now on inherit. Returns 0 or -1. */
int mproc_test_setenv(const char *name, const char *value);

/* ---- leak checks (leakcheck.c, used by main.c) ---- */

/* Open descriptors (POSIX) or handles (Windows) of this process, or -1
 * when they cannot be counted. */
long mproc_test_count_handles(void);
/* Find child processes of this process that a test left behind: zombies
 * and live children other than the mproc forkserver. Describes them in
 * @msg; when @kill_them, SIGKILLs the live ones so that later tests are
 * not disturbed. Returns how many were found (0 where the platform has
 * no way to list children). */
int mproc_test_stray_children(char *msg, size_t cap, int kill_them);
/* The children alive now live as long as the program (Open MPI's daemon,
 * started by the MPI pool's spawn mode): stray checks leave them out. */
void mproc_test_keep_children(void);

#endif /* MPROC_TEST_HARNESS_H */
