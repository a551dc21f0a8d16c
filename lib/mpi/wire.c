/*
 * The MPI backend's message layer: headers, pieces, back-off.
 */
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

/* Message buffers of 64 KiB or more are kept for reuse: a fresh one
 * page-faults every page it is written to, and a batch or a result is
 * written whole. Each starts with its capacity (16 bytes, so the message
 * stays aligned). */
#define BUF_PREFIX 16
#define BUF_ROUND ((size_t)64 << 10)
#define BUF_KEEP 8
#define BUF_KEEP_MAX ((size_t)8 << 20)

static pthread_mutex_t buf_mu = PTHREAD_MUTEX_INITIALIZER;
static unsigned char *buf_kept[BUF_KEEP];
static int nbuf_kept;

unsigned char *w_buf_get(size_t len)
{
  unsigned char *p = NULL;
  size_t cap = len;
  int best = -1;

  pthread_mutex_lock(&buf_mu);
  for (int i = 0; i < nbuf_kept; i++) {
    size_t c = (size_t)mproc__get_u64(buf_kept[i]);
    if (c >= len && (best < 0 || c < (size_t)mproc__get_u64(buf_kept[best])))
      best = i;
  }
  if (best >= 0) {
    p = buf_kept[best];
    buf_kept[best] = buf_kept[--nbuf_kept];
  }
  pthread_mutex_unlock(&buf_mu);
  if (p != NULL)
    return p + BUF_PREFIX;
  if (len > SIZE_MAX - BUF_PREFIX - BUF_ROUND)
    return NULL;
  if (len >= BUF_ROUND) /* room for the next one of about this size */
    cap = (len + BUF_ROUND - 1) / BUF_ROUND * BUF_ROUND;
  if ((p = malloc(BUF_PREFIX + (cap > 0 ? cap : 1))) == NULL)
    return NULL;
  mproc__put_u64(p, cap);
  return p + BUF_PREFIX;
}

void w_buf_put(unsigned char *buf)
{
  unsigned char *p;
  size_t cap;

  if (buf == NULL)
    return;
  p = buf - BUF_PREFIX;
  cap = (size_t)mproc__get_u64(p);
  if (cap >= BUF_ROUND && cap <= BUF_KEEP_MAX) {
    pthread_mutex_lock(&buf_mu);
    if (nbuf_kept < BUF_KEEP) {
      buf_kept[nbuf_kept++] = p;
      p = NULL;
    }
    pthread_mutex_unlock(&buf_mu);
  }
  free(p);
}

void w_put_hdr(unsigned char *p, int kind, uint32_t pool, uint32_t slot,
               uint32_t gen, uint64_t len)
{
  memset(p, 0, W_HDR);
  p[0] = (unsigned char)kind;
  mproc__put_u32(p + 4, pool);
  mproc__put_u32(p + 8, slot);
  mproc__put_u32(p + 12, gen);
  mproc__put_u64(p + 16, len);
}

void w_get_hdr(const unsigned char *p, w_hdr_t *h)
{
  h->kind = p[0];
  h->flags = p[1];
  h->pool = mproc__get_u32(p + 4);
  h->slot = mproc__get_u32(p + 8);
  h->gen = mproc__get_u32(p + 12);
  h->len = mproc__get_u64(p + 16);
}

size_t w_max_piece(void)
{
  static size_t max;
  const char *e;

  if (max == 0) {
    e = getenv("MPROC_MPI_MAX_MESSAGE");
    max = e != NULL ? (size_t)strtoull(e, NULL, 10) : 0;
    if (max == 0 || max > (size_t)1 << 30)
      max = (size_t)1 << 30;
    if (max < 64)
      max = 64;
  }
  return max;
}

double w_backoff_max(void)
{
  static double max = -1;
  const char *e;

  if (max < 0) {
    e = getenv("MPROC_MPI_BACKOFF");
    max = e != NULL ? strtod(e, NULL) : 0.001;
    if (!(max >= 0) || max > 1.0)
      max = 0.001;
  }
  return max;
}

void w_backoff_reset(w_backoff_t *b)
{
  b->cur = 0;
  b->spins = 0;
}

