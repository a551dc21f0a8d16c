/*
 * Pool backends other than the local one plug in here. The core never
 * links them: a backend library (lib/mpi/, libmproc_mpi) sets
 * mproc__pool_mpi_backend from a constructor, and mproc_main() and
 * mproc_pool_create() use it when it is set.
 */
#ifndef MPROC__POOL_BACKEND_H
#define MPROC__POOL_BACKEND_H

#include "transport.h"

typedef struct mproc__pool_backend {
  /* From mproc_main(), after the start-method guard: 0 to go on with
   * main() (rank 0, or not an MPI launch); on a serving rank it does not
   * return. */
  int (*main)(int argc, char **argv);
  /* Whether pools can run there (launched with worker ranks). */
  int (*active)(void);
  /* The default number of workers (one per serving rank). */
  int (*workers)(void);
  /* A transport over the serving ranks; its initializer ran on each of
   * them (a failure anywhere fails this). */
  int (*create)(mproc__pool_tr_t **out, const mproc__pool_tr_config_t *cfg);
} mproc__pool_backend_t;

extern const mproc__pool_backend_t *mproc__pool_mpi_backend;

/* The backend a pool gets for options' @backend (resolving 0 through
 * MPROC_POOL_BACKEND and the launch): MPROC_POOL_BACKEND_LOCAL or _MPI,
 * or an error. */
int mproc__pool_backend_pick(int backend);

/* The registered targets' names (registry.c), up to @cap of them into
 * @names; how many there are. */
size_t mproc__target_names(const char **names, size_t cap);

#endif /* MPROC__POOL_BACKEND_H */
