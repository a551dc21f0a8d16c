/**
 * @file mproc/connection.h
 * @brief Pipe and Connection.
 *
 * Part of the public API; include <mproc.h>, which includes every part.
 */
#ifndef MPROC_CONNECTION_H
#define MPROC_CONNECTION_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "mproc/object.h"
#include "mproc/process.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @defgroup mproc-connection Pipes and Connection objects
 * @brief Pipe(), Connection and multiprocessing.connection.wait().
 * @{
 */

/** One end of a pipe (CPython's multiprocessing.connection.Connection). */
typedef struct mproc_conn mproc_conn_t;

/** Pass as a maximum length or size to mean "no limit" / "the rest". */
#define MPROC_ALL SIZE_MAX

/**
 * A pair of connected ends (CPython's Pipe(duplex)). With @p duplex both
 * ends send and receive (a socketpair on POSIX, a named pipe pair on
 * Windows); without, @p *c1 only receives and @p *c2 only sends.
 * @param[out] c1 the first end (free with mproc_conn_free()).
 * @param[out] c2 the second end.
 * @param duplex 1 for a two-way pipe.
 * @return 0; MPROC_EOS; MPROC_ENOMEM.
 */
int mproc_pipe(mproc_conn_t **c1, mproc_conn_t **c2, int duplex);

/**
 * Send the values built from @p fmt (Py_BuildValue style, as a target's
 * arguments) as one message; the peer parses it with mproc_args_parse().
 * @param c the connection.
 * @param fmt the values' format.
 * @param ... the values.
 * @return 0; MPROC_EINVAL/MPROC_ETYPE (bad format, an object); MPROC_EPERM
 *         on a receive-only end; MPROC_ECLOSED; MPROC_EOS (e.g. EPIPE).
 */
int mproc_conn_send(mproc_conn_t *c, const char *fmt, ...);

/**
 * Receive one message sent by mproc_conn_send(); free it with
 * mproc_args_free(). Blocks.
 * @param c the connection.
 * @param[out] out the message's values.
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
 * @param c the connection.
 * @param buf the buffer.
 * @param len its length.
 * @param offset where the message starts in @p buf.
 * @param size the message's length, or MPROC_ALL.
 * @return 0; MPROC_EINVAL when @p offset > @p len ("buffer length <
 *         offset") or offset+size > len ("buffer length < offset + size");
 *         as mproc_conn_send() otherwise.
 */
int mproc_conn_send_bytes(mproc_conn_t *c, const void *buf, size_t len,
                          size_t offset, size_t size);

/**
 * Receive one message as bytes into a new buffer (free with mproc_free()).
 * @param c the connection.
 * @param maxlength the longest message accepted, or MPROC_ALL.
 * @param[out] buf the message.
 * @param[out] len its length.
 * @return 0; MPROC_EINVAL when the message is longer than @p maxlength
 *         (MPROC_ALL: no limit); the connection is then unusable, as in
 *         CPython ("bad message length"); else as mproc_conn_recv().
 */
int mproc_conn_recv_bytes(mproc_conn_t *c, size_t maxlength, void **buf,
                          size_t *len);

/**
 * Receive one message into @p buf at @p offset (@p cap bytes in all).
 * @param c the connection.
 * @param buf the buffer.
 * @param cap its size.
 * @param offset where to put the message.
 * @param[out] len the message's length.
 * @return 0 and *len the message's length; MPROC_EINVAL when @p offset >
 *         @p cap; MPROC_ETOOSHORT when the message does not fit: *len is
 *         its length and it stays pending, whole, for the next receive
 *         (Differs from CPython, which hands it over in the exception).
 */
int mproc_conn_recv_bytes_into(mproc_conn_t *c, void *buf, size_t cap,
                               size_t offset, size_t *len);

/**
 * Whether there is data to read (or EOF) within @p timeout seconds.
 * @param c the connection.
 * @param timeout seconds (0: do not wait).
 * @return 1 readable; 0 not; a negative MPROC_E* code on error.
 */
int mproc_conn_poll(mproc_conn_t *c, double timeout);

/**
 * Whether the end can send (CPython's writable).
 * @param c the connection.
 * @return 1 or 0 (0 for NULL).
 */
int mproc_conn_writable(const mproc_conn_t *c);
/**
 * Whether the end can receive (CPython's readable).
 * @param c the connection.
 * @return 1 or 0 (0 for NULL).
 */
int mproc_conn_readable(const mproc_conn_t *c);

/**
 * The descriptor (POSIX) or HANDLE (Windows) of the end (CPython's
 * fileno()).
 * @param c the connection.
 * @return the descriptor or handle, owned by @p c; -1 when closed.
 */
mproc_sentinel_t mproc_conn_fileno(const mproc_conn_t *c);

/**
 * Close the end; later operations give MPROC_ECLOSED. Idempotent.
 * @param c the connection.
 * @return 0; MPROC_EINVAL when @p c is not a connection.
 */
int mproc_conn_close(mproc_conn_t *c);

/**
 * Close (if open) and drop the caller's reference. NULL is a no-op.
 * @param c the connection, or NULL.
 */
void mproc_conn_free(mproc_conn_t *c);

/** Something mproc_wait() can wait on. */
typedef struct mproc_waitable {
  int type;  /**< MPROC_WAIT_CONN, MPROC_WAIT_PROCESS, MPROC_WAIT_SENTINEL */
  void *obj; /**< the mproc_conn_t or mproc_process_t (NULL for a sentinel) */
  mproc_sentinel_t sentinel; /**< a descriptor or handle (type SENTINEL) */
} mproc_waitable_t;

/** mproc_waitable_t::type of a connection: ready when readable or at EOF. */
#define MPROC_WAIT_CONN 1
/** mproc_waitable_t::type of a process: ready when it has ended. */
#define MPROC_WAIT_PROCESS 2
/** mproc_waitable_t::type of a raw descriptor or handle. */
#define MPROC_WAIT_SENTINEL 3
/** A waitable for connection @p c. @param c an mproc_conn_t *. */
#define MPROC_WAITABLE_CONN(c) ((mproc_waitable_t){MPROC_WAIT_CONN, (c), 0})
/** A waitable for process @p p. @param p an mproc_process_t *. */
#define MPROC_WAITABLE_PROCESS(p)                                              \
  ((mproc_waitable_t){MPROC_WAIT_PROCESS, (p), 0})
/** A waitable for sentinel @p s. @param s an mproc_sentinel_t. */
#define MPROC_WAITABLE_SENTINEL(s)                                             \
  ((mproc_waitable_t){MPROC_WAIT_SENTINEL, NULL, (s)})

/**
 * Wait until at least one of @p objs is ready (a connection readable or
 * at EOF, a process ended, a sentinel signalled) or @p timeout passes
 * (CPython's multiprocessing.connection.wait). @p ready[i] is set to 1 for
 * each ready object, 0 otherwise.
 * @param objs the objects.
 * @param n their number.
 * @param timeout seconds (MPROC_FOREVER: no limit).
 * @param[out] ready @p n flags.
 * @return the number of ready objects (0 on timeout); MPROC_EINVAL;
 *         MPROC_ECLOSED; MPROC_EOS.
 */
int mproc_wait(const mproc_waitable_t *objs, size_t n, double timeout,
               int *ready);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* MPROC_CONNECTION_H */
