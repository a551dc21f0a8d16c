/**
 * @file mproc/log.h
 * @brief Logging: what the library does, as multiprocessing's logger.
 *
 * Part of the public API; include <mproc.h>, which includes every part.
 *
 * Off by default, and free when off: every log line in the library is
 * behind one comparison with the current level, made before anything is
 * formatted. Switch it on in code with mproc_log_to_stderr() (CPython's
 * multiprocessing.log_to_stderr()), send the records to the program's own
 * logger with mproc_log_set_handler(), or trace any program without a
 * code change with the environment variable MPROC_LOG:
 *
 * @code
 * MPROC_LOG=debug ./app          # or subdebug, info, subwarning, warning,
 *                                # error, critical, or a number
 * @endcode
 *
 * A record on stderr reads as CPython's: `[INFO/MainProcess] message`.
 *
 * What is logged: processes started (name, pid, method) and ended (exit
 * code or signal); the child's own start and exit; daemonic children
 * terminated and others joined at exit; the forkserver started and
 * restarted; a queue marked broken; a manager's server started and its
 * connections accepted or refused; a handshake refused, with the reason.
 *
 * Children inherit the setting: under fork the whole state, under spawn
 * and forkserver the level when the parent logs to stderr (as CPython
 * passes log_to_stderr() to a spawned child). A handler set with
 * mproc_log_set_handler() is a function of the parent's memory: a
 * re-executed child has it only if code before mproc_main() sets it.
 */
#ifndef MPROC_LOG_H
#define MPROC_LOG_H

#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @defgroup mproc-log Logging
 * @brief multiprocessing's log_to_stderr() and get_logger(): what the
 * library does, off by default.
 * @{
 */

/** @name Levels (CPython's logging and multiprocessing.util numbers) */
/**@{*/
#define MPROC_LOG_SUBDEBUG 5    /**< multiprocessing.util.SUBDEBUG */
#define MPROC_LOG_DEBUG 10      /**< logging.DEBUG */
#define MPROC_LOG_INFO 20       /**< logging.INFO */
#define MPROC_LOG_SUBWARNING 25 /**< multiprocessing.util.SUBWARNING */
#define MPROC_LOG_WARNING 30    /**< logging.WARNING */
#define MPROC_LOG_ERROR 40      /**< logging.ERROR */
#define MPROC_LOG_CRITICAL 50   /**< logging.CRITICAL */
/**@}*/

/**
 * Where records go instead of stderr: called with the record's @p level,
 * the name of the process that logs (e.g. "MainProcess", "Process-1"),
 * the message (no newline) and the @p ctx given to
 * mproc_log_set_handler(). It may be called from any thread of the
 * process, at once from several; it must not call back into mproc.
 */
typedef void (*mproc_log_handler_fn)(int level, const char *process_name,
                                     const char *message, void *ctx);

/**
 * Log records of @p level and above to stderr (CPython's
 * log_to_stderr(level)); @p level 0 keeps the current level (WARNING when
 * none was set, as CPython's). Replaces a handler.
 * @param level the lowest level logged, or 0.
 * @return 0; MPROC_EINVAL for a negative level.
 */
int mproc_log_to_stderr(int level);

/**
 * Send records of the current level and above to @p fn (NULL: nowhere,
 * which switches logging off). Sets WARNING when no level was set.
 * @param fn the handler, or NULL.
 * @param ctx passed to @p fn with each record.
 * @return 0.
 */
int mproc_log_set_handler(mproc_log_handler_fn fn, void *ctx);

/**
 * Set the level (CPython's get_logger().setLevel()). Records below it
 * are dropped before they are formatted.
 * @param level the lowest level logged.
 * @return 0; MPROC_EINVAL for a negative level.
 */
int mproc_log_set_level(int level);

/**
 * The current level.
 * @return the level, or 0 when logging is off (no sink: neither stderr
 *         nor a handler).
 */
int mproc_log_level(void);

/**
 * Log a record of the program's own through the same sink (CPython's
 * multiprocessing.util.info() and friends); nothing when @p level is
 * below the current one or logging is off.
 * @param level the record's level.
 * @param fmt printf-style format of the message, then its arguments.
 */
void mproc_log(int level, const char *fmt, ...)
#if defined(__MINGW_PRINTF_FORMAT)
    __attribute__((format(__MINGW_PRINTF_FORMAT, 2, 3)))
#elif defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/**
 * Name of a level.
 * @param level a level.
 * @return "DEBUG", "INFO", ..., or "Level N" for others (a static
 *         string, or one of the calling thread's).
 */
const char *mproc_log_level_name(int level);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* MPROC_LOG_H */
