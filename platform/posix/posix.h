/*
 * Private declarations of the POSIX backend.
 */
#ifndef MPROC__POSIX_H
#define MPROC__POSIX_H

#include <stddef.h>
#include <sys/types.h>

#include "platform.h"

/* Marker arguments on a re-executed program's command line. */
#define MPROC__SPAWN_ARG "--mproc-spawn="
#define MPROC__FORKSERVER_ARG "--mproc-forkserver="

/* The descriptor a spawned child reads its bootstrap message from. */
#define MPROC__BOOT_FD 3
/* Where the handles of the objects in a child's arguments go (spawn and
 * forkserver children): descriptors MPROC__HANDLE_FD + i. */
#define MPROC__HANDLE_FD 4

struct mproc__child {
  pid_t pid;
  int pidfd; /* signals and waits without pid-reuse races; -1 without */
  /* Without pidfds (fork, spawn): the read end of a pipe whose write end
   * only the child holds, at EOF once it has ended; else -1. */
  int sentinel;
  int sentinel_eof; /* the child closed its end early: no longer used */
  int conn; /* forkserver: the request connection, the sentinel; else -1 */
  int server_gone; /* forkserver: the connection ended without a status */
  int reaped;
  int exitcode;
};

/* Whether this kernel has pidfds (Linux 5.3). Without them (an older
 * kernel, or valgrind, which does not know the calls), and when the
 * environment has MPROC_NO_PIDFD=1 (to test that path), children are
 * tracked by pid, with waitid() and a sentinel pipe. */
int mproc__posix_has_pidfd(void);

/* argv[0] of this program, for the children's command lines. */
extern const char *mproc__argv0;

/* Whether process @pid (anyone's, not only our child) has ended: its
 * /proc entry is gone, or says zombie (its parent has not reaped it). */
int mproc__posix_pid_ended(long pid);

/* Convert a wait status to CPython's exit code convention. */
int mproc__posix_exitcode(int status);

/* Read or write exactly @len bytes (EINTR-safe). 0, or -errno; a read
 * that meets EOF early gives -EPIPE. */
int mproc__read_full(int fd, void *buf, size_t len);
int mproc__write_full(int fd, const void *buf, size_t len);

/* Read a framed bootstrap message from @fd and run the child (or die). */
MPROC__NORETURN void mproc__posix_boot_from_fd(int fd);

/* posix_spawn the running executable with @marker as its only argument
 * and @fds[i] as descriptor 3 + i in the child; nothing else inherited
 * but stdio. */
int mproc__spawn_self(const char *marker, const int *fds, int nfds, pid_t *pid);

/* In a child: move @fds[i] to descriptor @base + i (clearing
 * close-on-exec), whatever numbers they have now. */
int mproc__move_fds(const int *fds, size_t n, int base);

/* A child ending: close the named blocks still open, removing those it
 * was the last user of (named.c). */
void mproc__posix_named_exit(void);

/* The forkserver: client side start, server side main loop. */
int mproc__fs_start(const mproc__launch_t *l, mproc__child_t *c);
MPROC__NORETURN void mproc__fs_serve(const char *arg);
void mproc__fs_after_fork(void);
extern long mproc__fs_server_pid;

#endif /* MPROC__POSIX_H */
