/**
 * @file mproc/process.h
 * @brief Start methods, the guard, and processes.
 *
 * Part of the public API; include <mproc.h>, which includes every part.
 */
#ifndef MPROC_PROCESS_H
#define MPROC_PROCESS_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "mproc/args.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @defgroup mproc-process Process and start methods
 * @brief The Process class, contexts and start methods, the
 * `if __name__ == '__main__':` guard.
 * @{
 */

/** How a child process is created. */
typedef enum mproc_start_method {
  MPROC_FORK = 1,      /**< POSIX fork(); the child calls the target. */
  MPROC_SPAWN = 2,     /**< Re-execute the program (the only one on Windows). */
  MPROC_FORKSERVER = 3 /**< A clean server process forks on request (POSIX). */
} mproc_start_method_t;

/** A start method to create processes with (CPython's get_context). */
typedef struct mproc_context mproc_context_t;

/**
 * The context of @p method ("fork", "spawn", "forkserver"; NULL for the
 * default). Contexts are static: never freed.
 *
 * @param method a method's name, or NULL for the default method.
 * @return the context; NULL (MPROC_EINVAL / MPROC_ENOSYS in mproc_last_error())
 * for an unknown method or one this platform lacks.
 */
const mproc_context_t *mproc_get_context(const char *method);

/**
 * The start method of a context.
 * @param ctx a context (NULL: the default one).
 * @return its method.
 */
mproc_start_method_t mproc_context_method(const mproc_context_t *ctx);

/**
 * Name of a start method.
 * @param method the method.
 * @return "fork", "spawn", "forkserver"; "unknown" for another value.
 */
const char *mproc_start_method_name(mproc_start_method_t method);

/**
 * Set the program's default start method (CPython's set_start_method).
 * Setting it a second time is MPROC_ESTATE unless @p force. A NULL
 * @p method with @p force resets to the platform default (and lets the
 * program set it again); without force it fixes the current default.
 * The environment variable MPROC_START_METHOD, read when the default is
 * first needed, overrides what the program sets, so that a program or
 * test suite can run under another method without a code change.
 *
 * @param method "fork", "spawn" or "forkserver"; NULL (see above).
 * @param force set it even when it was set before.
 * @return 0; MPROC_EINVAL/MPROC_ENOSYS for a bad method; MPROC_ESTATE.
 */
int mproc_set_start_method(const char *method, int force);

/**
 * The default start method. Linux: forkserver (as CPython 3.14): fork is
 * unsafe once threads exist, and mproc's pool and queue use threads.
 * Windows: spawn. In a child: the method it was started with (CPython's
 * get_start_method() in a child), which is then its default, so that
 * mproc_get_context(NULL) gives the same and mproc_set_start_method()
 * without force is MPROC_ESTATE ("context has already been set").
 * @return the method processes get when none is given.
 */
mproc_start_method_t mproc_get_start_method(void);

/**
 * The methods this platform has (CPython's get_all_start_methods()).
 * @return their names, NULL-terminated; static.
 */
const char *const *mproc_all_start_methods(void);

/* ------------------------------------------------------------------ */
/* The guard                                                           */
/* ------------------------------------------------------------------ */

/**
 * @brief The `if __name__ == '__main__':` guard. Call it first in main().
 *
 * In the main program it returns 0 at once. In a child started by spawn
 * (or in the forkserver) it never returns: it reads the bootstrap message,
 * runs the requested target and exits with its code. A truncated or
 * corrupted bootstrap message makes the child print the reason on stderr
 * and exit with MPROC_EXIT_BOOTSTRAP.
 *
 * @param argc main()'s argc.
 * @param argv main()'s argv (the bootstrap descriptor is named there).
 * @return 0 in the main program; MPROC_EINVAL for a NULL argv.
 */
int mproc_main(int argc, char **argv);

/** Exit code of a child whose bootstrap message was unusable. */
#define MPROC_EXIT_BOOTSTRAP 120
/** Exit code of a child asked to run a target it has not registered. */
#define MPROC_EXIT_NOTARGET 121

/**
 * @brief End the calling process with @p code (CPython's sys.exit(n)),
 * after terminating its daemonic children and joining the others.
 * In a child the exit code seen by the parent is @p code.
 * @param code the exit code.
 */
#if defined(__GNUC__)
__attribute__((noreturn))
#elif defined(_MSC_VER)
__declspec(noreturn)
#endif
void mproc_exit(int code);

/* ------------------------------------------------------------------ */
/* Processes                                                           */
/* ------------------------------------------------------------------ */

/** A process object (CPython's multiprocessing.Process). */
typedef struct mproc_process mproc_process_t;

/** Exit code of a process that has not ended (CPython's None). */
#define MPROC_EXITCODE_NONE INT32_MIN

/**
 * Exit code of a process that has ended but whose status was lost: the
 * program reaped it itself (SIGCHLD ignored, or waitpid(-1)), or the
 * forkserver that forked it died first. (CPython would wait forever.)
 */
#define MPROC_EXITCODE_LOST (INT32_MIN + 1)

/** Pass as a timeout to wait without limit (any timeout >= 1e9 s is). */
#define MPROC_FOREVER 1e300

/**
 * @brief Create a process object that will run @p target (not started).
 *
 * @p argfmt builds the positional arguments, in the style of
 * Py_BuildValue (NULL or "" for none):
 * `i` int, `l` long, `L` int64_t, `d` double, `p` int as bool,
 * `s` const char* (NULL gives nil), `s#` const char*, size_t,
 * `y#` const void*, size_t (bytes), `N` nil (no argument taken),
 * `[...]` a list, `{k:v,...}` a map,
 * `O` const mproc_value_t* (a value received earlier, from mproc_args_at()
 * or the parse unit `O`, sent on as it is whatever its type: CPython's
 * `O`, so that a worker can echo or forward what it got; NULL is
 * MPROC_EINVAL, and a value holding an object received by inheritance is
 * MPROC_ETYPE: pass that object with `o`),
 * `X*` for X in `i l L d p s O`: size_t n, then a const pointer to n
 * elements of X's type (int, long, int64_t, double, int, const char*,
 * const mproc_value_t*): a list of n values, n known only at run time
 * (Py_BuildValue has no such unit; CPython builds the list with
 * PyList_New). Lists and maps nest at most 32 deep, values given with
 * `O` included (MPROC_EINVAL),
 * `o` an mproc object (Connection, Queue, Lock, Value, SharedMemory...,
 * any pointer the constructors below give): the child receives its own
 * handle on the same object (an inherited descriptor or handle, never a
 * pointer). The process keeps the object alive until it has started; the
 * caller may free its reference at once. Only process arguments can carry
 * objects: `o` anywhere else (a queue item, a message) is MPROC_ETYPE, as
 * CPython's "should only be shared between processes through
 * inheritance".
 * The arguments are encoded at once; the caller's buffers may be freed
 * afterwards.
 *
 * The name defaults to "Process-N" ("Process-N:M" in a child: the numbers
 * come from the creating process's identity, not from its name, as in
 * CPython, so a renamed child still names its children "Process-N:M"), the
 * daemon flag to that of the current process, the authkey to the current
 * process's, the start method to the default.
 *
 * @param[out] out the new process object; free it with
 *                 mproc_process_free().
 * @param target the function the child runs.
 * @param argfmt the arguments' format (above); NULL or "" for none.
 * @param ... the values @p argfmt describes.
 * @return 0; MPROC_EINVAL for a NULL target or a bad format; MPROC_ENOMEM.
 */
int mproc_process_create(mproc_process_t **out, mproc_target_fn target,
                         const char *argfmt, ...);

/**
 * mproc_process_create() with an explicit context (CPython's
 * ctx.Process()).
 * @param ctx the context (NULL: the default).
 * @param[out] out the new process object.
 * @param target the function the child runs.
 * @param argfmt the arguments' format.
 * @param ... the values @p argfmt describes.
 * @return as mproc_process_create().
 */
int mproc_context_process(const mproc_context_t *ctx, mproc_process_t **out,
                          mproc_target_fn target, const char *argfmt, ...);

/**
 * The va_list form of mproc_context_process().
 * @param ctx the context (NULL: the default).
 * @param[out] out the new process object.
 * @param target the function the child runs.
 * @param argfmt the arguments' format.
 * @param ap the values @p argfmt describes.
 * @return as mproc_process_create().
 */
int mproc_context_processv(const mproc_context_t *ctx, mproc_process_t **out,
                           mproc_target_fn target, const char *argfmt,
                           va_list ap);

/**
 * Set the keyword arguments from a map format, e.g.
 * `mproc_process_set_kwargs(p, "{s:s,s:i}", "name", "egon", "age", 18)`.
 * @param p the process, not started.
 * @param mapfmt a map format, `{...}`.
 * @param ... the keys and values.
 * @return 0; MPROC_EINVAL (bad format, not a map, string keys only);
 *         MPROC_ESTATE after start; MPROC_ECLOSED.
 */
int mproc_process_set_kwargs(mproc_process_t *p, const char *mapfmt, ...);

/**
 * Start the process (asynchronous: returns once the child exists).
 *
 * @param p the process.
 * @return 0; MPROC_ESTATE if already started or not created by the
 *         calling process; MPROC_EDAEMON from a daemonic process;
 *         MPROC_ENOTREG when the start method needs the target's name
 *         and it was never registered; MPROC_EBOOTSTRAP in a spawned
 *         child before mproc_main() ran, or in a program that never
 *         called mproc_main() when the method re-executes it;
 *         MPROC_ECLOSED; MPROC_EOS.
 */
int mproc_process_start(mproc_process_t *p);

/**
 * Wait for the process to end, at most @p timeout seconds
 * (MPROC_FOREVER: no limit; 0 or negative: do not wait). On
 * mproc_parent_process(), a child waits for its parent to end
 * (CPython's parent_process().join(timeout)); a process that takes the
 * parent's id after it ended is not mistaken for it.
 *
 * @param p the process.
 * @param timeout seconds.
 * @return 0 once it has ended; MPROC_ETIMEDOUT if it still runs
 *         (Differs from CPython: join returns None either way);
 *         MPROC_ESTATE before start; MPROC_ENOTCHILD from another
 *         process; MPROC_ECLOSED.
 */
int mproc_process_join(mproc_process_t *p, double timeout);

/**
 * Whether the process runs.
 * @param p the process.
 * @return 1 or 0 (0 before start), or a negative status (MPROC_ECLOSED,
 *         MPROC_ENOTCHILD).
 */
int mproc_process_is_alive(mproc_process_t *p);

/**
 * Ask the process to stop: SIGTERM on POSIX, TerminateProcess on Windows.
 * Its exit code becomes -SIGTERM on every platform.
 * @param p the process.
 * @return 0 (also when it has already ended); MPROC_ESTATE before start;
 *         MPROC_ECLOSED.
 */
int mproc_process_terminate(mproc_process_t *p);

/**
 * As mproc_process_terminate() with SIGKILL; exit code -SIGKILL.
 * @param p the process.
 * @return as mproc_process_terminate().
 */
int mproc_process_kill(mproc_process_t *p);

/**
 * Release the process's resources (CPython's close()). Further use of the
 * object fails with MPROC_ECLOSED, except name/daemon and free.
 * @param p the process.
 * @return 0 (also when already closed); MPROC_ESTATE while it runs.
 */
int mproc_process_close(mproc_process_t *p);

/**
 * Free the object. Safe in any state: a child still running is still
 * reaped later (by mproc_active_children() or at exit), never left a
 * zombie. NULL is ignored.
 * @param p the process, or NULL.
 */
void mproc_process_free(mproc_process_t *p);

/**
 * The name.
 * @param p the process.
 * @return the name (never NULL; valid until the name changes or free).
 */
const char *mproc_process_name(const mproc_process_t *p);

/**
 * Set the name.
 * @param p the process.
 * @param name the new name (copied).
 * @return 0; MPROC_EINVAL for NULL; MPROC_ENOMEM.
 */
int mproc_process_set_name(mproc_process_t *p, const char *name);

/**
 * The daemon flag.
 * @param p the process.
 * @return 0 or 1.
 */
int mproc_process_daemon(const mproc_process_t *p);

/**
 * Set the daemon flag: a daemonic child is terminated when its parent
 * exits, and may not have children.
 * @param p the process, not started.
 * @param daemonic 0 or 1.
 * @return 0; MPROC_ESTATE after start.
 */
int mproc_process_set_daemon(mproc_process_t *p, int daemonic);

/**
 * The process id.
 * @param p the process.
 * @return > 0 once started (or for the current process), 0 before start;
 *         MPROC_ECLOSED after close.
 */
long mproc_process_pid(const mproc_process_t *p);

/**
 * The exit code: MPROC_EXITCODE_NONE while running or before start, 0 on
 * a normal return, the target's return value or mproc_exit() code, -N
 * when ended by signal N, MPROC_EXITCODE_LOST when the status was lost.
 * Reaps the child if it has ended.
 * @param p the process.
 * @param[out] code the exit code.
 * @return 0; MPROC_ECLOSED.
 */
int mproc_process_exitcode(mproc_process_t *p, int *code);

/**
 * Why the process failed: the message its target gave to mproc_fail()
 * before returning non-zero (the C form of an uncaught exception), or the
 * reason it could not run (an unregistered target, bad arguments). The
 * child also prints `Process NAME: <message>` on its stderr, as CPython
 * prints "Process NAME:" and the traceback. Reaps the child if it has
 * ended.
 *
 * Beyond CPython, which leaves the parent only the exit code: the message
 * reaches the parent under every start method. At most the first 4000
 * bytes of it (the child's stderr has all of it).
 *
 * @param p the process.
 * @return the message (owned by @p p, valid until it is closed or freed),
 *         or NULL: still running, not started, succeeded, failed without
 *         a message (a non-zero return alone, a signal), or closed.
 */
const char *mproc_process_error(mproc_process_t *p);

/**
 * The authkey (32 random bytes in the main process by default; a child
 * inherits its parent's).
 * @param p the process.
 * @param[out] key the key, owned by @p p.
 * @param[out] len its length.
 * @return 0; MPROC_EOS when no random bytes could be had.
 */
int mproc_process_authkey(const mproc_process_t *p, const unsigned char **key,
                          size_t *len);

/**
 * Set the authkey (allowed after start too, as in CPython; a started child
 * keeps the key it was given).
 * @param p the process.
 * @param key the key (copied).
 * @param len its length.
 * @return 0; MPROC_EINVAL for NULL; MPROC_ENOMEM.
 */
int mproc_process_set_authkey(mproc_process_t *p, const void *key, size_t len);

/** A handle the caller can wait on: an fd (POSIX) or HANDLE (Windows). */
typedef intptr_t mproc_sentinel_t;

/**
 * The sentinel: a descriptor that becomes readable (POSIX: poll/select)
 * or signalled (Windows: WaitForSingleObject) when the process ends.
 * Owned by the object; valid until close/free.
 * @param p the process.
 * @param[out] out the sentinel.
 * @return 0; MPROC_ESTATE before start; MPROC_ECLOSED.
 */
int mproc_process_sentinel(const mproc_process_t *p, mproc_sentinel_t *out);

/**
 * The start method the process uses.
 * @param p the process.
 * @return its method.
 */
mproc_start_method_t mproc_process_start_method(const mproc_process_t *p);

/**
 * The current process (named "MainProcess" in the main program). Owned by
 * the library; do not free. Its name, daemon flag and authkey may be set.
 * Its exit code is MPROC_EXITCODE_NONE (CPython's None: it runs), its
 * start method the one it was started with (in a child).
 * @return the current process (never NULL).
 */
mproc_process_t *mproc_current_process(void);

/**
 * The parent of the current process, or NULL in the main program. Owned
 * by the library (CPython's parent_process()). Name, pid, is_alive and
 * join work; its exit code is MPROC_EXITCODE_NONE.
 * @return the parent, or NULL in the main program.
 */
mproc_process_t *mproc_parent_process(void);

/**
 * Reap finished children and list the live ones (CPython's
 * active_children()). @p out (may be NULL) receives up to @p cap borrowed
 * pointers to process objects still owned by the caller; children whose
 * objects were freed are counted but not listed.
 * @param[out] out room for @p cap pointers, or NULL.
 * @param cap its size.
 * @return the number of live children (>= 0).
 */
int mproc_active_children(mproc_process_t **out, size_t cap);

/**
 * CPUs this process may run on (honours affinity; CPython's
 * process_cpu_count()).
 * @return at least 1.
 */
int mproc_cpu_count(void);

/** @name What ported programs ask the OS, on every platform */
/**@{*/

/**
 * The calling process's id (Python's os.getpid()).
 * @return the id.
 */
long mproc_getpid(void);

/**
 * The parent's id (Python's os.getppid()): in a child started by mproc,
 * the process that started it; in the main program, the process that
 * launched it (a shell, say), or 0 when the OS does not know it (the
 * first Windows process under Wine).
 * Differs from CPython: under forkserver, os.getppid() in a child gives
 * the server's id; mproc_getppid() gives the process that asked for the
 * child, as under fork and spawn.
 * @return the parent's id, or 0 when unknown.
 */
long mproc_getppid(void);

/**
 * Sleep @p seconds (Python's time.sleep()): the whole time, also when a
 * signal interrupts; 0, negative or NaN returns at once.
 * @param seconds how long.
 */
void mproc_sleep(double seconds);

/**
 * A monotonic clock (Python's time.monotonic()).
 * @return seconds since an unspecified start.
 */
double mproc_monotonic(void);
/**@}*/

/**
 * Free an argument list received from a queue, a connection, a pool or a
 * proxy call.
 * @param args the list, or NULL.
 */
void mproc_args_free(mproc_args_t *args);

/**
 * Free memory mproc allocated for the caller (mproc_conn_recv_bytes()).
 * @param p the memory, or NULL.
 */
void mproc_free(void *p);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* MPROC_PROCESS_H */
