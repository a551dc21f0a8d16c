/*
 * The contract between the portable core (lib/) and one backend
 * (platform/posix/ or platform/win32/). The build compiles exactly one
 * backend; each implements every function here. Validation, allocation of
 * core objects and user-facing messages stay in lib/, so that both
 * platforms fail the same way on the same input; a backend reports OS
 * failures with mproc__err_os().
 */
#ifndef MPROC__PLATFORM_H
#define MPROC__PLATFORM_H

#include <stddef.h>

#include "internal.h"

/* A started child as the backend tracks it (private to the backend). */
typedef struct mproc__child mproc__child_t;

/* What the core asks a backend to start. */
typedef struct mproc__launch {
  mproc_start_method_t method;
  int daemon; /* die with the parent, even when it is killed */
  /* spawn / forkserver: the whole bootstrap message, header included */
  const void *boot;
  size_t boot_len;
  /* fork: called in the child right after fork(); never returns */
  void (*fork_child)(void *arg);
  void *fork_arg;
  /* Handles (descriptors / HANDLEs) the child inherits, in the order of
   * mproc__plat_child_handle(); nothing else is inherited. */
  const intptr_t *handles;
  size_t nhandles;
} mproc__launch_t;

/* The value handle @parent_value, the @i-th of a launch's handles, has
 * in a child started with @method (POSIX spawn and forkserver move them
 * to fixed descriptors; fork and Windows keep the values). */
intptr_t mproc__plat_child_handle(mproc_start_method_t method, size_t i,
                                  intptr_t parent_value);

/* Close a handle a child inherited but nobody claimed. */
void mproc__plat_handle_close(intptr_t h);

/* Start a child. On success *out is a tracked child (release it with
 * mproc__plat_child_free once it has ended). */
int mproc__plat_start(const mproc__launch_t *l, mproc__child_t **out);

/* Wait at most @timeout seconds (>= 1e9: forever; <= 0: poll) for the
 * child to end, without reaping it. 0 once it has ended; MPROC_ETIMEDOUT
 * when it still runs. Safe to call from several threads at once. */
int mproc__plat_wait(mproc__child_t *c, double timeout);

/* Reap the child if it has ended, without blocking: 0 and *exitcode set
 * (CPython's convention: -N for signal N); MPROC_ETIMEDOUT when it still
 * runs. The core calls it under its lock, at most once successfully. */
int mproc__plat_reap(mproc__child_t *c, int *exitcode);

/* Ask the child to stop: @hard 0 = terminate (-SIGTERM), 1 = kill
 * (-SIGKILL). A child that has already ended is not an error. */
int mproc__plat_signal(mproc__child_t *c, int hard);

long mproc__plat_child_pid(const mproc__child_t *c);
mproc_sentinel_t mproc__plat_sentinel(const mproc__child_t *c);

/* Release the backend's record of a reaped child (descriptors, memory). */
void mproc__plat_child_free(mproc__child_t *c);

/* Called by mproc_main(): when the command line marks this process as a
 * spawned child or as the forkserver, the backend takes over and never
 * returns (it ends in mproc__child_run or the server loop). Returns 0 when
 * this is an ordinary program start. */
int mproc__plat_main(int argc, char **argv);

/* Whether the command line marks this process as a spawned child. Works
 * before mproc_main() has run (the fork-bomb check). */
int mproc__plat_is_spawned_child(void);

/* Set up a just-started child (any method): reset what must not be
 * inherited, arrange for a daemonic child to die with its parent
 * (@parent_pid) even when the parent is killed. */
void mproc__plat_child_setup(mproc_start_method_t method, int daemon,
                             long parent_pid);

/* In a child made by fork: forget the parent's backend state (its
 * forkserver connection, descriptors that must not stay open here). */
void mproc__plat_after_fork_child(void);

/* Monotonic clock, seconds. */
double mproc__plat_now(void);

/* Whether process @pid exists (a process of another user too). */
int mproc__plat_pid_alive(long pid);

/* In a child started with @method by process @parent_pid: wait at most
 * @timeout seconds (>= 1e9: forever; <= 0: poll) for that parent to end.
 * 0 once it has ended; MPROC_ETIMEDOUT while it runs. A process that
 * reuses the parent's id after it ended is not taken for it. */
int mproc__plat_parent_wait(mproc_start_method_t method, long parent_pid,
                            double timeout);

long mproc__plat_getpid(void);

/* The id of the process that created this one, as the OS knows it. */
long mproc__plat_getppid(void);