double w_backoff_next(w_backoff_t *b)
{
  double max = w_backoff_max();

  if (b->spins < 64) { /* a reply often follows at once */
    b->spins++;
    return 0;
  }
  b->cur = b->cur == 0 ? 1e-6 : b->cur * 2;
  if (b->cur > max)
    b->cur = max;
  return b->cur;
}

static int mpi_err(int rc, const char *what)
{
  char s[MPI_MAX_ERROR_STRING];
  int n = 0;

  MPI_Error_string(rc, s, &n);
  return mproc__err(MPROC_EOS, "MPI: %s: %.*s", what, n, s);
}

int w_send(int dest, const unsigned char *buf, size_t len)
{
  size_t max = w_max_piece(), at = 0;
  int tag = W_TAG_FIRST, rc;

  do {
    size_t k = len - at < max ? len - at : max;
    rc = MPI_Send(buf + at, (int)k, MPI_BYTE, dest, tag, mproc__mpi_comm);
    if (rc != MPI_SUCCESS)
      return mpi_err(rc, "send");
    at += k;
    tag = W_TAG_MORE;
  } while (at < len);
  return 0;
}

int w_isend(int dest, int tag, const unsigned char *buf, size_t len,
            MPI_Request **reqs, int *nreqs)
{
  size_t max = w_max_piece(), at = 0;
  int n = (int)((len + max - 1) / max), rc;
  MPI_Request *r = malloc((size_t)n * sizeof *r);

  if (r == NULL)
    return mproc__err(MPROC_ENOMEM, "out of memory");
  for (int i = 0; i < n; i++) {
    size_t k = len - at < max ? len - at : max;
    rc = MPI_Isend(buf + at, (int)k, MPI_BYTE, dest, tag, mproc__mpi_comm,
                   &r[i]);
    if (rc != MPI_SUCCESS) {
      /* The pieces already started must complete before the buffer goes. */
      MPI_Waitall(i, r, MPI_STATUSES_IGNORE);
      free(r);
      return mpi_err(rc, "isend");
    }
    at += k;
    tag = W_TAG_MORE;
  }
  *reqs = r;
  *nreqs = n;
  return 0;
}

int w_try_recv(int src, unsigned char **buf, size_t *len, int *from)
{
  MPI_Status st;
  int flag = 0, count = 0;
  unsigned char *b;
  uint64_t total;
  size_t at;

  if (MPI_Iprobe(src, W_TAG_FIRST, mproc__mpi_comm, &flag, &st) !=
          MPI_SUCCESS ||
      !flag)
    return 0;
  MPI_Get_count(&st, MPI_BYTE, &count);
  b = w_buf_get(count > W_HDR ? (size_t)count : W_HDR);
  if (b == NULL)
    return mproc__err(MPROC_ENOMEM, "out of memory");
  MPI_Recv(b, count, MPI_BYTE, st.MPI_SOURCE, W_TAG_FIRST, mproc__mpi_comm,
           MPI_STATUS_IGNORE);
  if (count < W_HDR) { /* not ours: read as an empty unknown message */
    memset(b, 0, W_HDR);
    count = W_HDR;
  }
  total = W_HDR + mproc__get_u64(b + 16);
  at = (size_t)count;
  if (total > at) {
    unsigned char *g = total <= SIZE_MAX ? w_buf_get((size_t)total) : NULL;
    if (g == NULL) {
      w_buf_put(b);
      return mproc__err(MPROC_ENOMEM,
                        "out of memory (a message of %llu "
                        "bytes)",
                        (unsigned long long)total);
    }
    memcpy(g, b, at);
    w_buf_put(b);
    b = g;
    while (at < total) {
      MPI_Status s2;
      int k = 0;
      /* Room for the rest, whatever piece size the sender used. */
      MPI_Recv(b + at, (int)(total - at < INT_MAX ? total - at : INT_MAX),
               MPI_BYTE, st.MPI_SOURCE, W_TAG_MORE, mproc__mpi_comm, &s2);
      MPI_Get_count(&s2, MPI_BYTE, &k);
      at += (size_t)k;
    }
  }
  *buf = b;
  *len = (size_t)total;
  *from = st.MPI_SOURCE;
  return 1;
}
