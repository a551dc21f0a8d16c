/*
 * Whole programs for the MPI backend's tests (test_pool_mpi.c), each run
 * by mpirun:
 *
 *   mproc_mpi_helper mismatch  ranks 1.. register a target rank 0 lacks:
 *                              creating a pool fails with MPROC_ENOTREG
 *   mproc_mpi_helper exit      returns from main with a pool running
 *   mproc_mpi_helper hang      exits while a rank runs a task that never
 *                              returns (ends after MPROC_MPI_EXIT_GRACE)
 *   mproc_mpi_helper nomain    asks for an MPI pool without mproc_main()
 *
 * or alone (spawn mode: it starts its serving ranks itself). With
 * MPROC_HELPER_PIDS=FILE every serving rank's initializer appends its
 * pid to FILE.
 *
 * It prints what it saw on one line; the test reads it.
 */
#include <mproc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

MPROC_TARGET(h_sqr)
{
  int x;

  if (mproc_args_parse(args, "i", &x) != 0)
    return 1;
  return mproc_return("i", x * x);
}

/* Creates the file it is given (it runs), then never returns. */
MPROC_TARGET(h_forever)
{
  const char *path;
  FILE *f;

  if (mproc_args_parse(args, "s", &path) != 0)
    return 1;
  if ((f = fopen(path, "w")) != NULL)
    fclose(f);
  for (;;)
    mproc_sleep(1.0);
  return 0;
}

/* Appends this process's pid to the file it is given. */
MPROC_TARGET(h_note_pid)
{
  const char *path;
  FILE *f;

  if (mproc_args_parse(args, "s", &path) != 0 || (f = fopen(path, "a")) == NULL)
    return 1;
  fprintf(f, "%ld\n", (long)getpid());
  return fclose(f) == 0 ? 0 : 1;
}

static int h_extra(mproc_args_t *args)
{
  (void)args;
  return 0;
}

static int sum_squares(mproc_pool_t *p, int n, long *sum)
{
  mproc_items_t *it = NULL;
  mproc_args_t *r = NULL;
  int rc = mproc_items_create(&it);

  for (int i = 0; rc == 0 && i < n; i++)
    rc = mproc_items_add(it, "i", i);
  if (rc == 0)
    rc = mproc_pool_map(p, &r, h_sqr, it, 0);
  *sum = 0;
  for (int i = 0; rc == 0 && i < n; i++) {
    int64_t v = 0;
    rc = mproc_value_int(mproc_args_at(r, (size_t)i), &v);
    *sum += (long)v;
  }
  mproc_args_free(r);
  mproc_items_free(it);
  return rc;
}

int main(int argc, char **argv)
{
  const char *mode = argc > 1 ? argv[1] : "";
  const char *rank = getenv("OMPI_COMM_WORLD_RANK");
  mproc_pool_options_t o = {.backend = MPROC_POOL_BACKEND_MPI};
  mproc_pool_t *p = NULL;
  mproc_async_t *a = NULL;
  long sum = 0;
  int rc;

  if (strcmp(mode, "mismatch") == 0 && rank != NULL && strcmp(rank, "0") != 0)
    mproc_register("h_extra_on_servers", h_extra);
  if (strcmp(mode, "nomain") == 0) {
    rc = mproc_pool_create(&p, &o);
    printf("create: %s: %s\n", mproc_strerror(rc),
           rc != 0 ? mproc_last_error() : "");
    mproc_pool_free(p);
    return 0;
  }
  if (mproc_main(argc, argv) != 0) {
    printf("mproc_main: %s\n", mproc_last_error());
    return 2;
  }
  if (getenv("MPROC_HELPER_PROCESSES") != NULL)
    o.processes = atoi(getenv("MPROC_HELPER_PROCESSES"));
  if (getenv("MPROC_HELPER_PIDS") != NULL) {
    o.initializer = h_note_pid;
    o.initargs = "s";
  }
  rc = mproc_pool_create(&p, &o, getenv("MPROC_HELPER_PIDS"));
  if (strcmp(mode, "mismatch") == 0) {
    printf("create: %s: %s\n", mproc_strerror(rc),
           rc != 0 ? mproc_last_error() : "");
    mproc_pool_free(p);
    return 0;
  }
  if (rc != 0) {
    printf("create: %s: %s\n", mproc_strerror(rc), mproc_last_error());
    return 1;
  }
  if (strcmp(mode, "exit") == 0) {
    rc = sum_squares(p, 1000, &sum);
    printf("sum %ld rc %d\n", sum, rc);
    fflush(stdout);
    return 0; /* the pool still runs: exit stops it and the ranks */
  }
  if (strcmp(mode, "hang") == 0) {
    /* The map first: tasks queued behind one that never returns wait
     * for it on its rank (a sent task is not taken back). */
    rc = sum_squares(p, 100, &sum);
    printf("sum %ld rc %d\n", sum, rc);
    /* Exit once it runs (a task not started yet would be skipped). */
    char path[256];
    snprintf(path, sizeof path, "/tmp/mproc-mpi-hang-%ld", (long)getpid());
    rc = mproc_pool_apply_async(p, &a, NULL, h_forever, "s", path);
    for (int i = 0; i < 6000 && rc == 0 && access(path, F_OK) != 0; i++)
      mproc_sleep(0.01);
    remove(path);
    printf("submitted: %d\n", rc);
    fflush(stdout);
    return 0;
  }
  printf("unknown mode '%s'\n", mode);
  return 2;
}
