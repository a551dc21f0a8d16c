/*
 * libmproc_mpi's entry: plugs the MPI pool backend into the core
 * (pool/backend.h) from a constructor, so that a program linked with it
 * needs no other change. The mproc_mpi CMake target makes the linker
 * keep this file (-u mproc__mpi_plugin).
 *
 * Under mpirun, mproc_main() comes here: MPI starts, the ranks compare
 * their registered targets, rank 0 goes back to main() and every other
 * rank serves pool tasks until rank 0 exits, then finalizes and exits.
 *
 * Spawn mode, as mpi4py.futures without its -m launcher: a program run
 * alone (or by mpirun -n 1) that asks for an MPI pool starts MPI then,
 * and MPI_Comm_spawn starts copies of it that serve (MPROC_MPI_SPAWN of
 * them, or the pool's worker count, once: later pools share them, as
 * they share the ranks of mpirun -n N). A spawned copy comes here from its own
 * mproc_main(), merges with its parent (rank 0 of the merged communicator) and
 * serves.
 */
#include <ifaddrs.h>
#include <net/if.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "posix.h"
#include "wire.h"

extern int mproc__mpi_rank, mproc__mpi_size;
extern char mproc__mpi_bad[1024];
int mproc__mpi_create(mproc__pool_tr_t **out,
                      const mproc__pool_tr_config_t *cfg);
int mproc__mpi_root_stop(double grace);

int mproc__mpi_plugin = 1;
static int we_init; /* MPI_Init was ours (so is MPI_Finalize) */
static pid_t root_pid;
static int saved_argc; /* mproc_main()'s, for the spawned copies */
static char **saved_argv;
static int spawned; /* spawn mode: rank 0 started the serving ranks */
static pthread_mutex_t spawn_mu = PTHREAD_MUTEX_INITIALIZER;

/* Spawn mode: each rank's pid and host, told at start-up, so that rank 0
 * sees a rank on its machine die (Open MPI 4.1 tells the parent of a
 * spawn nothing: it would wait for that rank's results for ever). */
typedef struct whois {
  long long pid;
  char host[256];
} whois_t;
static whois_t *ranks_who; /* [size], on rank 0 */

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

/* Every rank tells rank 0 its pid and host (spawn mode). */
static void gather_whois(void)
{
  whois_t me = {.pid = (long long)getpid()};

  (void)gethostname(me.host, sizeof me.host - 1);
  if (mproc__mpi_rank == 0)
    ranks_who = calloc((size_t)mproc__mpi_size, sizeof *ranks_who);
  /* Rank 0 without memory still takes part (into its own record). */
  MPI_Gather(&me, (int)sizeof me, MPI_BYTE,
             ranks_who != NULL ? (void *)ranks_who : (void *)&me,
             ranks_who != NULL ? (int)sizeof me : 0, MPI_BYTE, 0,
             mproc__mpi_comm);
}

/* Whether spawned @rank runs on this machine (its pid means something). */
static int local_rank(int rank)
{
  return spawned && ranks_who != NULL && rank >= 1 && rank < mproc__mpi_size &&
         strcmp(ranks_who[rank].host, ranks_who[0].host) == 0;
}

int mproc__mpi_rank_gone(int rank, long *pid)
{
  if (!local_rank(rank))
    return 0; /* under mpirun, or on another machine: cannot tell */
  *pid = (long)ranks_who[rank].pid;
  /* A zombie waiting for Open MPI's daemon to reap it is gone too. */
  return mproc__posix_pid_ended(*pid);
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
  int rc;

  if (getpid() != root_pid)
    return; /* a forked child of rank 0 */
  rc = mproc__mpi_root_stop(exit_grace());
  if (rc == -2) {
    /* Spawned ranks died during the run (their pools said so): there is
     * nobody to stop, and MPI_Finalize would wait for them. */
    fprintf(stderr, "mproc: MPI ranks died during the run; MPI is not "
                    "finalized\n");
    return;
  }
  if (rc != 0) {
    fprintf(stderr,
            "mproc: MPI ranks still busy with a task %g s after the program "
            "ended (MPROC_MPI_EXIT_GRACE); ending the MPI job\n",
            exit_grace());
    fflush(stdout);
    fflush(stderr);
    /* Spawn mode: the ranks on this machine end now, not whenever Open
     * MPI's daemon gets to it. */
    for (int r = 1; r < mproc__mpi_size; r++)
      if (local_rank(r) && !mproc__mpi_rank_gone(r, &(long){0}))
        (void)kill((pid_t)ranks_who[r].pid, SIGKILL);
    /* Not MPI_Abort: Open MPI 4.1's mpirun can hang after it. A rank 0
     * that ends without MPI_Finalize makes mpirun end every rank. */
    _exit(1);
  }
  if (we_init)
    MPI_Finalize();
}

