/**
 * @file mproc/error.h
 * @brief Errors: status codes and messages.
 *
 * Part of the public API; include <mproc.h>, which includes every part.
 */
#ifndef MPROC_ERROR_H
#define MPROC_ERROR_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @defgroup mproc-error Errors
 * @brief Status codes and messages (CPython's exceptions).
 *
 * Every function that can fail returns 0 or one of the negative codes of
 * mproc_errno_t; mproc_last_error() gives the detail of the calling
 * thread's last error. The table MPROC_ERRNO_MAP lists each code
 * (MPROC_ followed by the name), its value and its message.
 * @{
 */

/**
 * The error table: name, value, message. It generates both the enum and
 * mproc_strerror(), so the two cannot drift apart. Each entry
 * `XX(NAME, value, message)` is the code MPROC_NAME.
 *
 * @param XX a macro of three arguments (name, value, message) applied to
 *           each entry.
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

/**
 * Status codes. 0 is success; every error is negative. The codes are those
 * of MPROC_ERRNO_MAP: MPROC_EINVAL, MPROC_ENOMEM, MPROC_ESTATE,
 * MPROC_ECLOSED, MPROC_ETIMEDOUT, ... MPROC_EADDRINUSE; `==` on a code is
 * enough to test for it.
 */
typedef enum mproc_errno {
  MPROC_OK = 0, /**< success */
#define MPROC__ERR_ENUM(name, value, msg) MPROC_##name = (value),
  MPROC_ERRNO_MAP(MPROC__ERR_ENUM)
#undef MPROC__ERR_ENUM
} mproc_errno_t;

/**
 * The fixed message of a status code.
 * @param status a status returned by an mproc function.
 * @return the table's message ("unknown error" for a value not in it);
 *         static, never NULL.
 */
const char *mproc_strerror(int status);

/** The longest message mproc_last_error() holds, in bytes (1 MiB): a
 *  longer one (a task's failure message, say) is cut to this length. */
#define MPROC_ERROR_MAX ((size_t)1 << 20)

/**
 * The last error of the calling thread, with detail ("target 'task' is not
 * registered; use MPROC_TARGET"). Messages are kept whole up to
 * MPROC_ERROR_MAX bytes.
 * @return the message, valid until the thread's next failing call; never
 *         NULL.
 */
const char *mproc_last_error(void);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* MPROC_ERROR_H */
