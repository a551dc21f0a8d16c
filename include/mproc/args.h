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

/**
 * A borrowed, read-only value inside mproc_args_t (or a larger value):
 * what a message or an argument holds, read with mproc_value_*(). Not
 * CPython's multiprocessing.Value, which is shared memory here
 * (mproc_shared_value_create(), mproc/shared.h) or a manager's object
 * (MPROC_MANAGED_VALUE, mproc_proxy_value_get()).
 */
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

#if defined(__GNUC__)
#define MPROC__UNUSED __attribute__((unused))
#else
#define MPROC__UNUSED
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
 * ...
 * mproc_process_create(&p, task, "s", "jason");
 * @endcode
 * The body sees its arguments as `args` (an mproc_args_t *).
 *
 * Any name is safe, the names of C library functions too (`write`,
 * `read`, `close`, `exit`, as the seeds name their functions): the
 * function's symbol is prefixed (`mproc__target__NAME`, see
 * MPROC_TARGET_FN), so it can never replace a library function for the
 * program, and `NAME` itself is a pointer to it with internal linkage,
 * for this file only. A file that also declares `NAME` (`write` with
 * <unistd.h>) gets a compile error, not a silently broken program: refer
 * to the target there as MPROC_TARGET_FN(NAME).
 *
 * To start a target defined in another file, declare it with
 * MPROC_TARGET_DECLARE(NAME) (in a header, say); defining the same name
 * twice in a program is a link error, as for a function.
 *
 * @param name the target's name: both the C function and the registered
 *             name.
 */