/* MPI's error text for @rc. */
static const char *mpi_text(int rc, char *buf, int cap)
{
  int len = 0;

  if (MPI_Error_string(rc, buf, &len) != MPI_SUCCESS || len <= 0)
    snprintf(buf, (size_t)cap, "MPI error %d", rc);
  return buf;
}

static int init_mpi(int *argc, char ***argv)
{
  int inited = 0, prov = 0;

  MPI_Initialized(&inited);
  if (!inited) {
    if (MPI_Init_thread(argc, argv, MPI_THREAD_SERIALIZED, &prov) !=
        MPI_SUCCESS)
      return mproc__err(MPROC_EOS, "MPI_Init_thread failed");
    we_init = 1;
  } else {
    MPI_Query_thread(&prov);
  }
  if (prov < MPI_THREAD_SERIALIZED)
    snprintf(mproc__mpi_bad, sizeof mproc__mpi_bad,
             "this MPI gives no MPI_THREAD_SERIALIZED (the pool talks to "
             "MPI from its own thread)");
  return 0;
}

/* Rank 0 from here on: stop the serving ranks at exit. */
static void become_root(void)
{
  root_pid = getpid();
  atexit(root_exit);
}

/* A serving rank's life: serve, finalize, exit. */
static MPROC__NORETURN void serve_and_exit(void)
{
  mproc__mpi_serve();
  if (we_init)
    MPI_Finalize();
  exit(0);
}

static int mpi_main(int argc, char **argv)
{
  const char *env = getenv("MPROC_POOL_BACKEND");
  MPI_Comm parent = MPI_COMM_NULL;
  int rc;

  saved_argc = argc;
  saved_argv = argv;
  if ((env != NULL && strcmp(env, "local") == 0) || !launched())
    return 0;
  if ((rc = init_mpi(&argc, &argv)) != 0)
    return rc;
  MPI_Comm_get_parent(&parent);
  if (parent != MPI_COMM_NULL) {
    /* Spawned by rank 0 (spawn mode): ranks 1.. of the merged one. */
    MPI_Intercomm_merge(parent, 1, &mproc__mpi_comm);
    MPI_Comm_rank(mproc__mpi_comm, &mproc__mpi_rank);
    MPI_Comm_size(mproc__mpi_comm, &mproc__mpi_size);
    registry_check();
    gather_whois();
    serve_and_exit();
  }
  mproc__mpi_comm = MPI_COMM_WORLD;
  MPI_Comm_rank(mproc__mpi_comm, &mproc__mpi_rank);
  MPI_Comm_size(mproc__mpi_comm, &mproc__mpi_size);
  if (mproc__mpi_size < 2)
    return 0; /* mpirun -n 1: spawn mode, if a pool asks for MPI */
  registry_check();
  if (mproc__mpi_rank == 0) {
    become_root();
    return 0;
  }
  serve_and_exit();
}

/* Open MPI's spawned ranks reach rank 0 over TCP, on a network interface
 * other than loopback unless told: on a machine with none (a container
 * without network) MPI_Comm_spawn fails. There, every rank is on this
 * machine: use loopback, unless the user chose the interfaces. */
static void loopback_if_alone(void)
{
  struct ifaddrs *all, *a;
  int other = 0;

  if (getenv("OMPI_MCA_btl_tcp_if_include") != NULL ||
      getenv("OMPI_MCA_btl_tcp_if_exclude") != NULL ||
      getenv("OMPI_MCA_oob_tcp_if_include") != NULL ||
      getenv("OMPI_MCA_oob_tcp_if_exclude") != NULL || getifaddrs(&all) != 0)
    return;
  for (a = all; a != NULL; a = a->ifa_next)
    if (a->ifa_addr != NULL && (a->ifa_flags & IFF_UP) &&
        !(a->ifa_flags & IFF_LOOPBACK) &&
        (a->ifa_addr->sa_family == AF_INET ||
         a->ifa_addr->sa_family == AF_INET6))
      other = 1;
  freeifaddrs(all);
  if (!other) {
    setenv("OMPI_MCA_btl_tcp_if_include", "lo", 0);
    setenv("OMPI_MCA_oob_tcp_if_include", "lo", 0);
  }
}

