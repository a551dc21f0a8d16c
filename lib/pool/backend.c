/*
 * The choice between the local pool backend and a plugged-in one (MPI).
 */
#include <stdlib.h>
#include <string.h>

#include "backend.h"

const mproc__pool_backend_t *mproc__pool_mpi_backend;

int mproc__pool_backend_pick(int backend)
{
  const mproc__pool_backend_t *b = mproc__pool_mpi_backend;
  const char *env = getenv("MPROC_POOL_BACKEND");

  if (backend == MPROC_POOL_BACKEND_DEFAULT && env != NULL && env[0] != '\0') {
    if (strcmp(env, "local") == 0)
      backend = MPROC_POOL_BACKEND_LOCAL;
    else if (strcmp(env, "mpi") == 0)
      backend = MPROC_POOL_BACKEND_MPI;
    else
      return mproc__err(MPROC_EINVAL, "MPROC_POOL_BACKEND=%s: use local or mpi",
                        env);
  }
  if (backend == MPROC_POOL_BACKEND_DEFAULT)
    backend = b != NULL && b->active() ? MPROC_POOL_BACKEND_MPI
                                       : MPROC_POOL_BACKEND_LOCAL;
  if (backend == MPROC_POOL_BACKEND_LOCAL)
    return backend;
  if (backend != MPROC_POOL_BACKEND_MPI)
    return mproc__err(MPROC_EINVAL, "Pool: unknown backend %d", backend);
  if (b == NULL)
    return mproc__err(MPROC_ENOSYS,
                      "Pool: the MPI backend needs the program linked with "
                      "mproc_mpi (build with -DMPROC_WITH_MPI=ON)");
  return backend;
}
