/*
 * The fault-injection seam (SQLite's discipline). Every OS call a backend
 * makes goes through a thin wrapper (platform/posix/os.h,
 * platform/win32/os.h). In a build with MPROC_FAULT_INJECTION defined, a
 * test can arm the seam so that the Nth wrapped call from then on fails
 * the way that call really fails: a hard failure gives the call's
 * realistic error (EMFILE for a descriptor, ENOMEM for a mapping, EAGAIN
 * for fork, a reset for a read...), a soft one what a correct caller
 * must absorb without a trace (EINTR, a short read or write). In any
 * other build the wrappers are the plain calls and this costs nothing.
 *
 * Only the process (and thread group) that armed the seam is affected:
 * a forked child sees it disarmed. Private to the library and its tests.
 */
#ifndef MPROC__FAULT_H
#define MPROC__FAULT_H

/* What a wrapper is told to do. */
enum {
  MPROC__FAULT_NONE = 0, /* make the call */
  MPROC__FAULT_FAIL,     /* fail with the call's hard error */
  MPROC__FAULT_INTR,     /* fail as interrupted (EINTR) */
  MPROC__FAULT_SHORT     /* transfer fewer bytes than asked (at most 1) */
};

/* Which soft failure a call can have, for the wrapper to declare. */
enum {
  MPROC__SOFT_NONE = 0, /* none: the call is not counted in soft mode */
  MPROC__SOFT_INTR,     /* may be interrupted */
  MPROC__SOFT_SHORT     /* may transfer less (and be interrupted) */
};

#ifdef MPROC_FAULT_INJECTION

/* Count a call to @call and say what to do (MPROC__FAULT_*). @soft is
 * the call's MPROC__SOFT_* form. */
int mproc__fault(const char *call, int soft);

/* Arm: the @nth counted call from now fails (hard when @soft is 0,
 * softly otherwise; in soft mode only calls with a soft form count).
 * Disarm, and learn how many calls were counted and which one failed
 * (NULL when the armed call never came). */
void mproc__fault_arm(long nth, int soft);
long mproc__fault_disarm(const char **failed);

#define MPROC__FAULT(call, soft) mproc__fault(call, soft)

#else

#define MPROC__FAULT(call, soft) ((void)(call), (void)(soft), MPROC__FAULT_NONE)

#endif /* MPROC_FAULT_INJECTION */

#endif /* MPROC__FAULT_H */
