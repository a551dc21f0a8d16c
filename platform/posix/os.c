/*
 * POSIX backend: the OS facts a ported program asks for (the parent's id,
 * sleeping), behind mproc_getppid() and mproc_sleep().
 */
#include <errno.h>
#include <time.h>
#include <unistd.h>

#include "posix.h"

long mproc__plat_getppid(void)
{
  return (long)getppid();
}

void mproc__plat_sleep(double seconds)
{
  double deadline = mproc__plat_now() + seconds;
  double left = seconds;

  /* Resumed after a signal: time.sleep() sleeps its whole time too. */
  while (left > 0) {
    struct timespec ts;
    ts.tv_sec = (time_t)left;
    ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
    if (nanosleep(&ts, NULL) == 0)
      break;
    if (errno != EINTR)
      break;
    left = deadline - mproc__plat_now();
  }
}
