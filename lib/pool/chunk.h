/*
 * The Pool's chunk codec: how tasks and results are laid out as bytes
 * (the same on every transport), and the value lists the scheduler and
 * the worker build from them without touching each value.
 *
 * Envelopes are fixed little-endian headers (written byte by byte, so
 * they read the same on every machine); every value inside is
 * MessagePack, built and parsed by the argument codec.
 *
 *   batch   u8 version, u8[3] 0, u32 first sequence number, u32 tasks,
 *           u32 flags (STOP: no tasks, the worker ends), then the tasks
 *   task    u8 kind, u8 name length, u16 0, u32 count, u64 payload
 *           length, the function's registered name, the payload:
 *             CALL   one argument list (array), maybe a keyword map
 *             CHUNK  one array of items, each one value (map)
 *             STAR   one array of items, each an argument list or a
 *                    keyword item (starmap)
 *             SLICE  u64 first record, u64 in size, u64 out size, u8 in
 *                    reference length, the reference, u8 out reference
 *                    length, the reference (typed arrays)
 *   result  u32 sequence number, i32 status, u32 values, u32 0, then
 *           the values one after another (status 0) or the failure's
 *           message (its text, no NUL)
 */
#ifndef MPROC__POOL_CHUNK_H
#define MPROC__POOL_CHUNK_H

#include <stddef.h>
#include <stdint.h>

#include "internal.h"

#define MPROC__BATCH_VERSION 1
#define MPROC__BATCH_HDR 16
#define MPROC__BATCH_STOP 1u
#define MPROC__TASK_HDR 16
#define MPROC__RESULT_HDR 16

enum {
  MPROC__TASK_CALL = 1,
  MPROC__TASK_CHUNK,
  MPROC__TASK_STAR,
  MPROC__TASK_SLICE
};

/* MessagePack extension type of a keyword item of starmap: its body is
 * the argument list followed by the keyword map. */
#define MPROC__EXT_KW_ITEM 79

static inline void mproc__put_u32(unsigned char *p, uint32_t v)
{
  for (int i = 0; i < 4; i++)
    p[i] = (unsigned char)(v >> (8 * i));
}

static inline void mproc__put_u64(unsigned char *p, uint64_t v)
{
  for (int i = 0; i < 8; i++)
    p[i] = (unsigned char)(v >> (8 * i));
}

static inline uint32_t mproc__get_u32(const unsigned char *p)
{
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}

static inline uint64_t mproc__get_u64(const unsigned char *p)
{
  return (uint64_t)mproc__get_u32(p) | (uint64_t)mproc__get_u32(p + 4) << 32;
}

/* A batch header. */
void mproc__batch_header(unsigned char hdr[MPROC__BATCH_HDR], uint32_t first,
                         uint32_t n, uint32_t flags);

/* A task header and its name, into @out (MPROC__TASK_HDR + 260 bytes);
 * how many bytes. A chunk's payload is its items' bytes one after
 * another: the header ends with the array header that makes them one
 * MessagePack array (counted in the payload's length). */
size_t mproc__task_header(unsigned char *out, int kind, const char *name,
                          uint32_t count, uint64_t payload_len);

/* One task of a batch, as a worker reads it. */
typedef struct mproc__task_view {
  int kind;
  char name[256];
  uint32_t count;
  const unsigned char *payload;
  size_t len;
} mproc__task_view_t;

/* Read the batch header of @len bytes at @p. */
int mproc__batch_read(const unsigned char *p, size_t len, uint32_t *first,
                      uint32_t *n, uint32_t *flags);

/* Read the task at *@off of the batch (@p, @len) and move past it;
 * MPROC_ECODEC when it runs past the end. */
int mproc__task_read(const unsigned char *p, size_t len, size_t *off,
                     mproc__task_view_t *t);

/* A result header. */
void mproc__result_header(unsigned char hdr[MPROC__RESULT_HDR], uint32_t seq,
                          int status, uint32_t values);

/* Read a result record: MPROC_ECODEC when it is shorter than its
 * header. The payload follows the header. */
int mproc__result_read(const unsigned char *rec, size_t len, uint32_t *seq,
                       int *status, uint32_t *values);

/* ---- items of map (the public mproc_items_t) ---- */

/* The items' encodings, one after another (@len bytes). */
const unsigned char *mproc__items_data(const mproc_items_t *items, size_t *len);
/* Where item @i begins in them (the end for @i == count), stepping from
 * item @from at @from_off when that is nearer than the last recorded
 * position (walking chunks in order costs one step per item at most). */
size_t mproc__items_offset(const mproc_items_t *items, size_t i, size_t from,
                           size_t from_off);
/* Whether some item is a keyword item (starmap only). */
int mproc__items_has_kw(const mproc_items_t *items);

/* The header of a MessagePack array of @n elements (5 bytes). */
size_t mproc__array_header(unsigned char out[5], uint32_t n);

/* ---- giving results in a worker (mproc_return, mproc_fail) ---- */

/* Where the running item's result goes: mproc_return() writes its value
 * at the end of @out, replacing what it wrote before for this item. */
void mproc__result_begin(msgpack_sbuffer *out);
/* Done with the item: its value is at the end of @out (nil when the
 * target gave none); the failure message mproc_fail() left, or NULL
 * (taken by the caller, free it). Clears the task context. */
char *mproc__result_end(int *returned);

/* ---- lists the caller gets ---- */

/* A new args whose positional list is the @n values in the @nparts
 * byte ranges of @parts, one after another, spliced (not re-encoded). */
int mproc__values_list(mproc_args_t **out, const mproc__iov_t *parts,
                       size_t nparts, size_t n);

#endif /* MPROC__POOL_CHUNK_H */
