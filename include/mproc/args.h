/**
 * @file mproc/args.h
 * @brief Targets, arguments and values.
 *
 * Part of the public API; include <mproc.h>, which includes every part.
 */
#ifndef MPROC_ARGS_H
#define MPROC_ARGS_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "mproc/error.h"

#ifdef __cplusplus
extern "C" {
#endif

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

#ifdef __cplusplus
}
#endif

#endif /* MPROC_ARGS_H */
