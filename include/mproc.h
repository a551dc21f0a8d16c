/**
 * @file mproc.h
 * @brief mproc: Python's multiprocessing model for C, on Linux and Windows.
 *
 * A program defines targets with MPROC_TARGET, calls mproc_main() first
 * thing in main() (the C form of `if __name__ == '__main__':`), and then
 * starts child processes that run those targets with arguments.
 *
 * Every function that can fail returns 0 or a negative MPROC_E* code; the
 * detail of the last error of the calling thread is in mproc_last_error().
 * Nothing in the library aborts or exits the caller's process, except
 * mproc_main() in a spawned child (it runs the target, then exits) and
 * mproc_exit().
 *
 * Where mproc differs from CPython it says so in the comment of the
 * function concerned, under "Differs from CPython".
 */
#ifndef MPROC_H
#define MPROC_H

/* The library is compiled with hidden visibility (-fvisibility=hidden):
 * what the parts included here declare, and only that, is exported from
 * libmproc.so. A part added below is exported with no further mark. The
 * abi check (scripts/check-exports.sh, run by the consumer legs and by
 * ctest as abi.exports) fails when a declared function is missing from
 * the exports or an undeclared one leaks into them. Library sources
 * include <mproc.h> before any part, so that this is the first
 * declaration the compiler sees. */
#if defined(__GNUC__) && defined(__ELF__)
#pragma GCC visibility push(default)
#endif

#include "mproc/args.h"
#include "mproc/connection.h"
#include "mproc/error.h"
#include "mproc/listener.h"
#include "mproc/log.h"
#include "mproc/manager.h"
#include "mproc/object.h"
#include "mproc/pool.h"
#include "mproc/process.h"
#include "mproc/queue.h"
#include "mproc/shared.h"
#include "mproc/sync.h"
#include "mproc/version.h"

#if defined(__GNUC__) && defined(__ELF__)
#pragma GCC visibility pop
#endif

#endif /* MPROC_H */