/* Sleep @seconds (> 0), through interruptions. */
void mproc__plat_sleep(double seconds);
int mproc__plat_cpu_count(void);
int mproc__plat_has_method(mproc_start_method_t m);

/* Flush C stdio and end the process with @code without running the
 * parent's atexit handlers (a forked child must not run them). */
MPROC__NORETURN void mproc__plat_exit_now(int code);

/* Text of OS error @oserr (strerror / FormatMessage) into @buf. */
void mproc__plat_strerror(long oserr, char *buf, size_t len);

/* Translate OS error @oserr into an MPROC_E* code. */
int mproc__plat_errcode(long oserr);

/* ---- shared memory, waiting and robust mutexes (objects of lib/) ---- */

#include <stdatomic.h>
#include <stdint.h>

/* An anonymous shared-memory segment holding one object's state, and
 * what its primitives need. Passed to children by its handles. */
typedef struct mproc__seg {
  void *addr; /* @size bytes for the object (zero-filled when created) */
  size_t size;
  void *map; /* the whole mapping (the backend's header first) */
  size_t map_size;
  intptr_t handle; /* memfd / file-mapping HANDLE */
  intptr_t wake;   /* win32: the segment's wake-up semaphore; POSIX: -1 */
} mproc__seg_t;

/* Create a segment of @size usable bytes. */
int mproc__plat_seg_create(size_t size, mproc__seg_t *out);

/* List every handle a child needs to import the segment (the mapping and
 * the kernel objects of its mutexes and waits), at most @cap. */
int mproc__plat_seg_export(const mproc__seg_t *s, intptr_t *handles, size_t cap,
                           size_t *n);

/* In a child: map the segment exported as @handles (takes ownership of
 * them on success). @size must match the creator's (checked). */
int mproc__plat_seg_import(const intptr_t *handles, size_t n, size_t size,
                           mproc__seg_t *out);

/* Unmap and close. Idempotent on a zeroed or closed segment. */
void mproc__plat_seg_close(mproc__seg_t *s);

/* Sleep until *@word may differ from @expected: returns at once if it
 * does, else when woken, or at @deadline (mproc__plat_now() seconds;
 * MPROC__NEVER in object.h: no limit). Spurious returns are allowed;
 * callers re-check. @return 0, or MPROC_ETIMEDOUT at the deadline. */
int mproc__plat_word_wait(mproc__seg_t *s, atomic_uint *word, unsigned expected,
                          double deadline);

/* Wake up to @n waiters on @word (INT_MAX: all). Call after changing it. */
void mproc__plat_word_wake(mproc__seg_t *s, atomic_uint *word, int n);

/* A robust, non-recursive mutex living inside a segment, owned by the
 * thread that locked it. */
typedef struct mproc__mutex {
  _Alignas(16) unsigned char opaque[64];
} mproc__mutex_t;

/* Initialise @m, which lies in @s's memory (once, by the creator). */
int mproc__plat_mutex_init(mproc__seg_t *s, mproc__mutex_t *m);

/* @return 0; MPROC_EOWNERDEAD: locked, and the previous owner died
 * holding it (the mutex is usable again); MPROC_ETIMEDOUT at @deadline;
 * MPROC_EDEADLK: the calling thread holds it already (returned at once,
 * whatever the deadline). */
int mproc__plat_mutex_lock(mproc__seg_t *s, mproc__mutex_t *m, double deadline);

/* @return 0; MPROC_EPERM when the calling thread does not hold it. */
int mproc__plat_mutex_unlock(mproc__seg_t *s, mproc__mutex_t *m);

/* Whether some thread holds @m / whether the calling thread does. */
int mproc__plat_mutex_locked(mproc__mutex_t *m);
int mproc__plat_mutex_mine(mproc__mutex_t *m);

/* An id of the calling thread, unique among live threads of all
 * processes (for owner checks in RLock and Condition). Never 0. */
uint64_t mproc__plat_thread_id(void);

/* ---- pipes for Connection ---- */

/* A connected pair. @duplex: both ends read and write; otherwise @r only
 * reads and @w only writes. Handles are not inherited by default. */
int mproc__plat_pipe(int duplex, intptr_t *r, intptr_t *w);

/* Read at most @cap bytes, blocking until at least one byte or EOF.
 * *got is 0 at EOF. */
int mproc__plat_pipe_read(intptr_t h, void *buf, size_t cap, size_t *got);

/* Write all @len bytes (blocking; no SIGPIPE: a closed peer is an
 * error). */
int mproc__plat_pipe_write(intptr_t h, const void *buf, size_t len);

