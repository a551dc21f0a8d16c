/*
 * The MPI backend's messages (libmproc_mpi; the core never includes this).
 *
 * Every message is a 24-byte header and a body; one longer than the
 * largest MPI message (an int count, 2 GiB) travels in pieces: the first
 * with tag FIRST, the rest with tag MORE from the same rank (MPI keeps
 * their order). Only rank 0 talks to the others, and in each process only
 * one thread calls MPI.
 *
 *   header  u8 kind, u8 flags, u8[2] 0, u32 pool, u32 slot (FREE: the stage),
 * u32 generation of the slot, u64 body length INIT    0->r  u8 name length, the
 * initializer's name, its arguments REPLY   r->0  i32 status, the failure's
 * message BATCH   0->r  u64 batch length, the batch (pool/chunk.h), then the
 *                 input records of each SLICE task of it, in order
 *   RESULTS r->0  records: u32 length, the result record (chunk.h), u32
 *                 output stage (0: none), u64 offset, u64 length, the
 *                 slice's output bytes
 *   FREE    0->r  a typed array's staging is done with
 *   CANCEL  0->r  (its own tag, so that it passes batches) the slot's
 *                 tasks of that generation and older are not to run: a
 *                 rank looks for it between tasks. A rank ends the
 *                 results of each batch with the END flag (an empty
 *                 message when it ran none of them).
 *   STOP    0->r  serve no more; the rank answers BYE and finalizes
 *
 * A typed-array reference (transport.h's array_ref) is 'M', u32 stage,
 * u64 the array's bytes: a serving rank keeps a buffer of that size per
 * stage (pages it never touches cost nothing), fills in the slices it
 * gets, and keeps a few such buffers, once FREE, for the next arrays.
 * Rank 0 reads the input records from the caller's array and writes the
 * output records into the caller's array: nothing is staged there.
 */
#ifndef MPROC__MPI_WIRE_H
#define MPROC__MPI_WIRE_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#include "pool/backend.h"
#include "pool/chunk.h"

#define W_HDR 24
#define W_REF 13
#define W_TAG_FIRST 17
#define W_TAG_MORE 18
#define W_TAG_CANCEL 19 /* a header alone, read between tasks */
#define W_END 1u        /* header flag (byte 1): a batch's last results */

enum {
  W_INIT = 1,
  W_REPLY,
  W_BATCH,
  W_RESULTS,
  W_FREE,
  W_STOP,
  W_BYE,
  W_CANCEL
};

typedef struct w_hdr {
  int kind, flags;
  uint32_t pool, slot, gen;
  uint64_t len;
} w_hdr_t;

void w_put_hdr(unsigned char *p, int kind, uint32_t pool, uint32_t slot,
               uint32_t gen, uint64_t len);
void w_get_hdr(const unsigned char *p, w_hdr_t *h);

/* The communicator of rank 0 and the serving ranks: MPI_COMM_WORLD under
 * mpirun -n N; rank 0 and the ranks it spawned, merged, in spawn mode. */
extern MPI_Comm mproc__mpi_comm;

/* The largest piece (MPROC_MPI_MAX_MESSAGE, for tests; else 1 GiB). */
size_t w_max_piece(void);
/* The longest idle sleep (MPROC_MPI_BACKOFF seconds; 0.001). */
double w_backoff_max(void);

/* Poll with a growing sleep while nothing comes: reset on activity. */
typedef struct w_backoff {
  double cur;
  int spins;
} w_backoff_t;
void w_backoff_reset(w_backoff_t *b);
/* The next sleep, in seconds (0: just yield). */
double w_backoff_next(w_backoff_t *b);

/* Send @len bytes (header first) to @dest, blocking, in pieces. */
int w_send(int dest, const unsigned char *buf, size_t len);
/* Start sending (@tag: W_TAG_FIRST, or W_TAG_CANCEL for a header alone);
 * *@reqs (of *@nreqs) to complete with MPI_Testall. */
int w_isend(int dest, int tag, const unsigned char *buf, size_t len,
            MPI_Request **reqs, int *nreqs);
/* A message buffer of @len bytes (NULL: out of memory), and its return
 * (large ones are kept for the next message). Every buffer that
 * w_try_recv gives, or that is queued to be sent, is one of these. */
unsigned char *w_buf_get(size_t len);
void w_buf_put(unsigned char *buf);
/* If a message from @src (MPI_ANY_SOURCE) is there, receive it whole into
 * a w_buf_get *@buf of *@len bytes and say from whom: 1; 0 when none. */
int w_try_recv(int src, unsigned char **buf, size_t *len, int *from);

/* The serving ranks' loop (serve.c); returns when told to stop. */
void mproc__mpi_serve(void);

#endif /* MPROC__MPI_WIRE_H */