#define MPROC_TARGET(name)                                                     \
  MPROC_TARGET_DECLARE(name);                                                  \
  MPROC__CTOR(mproc__register_##name)                                          \
  {                                                                            \
    (void)mproc_register(#name, MPROC_TARGET_FN(name));                        \
  }                                                                            \
  int MPROC_TARGET_FN(name)(mproc_args_t * args)

/**
 * @brief Declare a target defined (with MPROC_TARGET) in another file, so
 * that this file can start it by its name.
 */
#define MPROC_TARGET_DECLARE(name)                                             \
  int MPROC_TARGET_FN(name)(mproc_args_t * args);                              \
  MPROC__UNUSED static const mproc_target_fn name = MPROC_TARGET_FN(name)

/**
 * The function MPROC_TARGET(name) defines, by its prefixed symbol: how a
 * file where `name` is taken (`write` with <unistd.h>) starts the target,
 * after declaring it as `int MPROC_TARGET_FN(write)(mproc_args_t *args);`.
 */
#define MPROC_TARGET_FN(name) mproc__target__##name

/* ------------------------------------------------------------------ */
/** @name Type-checked arguments                                       */
/* ------------------------------------------------------------------ */

/**
 * @brief One value of the type-checked argument form. Made by MPROC_ARGS
 * and the MPROC_LIST/MAP/BYTES/NIL/BOOL/OBJ helpers, never by hand (its
 * fields are the library's).
 */
typedef struct mproc_arg {
  int type;   /**< MPROC__A_* */
  size_t len; /**< bytes: length; list, map: number of values */
  /** The value, by type (the library's). */
  union {
    int64_t i;                     /**< bool, int */
    uint64_t u;                    /**< unsigned int */
    double d;                      /**< double */
    const char *s;                 /**< string */
    const void *p;                 /**< bytes, object */
    const struct mproc_arg *items; /**< list, map */
  } v;
} mproc_arg_t;

enum {
  MPROC__A_NIL = 1,
  MPROC__A_BOOL,
  MPROC__A_INT,
  MPROC__A_UINT,
  MPROC__A_DOUBLE,
  MPROC__A_STR,
  MPROC__A_BYTES,
  MPROC__A_OBJ,
  MPROC__A_LIST,
  MPROC__A_MAP
};

/**
 * The format string that stands for "the arguments are a type-checked
 * list": MPROC_ARGS puts it where a format goes, followed by the values
 * (MPROC_ARG_VALUES). Needed by name only where a format is not directly
 * followed by its arguments (mproc_pool_options_t's initargs).
 */
#define MPROC_ARGS_FORMAT "\001MPROC_ARGS"

#if !defined(__cplusplus) && defined(__STDC_VERSION__) &&                      \
    __STDC_VERSION__ >= 201112L

static inline mproc_arg_t mproc__arg_make(int type, size_t len)
{
  mproc_arg_t a;
  a.type = type;
  a.len = len;
  a.v.u = 0;
  return a;
}
static inline mproc_arg_t mproc__arg_self(mproc_arg_t a)
{
  return a;
}
static inline mproc_arg_t mproc__arg_nil(void)
{
  return mproc__arg_make(MPROC__A_NIL, 0);
}
static inline mproc_arg_t mproc__arg_bool(int x)
{
  mproc_arg_t a = mproc__arg_make(MPROC__A_BOOL, 0);
  a.v.i = x != 0;
  return a;
}
static inline mproc_arg_t mproc__arg_int(long long x)
{
  mproc_arg_t a = mproc__arg_make(MPROC__A_INT, 0);
  a.v.i = (int64_t)x;
  return a;
}
static inline mproc_arg_t mproc__arg_uint(unsigned long long x)
{
  mproc_arg_t a = mproc__arg_make(MPROC__A_UINT, 0);
  a.v.u = (uint64_t)x;
  return a;
}
static inline mproc_arg_t mproc__arg_double(double x)
{
  mproc_arg_t a = mproc__arg_make(MPROC__A_DOUBLE, 0);
  a.v.d = x;
  return a;
}
static inline mproc_arg_t mproc__arg_str(const char *s)
{
  mproc_arg_t a = mproc__arg_make(MPROC__A_STR, 0);
  a.v.s = s;
  return a;
}
static inline mproc_arg_t mproc__arg_bytes(const void *p, size_t len)
{
  mproc_arg_t a = mproc__arg_make(MPROC__A_BYTES, len);
  a.v.p = p;
  return a;
}
static inline mproc_arg_t mproc__arg_obj(const void *p)
{
  mproc_arg_t a = mproc__arg_make(MPROC__A_OBJ, 0);
  a.v.p = p;
  return a;
}
static inline mproc_arg_t mproc__arg_seq(int type, const mproc_arg_t *items,
                                         size_t n)
{
  mproc_arg_t a = mproc__arg_make(type, n);
  a.v.items = items;
  return a;
}

/**
 * @brief One argument, its type chosen by the compiler (C11 _Generic):
 * integers (char to long long, signed or not, enums, bool as `_Bool`)
 * are ints, float and double are floats, `char *` and `const char *` are
 * strings (NULL: nil), a pointer to an mproc object (Queue, Connection,
 * Lock, Semaphore, Event, Condition, Barrier, Value/Array, SharedMemory,
 * proxy) is that object (as the `o` unit), an mproc_arg_t is itself.
 * Any other type is a compile error: a pointer to anything else, a
 * struct, `void *` (say MPROC_OBJ(p) for an object held as `void *`, or
 * MPROC_BYTES(p, n) for bytes).
 */
#define MPROC_ARG(x)                                                           \
  _Generic((x),                                                                \
      mproc_arg_t: mproc__arg_self,                                            \
      _Bool: mproc__arg_bool,                                                  \
      char: mproc__arg_int,                                                    \
      signed char: mproc__arg_int,                                             \
      short: mproc__arg_int,                                                   \
      int: mproc__arg_int,                                                     \
      long: mproc__arg_int,                                                    \
      long long: mproc__arg_int,                                               \
      unsigned char: mproc__arg_uint,                                          \
      unsigned short: mproc__arg_uint,                                         \
      unsigned int: mproc__arg_uint,                                           \
      unsigned long: mproc__arg_uint,                                          \
      unsigned long long: mproc__arg_uint,                                     \
      float: mproc__arg_double,                                                \
      double: mproc__arg_double,                                               \
      char *: mproc__arg_str,                                                  \
      const char *: mproc__arg_str,                                            \
      struct mproc_conn *: mproc__arg_obj,                                     \
      struct mproc_queue *: mproc__arg_obj,                                    \
      struct mproc_lock *: mproc__arg_obj,                                     \
      struct mproc_semaphore *: mproc__arg_obj,                                \
      struct mproc_event *: mproc__arg_obj,                                    \
      struct mproc_condition *: mproc__arg_obj,                                \
      struct mproc_barrier *: mproc__arg_obj,                                  \
      struct mproc_shared *: mproc__arg_obj,                                   \
      struct mproc_shm *: mproc__arg_obj,                                      \
      struct mproc_proxy *: mproc__arg_obj)(x)

/**
 * @brief Type-checked arguments, accepted wherever a format string and
 * its arguments are (processes, queue items, messages, pool tasks and
 * items, proxy calls, mproc_return()...): the compiler picks each
 * value's type (see MPROC_ARG), so a wrong type is a compile error, not
 * a crash. 1 to 32 values; nest with MPROC_LIST and MPROC_MAP.
 *
 * @code
 * mproc_process_create(&p, task, MPROC_ARGS("jason", 3, queue));
 * mproc_queue_put(q, MPROC_FOREVER, MPROC_ARGS(MPROC_LIST(1, 2.5, "x")));
 * mproc_process_set_kwargs(p, MPROC_KWARGS("name", "egon", "age", 18));
 * return mproc_return(MPROC_ARGS(x * x));
 * @endcode
 *
 * It expands to MPROC_ARGS_FORMAT and the values, so the library needs no
 * second set of functions; a format string remains the other way.
 */
#define MPROC_ARGS(...) MPROC_ARGS_FORMAT, MPROC_ARG_VALUES(__VA_ARGS__)

/** The values part of MPROC_ARGS (for initargs, see MPROC_ARGS_FORMAT). */
#define MPROC_ARG_VALUES(...)                                                  \
  (const mproc_arg_t *)MPROC__ARG_ARRAY(__VA_ARGS__),                          \
      (size_t)MPROC__NARG(__VA_ARGS__)

/**
 * A list value: `MPROC_LIST(1, "a", 2.5)` (Python's [1, "a", 2.5]). Like
 * every value of this form it is a compound literal: it lives until the
 * end of the enclosing block, so write it inside the call (or the block)
 * that uses it.
 */
#define MPROC_LIST(...)                                                        \
  mproc__arg_seq(MPROC__A_LIST, MPROC__ARG_ARRAY(__VA_ARGS__),                 \
                 MPROC__NARG(__VA_ARGS__))

/** A map value from key, value pairs (keys are strings; an odd count is
 *  a compile error): `MPROC_MAP("name", "egon", "age", 18)`. */
#define MPROC_MAP(...)                                                         \
  mproc__arg_seq(MPROC__A_MAP,                                                 \
                 (MPROC__ARG_EVEN(MPROC__NARG(__VA_ARGS__)),                   \
                  MPROC__ARG_ARRAY(__VA_ARGS__)),                              \
                 MPROC__NARG(__VA_ARGS__))

/** Keyword arguments (mproc_process_set_kwargs): MPROC_ARGS(MPROC_MAP()). */
#define MPROC_KWARGS(...) MPROC_ARGS(MPROC_MAP(__VA_ARGS__))

/** Bytes: @p n bytes at @p p (the `y#` unit). */
#define MPROC_BYTES(p, n) mproc__arg_bytes((p), (n))
/** Nil (Python's None). */
#define MPROC_NIL mproc__arg_nil()
/** A bool from any truth value (Python's True/False). */
#define MPROC_BOOL(x) mproc__arg_bool((x) != 0)
/** An mproc object held as `void *` (checked at run time, as `o`). */
#define MPROC_OBJ(p) mproc__arg_obj(p)

#define MPROC__ARG_ARRAY(...)                                                  \
  ((const mproc_arg_t[]){MPROC__MAP_ARGS(__VA_ARGS__)})
#define MPROC__ARG_EVEN(n) (void)sizeof(char[(n) % 2 == 0 ? 1 : -1])
#define MPROC__CAT(a, b) MPROC__CAT_(a, b)
#define MPROC__CAT_(a, b) a##b
#define MPROC__MAP_ARGS(...)                                                   \
  MPROC__CAT(MPROC__MAP_, MPROC__NARG(__VA_ARGS__))(__VA_ARGS__)

#define MPROC__NARG(...)                                                       \
  MPROC__NARG_(__VA_ARGS__, 32, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21,    \
               20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4,   \
               3, 2, 1, 0)
#define MPROC__NARG_(_1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, _13,   \
                     _14, _15, _16, _17, _18, _19, _20, _21, _22, _23, _24,    \
                     _25, _26, _27, _28, _29, _30, _31, _32, n, ...)           \
  n
#define MPROC__MAP_1(x) MPROC_ARG(x)
#define MPROC__MAP_2(x, ...) MPROC_ARG(x), MPROC__MAP_1(__VA_ARGS__)
#define MPROC__MAP_3(x, ...) MPROC_ARG(x), MPROC__MAP_2(__VA_ARGS__)
#define MPROC__MAP_4(x, ...) MPROC_ARG(x), MPROC__MAP_3(__VA_ARGS__)
#define MPROC__MAP_5(x, ...) MPROC_ARG(x), MPROC__MAP_4(__VA_ARGS__)
#define MPROC__MAP_6(x, ...) MPROC_ARG(x), MPROC__MAP_5(__VA_ARGS__)
#define MPROC__MAP_7(x, ...) MPROC_ARG(x), MPROC__MAP_6(__VA_ARGS__)
#define MPROC__MAP_8(x, ...) MPROC_ARG(x), MPROC__MAP_7(__VA_ARGS__)
#define MPROC__MAP_9(x, ...) MPROC_ARG(x), MPROC__MAP_8(__VA_ARGS__)
#define MPROC__MAP_10(x, ...) MPROC_ARG(x), MPROC__MAP_9(__VA_ARGS__)
#define MPROC__MAP_11(x, ...) MPROC_ARG(x), MPROC__MAP_10(__VA_ARGS__)
#define MPROC__MAP_12(x, ...) MPROC_ARG(x), MPROC__MAP_11(__VA_ARGS__)
#define MPROC__MAP_13(x, ...) MPROC_ARG(x), MPROC__MAP_12(__VA_ARGS__)
#define MPROC__MAP_14(x, ...) MPROC_ARG(x), MPROC__MAP_13(__VA_ARGS__)
#define MPROC__MAP_15(x, ...) MPROC_ARG(x), MPROC__MAP_14(__VA_ARGS__)
#define MPROC__MAP_16(x, ...) MPROC_ARG(x), MPROC__MAP_15(__VA_ARGS__)
#define MPROC__MAP_17(x, ...) MPROC_ARG(x), MPROC__MAP_16(__VA_ARGS__)
#define MPROC__MAP_18(x, ...) MPROC_ARG(x), MPROC__MAP_17(__VA_ARGS__)
#define MPROC__MAP_19(x, ...) MPROC_ARG(x), MPROC__MAP_18(__VA_ARGS__)
#define MPROC__MAP_20(x, ...) MPROC_ARG(x), MPROC__MAP_19(__VA_ARGS__)
#define MPROC__MAP_21(x, ...) MPROC_ARG(x), MPROC__MAP_20(__VA_ARGS__)
#define MPROC__MAP_22(x, ...) MPROC_ARG(x), MPROC__MAP_21(__VA_ARGS__)
#define MPROC__MAP_23(x, ...) MPROC_ARG(x), MPROC__MAP_22(__VA_ARGS__)
#define MPROC__MAP_24(x, ...) MPROC_ARG(x), MPROC__MAP_23(__VA_ARGS__)
#define MPROC__MAP_25(x, ...) MPROC_ARG(x), MPROC__MAP_24(__VA_ARGS__)
#define MPROC__MAP_26(x, ...) MPROC_ARG(x), MPROC__MAP_25(__VA_ARGS__)
#define MPROC__MAP_27(x, ...) MPROC_ARG(x), MPROC__MAP_26(__VA_ARGS__)
#define MPROC__MAP_28(x, ...) MPROC_ARG(x), MPROC__MAP_27(__VA_ARGS__)
#define MPROC__MAP_29(x, ...) MPROC_ARG(x), MPROC__MAP_28(__VA_ARGS__)
#define MPROC__MAP_30(x, ...) MPROC_ARG(x), MPROC__MAP_29(__VA_ARGS__)
#define MPROC__MAP_31(x, ...) MPROC_ARG(x), MPROC__MAP_30(__VA_ARGS__)
#define MPROC__MAP_32(x, ...) MPROC_ARG(x), MPROC__MAP_31(__VA_ARGS__)

#endif /* C11 */

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
