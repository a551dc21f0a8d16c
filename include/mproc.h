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

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/** @name Errors                                                       */
/* ------------------------------------------------------------------ */

/**
 * The error table: name, value, message. It generates both the enum and
 * mproc_strerror(), so the two cannot drift apart.
 */
#define MPROC_ERRNO_MAP(XX)                                                    \
  XX(EINVAL, -1, "invalid argument")                                           \
  XX(ENOMEM, -2, "out of memory")                                              \
  XX(ESTATE, -3, "operation not valid in the object's current state")          \
  XX(ECLOSED, -4, "object is closed")                                          \
  XX(ETIMEDOUT, -5, "timed out")                                               \
  XX(ENOTREG, -6, "target is not registered")                                  \
  XX(ENOTCHILD, -7, "not a child of the calling process")                      \
  XX(EDAEMON, -8, "daemonic processes are not allowed to have children")       \
  XX(EBOOTSTRAP, -9, "process is still bootstrapping (call mproc_main)")       \
  XX(ETYPE, -10, "value has the wrong type")                                   \
  XX(ECODEC, -11, "malformed or truncated message")                            \
  XX(EOS, -12, "operating system call failed")                                 \
  XX(EPERM, -13, "permission denied")                                          \
  XX(EAUTH, -14, "authentication failed")                                      \
  XX(ENOSYS, -15, "not supported on this platform")                            \
  XX(ERANGE, -16, "value out of range")                                        \
  XX(ENOTFOUND, -17, "not found")                                              \
  XX(EFULL, -18, "queue is full")                                              \
  XX(EEMPTY, -19, "queue is empty")                                            \
  XX(EEOF, -20, "end of file")                                                 \
  XX(EOWNERDEAD, -21, "lock acquired; its previous owner died holding it")     \
  XX(EBROKEN, -22, "object is broken")                                         \
  XX(ETOOSHORT, -23, "buffer too short")                                       \
  XX(EEXIST, -24, "already exists")                                            \
  XX(EDEADLK, -25, "would deadlock")                                           \
  XX(ETASK, -26, "the task failed")                                            \
  XX(EWORKER, -27, "the worker running the task died")                         \
  XX(ESTOP, -28, "no more results")                                            \
  XX(ENOMETHOD, -29, "the shared object does not expose that method")          \
  XX(EADDRINUSE, -30, "address already in use")

/** Status codes. 0 is success; every error is negative. */
typedef enum mproc_errno {
  MPROC_OK = 0,
#define MPROC__ERR_ENUM(name, value, msg) MPROC_##name = (value),
  MPROC_ERRNO_MAP(MPROC__ERR_ENUM)
#undef MPROC__ERR_ENUM
} mproc_errno_t;

/** The fixed message of a status code ("unknown error" for others). */
const char *mproc_strerror(int status);

/** The last error of the calling thread, with detail (never NULL). */
const char *mproc_last_error(void);

/* ------------------------------------------------------------------ */
/** @name Values and arguments                                         */
/* ------------------------------------------------------------------ */

/** Arguments of a target: positional list plus keyword map. */
typedef struct mproc_args mproc_args_t;

/** A borrowed, read-only value inside mproc_args_t (or a larger value). */
typedef struct mproc_value mproc_value_t;

/** Type of a value (the MessagePack types mproc passes). */
typedef enum mproc_type {
  MPROC_T_NIL,
  MPROC_T_BOOL,
  MPROC_T_INT,
  MPROC_T_DOUBLE,
  MPROC_T_STR,
  MPROC_T_BYTES,
  MPROC_T_LIST,
  MPROC_T_MAP,
  MPROC_T_OBJECT, /**< an mproc object passed to a child (see `o`) */
  MPROC_T_OTHER   /**< a MessagePack type mproc does not produce */
} mproc_type_t;

/**
 * @brief A target: the function a child process runs.
 *
 * Its return value becomes the child's exit code (use 0..255 for codes
 * that mean the same on every platform). Define targets with MPROC_TARGET.
 */
typedef int (*mproc_target_fn)(mproc_args_t *args);

/**
 * Register @p fn under @p name so that a spawned child (which re-executes
 * the program) can find it. MPROC_TARGET does this before main() runs.
 *
 * @return 0; MPROC_EINVAL for a NULL/empty name or NULL fn, or a name
 *         already registered for another function; MPROC_ENOMEM.
 */
int mproc_register(const char *name, mproc_target_fn fn);

/** Registered name of @p fn, or NULL if it was never registered. */
const char *mproc_target_name(mproc_target_fn fn);

