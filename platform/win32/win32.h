/*
 * Private declarations of the Windows backend.
 */
#ifndef MPROC__WIN32_H
#define MPROC__WIN32_H

#include "platform.h"

/* The marker argument of a spawned child: the inherited pipe handle. */
#define MPROC__SPAWN_ARG "--mproc-spawn="

/* Map a process exit code to CPython's convention (-N for "signal" N). */
int mproc__win_exitcode(unsigned long code);

/* Buffer sizes of the named pipes under Connection and Listener. */
#define MPROC__WIN_PIPE_BUF 65536

/* Milliseconds to sleep in a polling wait: @slice, or less when
 * @deadline (MPROC__NEVER: none) comes sooner (pipe.c). */
unsigned long mproc__win_nap_ms(unsigned long slice, double deadline);

/* Sockets of Listener and Client (listen.c). Whether @h is a socket
 * (cheap for anything else); a socket's side of mproc__plat_pipe_read,
 * mproc__plat_pipe_write and of the readiness test of
 * mproc__plat_wait_handles (readable, at EOF or reset: 1). */
int mproc__win_is_socket(intptr_t h);
int mproc__win_sock_read(intptr_t h, void *buf, size_t cap, size_t *got);
int mproc__win_sock_write(intptr_t h, const void *buf, size_t len);
int mproc__win_sock_ready(intptr_t h);
/* Wait in select() until one of the @n (at most FD_SETSIZE) sockets @h is
 * readable (data, EOF, reset) or @deadline passes: how many are, each
 * one's 0/1 into @ready; or an error. No polling: an idle wait costs no
 * CPU (one per waiting thread would, in slices, under Wine most of all). */
#define MPROC__WIN_SOCKS_MAX 64 /* Winsock's FD_SETSIZE */
int mproc__win_socks_wait(const intptr_t *h, size_t n, double deadline,
                          int *ready);

/* Close @h if it is a socket (through closesocket, or Winsock would keep
 * its state): 1 if it was one, else 0 and @h is left alone. */
int mproc__win_close_socket(intptr_t h);

#endif /* MPROC__WIN32_H */
