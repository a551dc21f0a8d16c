/*
 * Private declarations of the Windows backend.
 */
#ifndef MPROC_WIN32_H
#define MPROC_WIN32_H

#include "platform.h"

/* The marker argument of a spawned child: the inherited pipe handle. */
#define MPROC__SPAWN_ARG "--mproc-spawn="

/* Map a process exit code to CPython's convention (-N for "signal" N). */
int mproc__win_exitcode(unsigned long code);

#endif /* MPROC_WIN32_H */