#if defined(_MSC_VER)
#pragma section(".CRT$XCU", read)
#define MPROC__CTOR(f)                                                         \
  static void f(void);                                                         \
  __declspec(allocate(".CRT$XCU")) void (*f##_ptr)(void) = f;                  \
  static void f(void)
#else
#define MPROC__CTOR(f)                                                         \
  static void f(void) __attribute__((constructor));                            \
  static void f(void)
#endif

/**
 * @brief Define and register a target.
 *
 * @code
 * MPROC_TARGET(task)
 * {
 *   const char *name;
 *   if (mproc_args_parse(args, "s:task", &name) != 0) return 1;
 *   printf("%s is running\n", name);
 *   return 0;
 * }
 * @endcode
 * The body sees its arguments as `args` (an mproc_args_t *).
 */
#define MPROC_TARGET(name)                                                     \
  int name(mproc_args_t *args);                                                \
  MPROC__CTOR(mproc__register_##name)                                          \
  {                                                                            \
    (void)mproc_register(#name, name);                                         \
  }                                                                            \
  int name(mproc_args_t *args)

/**
 * @brief Parse positional arguments, in the style of PyArg_ParseTuple.
 *
 * Format units (each takes the pointers shown):
 * - `i` int*, `l` long*, `L` int64_t*, `d` double* (an int converts),
 *   `p` int* (bool; any int is also accepted as a truth value),
 * - `s` const char** (a string; borrowed, NUL-terminated, valid while
 *   @p args lives), `s#` const char**, size_t*,
 * - `y#` const void**, size_t* (bytes; a string is accepted too),
 * - `z` like `s` but nil gives NULL,
 * - `O` const mproc_value_t** (any value, for lists and maps),
 * - `o` int kind, void** (an mproc object passed by the parent, e.g.
 *   `mproc_args_parse(args, "o", MPROC_KIND_QUEUE, &q)`; borrowed: owned
 *   by @p args and valid while it lives; MPROC_ETYPE names the argument
 *   when it is another kind of object or not an object),
 * - `|` the rest are optional (untouched when absent),
 * - `:name` ends the units; name is used in error messages.
 *
 * @return 0; MPROC_ETYPE naming the argument on a type mismatch;
 *         MPROC_EINVAL on a count mismatch or a bad format;
 *         MPROC_ERANGE when an int does not fit the C type.
 */
int mproc_args_parse(mproc_args_t *args, const char *fmt, ...);

/**
 * @brief Parse positional and keyword arguments, in the style of
 * PyArg_ParseTupleAndKeywords: the i-th unit may come positionally or as
 * the keyword @p kwlist[i]. Unknown keywords, and an argument given both
 * ways, are errors (MPROC_EINVAL).
 */
int mproc_args_parse_kw(mproc_args_t *args, const char *fmt,
                        const char *const *kwlist, ...);

/** Number of positional arguments. */
size_t mproc_args_count(const mproc_args_t *args);

/** Positional argument @p i, or NULL. */
const mproc_value_t *mproc_args_at(const mproc_args_t *args, size_t i);

/** Keyword argument @p key, or NULL. */
const mproc_value_t *mproc_args_kw(const mproc_args_t *args, const char *key);

/** @name Reading a value. Each returns 0 or MPROC_ETYPE (MPROC_ERANGE). */
/**@{*/
mproc_type_t mproc_value_type(const mproc_value_t *v);
int mproc_value_bool(const mproc_value_t *v, int *out);
int mproc_value_int(const mproc_value_t *v, int64_t *out);
int mproc_value_double(const mproc_value_t *v, double *out);
/** String or bytes; not NUL-terminated in general (use the length). */
int mproc_value_bytes(const mproc_value_t *v, const void **data, size_t *len);
/** Length of a list or map. */
int mproc_value_len(const mproc_value_t *v, size_t *len);
/** Element @p i of a list; NULL when out of range or not a list. */
const mproc_value_t *mproc_value_at(const mproc_value_t *v, size_t i);
/** Value of string key @p key in a map; NULL when absent. */
const mproc_value_t *mproc_value_get(const mproc_value_t *v, const char *key);
/** Key and value of entry @p i of a map. */
int mproc_value_entry(const mproc_value_t *v, size_t i,
                      const mproc_value_t **key, const mproc_value_t **val);
/**@}*/

/* ------------------------------------------------------------------ */
/** @name Start methods and contexts                                   */
/* ------------------------------------------------------------------ */

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
 * @return NULL (MPROC_EINVAL / MPROC_ENOSYS in mproc_last_error()) for an
 *         unknown method or one this platform lacks.
 */
const mproc_context_t *mproc_get_context(const char *method);

/** The start method of a context. */
mproc_start_method_t mproc_context_method(const mproc_context_t *ctx);

/** Name of a start method ("fork", "spawn", "forkserver"). */
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
 * @return 0; MPROC_EINVAL/MPROC_ENOSYS for a bad method; MPROC_ESTATE.
 */
int mproc_set_start_method(const char *method, int force);

/**
 * The default start method. Linux: forkserver (as CPython 3.14): fork is
 * unsafe once threads exist, and mproc's pool and queue use threads.
 * Windows: spawn.
 */
mproc_start_method_t mproc_get_start_method(void);

/** Names of the methods this platform has, NULL-terminated. */
const char *const *mproc_all_start_methods(void);

/* ------------------------------------------------------------------ */
/** @name The guard                                                    */
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
 */
#if defined(__GNUC__)
__attribute__((noreturn))
#elif defined(_MSC_VER)
__declspec(noreturn)
#endif
void mproc_exit(int code);

/* ------------------------------------------------------------------ */
/** @name Processes                                                    */
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
 * @return 0; MPROC_EINVAL for a NULL target or a bad format; MPROC_ENOMEM.
 */
int mproc_process_create(mproc_process_t **out, mproc_target_fn target,
                         const char *argfmt, ...);

/** mproc_process_create() with an explicit context (NULL: default). */
int mproc_context_process(const mproc_context_t *ctx, mproc_process_t **out,
                          mproc_target_fn target, const char *argfmt, ...);

/** The va_list form of mproc_context_process(). */
int mproc_context_processv(const mproc_context_t *ctx, mproc_process_t **out,
                           mproc_target_fn target, const char *argfmt,
                           va_list ap);

/**
 * Set the keyword arguments from a map format, e.g.
 * `mproc_process_set_kwargs(p, "{s:s,s:i}", "name", "egon", "age", 18)`.
 * @return 0; MPROC_EINVAL (bad format, not a map, string keys only);
 *         MPROC_ESTATE after start; MPROC_ECLOSED.
 */
int mproc_process_set_kwargs(mproc_process_t *p, const char *mapfmt, ...);

/**
 * Start the process (asynchronous: returns once the child exists).
 *
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
 * (MPROC_FOREVER: no limit; 0 or negative: do not wait).
 *
 * @return 0 once it has ended; MPROC_ETIMEDOUT if it still runs
 *         (Differs from CPython: join returns None either way);
 *         MPROC_ESTATE before start; MPROC_ENOTCHILD from another
 *         process; MPROC_ECLOSED.
 */
int mproc_process_join(mproc_process_t *p, double timeout);

/**
 * Whether the process runs: 1 or 0 (0 before start), or a negative
 * status (MPROC_ECLOSED, MPROC_ENOTCHILD).
 */
int mproc_process_is_alive(mproc_process_t *p);

/**
 * Ask the process to stop: SIGTERM on POSIX, TerminateProcess on Windows.
 * Its exit code becomes -SIGTERM on every platform.
 * @return 0 (also when it has already ended); MPROC_ESTATE before start;
 *         MPROC_ECLOSED.
 */
int mproc_process_terminate(mproc_process_t *p);

/** As mproc_process_terminate() with SIGKILL; exit code -SIGKILL. */
int mproc_process_kill(mproc_process_t *p);

/**
 * Release the process's resources (CPython's close()). Further use of the
 * object fails with MPROC_ECLOSED, except name/daemon and free.
 * @return 0 (also when already closed); MPROC_ESTATE while it runs.
 */
int mproc_process_close(mproc_process_t *p);

/**
 * Free the object. Safe in any state: a child still running is still
 * reaped later (by mproc_active_children() or at exit), never left a
 * zombie. NULL is ignored.
 */
void mproc_process_free(mproc_process_t *p);

/** The name (never NULL; valid until the name changes or free). */
const char *mproc_process_name(const mproc_process_t *p);

/** Set the name. @return 0; MPROC_EINVAL for NULL; MPROC_ENOMEM. */
int mproc_process_set_name(mproc_process_t *p, const char *name);

/** The daemon flag (0 or 1). */
int mproc_process_daemon(const mproc_process_t *p);

/** Set the daemon flag. @return 0; MPROC_ESTATE after start. */
int mproc_process_set_daemon(mproc_process_t *p, int daemonic);

/**
 * The process id: > 0 once started (or for the current process), 0
 * before start; MPROC_ECLOSED after close.
 */
long mproc_process_pid(const mproc_process_t *p);

/**
 * The exit code: MPROC_EXITCODE_NONE while running or before start, 0 on
 * a normal return, the target's return value or mproc_exit() code, -N
 * when ended by signal N, MPROC_EXITCODE_LOST when the status was lost.
 * Reaps the child if it has ended.
 * @return 0; MPROC_ECLOSED.
 */
int mproc_process_exitcode(mproc_process_t *p, int *code);

/** The authkey (32 random bytes in the main process by default). */
int mproc_process_authkey(const mproc_process_t *p, const unsigned char **key,
                          size_t *len);

/**
 * Set the authkey (allowed after start too, as in CPython; a started child
 * keeps the key it was given). @return 0; MPROC_EINVAL for NULL;
 * MPROC_ENOMEM.
 */
int mproc_process_set_authkey(mproc_process_t *p, const void *key, size_t len);

/** A handle the caller can wait on: an fd (POSIX) or HANDLE (Windows). */
typedef intptr_t mproc_sentinel_t;

/**
 * The sentinel: a descriptor that becomes readable (POSIX: poll/select)
 * or signalled (Windows: WaitForSingleObject) when the process ends.
 * Owned by the object; valid until close/free.
 * @return 0; MPROC_ESTATE before start; MPROC_ECLOSED.
 */
int mproc_process_sentinel(const mproc_process_t *p, mproc_sentinel_t *out);

/** The start method the process uses. */
mproc_start_method_t mproc_process_start_method(const mproc_process_t *p);

/**
 * The current process (named "MainProcess" in the main program). Owned by
 * the library; do not free. Its name, daemon flag and authkey may be set.
 */
mproc_process_t *mproc_current_process(void);

/**
 * The parent of the current process, or NULL in the main program. Owned
 * by the library. Only name and pid are meaningful; is_alive works.
 */
mproc_process_t *mproc_parent_process(void);

/**
 * Reap finished children and list the live ones (CPython's
 * active_children()). @p out (may be NULL) receives up to @p cap borrowed
 * pointers to process objects still owned by the caller; children whose
 * objects were freed are counted but not listed.
 * @return the number of live children (>= 0).
 */
int mproc_active_children(mproc_process_t **out, size_t cap);

/** CPUs this process may run on (honours affinity); at least 1. */
int mproc_cpu_count(void);

/** Free an argument list received from a queue or connection. */
void mproc_args_free(mproc_args_t *args);

/** Free memory mproc allocated for the caller (mproc_conn_recv_bytes). */
void mproc_free(void *p);

/* ------------------------------------------------------------------ */
/** @name Objects shared with children                                 */
/* ------------------------------------------------------------------ */

/**
 * Kinds of objects that can be passed to a child with the `o` format
 * unit. Every object is reference counted: the creator's reference is
 * dropped by its kind's _free function; a started process holds one on
 * each object in its arguments until it has started.
 */
typedef enum mproc_kind {
  MPROC_KIND_CONNECTION = 1,
  MPROC_KIND_QUEUE,
  MPROC_KIND_SIMPLE_QUEUE,
  MPROC_KIND_JOINABLE_QUEUE,
  MPROC_KIND_LOCK,
  MPROC_KIND_RLOCK,
  MPROC_KIND_SEMAPHORE,
  MPROC_KIND_BOUNDED_SEMAPHORE,
  MPROC_KIND_CONDITION,
  MPROC_KIND_EVENT,
  MPROC_KIND_BARRIER,
  MPROC_KIND_VALUE,
  MPROC_KIND_ARRAY,
  MPROC_KIND_SHARED_MEMORY,
  /** A proxy to an object held by a manager. Unlike the others it is a
   *  value, not an inherited handle: `o` may carry it anywhere a value
   *  goes (pool tasks, queue items, messages, a manager's dict). */
  MPROC_KIND_PROXY
} mproc_kind_t;

/** Name of a kind ("Queue", "Lock", ...), as in error messages. */
const char *mproc_kind_name(int kind);

/** Kind of object @p obj, or 0 when it is not an mproc object. */
int mproc_object_kind(const void *obj);

/**
 * Resolve a value of type MPROC_T_OBJECT (inside a list or map of a
 * target's arguments) to the object, checking its @p kind.
 * Borrowed from @p args. @return 0; MPROC_ETYPE.
 */
int mproc_args_object(mproc_args_t *args, const mproc_value_t *v, int kind,
                      void **out);

/** Timeouts: seconds; MPROC_FOREVER blocks; a negative timeout is 0. */

/* ------------------------------------------------------------------ */
/** @name Pipe and Connection                                          */
/* ------------------------------------------------------------------ */

/** One end of a pipe (CPython's multiprocessing.connection.Connection). */
typedef struct mproc_conn mproc_conn_t;

/** Pass as a maximum length or size to mean "no limit" / "the rest". */
#define MPROC_ALL SIZE_MAX

/**
 * A pair of connected ends (CPython's Pipe(duplex)). With @p duplex both
 * ends send and receive (a socketpair on POSIX, a named pipe pair on
 * Windows); without, @p *c1 only receives and @p *c2 only sends.
 * @return 0; MPROC_EOS; MPROC_ENOMEM.
 */
int mproc_pipe(mproc_conn_t **c1, mproc_conn_t **c2, int duplex);

/**
 * Send the values built from @p fmt (Py_BuildValue style, as a target's
 * arguments) as one message; the peer parses it with mproc_args_parse().
 * @return 0; MPROC_EINVAL/MPROC_ETYPE (bad format, an object); MPROC_EPERM
 *         on a receive-only end; MPROC_ECLOSED; MPROC_EOS (e.g. EPIPE).
 */
int mproc_conn_send(mproc_conn_t *c, const char *fmt, ...);

/**
 * Receive one message sent by mproc_conn_send(); free it with
 * mproc_args_free(). Blocks.
 * @return 0; MPROC_EEOF when the peer closed at a message boundary;
 *         MPROC_ECODEC when the stream ends mid-message or the message
 *         is malformed (the connection is then unusable); MPROC_EPERM on a
 *         send-only end; MPROC_ECLOSED; MPROC_EOS.
 */
int mproc_conn_recv(mproc_conn_t *c, mproc_args_t **out);

/**
 * Send bytes @p buf[offset .. offset+size) of a @p len byte buffer as one
 * message (@p size MPROC_ALL: to the end). The framing is CPython's: a
 * big-endian int32 length, or -1 and a big-endian uint64 above 2 GiB - 1,
 * then the bytes; a Python peer reads them with recv_bytes().
 * @return 0; MPROC_EINVAL when @p offset > @p len ("buffer length <
 *         offset") or offset+size > len ("buffer length < offset + size");
 *         as mproc_conn_send() otherwise.
 */
int mproc_conn_send_bytes(mproc_conn_t *c, const void *buf, size_t len,
                          size_t offset, size_t size);

/**
 * Receive one message as bytes into a new buffer (free with mproc_free()).
 * @return 0; MPROC_EINVAL when the message is longer than @p maxlength
 *         (MPROC_ALL: no limit); the connection is then unusable, as in
 *         CPython ("bad message length"); else as mproc_conn_recv().
 */
int mproc_conn_recv_bytes(mproc_conn_t *c, size_t maxlength, void **buf,
                          size_t *len);

/**
 * Receive one message into @p buf at @p offset (@p cap bytes in all).
 * @return 0 and *len the message's length; MPROC_EINVAL when @p offset >
 *         @p cap; MPROC_ETOOSHORT when the message does not fit: *len is
 *         its length and it stays pending, whole, for the next receive
 *         (Differs from CPython, which hands it over in the exception).
 */
int mproc_conn_recv_bytes_into(mproc_conn_t *c, void *buf, size_t cap,
                               size_t offset, size_t *len);

/**
 * Whether there is data to read (or EOF) within @p timeout seconds.
 * @return 1 readable; 0 not; a negative MPROC_E* code on error.
 */
int mproc_conn_poll(mproc_conn_t *c, double timeout);

/** Whether the end can send / receive. */
int mproc_conn_writable(const mproc_conn_t *c);
int mproc_conn_readable(const mproc_conn_t *c);

/** The descriptor (POSIX) or HANDLE (Windows) of the end. */
mproc_sentinel_t mproc_conn_fileno(const mproc_conn_t *c);

/** Close the end; later operations give MPROC_ECLOSED. Idempotent. */
int mproc_conn_close(mproc_conn_t *c);

/** Close (if open) and drop the caller's reference. NULL is a no-op. */
void mproc_conn_free(mproc_conn_t *c);

/** Something mproc_wait() can wait on. */
typedef struct mproc_waitable {
  int type; /**< MPROC_WAIT_CONN, MPROC_WAIT_PROCESS, MPROC_WAIT_SENTINEL */
  void *obj;
  mproc_sentinel_t sentinel;
} mproc_waitable_t;

#define MPROC_WAIT_CONN 1
#define MPROC_WAIT_PROCESS 2
#define MPROC_WAIT_SENTINEL 3
#define MPROC_WAITABLE_CONN(c) ((mproc_waitable_t){MPROC_WAIT_CONN, (c), 0})
#define MPROC_WAITABLE_PROCESS(p)                                              \
  ((mproc_waitable_t){MPROC_WAIT_PROCESS, (p), 0})
#define MPROC_WAITABLE_SENTINEL(s)                                             \
  ((mproc_waitable_t){MPROC_WAIT_SENTINEL, NULL, (s)})

/**
 * Wait until at least one of @p objs is ready (a connection readable or
 * at EOF, a process ended, a sentinel signalled) or @p timeout passes
 * (CPython's multiprocessing.connection.wait). @p ready[i] is set to 1 for
 * each ready object, 0 otherwise.
 * @return the number of ready objects (0 on timeout); MPROC_EINVAL;
 *         MPROC_ECLOSED; MPROC_EOS.
 */
int mproc_wait(const mproc_waitable_t *objs, size_t n, double timeout,
               int *ready);

/* ------------------------------------------------------------------ */
/** @name Queues                                                       */
/* ------------------------------------------------------------------ */

/**
 * A multi-producer, multi-consumer queue across processes (Queue,
 * SimpleQueue and JoinableQueue share this type; the kind decides what
 * is allowed). Items live in a shared-memory ring: qsize() and empty()
 * are exact at once, and an item whose put returned is in the queue even
 * if its producer exits at once (Differs from CPython: no feeder thread,
 * so there is nothing to flush or join).
 */
typedef struct mproc_queue mproc_queue_t;

/**
 * Create a queue holding at most @p maxsize items (<= 0: no item limit).
 * @return 0; MPROC_ENOMEM; MPROC_EOS.
 */
int mproc_queue_create(mproc_queue_t **out, long maxsize);
int mproc_simple_queue_create(mproc_queue_t **out);
int mproc_joinable_queue_create(mproc_queue_t **out, long maxsize);

/**
 * Put one item built from @p fmt (as mproc_conn_send()). Waits up to
 * @p timeout for room (0: put_nowait).
 * @return 0; MPROC_EFULL when there was no room in time; MPROC_ECLOSED
 *         after mproc_queue_close() in this process; MPROC_ETYPE /
 *         MPROC_EINVAL for a bad format or an object; MPROC_EBROKEN when a
 *         process died in the middle of writing to the queue.
 */
int mproc_queue_put(mproc_queue_t *q, double timeout, const char *fmt, ...);
int mproc_queue_vput(mproc_queue_t *q, double timeout, const char *fmt,
                     va_list ap);

/** Put one item of raw bytes (parsed with `y#` by the consumer). */
int mproc_queue_put_bytes(mproc_queue_t *q, double timeout, const void *buf,
                          size_t len);

/**
 * Take the oldest item, waiting up to @p timeout (0: get_nowait). Free it
 * with mproc_args_free().
 * @return 0; MPROC_EEMPTY when none came in time; MPROC_ECLOSED;
 *         MPROC_EBROKEN.
 */
int mproc_queue_get(mproc_queue_t *q, double timeout, mproc_args_t **item);

/** Number of items now in the queue (exact). @return >= 0 or an error. */
long mproc_queue_qsize(mproc_queue_t *q);
/** 1 when empty / full, 0 when not; a negative code on error. */
int mproc_queue_empty(mproc_queue_t *q);
int mproc_queue_full(mproc_queue_t *q);

/**
 * Indicate that this process will put and get no more (CPython's close()).
 * Later put/get here give MPROC_ECLOSED; other processes are unaffected.
 */
int mproc_queue_close(mproc_queue_t *q);

/**
 * CPython's join_thread() and cancel_join_thread(). mproc has no feeder
 * thread: join_thread only checks that the queue was closed (MPROC_ESTATE
 * otherwise, as CPython's assertion); cancel_join_thread does nothing.
 */
int mproc_queue_join_thread(mproc_queue_t *q);
int mproc_queue_cancel_join_thread(mproc_queue_t *q);

/**
 * JoinableQueue: mark one item as processed; wake join() when every item
 * put has been. @return 0; MPROC_EINVAL when called more times than items
 * were put ("task_done() called too many times"); MPROC_ETYPE for
 * another kind of queue.
 */
int mproc_queue_task_done(mproc_queue_t *q);

/** JoinableQueue: wait until every item put has been task_done. */
int mproc_queue_join(mproc_queue_t *q, double timeout);

void mproc_queue_free(mproc_queue_t *q);

/* ------------------------------------------------------------------ */
/** @name Locks and other synchronisation objects                      */
/* ------------------------------------------------------------------ */

/**
 * Lock, RLock, Semaphore, BoundedSemaphore, Event, Condition and Barrier,
 * shared between processes. A timeout that passes gives MPROC_ETIMEDOUT
 * (CPython's False).
 */
typedef struct mproc_lock mproc_lock_t;           /**< Lock and RLock */
typedef struct mproc_semaphore mproc_semaphore_t; /**< and Bounded */
typedef struct mproc_event mproc_event_t;
typedef struct mproc_condition mproc_condition_t;
typedef struct mproc_barrier mproc_barrier_t;

int mproc_lock_create(mproc_lock_t **out);
int mproc_rlock_create(mproc_lock_t **out);

/**
 * Acquire, waiting up to @p timeout. A Lock is owned by the acquiring
 * thread, so that when its process dies holding it the next acquirer is
 * told: MPROC_EOWNERDEAD means the lock *is* acquired, and the data it
 * protects may be half-updated (Differs from CPython, which deadlocks).
 * @return 0; MPROC_EOWNERDEAD (acquired); MPROC_ETIMEDOUT; MPROC_EDEADLK
 *         when the calling thread already holds a Lock (not an RLock) and
 *         @p timeout is MPROC_FOREVER (CPython would hang; with a finite
 *         timeout the wait runs out as in CPython).
 */
int mproc_lock_acquire(mproc_lock_t *l, double timeout);

/**
 * Release. @return 0; MPROC_ESTATE when not locked ("release unlocked
 * lock"), MPROC_EPERM when held by another thread or process ("cannot
 * release un-acquired lock"; Differs from CPython for Lock, which any
 * process may release).
 */
int mproc_lock_release(mproc_lock_t *l);
void mproc_lock_free(mproc_lock_t *l);

/**
 * `with lock:` for C: runs the block with @p lock held and releases it
 * however the block is left: falling off its end, `break` or `continue`.
 * (`return` and `goto` out of the block skip the release: do not.)
 * @p status receives the acquire status (0 or MPROC_EOWNERDEAD); the
 * block is skipped when acquiring fails with another code.
 *
 * @code
 * int st;
 * MPROC_WITH_LOCK(lock, st) { counter++; }
 * @endcode
 */
#define MPROC_WITH_LOCK(lock, status)                                          \
  for (int mproc__w_once =                                                     \
           (((status) = mproc_lock_acquire((lock), MPROC_FOREVER)) == 0 ||     \
            (status) == MPROC_EOWNERDEAD);                                     \
       mproc__w_once; mproc__w_once = 0, (void)mproc_lock_release(lock))       \
    for (int mproc__w_body = 1; mproc__w_body; mproc__w_body = 0)

/**
 * A counting semaphore with @p value initial permits (CPython's
 * Semaphore(value)); bounded: release above @p value is an error.
 * @return 0; MPROC_EINVAL for a negative value.
 */
int mproc_semaphore_create(mproc_semaphore_t **out, long value);
int mproc_bounded_semaphore_create(mproc_semaphore_t **out, long value);
/** @return 0; MPROC_ETIMEDOUT. */
int mproc_semaphore_acquire(mproc_semaphore_t *s, double timeout);
/** @return 0; MPROC_EINVAL when a BoundedSemaphore is released too many
 *  times ("semaphore or lock released too many times"). */
int mproc_semaphore_release(mproc_semaphore_t *s);
/** Current value. */
long mproc_semaphore_value(mproc_semaphore_t *s);
void mproc_semaphore_free(mproc_semaphore_t *s);

int mproc_event_create(mproc_event_t **out);
int mproc_event_is_set(mproc_event_t *e);
int mproc_event_set(mproc_event_t *e);
int mproc_event_clear(mproc_event_t *e);
/** @return 0 once set; MPROC_ETIMEDOUT. */
int mproc_event_wait(mproc_event_t *e, double timeout);
void mproc_event_free(mproc_event_t *e);

/**
 * A condition variable over @p lock (NULL: a new RLock, as CPython). The
 * condition holds a reference on its lock; passing the condition to a
 * child passes the lock with it.
 */
int mproc_condition_create(mproc_condition_t **out, mproc_lock_t *lock);
/** The condition's lock (borrowed). */
mproc_lock_t *mproc_condition_lock(mproc_condition_t *c);
int mproc_condition_acquire(mproc_condition_t *c, double timeout);
int mproc_condition_release(mproc_condition_t *c);
/**
 * Release the lock, wait for a notify or @p timeout, reacquire.
 * @return 0 when notified; MPROC_ETIMEDOUT; MPROC_EPERM when the caller
 *         does not hold the lock ("cannot wait on un-acquired lock").
 */
int mproc_condition_wait(mproc_condition_t *c, double timeout);
/** Wait until @p pred(@p arg) is true (checked with the lock held).
 *  @return 0 when true; MPROC_ETIMEDOUT when still false at the end. */
int mproc_condition_wait_for(mproc_condition_t *c, int (*pred)(void *arg),
                             void *arg, double timeout);
/** @return 0; MPROC_EPERM without the lock ("cannot notify on un-acquired
 *  lock"). */
int mproc_condition_notify(mproc_condition_t *c, int n);
int mproc_condition_notify_all(mproc_condition_t *c);
void mproc_condition_free(mproc_condition_t *c);

/**
 * A barrier for @p parties processes or threads (CPython's Barrier).
 * @return 0; MPROC_EINVAL when parties < 1.
 */
int mproc_barrier_create(mproc_barrier_t **out, int parties);
/**
 * Wait for all parties. @return 0..parties-1, a different index for each
 * party of a pass (exactly one gets 0, as in CPython); MPROC_EBROKEN when the
 * barrier is or becomes broken (abort, reset while waiting, or a timeout, which
 * also breaks it); MPROC_ETIMEDOUT is never returned: a timeout breaks the
 * barrier, as in CPython.
 */
int mproc_barrier_wait(mproc_barrier_t *b, double timeout);
int mproc_barrier_abort(mproc_barrier_t *b);
int mproc_barrier_reset(mproc_barrier_t *b);
int mproc_barrier_parties(mproc_barrier_t *b);
int mproc_barrier_n_waiting(mproc_barrier_t *b);
int mproc_barrier_broken(mproc_barrier_t *b);
void mproc_barrier_free(mproc_barrier_t *b);

/* ------------------------------------------------------------------ */
/** @name Shared values, arrays and memory                             */
/* ------------------------------------------------------------------ */

/** Element types of Value and Array (CPython's typecodes). */
typedef enum mproc_ctype {
  MPROC_C_CHAR = 1, /**< 'c' char */
  MPROC_C_BYTE,     /**< 'b' signed char */
  MPROC_C_UBYTE,    /**< 'B' unsigned char */
  MPROC_C_SHORT,    /**< 'h' */
  MPROC_C_USHORT,   /**< 'H' */
  MPROC_C_INT,      /**< 'i' int */
  MPROC_C_UINT,     /**< 'I' */
  MPROC_C_LONG,     /**< 'l' long */
  MPROC_C_ULONG,    /**< 'L' */
  MPROC_C_INT64,    /**< 'q' int64_t */
  MPROC_C_UINT64,   /**< 'Q' */
  MPROC_C_FLOAT,    /**< 'f' */
  MPROC_C_DOUBLE    /**< 'd' */
} mproc_ctype_t;

/** Value and Array (one type: a Value is an Array of one element). */
typedef struct mproc_shared mproc_shared_t;

/** The typecode of a type ('i', 'd', ...) and back (0 if unknown). */
char mproc_ctype_code(mproc_ctype_t t);
mproc_ctype_t mproc_ctype_from_code(char code);
/** Size in bytes of an element. */
size_t mproc_ctype_size(mproc_ctype_t t);

/**
 * A zero-filled shared value of type @p t (CPython's Value(typecode)).
 * With @p lock it carries a new RLock (lock=True); otherwise none
 * (lock=False, RawValue).
 * @return 0; MPROC_EINVAL for an unknown type; MPROC_ENOMEM; MPROC_EOS.
 */
int mproc_shared_value_create(mproc_shared_t **out, mproc_ctype_t t, int lock);

/** A zero-filled shared array of @p n elements (CPython's Array). */
int mproc_shared_array_create(mproc_shared_t **out, mproc_ctype_t t, size_t n,
                              int lock);

/** Address of the first element: read and write it directly, holding the
 *  lock when other processes write too. */
void *mproc_shared_ptr(mproc_shared_t *v);
size_t mproc_shared_len(const mproc_shared_t *v);
mproc_ctype_t mproc_shared_ctype(const mproc_shared_t *v);
/** The object's lock (borrowed), or NULL for a raw value. */
mproc_lock_t *mproc_shared_lock(mproc_shared_t *v);
void mproc_shared_free(mproc_shared_t *v);

/** A named block of shared memory (CPython's shared_memory.SharedMemory). */
typedef struct mproc_shm mproc_shm_t;

/**
 * Create a new block (@p create) of @p size bytes, zero-filled, or attach
 * to the existing block @p name (NULL with @p create: a random name).
 * Names are portable: up to 30 characters, letters, digits, '_' and '-'.
 * A block lives as long as a process has it attached and it is not
 * unlinked; it is removed when the last process using it ends, even when
 * its creator crashed before unlinking it, and not while another process
 * still uses it (Differs from CPython's resource tracker on both).
 * @return 0; MPROC_EINVAL when creating with @p size == 0 or a bad name;
 *         MPROC_EEXIST; MPROC_ENOTFOUND when attaching to no such block.
 */
int mproc_shm_open(mproc_shm_t **out, const char *name, int create,
                   size_t size);
const char *mproc_shm_name(const mproc_shm_t *m);
void *mproc_shm_buf(mproc_shm_t *m);
size_t mproc_shm_size(const mproc_shm_t *m);
/** Detach this process (the pointer becomes invalid); idempotent. */
int mproc_shm_close(mproc_shm_t *m);
/** Remove the name: no new attach succeeds; attached processes keep it.
 *  @return 0; MPROC_ENOTFOUND when already unlinked. */
int mproc_shm_unlink(mproc_shm_t *m);
void mproc_shm_free(mproc_shm_t *m);

/* ------------------------------------------------------------------ */
/** @name Pool                                                         */
/* ------------------------------------------------------------------ */

/**
 * @brief Give a task's result (the C form of `return value` in a Python
 * function run by a Pool): @p fmt builds it as mproc_process_create()
 * builds arguments; one unit gives that value, several give a list, ""
 * gives nil. A later call replaces an earlier one. Outside a pool task the
 * value is checked and dropped (a Process has no result).
 * @return 0, for `return mproc_return("i", x * x);`; MPROC_ETYPE /
 *         MPROC_EINVAL when the value cannot be encoded (an object, a
 *         bad format): returned from the target, the task then fails with
 *         that message instead of losing the worker.
 */
int mproc_return(const char *fmt, ...);

/**
 * @brief Fail the running task with a message (the C form of raising an
 * exception): `return mproc_fail("bad input %d", x);`. The caller of the
 * task gets MPROC_ETASK and mproc_last_error() gives "<message>". A
 * target returning non-zero without mproc_fail() fails with "target
 * <name> returned <code>".
 * @return 1 (a failing exit code when the target runs as a Process).
 */
int mproc_fail(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/**
 * @brief The inputs of a map: a list of values, each built with one
 * format unit (Py_BuildValue style; use `[...]` for a tuple of arguments
 * given to starmap).
 */
typedef struct mproc_items mproc_items_t;
int mproc_items_create(mproc_items_t **out);
/** Append one item. @return 0; MPROC_EINVAL when @p fmt does not build
 *  exactly one value; MPROC_ETYPE for an object (`o`). */
int mproc_items_add(mproc_items_t *items, const char *fmt, ...);
size_t mproc_items_count(const mproc_items_t *items);
void mproc_items_free(mproc_items_t *items);

typedef struct mproc_pool mproc_pool_t;
typedef struct mproc_async mproc_async_t;
typedef struct mproc_imap mproc_imap_t;

/** Options of mproc_pool_create(); zero-filled means CPython's defaults. */
typedef struct mproc_pool_options {
  int processes;                  /**< 0: mproc_cpu_count(); < 0 is an error */
  mproc_target_fn initializer;    /**< run once in each worker, or NULL */
  const char *initargs;           /**< its argument format (varargs follow) */
  long maxtasksperchild;          /**< 0: workers live as long as the pool */
  const mproc_context_t *context; /**< start method; NULL: the default */
} mproc_pool_options_t;

/**
 * @brief Start a pool of worker processes (CPython's Pool), daemonic and
 * named "<Method>PoolWorker-N". @p opts may be NULL; the varargs are the
 * initializer's arguments as described by opts->initargs.
 *
 * Beyond CPython: a worker that dies (killed, crashed) fails the task it
 * was running at once with MPROC_EWORKER and is replaced; every other task
 * still completes.
 * @return 0; MPROC_EINVAL ("Number of processes must be at least 1",
 *         "maxtasksperchild must be a positive int or None"); as
 *         mproc_process_start() when a worker cannot start.
 */
int mproc_pool_create(mproc_pool_t **out, const mproc_pool_options_t *opts,
                      ...);

/** What happens when a task (or a whole map) completes: run in the
 *  pool's result thread, as CPython's callbacks are. All optional. */
typedef struct mproc_callbacks {
  /** The result, borrowed for the call (a list of one value for apply,
   *  the list of all values for map). */
  void (*on_result)(mproc_args_t *result, void *ud);
  /** The failure: status and message. */
  void (*on_error)(int status, const char *message, void *ud);
  /** map: items done so far out of @p total, as chunks complete. */
  void (*on_progress)(size_t done, size_t total, void *ud);
  void *ud;
} mproc_callbacks_t;

/**
 * Run @p fn(args) in a worker and wait for it (CPython's apply).
 * @p *result: a list of one value (parse with mproc_args_parse(r, "i",
 * &v)); free it with mproc_args_free().
 * @return 0; MPROC_ETASK (the task failed; mproc_last_error() has its
 *         message); MPROC_EWORKER (its worker died; the message says
 *         how); MPROC_ESTATE after close ("Pool not running");
 *         MPROC_ENOTREG for an unregistered function; MPROC_ETYPE.
 */
int mproc_pool_apply(mproc_pool_t *pool, mproc_args_t **result,
                     mproc_target_fn fn, const char *fmt, ...);

/** Submit @p fn(args) and return at once (CPython's apply_async).
 *  @p cb may be NULL. Free @p *ar with mproc_async_free(). */
int mproc_pool_apply_async(mproc_pool_t *pool, mproc_async_t **ar,
                           const mproc_callbacks_t *cb, mproc_target_fn fn,
                           const char *fmt, ...);

/**
 * map: @p fn(item) for each item, in order; @p chunksize 0 for CPython's
 * default (ceil(n / (4 x workers))). @p *result: the list of all results.
 * The first failing chunk fails the map (MPROC_ETASK / MPROC_EWORKER).
 * Empty input gives an empty list.
 */
int mproc_pool_map(mproc_pool_t *pool, mproc_args_t **result,
                   mproc_target_fn fn, const mproc_items_t *items,
                   size_t chunksize);
int mproc_pool_map_async(mproc_pool_t *pool, mproc_async_t **ar,
                         const mproc_callbacks_t *cb, mproc_target_fn fn,
                         const mproc_items_t *items, size_t chunksize);
/** starmap: each item is a list, spread as @p fn's arguments (an item
 *  that is not a list fails its chunk with MPROC_ETASK). */
int mproc_pool_starmap(mproc_pool_t *pool, mproc_args_t **result,
                       mproc_target_fn fn, const mproc_items_t *items,
                       size_t chunksize);
int mproc_pool_starmap_async(mproc_pool_t *pool, mproc_async_t **ar,
                             const mproc_callbacks_t *cb, mproc_target_fn fn,
                             const mproc_items_t *items, size_t chunksize);

/**
 * imap (@p ordered) and imap_unordered: results one at a time with
 * mproc_imap_next(). @p chunksize 0 means 1 (as CPython's).
 */
int mproc_pool_imap(mproc_pool_t *pool, mproc_imap_t **it, mproc_target_fn fn,
                    const mproc_items_t *items, size_t chunksize, int ordered);
/**
 * The next result (a list of one value; free it), in input order for
 * imap, in completion order for imap_unordered.
 * @return 0; MPROC_ESTOP when all were given; MPROC_ETIMEDOUT; that
 *         item's MPROC_ETASK / MPROC_EWORKER (iteration may go on).
 */
int mproc_imap_next(mproc_imap_t *it, double timeout, mproc_args_t **result);
void mproc_imap_free(mproc_imap_t *it);

/** Wait for the result; 0 or its failure, MPROC_ETIMEDOUT (a distinct
 *  status: the result may still come). Each call gives a new copy. */
int mproc_async_get(mproc_async_t *ar, double timeout, mproc_args_t **result);
/** @return 0 when ready; MPROC_ETIMEDOUT. */
int mproc_async_wait(mproc_async_t *ar, double timeout);
int mproc_async_ready(mproc_async_t *ar);
/** @return 1 / 0; MPROC_ESTATE when not ready ("result is not ready"). */
int mproc_async_successful(mproc_async_t *ar);
void mproc_async_free(mproc_async_t *ar);

/** No new work; workers exit when the submitted work is done. */
int mproc_pool_close(mproc_pool_t *pool);
/** Stop now: workers are terminated, unfinished results fail with
 *  MPROC_ECLOSED ("Pool terminated"). */
int mproc_pool_terminate(mproc_pool_t *pool);
/** Wait for the workers to exit. @return 0; MPROC_ESTATE while the pool
 *  still runs ("Pool is still running": close or terminate first). */
int mproc_pool_join(mproc_pool_t *pool);
/** Terminate (when still running), join and free, as CPython's `with`. */
void mproc_pool_free(mproc_pool_t *pool);
/** Number of worker processes. */
int mproc_pool_processes(const mproc_pool_t *pool);
/** Pids of the current workers into @p pids (up to @p n); the count. */
size_t mproc_pool_worker_pids(mproc_pool_t *pool, long *pids, size_t n);

/* ------------------------------------------------------------------ */
/** @name Listener and Client (multiprocessing.connection)             */
/* ------------------------------------------------------------------ */

/**
 * Address families, named as in CPython:
 * - "AF_UNIX": a unix-domain socket at a file path (POSIX only; the
 *   POSIX default). A NULL address gives a new private path in a
 *   temporary directory, removed when the listener closes.
 * - "AF_INET": TCP, address "host:port" (IPv4 or a host name; port 0
 *   picks a free port, which mproc_listener_address() then shows).
 * - "AF_PIPE": a Windows named pipe, address "\\\\.\\pipe\\name" (Windows
 *   only; the Windows default). Between mproc programs only: CPython's
 *   PipeConnection frames messages differently.
 *
 * A NULL family is deduced from the address as CPython's address_type()
 * does: a "\\\\" prefix is AF_PIPE, "host:port" (digits after the last
 * ':' and no '/') is AF_INET, anything else AF_UNIX; with a NULL address
 * it is mproc_default_family().
 */
const char *mproc_default_family(void);

/** Names of the families this platform has, NULL-terminated. */
const char *const *mproc_all_families(void);

/** A listening endpoint (CPython's multiprocessing.connection.Listener). */
typedef struct mproc_listener mproc_listener_t;

/** Seconds a handshake may take before the peer is dropped (CPython
 *  waits forever). */
#define MPROC_AUTH_TIMEOUT 10.0

/**
 * Bind @p address of @p family and listen (CPython's Listener(address,
 * family, backlog, authkey)). With an @p authkey, every accepted peer
 * must prove it knows the key and the listener proves it back: CPython's
 * HMAC challenge-response (`#CHALLENGE#{sha256}` and 40 random bytes,
 * answered with `{sha256}` and HMAC-SHA256(authkey, message); a CPython
 * 3.11 peer's unprefixed HMAC-MD5 is accepted too, as CPython 3.12 does),
 * compared in constant time, messages capped at 256 bytes. NULL
 * @p authkey: no authentication.
 *
 * @param backlog pending connections (< 1 means 1, as CPython's default).
 * @return 0; MPROC_EADDRINUSE when the address is taken; MPROC_EINVAL for a
 *         bad address or family ("unrecognized family"); MPROC_ENOSYS for
 *         a family this platform lacks; MPROC_EOS.
 */
int mproc_listener_create(mproc_listener_t **out, const char *address,
                          const char *family, int backlog, const void *authkey,
                          size_t authkey_len);

/**
 * Accept one connection, waiting up to @p timeout seconds for a peer
 * (CPython's accept() waits forever: pass MPROC_FOREVER). With an authkey
 * the handshake then runs, bounded by mproc_listener_set_auth_timeout().
 *
 * @return 0 and a new duplex connection in @p *out; MPROC_ETIMEDOUT when
 *         no peer came; MPROC_EAUTH when the peer failed the handshake
 *         (wrong key, garbage, too long a message, silence): its
 *         connection is closed and the listener goes on;
 *         MPROC_ECLOSED after mproc_listener_close(); MPROC_EOS.
 */
int mproc_listener_accept(mproc_listener_t *l, mproc_conn_t **out,
                          double timeout);

/** Bound the handshake of each accepted peer (default
 *  MPROC_AUTH_TIMEOUT). @return 0; MPROC_EINVAL. */
int mproc_listener_set_auth_timeout(mproc_listener_t *l, double seconds);

/** The address bound (with the port or path chosen), valid until free. */
const char *mproc_listener_address(const mproc_listener_t *l);

/** The family ("AF_UNIX", "AF_INET", "AF_PIPE"). */
const char *mproc_listener_family(const mproc_listener_t *l);

/** Stop listening (a unix socket's path is removed). Idempotent. */
int mproc_listener_close(mproc_listener_t *l);

/** Close and free. NULL is a no-op. */
void mproc_listener_free(mproc_listener_t *l);

/**
 * Connect to a listener (CPython's Client(address, family, authkey)),
 * then, with an @p authkey, answer its challenge and deliver one.
 * @p timeout bounds the connection and the handshake (MPROC_FOREVER:
 * none; CPython has none).
 *
 * @return 0; MPROC_EAUTH (wrong key, or a peer that does not speak the
 *         protocol); MPROC_EEOF when the listener hung up during the
 *         handshake (CPython's EOFError); MPROC_ETIMEDOUT; MPROC_ENOTFOUND
 *         when nothing listens there; MPROC_EINVAL; MPROC_ENOSYS; MPROC_EOS.
 */
int mproc_client(mproc_conn_t **out, const char *address, const char *family,
                 const void *authkey, size_t authkey_len, double timeout);

/**
 * The two halves of the handshake on any connection (CPython's
 * deliver_challenge / answer_challenge), each bounded by @p timeout.
 * @return 0; MPROC_EAUTH; MPROC_EEOF when the peer hung up;
 *         MPROC_ETIMEDOUT; MPROC_ECLOSED; MPROC_EOS.
 */
int mproc_deliver_challenge(mproc_conn_t *c, const void *authkey,
                            size_t authkey_len, double timeout);
int mproc_answer_challenge(mproc_conn_t *c, const void *authkey,
                           size_t authkey_len, double timeout);

/* ------------------------------------------------------------------ */
/** @name Managers                                                     */
/* ------------------------------------------------------------------ */

/**
 * A manager (CPython's BaseManager / SyncManager): a server process that
 * owns shared objects and hands out proxies to them. A proxy works from
 * any process it is passed to (as `o`, in process or pool arguments,
 * queue items, or a manager's own dict and list); each call is one
 * authenticated request to the server.
 */
typedef struct mproc_manager mproc_manager_t;

/** A proxy to an object a manager holds. */
typedef struct mproc_proxy mproc_proxy_t;

/** Options of mproc_manager_create(); zero-filled is CPython's Manager(). */
typedef struct mproc_manager_options {
  /** Where the server listens, or NULL: a private address of the default
   *  family. "host:port" serves over TCP (a remote manager). */
  const char *address;
  const char *family; /**< NULL: deduced, as for Listener */
  /** The key clients must know; NULL: the current process's authkey. */
  const void *authkey;
  size_t authkey_len;
  /** Start method of the server process; NULL: the default. */
  const mproc_context_t *context;
  /** Seconds shutdown waits at each step (ask, terminate, kill); 0: 1.0,
   *  as CPython. */
  double shutdown_timeout;
} mproc_manager_options_t;

/**
 * A manager, not started (CPython's BaseManager(address, authkey)):
 * start it, or connect to one already serving at @p opts->address.
 * @return 0; MPROC_EINVAL; MPROC_ENOMEM.
 */
int mproc_manager_create(mproc_manager_t **out,
                         const mproc_manager_options_t *opts);

/**
 * Start the server process (CPython's start()), daemonic: it dies with
 * the program even when the program is killed.
 * @return 0; MPROC_ESTATE when already started, connected or shut down;
 *         MPROC_EADDRINUSE; whatever mproc_process_start() returns.
 */
int mproc_manager_start(mproc_manager_t *m);

/**
 * Use the server already serving at the options' address with their
 * authkey (CPython's connect()), e.g. one started by another program.
 * @return 0; MPROC_EAUTH; MPROC_ENOTFOUND; MPROC_ETIMEDOUT; MPROC_ESTATE.
 */
int mproc_manager_connect(mproc_manager_t *m);

/**
 * Stop the server: ask it to exit, then terminate it, then kill it, each
 * after shutdown_timeout (CPython's shutdown()). Proxies of a stopped
 * server give MPROC_EBROKEN. A connected (not started) manager asks the
 * server to exit.
 * @return 0; MPROC_ESTATE when not started or already shut down.
 */
int mproc_manager_shutdown(mproc_manager_t *m);

/** The server's address (valid while @p m lives), or NULL before start. */
const char *mproc_manager_address(const mproc_manager_t *m);

/** The server process (NULL unless started by mproc_manager_start()). */
mproc_process_t *mproc_manager_process(mproc_manager_t *m);

/** Shut down a started server, then free. NULL is a no-op. */
void mproc_manager_free(mproc_manager_t *m);

/** CPython's Manager(): create and start with the default options. */
int mproc_manager(mproc_manager_t **out);

/** Types of objects a manager holds, and their methods (CPython's names
 *  and arguments, all positional). */
typedef enum mproc_managed {
  /** dict: __getitem__(k) (MPROC_ENOTFOUND, "KeyError"), __setitem__(k, v),
   *  __delitem__(k), __contains__(k), __len__(), get(k[, default]),
   *  setdefault(k[, default]), pop(k[, default]), popitem(), keys(),
   *  values(), items() (a list of [k, v]), update(map), clear(), copy()
   *  (a map). Keys are any value; insertion order is kept. */
  MPROC_MANAGED_DICT = 1,
  /** list: __getitem__(i), __setitem__(i, v), __delitem__(i) (negative
   *  indexes count from the end; MPROC_ERANGE, "IndexError"), __len__(),
   *  __contains__(v), append(v), extend(list), insert(i, v), pop([i]),
   *  remove(v), index(v), count(v), reverse(), clear(), copy(). */
  MPROC_MANAGED_LIST,
  /** queue.Queue([maxsize]): put(v[, block[, timeout]]), get([block[,
   *  timeout]]) (MPROC_EEMPTY / MPROC_EFULL), put_nowait(v), get_nowait(),
   *  qsize(), empty(), full(), task_done(), join(). */
  MPROC_MANAGED_QUEUE,
  /** Namespace: __getattribute__(name) (MPROC_ENOTFOUND,
   *  "AttributeError"), __setattr__(name, v), __delattr__(name), and
   *  __dict__() (a map of every attribute). */
  MPROC_MANAGED_NAMESPACE,
  /** threading.Lock: acquire([blocking[, timeout]]) (true/false, as
   *  CPython), release() (MPROC_ESTATE when unlocked), locked(). When the
   *  connection holding it ends (its process died), the lock is released
   *  and the next acquire returns MPROC_EOWNERDEAD with the lock acquired
   *  (CPython's stays locked forever). */
  MPROC_MANAGED_LOCK,
  /** threading.Event: set(), clear(), is_set(), wait([timeout]) (true /
   *  false). */
  MPROC_MANAGED_EVENT,
  /** Value: get(), set(v) (CPython's ValueProxy .value). */
  MPROC_MANAGED_VALUE
} mproc_managed_t;

/** Name of a managed type ("dict", "list", "Queue", ...), or NULL. */
const char *mproc_managed_name(int type);

/**
 * A new object of @p type held by the server (CPython's manager.dict(),
 * manager.Queue(), ...), and a proxy to it. With a @p name, the object
 * registered under that name, created on first use: every client of the
 * server asking for the same name gets the same object (CPython's
 * register('get_queue', callable=lambda: queue)); asking for it with
 * another type is MPROC_ETYPE. Objects live as long as the server
 * (Differs from CPython, which frees one with its last proxy).
 * @return 0; MPROC_ESTATE when the manager is not started or connected;
 *         MPROC_EINVAL for an unknown type; MPROC_EBROKEN when the server
 *         is gone.
 */
int mproc_manager_object(mproc_manager_t *m, mproc_proxy_t **out, int type,
                         const char *name);

/**
 * mproc_manager_object() with constructor arguments built from @p fmt
 * (NULL: none), as CPython's manager.dict(mapping), manager.list(seq),
 * manager.Queue(maxsize), manager.Namespace(**attrs) (a map),
 * manager.Value(typecode, value) (here only the value). Ignored when
 * @p name already exists.
 * @return as mproc_manager_object(); MPROC_EINVAL / MPROC_ETYPE for bad
 *         constructor arguments.
 */
int mproc_manager_object_args(mproc_manager_t *m, mproc_proxy_t **out, int type,
                              const char *name, const char *fmt, ...);

/**
 * Call @p method of the proxy's object with the arguments built from
 * @p fmt (Py_BuildValue style), as CPython's proxy._callmethod(). The
 * result, when @p result is not NULL, is a list of one value (nil for
 * None): free it with mproc_args_free().
 * @return 0; MPROC_ENOMETHOD for a method the type does not expose; the
 *         server's error for the call (MPROC_ENOTFOUND for KeyError,
 *         MPROC_ERANGE for IndexError, MPROC_EEMPTY, MPROC_EFULL,
 *         MPROC_EINVAL for a wrong number of arguments, MPROC_ETYPE for
 *         an argument of the wrong type, each with the server's message);
 *         MPROC_EBROKEN when the server is gone (never a hang);
 *         MPROC_EAUTH when this process's authkey is not the server's.
 */
int mproc_proxy_call(mproc_proxy_t *p, mproc_args_t **result,
                     const char *method, const char *fmt, ...);
int mproc_proxy_callv(mproc_proxy_t *p, mproc_args_t **result,
                      const char *method, const char *fmt, va_list ap);

/** The type of the proxy's object (mproc_managed_t). */
int mproc_proxy_type(const mproc_proxy_t *p);

/** Free the proxy (the object stays with the server). NULL is a no-op. */
void mproc_proxy_free(mproc_proxy_t *p);

#ifdef __cplusplus
}
#endif

#endif /* MPROC_H */
