/*
 * libmproc_mpi's entry: plugs the MPI pool backend into the core
 * (pool/backend.h) from a constructor, so that a program linked with it
 * needs no other change. The mproc_mpi CMake target makes the linker
 * keep this file (-u mproc__mpi_plugin).
 *
 * Under mpirun, mproc_main() comes here: MPI starts, the ranks compare
 * their registered targets, rank 0 goes back to main() and every other
 * rank serves pool tasks until rank 0 exits, then finalizes and exits.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wire.h"

extern int mproc__mpi_rank, mproc__mpi_size;
extern char mproc__mpi_bad[1024];
int mproc__mpi_create(mproc__pool_tr_t **out,
                      const mproc__pool_tr_config_t *cfg);
int mproc__mpi_root_stop(double grace);

int mproc__mpi_plugin = 1;
static int we_init; /* MPI_Init was ours (so is MPI_Finalize) */
static pid_t root_pid;

static int launched(void)
{
  return getenv("OMPI_COMM_WORLD_SIZE") != NULL ||
         getenv("PMIX_RANK") != NULL || getenv("PMI_SIZE") != NULL;
}

static int by_name(const void *a, const void *b)
{
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The registered names, sorted, one per line (malloc'd). */
static char *names_blob(size_t *len)
{
  size_t n = mproc__target_names(NULL, 0), total = 0;
  const char **v = malloc((n > 0 ? n : 1) * sizeof *v);
  char *b;

  if (v == NULL)
    return NULL;
  mproc__target_names(v, n);
  qsort(v, n, sizeof *v, by_name);
  for (size_t i = 0; i < n; i++)
    total += strlen(v[i]) + 1;
  if ((b = malloc(total + 1)) != NULL) {
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
      size_t l = strlen(v[i]);
      memcpy(b + at, v[i], l);
      b[at + l] = '\n';
      at += l + 1;
    }
    b[at] = '\0';
    *len = at;
  }
  free(v);
  return b;
}

/* The first line of @a that @b lacks, into @out. */
static int missing(const char *a, const char *b, char *out, size_t cap)
{
  for (const char *p = a; *p != '\0';) {
    const char *e = strchr(p, '\n');
    size_t l = (size_t)(e - p);
    int found = 0;
    for (const char *q = b; *q != '\0' && !found;) {
      const char *f = strchr(q, '\n');
      found = (size_t)(f - q) == l && memcmp(p, q, l) == 0;
      q = f + 1;
    }
    if (!found) {
      snprintf(out, cap, "%.*s", (int)(l < cap - 1 ? l : cap - 1), p);
      return 1;
    }
    p = e + 1;
  }
  return 0;
}

/* Every rank compares its registered targets with rank 0's, exactly (the
 * sorted names, not a hash of them); rank 0 learns the first difference. */
static void registry_check(void)
{
  size_t len = 0;
  char *mine = names_blob(&len), *root = NULL, msg[320] = "", *all = NULL;
  unsigned long long rl = len;
  char name[201];

  if (mine == NULL)
    snprintf(msg, sizeof msg, "out of memory on rank %d", mproc__mpi_rank);
  MPI_Bcast(&rl, 1, MPI_UNSIGNED_LONG_LONG, 0, mproc__mpi_comm);
  root = mproc__mpi_rank == 0 ? mine : malloc((size_t)rl + 1);
  if (root == NULL || (mine == NULL && mproc__mpi_rank == 0)) {
    /* The collectives below need every rank: this one cannot go on. */
    fprintf(stderr, "mproc: MPI rank %d: out of memory at start-up\n",
            mproc__mpi_rank);
    MPI_Abort(mproc__mpi_comm, 1);
  }
  MPI_Bcast(root, (int)rl, MPI_CHAR, 0, mproc__mpi_comm);
  root[rl] = '\0';
  if (msg[0] == '\0' && mine != NULL && root != NULL &&
      strcmp(mine, root) != 0) {
    if (missing(root, mine, name, sizeof name))
      snprintf(msg, sizeof msg, "'%s' is registered on rank 0, not on rank %d",
               name, mproc__mpi_rank);
    else if (missing(mine, root, name, sizeof name))
      snprintf(msg, sizeof msg, "'%s' is registered on rank %d, not on rank 0",
               name, mproc__mpi_rank);
    else
      snprintf(msg, sizeof msg, "rank %d registered other targets",
               mproc__mpi_rank);
  }
  if (mproc__mpi_rank == 0)
    all = calloc((size_t)mproc__mpi_size, sizeof msg);
  MPI_Gather(msg, sizeof msg, MPI_CHAR, all, sizeof msg, MPI_CHAR, 0,
             mproc__mpi_comm);
  if (mproc__mpi_rank == 0) {
    for (int r = 1; all != NULL && r < mproc__mpi_size; r++)
      if (all[(size_t)r * sizeof msg] != '\0' && mproc__mpi_bad[0] == '\0')
        snprintf(mproc__mpi_bad, sizeof mproc__mpi_bad,
                 "the MPI ranks' registered targets differ (not the same "
                 "program on every rank?): %s",
                 all + (size_t)r * sizeof msg);
    if (all == NULL)
      snprintf(mproc__mpi_bad, sizeof mproc__mpi_bad, "out of memory");
  }
  free(all);
  if (root != mine)
    free(root);
  free(mine);
}

static double exit_grace(void)
{
  const char *e = getenv("MPROC_MPI_EXIT_GRACE");
  double g = e != NULL ? strtod(e, NULL) : 10.0;

  return g >= 0 ? g : 10.0;
}

/* Rank 0's exit, after the pools' own exit handler ended them: stop the
 * serving ranks, then finalize. */
static void root_exit(void)
{
  if (getpid() != root_pid)
    return; /* a forked child of rank 0 */
  if (mproc__mpi_root_stop(exit_grace()) != 0) {
    fprintf(stderr,
            "mproc: MPI ranks still busy with a task %g s after the program "
            "ended (MPROC_MPI_EXIT_GRACE); ending the MPI job\n",
            exit_grace());
    fflush(stdout);
    fflush(stderr);
    /* Not MPI_Abort: Open MPI 4.1's mpirun can hang after it. A rank 0
     * that ends without MPI_Finalize makes mpirun end every rank. */
    _exit(1);
  }
  if (we_init)
    MPI_Finalize();
}

static int mpi_main(int argc, char **argv)
{
  const char *env = getenv("MPROC_POOL_BACKEND");
  int inited = 0, prov = 0;

  if ((env != NULL && strcmp(env, "local") == 0) || !launched())
    return 0;
  MPI_Initialized(&inited);
  if (!inited) {
    if (MPI_Init_thread(&argc, &argv, MPI_THREAD_SERIALIZED, &prov) !=
        MPI_SUCCESS)
      return mproc__err(MPROC_EOS, "MPI_Init_thread failed");
    we_init = 1;
  } else {
    MPI_Query_thread(&prov);
  }
  mproc__mpi_comm = MPI_COMM_WORLD;
  MPI_Comm_rank(mproc__mpi_comm, &mproc__mpi_rank);
  MPI_Comm_size(mproc__mpi_comm, &mproc__mpi_size);
  registry_check();
  if (mproc__mpi_rank == 0) {
    if (prov < MPI_THREAD_SERIALIZED && mproc__mpi_bad[0] == '\0')
      snprintf(mproc__mpi_bad, sizeof mproc__mpi_bad,
               "this MPI gives no MPI_THREAD_SERIALIZED (the pool talks to "
               "MPI from its own thread)");
    root_pid = getpid();
    atexit(root_exit);
    return 0;
  }
  mproc__mpi_serve();
  if (we_init)
    MPI_Finalize();
  exit(0);
}

static int mpi_active(void)
{
  return mproc__mpi_rank == 0 && mproc__mpi_size >= 2;
}

static int mpi_workers(void)
{
  return mproc__mpi_size - 1;
}

static const mproc__pool_backend_t backend = {mpi_main, mpi_active, mpi_workers,
                                              mproc__mpi_create};

__attribute__((constructor)) static void plug(void)
{
  mproc__pool_mpi_backend = &backend;
}