/* Wait until one of @n handles is ready or @deadline: a pipe (@is_pipe[i])
 * readable or at EOF, anything else (a process sentinel) signalled.
 * Sets @ready[i]; returns how many are ready (0 at the deadline) or an
 * error. */
int mproc__plat_wait_handles(const intptr_t *h, const int *is_pipe, size_t n,
                             double deadline, int *ready);

/* Take an inherited handle for good (close-on-exec on POSIX). */
void mproc__plat_handle_own(intptr_t h);

/* ---- named shared memory (SharedMemory) ---- */

/* A named block as this process maps it. Every process with it open
 * counts as a user; the block disappears when the last user closes it or
 * dies (Linux: a shared file lock each user holds, which the kernel drops
 * with the process; Windows: the kernel's own handle count). */
typedef struct mproc__named {
  intptr_t handle;
  void *map;
  size_t map_size;
} mproc__named_t;

/* Create block @name (validated by the caller) of @size bytes,
 * zero-filled. MPROC_EEXIST if the name is taken. */
int mproc__plat_named_create(const char *name, size_t size,
                             mproc__named_t *out);

/* Attach to block @name, whatever its size. MPROC_ENOTFOUND. */
int mproc__plat_named_open(const char *name, mproc__named_t *out);

/* In a child: map the inherited handle @h of block @name (ownership
 * moves on success). */
int mproc__plat_named_adopt(const char *name, intptr_t h, mproc__named_t *out);

/* Detach; removes the block when this was its last user. */
void mproc__plat_named_close(const char *name, mproc__named_t *m);

/* Remove the name now (Linux); attached users keep the memory.
 * MPROC_ENOTFOUND when there is no such name. Windows cannot remove a
 * name: the caller marks the block unlinked instead (returns 0). */
int mproc__plat_named_unlink(const char *name);

/* Remove blocks whose users all died without closing them. */
void mproc__plat_named_sweep(void);

/* ---- listeners and clients (Listener/Client) ---- */

/* Address families (the core parses names and deduces a family; the
 * backend gets one of these and an address string of its form:
 * UNIX a path, INET "host:port", PIPE "\\.\pipe\name"). */
#define MPROC__AF_UNIX 1
#define MPROC__AF_INET 2
#define MPROC__AF_PIPE 3

/* A listening endpoint as the backend keeps it (private to it). */
typedef struct mproc__lsn mproc__lsn_t;

/* Whether this platform has @family; the default family (POSIX: UNIX,
 * Windows: PIPE). */
int mproc__plat_has_family(int family);
int mproc__plat_default_family(void);

/* Bind and listen on @address of @family with @backlog (>= 1), or on a
 * new private address when @address is NULL (UNIX: a fresh abstract
 * address, "@name", that accepts only peers of the same user; INET:
 * 127.0.0.1 with a free port; PIPE: a fresh unique pipe name). A UNIX
 * address "@name" is Linux's abstract namespace. The address bound, with the
 * chosen port or path, goes to @bound (NUL-terminated, @cap bytes). Nothing is
 * inherited by children. MPROC_EADDRINUSE when the address is taken;
 * MPROC_EINVAL when the OS refuses the address (unknown host, path too
 * long); MPROC_EOS otherwise. */
int mproc__plat_listen(int family, const char *address, int backlog,
                       mproc__lsn_t **out, char *bound, size_t cap);

/* Wait until @deadline (MPROC__NEVER: no limit) for a peer and accept it:
 * *h is a connected, non-inherited handle on which mproc__plat_pipe_read,
 * mproc__plat_pipe_write, mproc__plat_wait_handles (is_pipe 1) and
 * mproc__plat_handle_close work, as on a duplex pipe. MPROC_ETIMEDOUT
 * at the deadline. One thread accepts at a time. */
int mproc__plat_accept(mproc__lsn_t *l, double deadline, intptr_t *h);

/* Make every read and wait on connection @h (from mproc__plat_accept)
 * end at once as at EOF, in any thread, without closing it: its owner
 * closes it when done. */
void mproc__plat_handle_shutdown(intptr_t h);

/* Stop listening and free @l; a UNIX listener removes the path it made.
 * NULL is a no-op. */
void mproc__plat_listen_close(mproc__lsn_t *l);

/* Connect to @address of @family; *h as from mproc__plat_accept.
 * MPROC_ENOTFOUND when nothing listens there (refused, no such path or
 * pipe); a busy pipe is retried until @deadline (then MPROC_ETIMEDOUT);
 * MPROC_EINVAL for an address the OS refuses. */
int mproc__plat_connect(int family, const char *address, double deadline,
                        intptr_t *h);

#endif /* MPROC__PLATFORM_H */