/* MPROC_MPI_SPAWN: how many ranks spawn mode starts (0: not set). */
static int spawn_count(void)
{
  const char *env = getenv("MPROC_MPI_SPAWN");
  int n = env != NULL ? atoi(env) : 0;

  return n > 0 && n <= 4096 ? n : 0;
}

/* Spawn mode: start @n copies of this program that serve, once. 0, or
 * why not (MPI's own words). */
int mproc__mpi_spawn(int n)
{
  char exe[4096], text[MPI_MAX_ERROR_STRING];
  int rc = 0, mrc;

  pthread_mutex_lock(&spawn_mu);
  if (spawned || mproc__mpi_size >= 2)
    goto out; /* started already (or mpirun -n N) */
  if (spawn_count() > 0)
    n = spawn_count();
  if (saved_argv == NULL) {
    rc = mproc__err(MPROC_ESTATE,
                    "Pool: the MPI backend starts copies of this program, "
                    "which must call mproc_main(argc, argv) first thing in "
                    "main()");
    goto out;
  }
  /* The file's own path (not proc.c's /proc/self/exe, which Open MPI's
   * daemon would read as its own). */
  ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (len <= 0) {
    rc = mproc__err(MPROC_EOS, "Pool: cannot find this program's file");
    goto out;
  }
  exe[len] = '\0';
  loopback_if_alone();
  if ((rc = init_mpi(&saved_argc, &saved_argv)) != 0)
    goto out;
  MPI_Comm_rank(MPI_COMM_WORLD, &mproc__mpi_rank);
  if (mproc__mpi_rank != 0) {
    rc = mproc__err(MPROC_ESTATE, "Pool: only MPI rank 0 runs pools");
    goto out;
  }
  /* A failing spawn is an error status, not the end of the program. */
  MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN);
  MPI_Info info;
  MPI_Comm inter;
  int *codes = calloc((size_t)n, sizeof *codes);
  MPI_Info_create(&info);
  /* As many copies as the pool wants, whatever the slots (cores) are. */
  MPI_Info_set(info, "map_by", ":OVERSUBSCRIBE");
  mrc = codes == NULL ? MPI_ERR_NO_MEM
                      : MPI_Comm_spawn(exe, saved_argv + 1, n, info, 0,
                                       MPI_COMM_SELF, &inter, codes);
  MPI_Info_free(&info);
  for (int i = 0; mrc == MPI_SUCCESS && i < n; i++)
    if (codes[i] != MPI_SUCCESS)
      mrc = codes[i];
  free(codes);
  if (mrc != MPI_SUCCESS) {
    rc = mproc__err(MPROC_EOS, "Pool: MPI_Comm_spawn of %d copies of %s: %s", n,
                    exe, mpi_text(mrc, text, sizeof text));
    goto out;
  }
  MPI_Intercomm_merge(inter, 0, &mproc__mpi_comm);
  MPI_Comm_free(&inter);
  MPI_Comm_rank(mproc__mpi_comm, &mproc__mpi_rank);
  MPI_Comm_size(mproc__mpi_comm, &mproc__mpi_size);
  registry_check();
  spawned = 1;
  gather_whois();
  become_root();
out:
  pthread_mutex_unlock(&spawn_mu);
  return rc;
}

/* Under mpirun -n N (N >= 2) pools go to the ranks unless told not to;
 * in spawn mode only those that ask for MPI. */
static int mpi_active(void)
{
  return !spawned && mproc__mpi_rank == 0 && mproc__mpi_size >= 2;
}

/* One worker per serving rank; before spawn mode started them, as many as
 * a local pool's. */
static int mpi_workers(void)
{
  if (mproc__mpi_size >= 2)
    return mproc__mpi_size - 1;
  if (spawn_count() > 0)
    return spawn_count();
  return mproc_cpu_count() > 0 ? mproc_cpu_count() : 1;
}

static const mproc__pool_backend_t backend = {mpi_main, mpi_active, mpi_workers,
                                              mproc__mpi_create};

__attribute__((constructor)) static void plug(void)
{
  mproc__pool_mpi_backend = &backend;
}
