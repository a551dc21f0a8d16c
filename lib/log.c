/*
 * The logger (see mproc/log.h): a level, a sink (stderr or the program's
 * handler), and the records. The library logs through MPROC__LOG
 * (internal.h), which compares the level with mproc__log_threshold before
 * anything is evaluated or formatted: with no sink the threshold is above
 * every level, so logging that is off costs one load and one compare.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* INT_MAX while there is no sink; the level otherwise. */
atomic_int mproc__log_threshold = INT_MAX;

/* The level the program chose (0: none yet), and the sink. Settings are
 * changed rarely, normally before threads start; the threshold, read on
 * every log line, is the only hot field and is atomic. */
static atomic_int level_set;
static int to_stderr;
static mproc_log_handler_fn handler;
static void *handler_ctx;

static void update_threshold(void)
{
  int level = atomic_load(&level_set);

  if (level == 0)
    level = MPROC_LOG_WARNING;
  atomic_store(&mproc__log_threshold,
               to_stderr || handler != NULL ? level : INT_MAX);
}

int mproc_log_set_level(int level)
{
  if (level < 0)
    return mproc__err(MPROC_EINVAL, "log level %d is negative", level);
  atomic_store(&level_set, level);
  update_threshold();
  return 0;
}

int mproc_log_to_stderr(int level)
{
  if (level < 0)
    return mproc__err(MPROC_EINVAL, "log level %d is negative", level);
  if (level > 0)
    atomic_store(&level_set, level);
  handler = NULL;
  handler_ctx = NULL;
  to_stderr = 1;
  update_threshold();
  return 0;
}

int mproc_log_set_handler(mproc_log_handler_fn fn, void *ctx)
{
  to_stderr = 0;
  handler_ctx = ctx;
  handler = fn;
  update_threshold();
  return 0;
}

int mproc_log_level(void)
{
  int t = atomic_load(&mproc__log_threshold);

  return t == INT_MAX ? 0 : t;
}

const char *mproc_log_level_name(int level)
{
  static _Thread_local char other[24];

  switch (level) {
  case MPROC_LOG_SUBDEBUG:
    return "SUBDEBUG";
  case MPROC_LOG_DEBUG:
    return "DEBUG";
  case MPROC_LOG_INFO:
    return "INFO";
  case MPROC_LOG_SUBWARNING:
    return "SUBWARNING";
  case MPROC_LOG_WARNING:
    return "WARNING";
  case MPROC_LOG_ERROR:
    return "ERROR";
  case MPROC_LOG_CRITICAL:
    return "CRITICAL";
  default:
    snprintf(other, sizeof other, "Level %d", level);
    return other;
  }
}

/* One record: formatted whole, then handed over in one piece (one write
 * on stderr, so that lines of several processes do not interleave). A
 * log line must not disturb what the caller reports next: errno and the
 * thread's last error are left as they were. */
static void emit(int level, const char *fmt, va_list ap)
{
  char msg[1024], line[1200];
  const char *name = mproc_process_name(mproc_current_process());
  mproc_log_handler_fn fn = handler;
  int saved = errno, n;

  n = vsnprintf(msg, sizeof msg, fmt, ap);
  if (n >= (int)sizeof msg)
    memcpy(msg + sizeof msg - 4, "...", 4);
  if (fn != NULL) {
    fn(level, name, msg, handler_ctx);
  } else if (to_stderr) {
    snprintf(line, sizeof line, "[%s/%s] %s\n", mproc_log_level_name(level),
             name, msg);
    fputs(line, stderr);
    fflush(stderr);
  }
  errno = saved;
}

void mproc__log_emit(int level, const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  emit(level, fmt, ap);
  va_end(ap);
}

void mproc_log(int level, const char *fmt, ...)
{
  va_list ap;

  if (level < atomic_load(&mproc__log_threshold) || fmt == NULL)
    return;
  va_start(ap, fmt);
  emit(level, fmt, ap);
  va_end(ap);
}

int mproc__log_child_level(void)
{
  return to_stderr ? mproc_log_level() : 0;
}

void mproc__log_inherit(int level)
{
  if (level <= 0)
    return;
  if (handler != NULL)
    (void)mproc_log_set_level(level);
  else
    (void)mproc_log_to_stderr(level);
}

/* A level by name (any case) or number; -1 when it is neither. */
static int parse_level(const char *s)
{
  static const struct {
    const char *name;
    int level;
  } names[] = {
      {"subdebug", MPROC_LOG_SUBDEBUG}, {"debug", MPROC_LOG_DEBUG},
      {"info", MPROC_LOG_INFO},         {"subwarning", MPROC_LOG_SUBWARNING},
      {"warning", MPROC_LOG_WARNING},   {"error", MPROC_LOG_ERROR},
      {"critical", MPROC_LOG_CRITICAL}};
  char *end;
  long v;

  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    size_t k = 0;
    while (names[i].name[k] != '\0' &&
           (s[k] | 0x20) == names[i].name[k]) /* ASCII lower case */
      k++;
    if (names[i].name[k] == '\0' && s[k] == '\0')
      return names[i].level;
  }
  errno = 0;
  v = strtol(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v <= 0 || v > 1000)
    return -1;
  return (int)v;
}

/* MPROC_LOG, read before main() so that a whole program (or test suite)
 * can be traced without a code change. A value that is not a level is
 * said once on stderr rather than silently ignored. */
MPROC__CTOR(mproc__log_init)
{
  const char *env = getenv("MPROC_LOG");
  int level;

  if (env == NULL || env[0] == '\0')
    return;
  level = parse_level(env);
  if (level < 0)
    fprintf(stderr,
            "mproc: MPROC_LOG='%.64s' is not a log level (use subdebug, "
            "debug, info, subwarning, warning, error, critical or a "
            "number); logging stays off\n",
            env);
  else
    (void)mproc_log_to_stderr(level);
}
