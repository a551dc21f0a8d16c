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

/**
 * @defgroup mproc-args Targets, arguments and values
 * @brief The functions a child runs, and the values passed to them
 * (CPython: Process(target=..., args=..., kwargs=...)).
 *
 * Arguments are built with Py_BuildValue-style formats and travel as
 * MessagePack; a target reads them with mproc_args_parse().
 * @{
 */

/** Arguments of a target: positional list plus keyword map. */
typedef struct mproc_args mproc_args_t;

/** A borrowed, read-only value inside mproc_args_t (or a larger value). */
typedef struct mproc_value mproc_value_t;

/** Type of a value (the MessagePack types mproc passes). */
typedef enum mproc_type {
  MPROC_T_NIL,    /**< nil (CPython's None) */
  MPROC_T_BOOL,   /**< a boolean */
  MPROC_T_INT,    /**< an integer (int64_t range) */
  MPROC_T_DOUBLE, /**< a floating-point number */
  MPROC_T_STR,    /**< a UTF-8 string */
  MPROC_T_BYTES,  /**< bytes */
  MPROC_T_LIST,   /**< a list of values */
  MPROC_T_MAP,    /**< a map of values to values */
  MPROC_T_OBJECT, /**< an mproc object passed to a child (see `o`) */
  MPROC_T_OTHER   /**< a MessagePack type mproc does not produce */
} mproc_type_t;

/**
 * @brief A target: the function a child process runs.
 *
 * Its return value becomes the child's exit code (use 0..255 for codes
 * that mean the same on every platform). Define targets with MPROC_TARGET.
 *
 * @param args the target's arguments, owned by the runtime.
 * @return the exit code.
 */
typedef int (*mproc_target_fn)(mproc_args_t *args);

/**
 * Register @p fn under @p name so that a spawned child (which re-executes
 * the program) can find it. MPROC_TARGET does this before main() runs.
 *
 * @param name the name (copied), the same in every process of the program.
 * @param fn the function.
 * @return 0; MPROC_EINVAL for a NULL/empty name or NULL fn, or a name
 *         already registered for another function; MPROC_ENOMEM.
 */
int mproc_register(const char *name, mproc_target_fn fn);

/**
 * The registered name of a target.
 * @param fn a function.
 * @return its name, or NULL if it was never registered.
 */
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
 *
 * @param name the target's name: both the C function and the registered
 *             name.
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
 * @param args the arguments (a target's, a received message, a result).
 * @param fmt the format units.
 * @param ... one or two pointers per unit, as listed above.
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
 *
 * @param args the arguments.
 * @param fmt the format units, as mproc_args_parse().
 * @param kwlist the keyword of each unit, NULL-terminated.
 * @param ... the pointers, as mproc_args_parse().
 * @return as mproc_args_parse(); MPROC_EINVAL for an unknown keyword or
 *         an argument given twice.
 */
int mproc_args_parse_kw(mproc_args_t *args, const char *fmt,
                        const char *const *kwlist, ...);

/**
 * Number of positional arguments.
 * @param args the arguments (NULL: none).
 * @return the count.
 */
size_t mproc_args_count(const mproc_args_t *args);

/**
 * A positional argument.
 * @param args the arguments.
 * @param i its index.
 * @return the value, borrowed from @p args; NULL when out of range.
 */
const mproc_value_t *mproc_args_at(const mproc_args_t *args, size_t i);

/**
 * A keyword argument.
 * @param args the arguments.
 * @param key its name.
 * @return the value, borrowed from @p args; NULL when absent.
 */
const mproc_value_t *mproc_args_kw(const mproc_args_t *args, const char *key);

/**
 * @name Reading a value
 * Values are borrowed from the mproc_args_t they came from. Each reader
 * returns 0, or MPROC_ETYPE (with the value's actual type in the message)
 * when the value has another type.
 */
/**@{*/
/**
 * The type of a value.
 * @param v a value (NULL reads as nil).
 * @return its mproc_type_t.
 */
mproc_type_t mproc_value_type(const mproc_value_t *v);
/**
 * A boolean.
 * @param v the value.
 * @param[out] out 0 or 1.
 * @return 0; MPROC_ETYPE.
 */
int mproc_value_bool(const mproc_value_t *v, int *out);
/**
 * An integer.
 * @param v the value.
 * @param[out] out the integer.
 * @return 0; MPROC_ETYPE; MPROC_ERANGE above INT64_MAX.
 */
int mproc_value_int(const mproc_value_t *v, int64_t *out);
/**
 * A number (an int converts).
 * @param v the value.
 * @param[out] out the number.
 * @return 0; MPROC_ETYPE.
 */
int mproc_value_double(const mproc_value_t *v, double *out);
/**
 * String or bytes; not NUL-terminated in general (use the length).
 * @param v the value.
 * @param[out] data its bytes, borrowed.
 * @param[out] len their number.
 * @return 0; MPROC_ETYPE.
 */
int mproc_value_bytes(const mproc_value_t *v, const void **data, size_t *len);
/**
 * Length of a list or map.
 * @param v the value.
 * @param[out] len its number of elements or entries.
 * @return 0; MPROC_ETYPE.
 */
int mproc_value_len(const mproc_value_t *v, size_t *len);
/**
 * Element of a list.
 * @param v the list.
 * @param i the index.
 * @return the element; NULL when out of range or not a list.
 */
const mproc_value_t *mproc_value_at(const mproc_value_t *v, size_t i);
/**
 * Value of a string key in a map.
 * @param v the map.
 * @param key the key.
 * @return the value; NULL when absent or not a map.
 */
const mproc_value_t *mproc_value_get(const mproc_value_t *v, const char *key);
/**
 * Key and value of an entry of a map, in order.
 * @param v the map.
 * @param i the entry's index.
 * @param[out] key its key.
 * @param[out] val its value.
 * @return 0; MPROC_ETYPE when not a map; MPROC_ERANGE when @p i is out of
 *         range.
 */
int mproc_value_entry(const mproc_value_t *v, size_t i,
                      const mproc_value_t **key, const mproc_value_t **val);
/**@}*/

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* MPROC_ARGS_H */
