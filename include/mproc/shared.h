/**
 * @file mproc/shared.h
 * @brief Shared values, arrays and memory.
 *
 * Part of the public API; include <mproc.h>, which includes every part.
 */
#ifndef MPROC_SHARED_H
#define MPROC_SHARED_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "mproc/sync.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @defgroup mproc-shared Shared ctypes objects and shared memory
 * @brief Value, Array (multiprocessing.sharedctypes) and SharedMemory
 * (multiprocessing.shared_memory).
 * @{
 */

/** Element types of Value and Array (CPython's typecodes). */
typedef enum mproc_ctype {
  MPROC_C_CHAR = 1, /**< 'c' char */
  MPROC_C_BYTE,     /**< 'b' signed char */
  MPROC_C_UBYTE,    /**< 'B' unsigned char */
  MPROC_C_SHORT,    /**< 'h' */
  MPROC_C_USHORT,   /**< 'H' */
  MPROC_C_INT,      /**< 'i' int */
  MPROC_C_UINT,     /**< 'I' */
  MPROC_C_LONG,     /**< 'l' long */
  MPROC_C_ULONG,    /**< 'L' */
  MPROC_C_INT64,    /**< 'q' int64_t */
  MPROC_C_UINT64,   /**< 'Q' */
  MPROC_C_FLOAT,    /**< 'f' */
  MPROC_C_DOUBLE    /**< 'd' */
} mproc_ctype_t;

/** Value and Array (one type: a Value is an Array of one element). The
 *  mproc_value_* functions are something else: they read the values of
 *  arguments and messages (mproc/args.h). */
typedef struct mproc_shared mproc_shared_t;

/**
 * The typecode of a type.
 * @param t the type.
 * @return 'i', 'd', ...; 0 for an unknown type.
 */
char mproc_ctype_code(mproc_ctype_t t);
/**
 * The type of a typecode.
 * @param code 'i', 'd', ...
 * @return the type; 0 for an unknown code.
 */
mproc_ctype_t mproc_ctype_from_code(char code);
/**
 * Size in bytes of an element.
 * @param t the type.
 * @return its size; 0 for an unknown type.
 */
size_t mproc_ctype_size(mproc_ctype_t t);

/**
 * A zero-filled shared value of type @p t (CPython's Value(typecode)).
 * With @p lock it carries a new RLock (lock=True); otherwise none
 * (lock=False, RawValue).
 * @param[out] out the value (free with mproc_shared_free()).
 * @param t its type.
 * @param lock 1 for a lock.
 * @return 0; MPROC_EINVAL for an unknown type; MPROC_ENOMEM; MPROC_EOS.
 */
int mproc_shared_value_create(mproc_shared_t **out, mproc_ctype_t t, int lock);

/**
 * A zero-filled shared array of @p n elements (CPython's Array).
 * @param[out] out the array (free with mproc_shared_free()).
 * @param t the elements' type.
 * @param n their number.
 * @param lock 1 for a lock (RLock), 0 for none (RawArray).
 * @return as mproc_shared_value_create().
 */
int mproc_shared_array_create(mproc_shared_t **out, mproc_ctype_t t, size_t n,
                              int lock);

/**
 * CPython's other arguments of Value and Array. Zero-filled (or a NULL
 * pointer) is CPython's default: zeros, and a new RLock (lock=True).
 */
typedef struct mproc_shared_options {
  /** Initial contents: the elements, in the type's C type (int for
   *  MPROC_C_INT, double for MPROC_C_DOUBLE, bytes for MPROC_C_CHAR...),
   *  one for a Value, @p n for an Array; copied. NULL: zeros. */
  const void *init;
  /** lock=False (RawValue, RawArray): no lock. */
  int raw;
  /** lock=<a Lock or RLock>: the object uses that lock, which several
   *  Values and Arrays may share (the object holds a reference). A child
   *  receiving several of them gets one handle on that lock per object
   *  (mproc_shared_lock() pointers differ; the lock is the same). */
  mproc_lock_t *lock;
} mproc_shared_options_t;

/**
 * A shared value of type @p t with CPython's options (Value('i', 7),
 * Value('d', 2.5, lock=lock), RawValue('i', 7)), e.g.
 * `mproc_shared_value_new(&v, MPROC_C_INT,
 * &(mproc_shared_options_t){.init = &(int){7}})`.
 * @param[out] out the value (free with mproc_shared_free()).
 * @param t its type.
 * @param opts the options, or NULL for CPython's defaults.
 * @return 0; MPROC_EINVAL for an unknown type, or both @p opts->lock and
 *         @p opts->raw; MPROC_ETYPE when @p opts->lock is not a Lock or
 *         RLock (CPython's AttributeError); MPROC_ENOMEM; MPROC_EOS.
 */
int mproc_shared_value_new(mproc_shared_t **out, mproc_ctype_t t,
                           const mproc_shared_options_t *opts);

/**
 * A shared array of @p n elements of type @p t with CPython's options
 * (Array('i', [1, 2, 3]), Array('c', b"hello"), Array('d', 10,
 * lock=lock)): @p opts->init holds the @p n initial elements.
 * @param[out] out the array (free with mproc_shared_free()).
 * @param t the elements' type.
 * @param n their number (>= 1).
 * @param opts the options, or NULL for CPython's defaults.
 * @return as mproc_shared_value_new(); MPROC_EINVAL for @p n == 0.
 */
int mproc_shared_array_new(mproc_shared_t **out, mproc_ctype_t t, size_t n,
                           const mproc_shared_options_t *opts);

/**
 * Address of the first element: read and write it directly, holding the
 * lock when other processes write too.
 * @param v the value or array.
 * @return the address; NULL when @p v is not one.
 */
void *mproc_shared_ptr(mproc_shared_t *v);
/**
 * Number of elements (1 for a Value).
 * @param v the value or array.
 * @return the count; 0 when @p v is not one.
 */
size_t mproc_shared_len(const mproc_shared_t *v);
/**
 * The elements' type.
 * @param v the value or array.
 * @return the type; 0 when @p v is not one.
 */
mproc_ctype_t mproc_shared_ctype(const mproc_shared_t *v);
/**
 * The object's lock (CPython's get_lock()).
 * @param v the value or array.
 * @return the lock (borrowed), or NULL for a raw value.
 */
mproc_lock_t *mproc_shared_lock(mproc_shared_t *v);
/**
 * Drop the caller's reference.
 * @param v the value or array, or NULL.
 */
void mproc_shared_free(mproc_shared_t *v);

/** A named block of shared memory (CPython's shared_memory.SharedMemory). */
typedef struct mproc_shm mproc_shm_t;

/**
 * Create a new block (@p create) of @p size bytes, zero-filled, or attach
 * to the existing block @p name (NULL with @p create: a random name).
 * Names are portable: up to 30 characters, letters, digits, '_' and '-'.
 * A block lives as long as a process has it attached and it is not
 * unlinked; it is removed when the last process using it ends, even when
 * its creator crashed before unlinking it, and not while another process
 * still uses it (Differs from CPython's resource tracker on both).
 * @param[out] out the block (free with mproc_shm_free()).
 * @param name its name, or NULL.
 * @param create 1 to create, 0 to attach.
 * @param size the size when creating (ignored when attaching).
 * @return 0; MPROC_EINVAL when creating with @p size == 0 or a bad name;
 *         MPROC_EEXIST; MPROC_ENOTFOUND when attaching to no such block.
 */
int mproc_shm_open(mproc_shm_t **out, const char *name, int create,
                   size_t size);
/**
 * The block's name.
 * @param m the block.
 * @return the name (valid until free); NULL when @p m is not a block.
 */
const char *mproc_shm_name(const mproc_shm_t *m);
/**
 * The block's memory.
 * @param m the block.
 * @return the address; NULL after close.
 */
void *mproc_shm_buf(mproc_shm_t *m);
/**
 * The block's size.
 * @param m the block.
 * @return the size in bytes.
 */
size_t mproc_shm_size(const mproc_shm_t *m);
/**
 * Detach this process (the pointer becomes invalid); idempotent.
 * @param m the block.
 * @return 0; MPROC_EINVAL when @p m is not a block.
 */
int mproc_shm_close(mproc_shm_t *m);
/**
 * Remove the name: no new attach succeeds; attached processes keep it.
 * @param m the block.
 * @return 0; MPROC_ENOTFOUND when already unlinked.
 */
int mproc_shm_unlink(mproc_shm_t *m);
/**
 * Drop the caller's reference; the last one closes the block in this
 * process.
 * @param m the block, or NULL.
 */
void mproc_shm_free(mproc_shm_t *m);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* MPROC_SHARED_H */
