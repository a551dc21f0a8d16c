/*
 * The OS calls the seeds' programs use, portably: os.getpid(),
 * os.getppid(), time.sleep(), time.monotonic().
 */
#include "internal.h"
#include "platform.h"

long mproc_getpid(void)
{
  return mproc__plat_getpid();
}

long mproc_getppid(void)
{
  mproc_process_t *parent = mproc_parent_process();

  /* In an mproc child, the process that started it, whichever way it was
   * started (a forkserver child's OS parent is the server). */
  if (parent != NULL)
    return mproc_process_pid(parent);
  return mproc__plat_getppid();
}

void mproc_sleep(double seconds)
{
  /* NaN and negative times sleep not at all; inf sleeps "forever". */
  if (seconds > 0)
    mproc__plat_sleep(seconds);
}

double mproc_monotonic(void)
{
  return mproc__plat_now();
}
