/*
 * The guard (mproc_main), the child's life after bootstrap, and
 * mproc_exit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "platform.h"
#include "pool/backend.h"
#include "process.h"

int mproc__main_called;

/* In a child: its end of the report pipe (see mproc__report_failure). */
static int have_report;
static intptr_t report_handle;

void mproc__report_failure(const char *msg)
{
  size_t len = strlen(msg);

  fprintf(stderr, "Process %s: %s\n",
          mproc_process_name(mproc_current_process()), msg);
  fflush(stderr);
  if (!have_report)
    return;
  have_report = 0;
  (void)mproc__plat_pipe_write(
      report_handle, msg, len > MPROC__REPORT_MAX ? MPROC__REPORT_MAX : len);
  mproc__plat_handle_close(report_handle);
}

int mproc_main(int argc, char **argv)
{
  int rc;

  if (argv == NULL || argc < 1)
    return mproc__err(MPROC_EINVAL, "mproc_main: pass main()'s argc, argv");
  mproc__main_called = 1;
  /* In a spawned child or the forkserver this does not return. */
  rc = mproc__plat_main(argc, argv);
  /* Under mpirun, the serving ranks stay in there (pool/backend.h). */
  if (rc == 0 && mproc__pool_mpi_backend != NULL)
    rc = mproc__pool_mpi_backend->main(argc, argv);
  return rc;
}

/* Bootstrap failures are reported on stderr with a distinct exit code:
 * the parent sees the code, a person reads the reason. */
static MPROC__NORETURN void die(int code, const char *what)
{
  char msg[700];

  snprintf(msg, sizeof msg, "%s: %s", what, mproc_last_error());
  fprintf(stderr, "mproc: child process cannot start: %s\n", msg);
  if (have_report)
    (void)mproc__plat_pipe_write(report_handle, msg, strlen(msg));
  mproc__plat_exit_now(code);
}

void mproc__boot_fail(const char *why)
{
  fprintf(stderr,
          "mproc: child process cannot start: bootstrap message %s: %s\n", why,
          mproc_last_error());
  mproc__plat_exit_now(MPROC_EXIT_BOOTSTRAP);
}

static MPROC__NORETURN void run_payload(const void *payload, size_t len)
{
  mproc__boot_t b;

  if (mproc__boot_decode(payload, len, &b) != 0)
    mproc__boot_fail("is corrupted");
  mproc__child_run(&b);
}

void mproc__boot_from_reader(int (*read_all)(void *ctx, void *buf, size_t len),
                             void *ctx)
{
  unsigned char hdr[MPROC__BOOT_HDR];
  uint64_t len;
  void *payload;

  if (read_all(ctx, hdr, sizeof hdr) != 0) {
    mproc__err(MPROC_ECODEC, "header: end of data");
    mproc__boot_fail("is truncated");
  }
  if (mproc__boot_header(hdr, &len) != 0)
    mproc__boot_fail("is corrupted");
  payload = malloc(len ? (size_t)len : 1);
  if (payload == NULL) {
    mproc__err(MPROC_ENOMEM, "%llu bytes", (unsigned long long)len);
    mproc__boot_fail("does not fit in memory");
  }
  if (read_all(ctx, payload, (size_t)len) != 0) {
    mproc__err(MPROC_ECODEC, "payload of %llu bytes: end of data",
               (unsigned long long)len);
    mproc__boot_fail("is truncated");
  }
  run_payload(payload, (size_t)len);
}

void mproc__boot_from_mem(const void *buf, size_t len)
{
  uint64_t plen;

  if (len < MPROC__BOOT_HDR) {
    mproc__err(MPROC_ECODEC, "%zu bytes, shorter than its header", len);
    mproc__boot_fail("is truncated");
  }
  if (mproc__boot_header(buf, &plen) != 0)
    mproc__boot_fail("is corrupted");
  if (plen != len - MPROC__BOOT_HDR) {
    mproc__err(MPROC_ECODEC, "header says %llu bytes, got %zu",
               (unsigned long long)plen, len - MPROC__BOOT_HDR);
    mproc__boot_fail("is truncated");
  }
  run_payload((const char *)buf + MPROC__BOOT_HDR, (size_t)plen);
}

void mproc__child_run(mproc__boot_t *b)
{
  mproc_target_fn fn = b->fn;
  mproc_args_t *args = NULL;
  int rc;

  mproc__plat_child_setup((mproc_start_method_t)b->method, b->daemon,
                          b->parent_pid);
  /* Taken for good: a child of this child must not inherit it. */
  have_report = b->has_report;
  report_handle = b->report;
  if (have_report)
    mproc__plat_handle_own(report_handle);
  mproc__log_inherit(b->log_level);
  if (mproc__become(b) != 0)
    die(MPROC_EXIT_BOOTSTRAP, "setting up the process");
  if (fn == NULL)
    fn = mproc__target_lookup(b->target);
  if (fn == NULL) {
    mproc__err(MPROC_ENOTREG,
               "target '%s' is not registered in this program; define it "
               "with MPROC_TARGET(%s)",
               b->target, b->target);
    die(MPROC_EXIT_NOTARGET, "unknown target");
  }
  if (mproc__args_new(&args, b->args, b->args_len, b->kwargs, b->kwargs_len) !=
      0)
    die(MPROC_EXIT_BOOTSTRAP, "bad arguments");
  /* Under fork the handles are the parent's descriptors, which the
   * child's copies of the parent's objects use too. */
  mproc__args_adopt_objs(args, b->objs, b->nobjs, b->method != MPROC_FORK);
  b->objs = NULL;
  b->nobjs = 0;
  MPROC__LOG(MPROC_LOG_INFO, "child process calling target %s",
             b->target ? b->target : "(an unregistered function)");
  rc = fn(args);
  /* A target that failed with mproc_fail() says why, as an uncaught
   * exception prints "Process NAME:" and its traceback in CPython. */
  if (rc != 0 && mproc__current_failure() != NULL)
    mproc__report_failure(mproc__current_failure());
  mproc__args_free(args);
  mproc_exit(rc);
}

void mproc_exit(int code)
{
  mproc_process_t *self = mproc_current_process();

  if (!self->is_child)
    exit(code); /* the atexit hook does the cleanup */
  mproc__exit_cleanup();
  MPROC__LOG(MPROC_LOG_INFO, "process exiting with exitcode %d", code);
  mproc__plat_exit_now(code);
}
