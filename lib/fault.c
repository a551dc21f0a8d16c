/*
 * The fault-injection seam's counter (see fault.h). Compiled into every
 * build; it has a body only in a fault-injection build.
 */
#include "fault.h"

#ifdef MPROC_FAULT_INJECTION

#include <stdatomic.h>
#include <stddef.h>

#include "platform.h"

static atomic_long armed_pid;   /* 0: disarmed */
static atomic_long calls;       /* counted since armed */
static long target;             /* the call that fails */
static int soft_mode;           /* the kind of failure */
static const char *_Atomic hit; /* the call that failed */

int mproc__fault(const char *call, int soft)
{
  long pid = atomic_load(&armed_pid);

  if (pid == 0 || (soft_mode && soft == MPROC__SOFT_NONE))
    return MPROC__FAULT_NONE;
  /* A forked child (or anything else that is not the armed process)
   * runs untouched. */
  if (pid != mproc__plat_getpid())
    return MPROC__FAULT_NONE;
  if (atomic_fetch_add(&calls, 1) + 1 != target)
    return MPROC__FAULT_NONE;
  atomic_store(&hit, call);
  if (!soft_mode)
    return MPROC__FAULT_FAIL;
  return soft == MPROC__SOFT_SHORT ? MPROC__FAULT_SHORT : MPROC__FAULT_INTR;
}

void mproc__fault_arm(long nth, int soft)
{
  atomic_store(&armed_pid, 0);
  atomic_store(&calls, 0);
  atomic_store(&hit, NULL);
  target = nth;
  soft_mode = soft;
  atomic_store(&armed_pid, mproc__plat_getpid());
}

long mproc__fault_disarm(const char **failed)
{
  atomic_store(&armed_pid, 0);
  if (failed != NULL)
    *failed = atomic_load(&hit);
  return atomic_load(&calls);
}

#else

/* ISO C wants something in a translation unit. */
typedef int mproc__fault_unused_t;

#endif /* MPROC_FAULT_INJECTION */
