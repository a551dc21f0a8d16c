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

#endif /* MPROC_H */
