/**
 * @file mproc/listener.h
 * @brief Listener and Client.
 *
 * Part of the public API; include <mproc.h>, which includes every part.
 */
#ifndef MPROC_LISTENER_H
#define MPROC_LISTENER_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "mproc/connection.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @defgroup mproc-listener Listeners and Clients
 * @brief multiprocessing.connection's Listener, Client and the
 * authentication handshake (authentication keys).
 *
 * Address families, named as in CPython:
 * - "AF_UNIX": a unix-domain socket at a file path (POSIX only; the
 *   POSIX default), or, written "@name", at a Linux abstract address
 *   (CPython's "\0name": no file). A NULL address gives a new private
 *   abstract address, "@mproc-listener-...", that accepts only peers of
 *   the same user and leaves nothing on disk however the program ends
 *   (Differs from CPython 3.11, which makes a file in a temporary
 *   directory; 3.12 makes an abstract address too).
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
 * @{
 */

/**
 * The default address family of this platform.
 * @return "AF_UNIX" on POSIX, "AF_PIPE" on Windows.
 */
const char *mproc_default_family(void);

/**
 * The families this platform has.
 * @return their names, NULL-terminated; static.
 */
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
 * @param[out] out the listener (free with mproc_listener_free()).
 * @param address the address, or NULL (see mproc_default_family()).
 * @param family "AF_UNIX", "AF_INET", "AF_PIPE", or NULL: deduced.
 * @param backlog pending connections (< 1 means 1, as CPython's default).
 * @param authkey the key, or NULL.
 * @param authkey_len its length.
 * @return 0; MPROC_EADDRINUSE when the address is taken; MPROC_EINVAL for a
 *         bad address or family ("unrecognized family"); MPROC_ENOSYS for
 *         a family this platform lacks; MPROC_EOS.
 */
int mproc_listener_create(mproc_listener_t **out, const char *address,
                          const char *family, int backlog, const void *authkey,
                          size_t authkey_len);

/**
 * Accept one connection, waiting up to @p timeout seconds for a peer
 * (CPython's accept() waits forever: pass MPROC_FOREVER).
 *
 * With an authkey, from the first call on, the listener authenticates
 * every peer that connects in a thread of its own, side by side, each
 * bounded by mproc_listener_set_auth_timeout(); accept() returns the
 * first peer that has passed. A peer that fails (wrong key, garbage, too
 * long a message, silence) is dropped, and accept() goes on waiting for
 * one that passes. Differs from CPython, which authenticates one peer at
 * a time inside accept() and raises AuthenticationError for a peer that
 * fails: there one silent peer holds up every other for the timeout.
 *
 * @param l the listener.
 * @param[out] out the connection (free with mproc_conn_free()).
 * @param timeout seconds to wait for a peer.
 * @return 0 and a new duplex connection in @p *out; MPROC_ETIMEDOUT when
 *         no peer passed in time (the message says how many failed since
 *         one was last accepted, and why the last one did);
 *         MPROC_ECLOSED after mproc_listener_close(); MPROC_EOS.
 */
int mproc_listener_accept(mproc_listener_t *l, mproc_conn_t **out,
                          double timeout);

/**
 * Bound the handshake of each accepted peer (default MPROC_AUTH_TIMEOUT).
 * @param l the listener.
 * @param seconds the bound.
 * @return 0; MPROC_EINVAL.
 */
int mproc_listener_set_auth_timeout(mproc_listener_t *l, double seconds);

/**
 * The address bound (with the port or path chosen).
 * @param l the listener.
 * @return the address, valid until free; NULL for NULL.
 */
const char *mproc_listener_address(const mproc_listener_t *l);

/**
 * The family.
 * @param l the listener.
 * @return "AF_UNIX", "AF_INET", "AF_PIPE"; NULL for NULL.
 */
const char *mproc_listener_family(const mproc_listener_t *l);

/**
 * Stop listening (a unix socket's path is removed; peers still in a
 * handshake are dropped and their threads joined). Idempotent.
 * @param l the listener.
 * @return 0; MPROC_EINVAL for NULL.
 */
int mproc_listener_close(mproc_listener_t *l);

/**
 * Close and free. NULL is a no-op.
 * @param l the listener, or NULL.
 */
void mproc_listener_free(mproc_listener_t *l);

/**
 * Connect to a listener (CPython's Client(address, family, authkey)),
 * then, with an @p authkey, answer its challenge and deliver one.
 * @p timeout bounds the connection and the handshake (MPROC_FOREVER:
 * none; CPython has none).
 *
 * @param[out] out the connection (free with mproc_conn_free()).
 * @param address the listener's address.
 * @param family its family, or NULL: deduced from @p address.
 * @param authkey the key, or NULL: no authentication.
 * @param authkey_len its length.
 * @param timeout seconds.
 * @return 0; MPROC_EAUTH (wrong key, or a peer that does not speak the
 *         protocol); MPROC_EEOF when the listener hung up during the
 *         handshake (CPython's EOFError); MPROC_ETIMEDOUT; MPROC_ENOTFOUND
 *         when nothing listens there; MPROC_EINVAL; MPROC_ENOSYS; MPROC_EOS.
 */
int mproc_client(mproc_conn_t **out, const char *address, const char *family,
                 const void *authkey, size_t authkey_len, double timeout);

/**
 * The first half of the handshake on any connection (CPython's
 * deliver_challenge()): send a challenge, check the peer's answer.
 * @param c the connection.
 * @param authkey the key.
 * @param authkey_len its length.
 * @param timeout seconds for the whole exchange.
 * @return 0; MPROC_EAUTH; MPROC_EEOF when the peer hung up;
 *         MPROC_ETIMEDOUT; MPROC_ECLOSED; MPROC_EOS.
 */
int mproc_deliver_challenge(mproc_conn_t *c, const void *authkey,
                            size_t authkey_len, double timeout);
/**
 * The other half (CPython's answer_challenge()): answer the peer's
 * challenge.
 * @param c the connection.
 * @param authkey the key.
 * @param authkey_len its length.
 * @param timeout seconds for the whole exchange.
 * @return as mproc_deliver_challenge().
 */
int mproc_answer_challenge(mproc_conn_t *c, const void *authkey,
                           size_t authkey_len, double timeout);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* MPROC_LISTENER_H */
