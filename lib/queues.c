/*
 * Queue, SimpleQueue and JoinableQueue: a ring of framed messages in one
 * shared segment. No pipe and no feeder thread: a put copies the item
 * into shared memory before it returns, so qsize() is exact at once and
 * an item whose put returned survives its producer's exit.
 *
 * Writers take the write mutex for a whole message and readers the read
 * mutex, so messages never interleave. A message that fits the ring is
 * written when there is room for all of it; a larger one streams through
 * in chunks while a reader consumes it. Sleeping is on futex-like words
 * (seq counters) that are only woken when someone is counted as waiting,
 * so an uncontended put or get makes no system call.
 *
 * A process that dies holding a mutex in the middle of a message leaves
 * the ring inconsistent: the next one to take that mutex learns it from
 * the robust mutex and marks the queue broken (MPROC_EBROKEN) instead of
 * handing out garbage. Dying between messages loses nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "object.h"
#include "platform.h"

#define RING_DEFAULT ((uint64_t)4 << 20) /* 1 MiB items fit whole */
#define FRAME 8                          /* little-endian length */
#define SPIN 200                         /* polls before sleeping */
#define LIVENESS_SLICE 0.05 /* how often a stalled reader checks the writer */
#define QUEUE_EXTRA_VERSION 1

typedef struct qstate {
  mproc__mutex_t wlock;
  mproc__mutex_t rlock;
  /* Each side writes only its own cache line and reads the other's
   * rarely (the copies it keeps in its mproc_queue_t). */
  _Alignas(64) atomic_ullong head; /* bytes published by writers */
  atomic_ullong puts;              /* messages whose header is published */
  atomic_uint data_seq;            /* bumped after head moves */
  atomic_uint data_waiters;
  atomic_uint writing;             /* a writer is inside a message */
  _Alignas(64) atomic_ullong tail; /* bytes consumed by readers */
  atomic_ullong gets;              /* messages taken */
  atomic_uint space_seq;           /* bumped after tail moves or a slot frees */
  atomic_uint space_waiters;
  atomic_uint reading;            /* a reader is inside a message */
  _Alignas(64) atomic_long slots; /* items counted against maxsize */
  atomic_long unfinished;         /* JoinableQueue: put minus task_done */
  atomic_uint join_seq;
  atomic_uint join_waiters;
  atomic_uint broken;
  uint64_t cap;
  long maxsize;
  _Alignas(64) unsigned char ring[];
} qstate_t;

struct mproc_queue {
  mproc__obj_t hdr;
  mproc__seg_t seg;
  qstate_t *st;
  int closed;
  /* Last values seen of the other side's counters: both only grow, so a
   * stale copy only under-reports room or items, and is re-read then. */
  atomic_ullong seen_tail, seen_puts, seen_head;
};

static void queue_destroy(mproc__obj_t *o)
{
  mproc_queue_t *q = (mproc_queue_t *)o;

  mproc__plat_seg_close(&q->seg);
  free(q);
}

static int queue_export(mproc__obj_t *o, mproc__export_t *ex)
{
  mproc_queue_t *q = (mproc_queue_t *)o;
  uint64_t cap = q->st->cap;

  ex->extra[0] = QUEUE_EXTRA_VERSION;
  for (int i = 0; i < 8; i++)
    ex->extra[1 + i] = (unsigned char)(cap >> (8 * i));
  ex->extra[9] =
      (unsigned char)(q->hdr.ops->kind == MPROC_KIND_QUEUE          ? 1
                      : q->hdr.ops->kind == MPROC_KIND_SIMPLE_QUEUE ? 2
                                                                    : 3);
  ex->extra_len = 10;
  return mproc__plat_seg_export(&q->seg, ex->handles, MPROC__OBJ_MAX_HANDLES,
                                &ex->nhandles);
}

static int queue_import(mproc__obj_t **out, const intptr_t *handles, size_t n,
                        const void *extra, size_t extra_len);

const mproc__obj_ops_t mproc__queue_ops = {MPROC_KIND_QUEUE, queue_export,
                                           queue_import, queue_destroy, NULL};
const mproc__obj_ops_t mproc__simple_queue_ops = {
    MPROC_KIND_SIMPLE_QUEUE, queue_export, queue_import, queue_destroy, NULL};
const mproc__obj_ops_t mproc__joinable_queue_ops = {
    MPROC_KIND_JOINABLE_QUEUE, queue_export, queue_import, queue_destroy, NULL};
MPROC__OBJ_REGISTER(mproc__queue_ops)
MPROC__OBJ_REGISTER(mproc__simple_queue_ops)
MPROC__OBJ_REGISTER(mproc__joinable_queue_ops)

static const mproc__obj_ops_t *ops_of_kind(int kind)
{
  if (kind == MPROC_KIND_SIMPLE_QUEUE)
    return &mproc__simple_queue_ops;
  if (kind == MPROC_KIND_JOINABLE_QUEUE)
    return &mproc__joinable_queue_ops;
  return &mproc__queue_ops;
}

static int queue_import_kind(mproc__obj_t **out, const intptr_t *handles,
                             size_t n, const unsigned char *e, int kind)
{
  mproc_queue_t *q = calloc(1, sizeof *q);
  uint64_t cap = 0;
  int rc;

  if (q == NULL)
    return mproc__err(MPROC_ENOMEM, "out of memory");
  for (int i = 0; i < 8; i++)
    cap |= (uint64_t)e[1 + i] << (8 * i);
  if (cap < 64 || cap > ((uint64_t)1 << 40)) {
    free(q);
    return mproc__err(MPROC_ECODEC, "Queue: bad ring size from the parent");
  }
  rc = mproc__plat_seg_import(handles, n, sizeof(qstate_t) + cap, &q->seg);
  if (rc != 0) {
    free(q);
    return rc;
  }
  mproc__obj_init(&q->hdr, ops_of_kind(kind));
  q->st = q->seg.addr;
  *out = &q->hdr;
  return 0;
}

/* The three kinds share one import; the kind travels in the extra. */
static int queue_import(mproc__obj_t **out, const intptr_t *handles, size_t n,
                        const void *extra, size_t extra_len)
{
  const unsigned char *e = extra;

  if (extra_len != 10 || e[0] != QUEUE_EXTRA_VERSION || e[9] < 1 || e[9] > 3)
    return mproc__err(MPROC_ECODEC, "Queue: bad description from the parent");
  return queue_import_kind(out, handles, n, e,
                           e[9] == 1   ? MPROC_KIND_QUEUE
                           : e[9] == 2 ? MPROC_KIND_SIMPLE_QUEUE
                                       : MPROC_KIND_JOINABLE_QUEUE);
}

static int create_ring(mproc_queue_t **out, long maxsize, int kind,
                       uint64_t cap)
{
  mproc_queue_t *q;
  int rc;

  if (out == NULL)
    return mproc__err(MPROC_EINVAL, "Queue: NULL output");
  *out = NULL;
  if ((rc = mproc__init()) != 0)
    return rc;
  q = calloc(1, sizeof *q);
  if (q == NULL)
    return mproc__err(MPROC_ENOMEM, "out of memory");
  rc = mproc__plat_seg_create(sizeof(qstate_t) + cap, &q->seg);
  if (rc != 0) {
    free(q);
    return rc;
  }
  q->st = q->seg.addr;
  q->st->cap = cap;
  q->st->maxsize = maxsize > 0 ? maxsize : 0;
  if ((rc = mproc__plat_mutex_init(&q->seg, &q->st->wlock)) != 0 ||
      (rc = mproc__plat_mutex_init(&q->seg, &q->st->rlock)) != 0) {
    mproc__plat_seg_close(&q->seg);
    free(q);
    return rc;
  }
  mproc__obj_init(&q->hdr, ops_of_kind(kind));
  *out = q;
  return 0;
}

static int create(mproc_queue_t **out, long maxsize, int kind)
{
  return create_ring(out, maxsize, kind, RING_DEFAULT);
}

int mproc__simple_queue_create_ring(mproc_queue_t **out, size_t cap)
{
  return create_ring(out, 0, MPROC_KIND_SIMPLE_QUEUE,
                     cap < 4096 ? 4096 : (uint64_t)cap);
}

int mproc_queue_create(mproc_queue_t **out, long maxsize)
{
  return create(out, maxsize, MPROC_KIND_QUEUE);
}

int mproc_simple_queue_create(mproc_queue_t **out)
{
  return create(out, 0, MPROC_KIND_SIMPLE_QUEUE);
}

int mproc_joinable_queue_create(mproc_queue_t **out, long maxsize)
{
  return create(out, maxsize, MPROC_KIND_JOINABLE_QUEUE);
}

static int kind_of(const mproc_queue_t *q)
{
  return q->hdr.ops->kind;
}

/* Validate @q for an operation; 0 or an error with a message. */
static int usable(mproc_queue_t *q, const char *what)
{
  mproc__obj_t *o = mproc__obj_check(q);

  if (o == NULL ||
      (o->ops != &mproc__queue_ops && o->ops != &mproc__simple_queue_ops &&
       o->ops != &mproc__joinable_queue_ops))
    return mproc__err(MPROC_EINVAL, "%s: not a queue", what);
  if (q->closed)
    return mproc__err(MPROC_ECLOSED, "%s: Queue is closed", what);
  if (atomic_load(&q->st->broken))
    return mproc__err(MPROC_EBROKEN,
                      "%s: a process died in the middle of a message; the "
                      "queue is unusable",
                      what);
  return 0;
}

/* ---- waiting ---- */

/* A waiter counts itself in @waiters, then re-checks its condition, then
 * sleeps on @seq; a waker changes the state, then bumps @seq and makes
 * the system call only when it sees a waiter. Either the waker sees the
 * count or the waiter's re-check sees the new state, so no wake-up is
 * lost, and an uncontended put or get touches no shared counter it does
 * not need. */
/* Spinning politely: the other side owns the cache line we poll. */
static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

typedef int (*cond_fn)(mproc_queue_t *q, uint64_t arg);

static void bump(mproc_queue_t *q, atomic_uint *seq, atomic_uint *waiters)
{
  if (atomic_load(waiters) != 0) {
    atomic_fetch_add(seq, 1);
    mproc__plat_word_wake(&q->seg, seq, INT32_MAX);
  }
}

/* Wait until @cond(q, arg) holds: spin briefly, then sleep on @seq. */
static int wait_until(mproc_queue_t *q, cond_fn cond, uint64_t arg,
                      atomic_uint *seq, atomic_uint *waiters, double deadline)
{
  for (int i = 0; i < SPIN; i++) {
    if (cond(q, arg))
      return 0;
    cpu_relax();
  }
  for (;;) {
    if (atomic_load(&q->st->broken))
      return MPROC_EBROKEN;
    atomic_fetch_add(waiters, 1);
    unsigned seen = atomic_load(seq);
    int rc =
        cond(q, arg) ? 0 : mproc__plat_word_wait(&q->seg, seq, seen, deadline);
    atomic_fetch_sub(waiters, 1);
    if (cond(q, arg))
      return 0;
    if (rc == MPROC_ETIMEDOUT)
      return MPROC_ETIMEDOUT;
  }
}

/* ---- the ring ---- */

static void ring_copy_in(qstate_t *st, uint64_t pos, const void *src,
                         size_t len)
{
  if (len == 0)
    return;
  uint64_t off = pos % st->cap;
  size_t first = (size_t)(st->cap - off) < len ? (size_t)(st->cap - off) : len;

  memcpy(st->ring + off, src, first);
  memcpy(st->ring, (const char *)src + first, len - first);
}

static void ring_copy_out(qstate_t *st, uint64_t pos, void *dst, size_t len)
{
  uint64_t off = pos % st->cap;
  size_t first = (size_t)(st->cap - off) < len ? (size_t)(st->cap - off) : len;

  memcpy(dst, st->ring + off, first);
  memcpy((char *)dst + first, st->ring, len - first);
}

static uint64_t ring_free(qstate_t *st)
{
  return st->cap - (atomic_load(&st->head) - atomic_load(&st->tail));
}

/* Conditions for wait_until. */
static int has_slot(mproc_queue_t *q, uint64_t unused)
{
  (void)unused;
  return q->st->maxsize == 0 || atomic_load(&q->st->slots) < q->st->maxsize;
}

static int has_item(mproc_queue_t *q, uint64_t unused)
{
  uint64_t gets = atomic_load(&q->st->gets);

  (void)unused;
  if (atomic_load_explicit(&q->seen_puts, memory_order_relaxed) > gets)
    return 1;
  uint64_t puts = atomic_load(&q->st->puts);
  atomic_store_explicit(&q->seen_puts, puts, memory_order_relaxed);
  return puts > gets;
}

static int no_unfinished(mproc_queue_t *q, uint64_t unused)
{
  (void)unused;
  return atomic_load(&q->st->unfinished) == 0;
}

static int has_room(mproc_queue_t *q, uint64_t need)
{
  uint64_t head = atomic_load(&q->st->head);
  uint64_t used =
      head - atomic_load_explicit(&q->seen_tail, memory_order_relaxed);

  /* A copy older than head's last lap is no bound at all. */
  if (used <= q->st->cap && q->st->cap - used >= need)
    return 1;
  uint64_t tail = atomic_load(&q->st->tail);
  atomic_store_explicit(&q->seen_tail, tail, memory_order_relaxed);
  return q->st->cap - (head - tail) >= need;
}

/* More bytes than the reader's position @tail are published. */
static int has_bytes(mproc_queue_t *q, uint64_t tail)
{
  return atomic_load(&q->st->head) != tail;
}

/* Take a slot against maxsize, waiting until @deadline. */
static int take_slot(mproc_queue_t *q, double deadline)
{
  qstate_t *st = q->st;

  if (st->maxsize == 0)
    return 0; /* unbounded: nothing to count */
  for (;;) {
    long n = atomic_load(&st->slots);
    if (n < st->maxsize) {
      if (atomic_compare_exchange_weak(&st->slots, &n, n + 1))
        return 0;
      continue;
    }
    int rc = wait_until(q, has_slot, 0, &st->space_seq, &st->space_waiters,
                        deadline);
    if (rc != 0)
      return rc;
  }
}

static void give_slot(mproc_queue_t *q)
{
  if (q->st->maxsize == 0)
    return;
  atomic_fetch_sub(&q->st->slots, 1);
  bump(q, &q->st->space_seq, &q->st->space_waiters);
}

/* Mark the queue unusable for every process that uses it, and say why. */
static int mark_broken(mproc_queue_t *q, const char *why)
{
  atomic_store(&q->st->broken, 1);
  MPROC__LOG(MPROC_LOG_WARNING, "queue marked broken: %s", why);
  return mproc__err(MPROC_EBROKEN, "Queue: %s", why);
}

/* Lock a queue mutex; a previous holder that died inside a message
 * (@inside set) breaks the queue. */
static int lock_side(mproc_queue_t *q, mproc__mutex_t *m, atomic_uint *inside,
                     double deadline)
{
  int rc = mproc__plat_mutex_lock(&q->seg, m, deadline);

  if (rc == MPROC_EOWNERDEAD) {
    if (atomic_load(inside)) {
      rc = mark_broken(q, "a process died in the middle of a message; the "
                          "queue is unusable");
      bump(q, &q->st->data_seq, &q->st->data_waiters);
      bump(q, &q->st->space_seq, &q->st->space_waiters);
      mproc__plat_mutex_unlock(&q->seg, m);
      return rc;
    }
    rc = 0;
  }
  return rc;
}

/* Wait for @need bytes of room, sleeping on the space word. */
static int wait_room(mproc_queue_t *q, uint64_t need, double deadline)
{
  return wait_until(q, has_room, need, &q->st->space_seq, &q->st->space_waiters,
                    deadline);
}

/* Publish @len more bytes and, with @item, one more message. */
static void publish(mproc_queue_t *q, uint64_t len, int item)
{
  atomic_fetch_add(&q->st->head, len);
  if (item)
    atomic_fetch_add(&q->st->puts, 1);
  bump(q, &q->st->data_seq, &q->st->data_waiters);
}

static int lock_side(mproc_queue_t *q, mproc__mutex_t *m, atomic_uint *inside,
                     double deadline);

/* Whether the reader taking a streamed message is alive (or absent). The
 * read mutex tells: taking it finds a holder that died inside a message,
 * which breaks the queue. */
static int reader_alive(mproc_queue_t *q)
{
  int rc = lock_side(q, &q->st->rlock, &q->st->reading, mproc__plat_now());

  if (rc == 0)
    mproc__plat_mutex_unlock(&q->seg, &q->st->rlock);
  return rc != MPROC_EBROKEN;
}

/* Write one framed message made of the @n parts of @iov, holding the
 * write mutex. */
static int write_message(mproc_queue_t *q, const mproc__iov_t *iov, size_t n,
                         double deadline)
{
  qstate_t *st = q->st;
  uint64_t len = 0, pos;
  unsigned char frame[FRAME];
  int rc;

  for (size_t i = 0; i < n; i++)
    len += iov[i].len;
  for (int i = 0; i < FRAME; i++)
    frame[i] = (unsigned char)(len >> (8 * i));
  /* Whole messages wait for room for all of themselves; larger ones for
   * an empty ring, then stream. */
  rc = wait_room(q, FRAME + len <= st->cap ? FRAME + len : st->cap, deadline);
  if (rc != 0)
    return rc;
  pos = atomic_load(&st->head);
  if (FRAME + len <= st->cap) {
    ring_copy_in(st, pos, frame, FRAME);
    pos += FRAME;
    for (size_t i = 0; i < n; i++) {
      ring_copy_in(st, pos, iov[i].base, iov[i].len);
      pos += iov[i].len;
    }
    publish(q, FRAME + len, 1);
    return 0;
  }
  atomic_store(&st->writing, 1);
  ring_copy_in(st, pos, frame, FRAME);
  publish(q, FRAME, 1);
  for (size_t part = 0; part < n; part++) {
    const unsigned char *src = iov[part].base;
    size_t done = 0, left = iov[part].len;
    while (left > 0) {
      uint64_t room;
      /* Once started, the message must be finished: no deadline, but a
       * reader that died inside it would leave us waiting forever. */
      rc = wait_room(q, 1, mproc__plat_now() + LIVENESS_SLICE);
      if (rc == MPROC_ETIMEDOUT) {
        if (!reader_alive(q))
          return MPROC_EBROKEN;
        continue;
      }
      if (rc != 0)
        return rc;
      room = ring_free(st);
      size_t chunk = left < room ? left : (size_t)room;
      ring_copy_in(st, atomic_load(&st->head), src + done, chunk);
      publish(q, chunk, 0);
      done += chunk;
      left -= chunk;
    }
  }
  atomic_store(&st->writing, 0);
  return 0;
}

static int put_parts(mproc_queue_t *q, double timeout, const mproc__iov_t *iov,
                     size_t n)
{
  double deadline = mproc__deadline(timeout);
  int joinable = kind_of(q) == MPROC_KIND_JOINABLE_QUEUE;
  int rc = take_slot(q, deadline);

  if (rc == MPROC_ETIMEDOUT)
    return mproc__err(MPROC_EFULL, "Queue is full");
  if (rc != 0)
    return rc == MPROC_EBROKEN ? usable(q, "put") : rc;
  /* Counted before it is visible, so that a consumer's task_done can
   * never run ahead of it. */
  if (joinable)
    atomic_fetch_add(&q->st->unfinished, 1);
  rc = lock_side(q, &q->st->wlock, &q->st->writing, deadline);
  if (rc == 0) {
    rc = write_message(q, iov, n, deadline);
    mproc__plat_mutex_unlock(&q->seg, &q->st->wlock);
  }
  if (rc != 0) {
    if (joinable)
      atomic_fetch_sub(&q->st->unfinished, 1);
    give_slot(q);
    if (rc == MPROC_ETIMEDOUT)
      return mproc__err(MPROC_EFULL, "Queue is full");
    return rc == MPROC_EBROKEN ? usable(q, "put") : rc;
  }
  return 0;
}

int mproc_queue_vput(mproc_queue_t *q, double timeout, const char *fmt,
                     va_list ap)
{
  msgpack_sbuffer buf;
  va_list copy;
  int rc = usable(q, "put");

  if (rc != 0)
    return rc;
  msgpack_sbuffer_init(&buf);
  va_copy(copy, ap);
  rc = mproc__encode_args(&buf, fmt, &copy);
  va_end(copy);
  if (rc == 0)
    rc = put_parts(q, timeout, &(mproc__iov_t){buf.data, buf.size}, 1);
  msgpack_sbuffer_destroy(&buf);
  return rc;
}

int mproc_queue_put(mproc_queue_t *q, double timeout, const char *fmt, ...)
{
  va_list ap;
  int rc;

  va_start(ap, fmt);
  rc = mproc_queue_vput(q, timeout, fmt, ap);
  va_end(ap);
  return rc;
}

int mproc__queue_put_raw(mproc_queue_t *q, double timeout, const void *data,
                         size_t len)
{
  int rc = usable(q, "put");

  return rc != 0 ? rc : put_parts(q, timeout, &(mproc__iov_t){data, len}, 1);
}

int mproc__queue_put_iov(mproc_queue_t *q, double timeout,
                         const mproc__iov_t *iov, size_t n)
{
  int rc = usable(q, "put");

  return rc != 0 ? rc : put_parts(q, timeout, iov, n);
}

int mproc_queue_put_bytes(mproc_queue_t *q, double timeout, const void *buf,
                          size_t len)
{
  msgpack_sbuffer head;
  msgpack_packer pk;
  int rc = usable(q, "put_bytes");

  if (rc != 0)
    return rc;
  if (buf == NULL && len > 0)
    return mproc__err(MPROC_EINVAL, "put_bytes: NULL buffer");
  if (len > UINT32_MAX)
    return mproc__err(MPROC_EINVAL, "put_bytes: item larger than 4 GiB - 1");
  /* [bin] without copying the body twice: the header is packed apart
   * and the body goes straight into the ring. */
  msgpack_sbuffer_init(&head);
  msgpack_packer_init(&pk, &head, msgpack_sbuffer_write);
  if (msgpack_pack_array(&pk, 1) != 0 || msgpack_pack_bin(&pk, len) != 0) {
    msgpack_sbuffer_destroy(&head);
    return mproc__err(MPROC_ENOMEM, "out of memory");
  }
  rc = put_parts(q, timeout,
                 (const mproc__iov_t[]){{head.data, head.size}, {buf, len}}, 2);
  msgpack_sbuffer_destroy(&head);
  return rc;
}

/* ---- get ---- */

/* Whether the writer of the message being read is still at it: it holds
 * the write mutex. If it died there, the queue is broken. */
static int writer_alive(mproc_queue_t *q)
{
  int rc = mproc__plat_mutex_lock(&q->seg, &q->st->wlock, mproc__plat_now());

  if (rc == MPROC_ETIMEDOUT)
    return 1;
  if (rc == 0 || rc == MPROC_EOWNERDEAD)
    mproc__plat_mutex_unlock(&q->seg, &q->st->wlock);
  return 0;
}

/* Read @len bytes at the tail as they arrive, freeing room as it goes. */
static int read_stream(mproc_queue_t *q, unsigned char *dst, uint64_t len)
{
  qstate_t *st = q->st;

  while (len > 0) {
    uint64_t tail = atomic_load(&st->tail);
    uint64_t avail = atomic_load(&st->head) - tail;
    if (avail == 0) {
      int rc = wait_until(q, has_bytes, tail, &st->data_seq, &st->data_waiters,
                          mproc__plat_now() + LIVENESS_SLICE);
      if (rc == MPROC_EBROKEN)
        return rc;
      if (rc == MPROC_ETIMEDOUT && !writer_alive(q))
        return mark_broken(q, "the writer of a message died in the middle "
                              "of it");
      continue;
    }
    size_t chunk = (size_t)(avail < len ? avail : len);
    ring_copy_out(st, tail, dst, chunk);
    atomic_fetch_add(&st->tail, chunk);
    bump(q, &st->space_seq, &st->space_waiters);
    dst += chunk;
    len -= chunk;
  }
  return 0;
}

static uint64_t refresh_head(mproc_queue_t *q)
{
  uint64_t head = atomic_load(&q->st->head);

  atomic_store_explicit(&q->seen_head, head, memory_order_relaxed);
  return head;
}

/* Whether a message of @len bytes at @tail is all below @head. */
static int whole_at(uint64_t head, uint64_t tail, uint64_t len)
{
  return head >= tail && head - tail >= FRAME + len;
}

static int read_message(mproc_queue_t *q, void **out, size_t *outlen)
{
  qstate_t *st = q->st;
  unsigned char frame[FRAME];
  uint64_t len = 0, tail;
  void *buf;
  int rc = 0;

  /* The header was published with the item count. */
  ring_copy_out(st, atomic_load(&st->tail), frame, FRAME);
  for (int i = 0; i < FRAME; i++)
    len |= (uint64_t)frame[i] << (8 * i);
  if (len == 0 || len > SIZE_MAX / 2)
    return mark_broken(q, "corrupted message length");
  /* From the first change to the shared state to the last, a reader
   * that dies leaves the queue half-read: `reading` says so. */
  buf = mproc__args_buffer((size_t)len);
  tail = atomic_load(&st->tail);
  atomic_store(&st->reading, 1);
  if (buf != NULL &&
      (whole_at(atomic_load_explicit(&q->seen_head, memory_order_relaxed), tail,
                len) ||
       whole_at(refresh_head(q), tail, len))) {
    /* All there (the usual case): one move of the tail. Only the reader
     * holding the read mutex moves it. */
    ring_copy_out(st, tail + FRAME, buf, (size_t)len);
    atomic_store(&st->tail, tail + FRAME + len);
    atomic_fetch_add(&st->gets, 1);
    atomic_store(&st->reading, 0);
    bump(q, &st->space_seq, &st->space_waiters);
    *out = buf;
    *outlen = (size_t)len;
    return 0;
  }
  atomic_fetch_add(&st->gets, 1);
  atomic_store(&st->tail, tail + FRAME);
  if (buf == NULL) {
    /* The message must still leave the ring, or the queue would stall. */
    unsigned char sink[4096];
    while (len > 0 && rc == 0) {
      size_t n = len < sizeof sink ? (size_t)len : sizeof sink;
      rc = read_stream(q, sink, n);
      len -= n;
    }
    atomic_store(&st->reading, 0);
    return mproc__err(MPROC_ENOMEM, "out of memory receiving an item");
  }
  rc = read_stream(q, buf, len);
  atomic_store(&st->reading, 0);
  if (rc != 0) {
    mproc__args_buffer_free(buf);
    return rc;
  }
  *out = buf;
  *outlen = (size_t)len;
  return 0;
}

/* Take the next message's bytes (from mproc__args_buffer). */
static int get_bytes(mproc_queue_t *q, double timeout, void **buf, size_t *len)
{
  double deadline = mproc__deadline(timeout);
  int rc = lock_side(q, &q->st->rlock, &q->st->reading, deadline);

  if (rc == MPROC_ETIMEDOUT)
    return mproc__err(MPROC_EEMPTY, "Queue is empty");
  if (rc != 0)
    return rc;
  rc = wait_until(q, has_item, 0, &q->st->data_seq, &q->st->data_waiters,
                  deadline);
  if (rc == 0)
    rc = read_message(q, buf, len);
  mproc__plat_mutex_unlock(&q->seg, &q->st->rlock);
  if (rc == MPROC_ETIMEDOUT)
    return mproc__err(MPROC_EEMPTY, "Queue is empty");
  if (rc == MPROC_EBROKEN)
    return usable(q, "get");
  if (rc != 0)
    return rc;
  give_slot(q);
  return 0;
}

int mproc_queue_get(mproc_queue_t *q, double timeout, mproc_args_t **item)
{
  void *buf = NULL;
  size_t len = 0;
  int rc = usable(q, "get");

  if (rc != 0)
    return rc;
  if (item == NULL)
    return mproc__err(MPROC_EINVAL, "get: NULL item");
  *item = NULL;
  rc = get_bytes(q, timeout, &buf, &len);
  if (rc != 0)
    return rc;
  return mproc__args_take_buffer(item, buf, len);
}

int mproc__queue_drain(mproc_queue_t *q, mproc__drain_fn fn, void *ctx)
{
  qstate_t *st = q->st;
  unsigned char frame[FRAME], *scratch = NULL;
  size_t scap = 0;
  int n = 0, rc = usable(q, "get");

  if (rc != 0)
    return rc;
  if (atomic_load(&st->puts) == atomic_load(&st->gets))
    return 0;
  if ((rc = lock_side(q, &st->rlock, &st->reading, MPROC__NEVER)) != 0)
    return rc;
  while (rc == 0 && atomic_load(&st->puts) != atomic_load(&st->gets)) {
    uint64_t tail = atomic_load(&st->tail), len = 0, off;
    const void *p;
    ring_copy_out(st, tail, frame, FRAME);
    for (int i = 0; i < FRAME; i++)
      len |= (uint64_t)frame[i] << (8 * i);
    if (FRAME + len > st->cap || len == 0) {
      /* Streamed through the ring (or corrupt): the ordinary read. */
      void *buf = NULL;
      size_t blen = 0;
      if ((rc = read_message(q, &buf, &blen)) == 0) {
        fn(ctx, buf, blen);
        mproc__args_buffer_free(buf);
      }
    } else {
      /* Whole in the ring (its count is published after its bytes):
       * handed out in place unless it wraps. */
      off = (tail + FRAME) % st->cap;
      if (off + len <= st->cap) {
        p = st->ring + off;
      } else {
        if (len > scap) {
          unsigned char *g = realloc(scratch, (size_t)len);
          if (g == NULL) {
            rc = mproc__err(MPROC_ENOMEM, "out of memory");
            break;
          }
          scratch = g;
          scap = (size_t)len;
        }
        ring_copy_out(st, tail + FRAME, scratch, (size_t)len);
        p = scratch;
      }
      fn(ctx, p, (size_t)len);
      atomic_store(&st->reading, 1);
      atomic_store(&st->tail, tail + FRAME + len);
      atomic_fetch_add(&st->gets, 1);
      atomic_store(&st->reading, 0);
    }
    if (rc == 0) {
      give_slot(q);
      n++;
    }
  }
  bump(q, &st->space_seq, &st->space_waiters);
  mproc__plat_mutex_unlock(&q->seg, &st->rlock);
  free(scratch);
  if (rc == MPROC_EBROKEN)
    return usable(q, "get");
  return rc != 0 ? rc : n;
}

int mproc__queue_get_raw(mproc_queue_t *q, double timeout, void **buf,
                         size_t *len)
{
  int rc = usable(q, "get");

  *buf = NULL;
  return rc != 0 ? rc : get_bytes(q, timeout, buf, len);
}

uint64_t mproc__queue_bytes(mproc_queue_t *q, uint64_t *cap)
{
  uint64_t tail = atomic_load(&q->st->tail);

  *cap = q->st->cap;
  return atomic_load(&q->st->head) - tail;
}

/* Items in the queue: gets first, so the count is never negative. */
static long queued(mproc_queue_t *q)
{
  uint64_t gets = atomic_load(&q->st->gets);

  return (long)(atomic_load(&q->st->puts) - gets);
}

long mproc_queue_qsize(mproc_queue_t *q)
{
  int rc = usable(q, "qsize");

  return rc != 0 ? rc : queued(q);
}

int mproc_queue_empty(mproc_queue_t *q)
{
  int rc = usable(q, "empty");

  return rc != 0 ? rc : queued(q) == 0;
}

int mproc_queue_full(mproc_queue_t *q)
{
  int rc = usable(q, "full");

  if (rc != 0)
    return rc;
  return q->st->maxsize > 0 && atomic_load(&q->st->slots) >= q->st->maxsize;
}

int mproc_queue_close(mproc_queue_t *q)
{
  int rc = usable(q, "close");

  if (rc == MPROC_ECLOSED || rc == MPROC_EBROKEN)
    return 0; /* idempotent, as CPython's */
  if (rc != 0)
    return rc;
  q->closed = 1;
  return 0;
}

int mproc_queue_join_thread(mproc_queue_t *q)
{
  if (mproc__obj_check(q) == NULL)
    return mproc__err(MPROC_EINVAL, "join_thread: not a queue");
  if (!q->closed)
    return mproc__err(MPROC_ESTATE, "join_thread: Queue %p not closed",
                      (void *)q);
  return 0;
}

int mproc_queue_cancel_join_thread(mproc_queue_t *q)
{
  if (mproc__obj_check(q) == NULL)
    return mproc__err(MPROC_EINVAL, "cancel_join_thread: not a queue");
  return 0;
}

int mproc_queue_task_done(mproc_queue_t *q)
{
  int rc = usable(q, "task_done");

  if (rc != 0)
    return rc;
  if (kind_of(q) != MPROC_KIND_JOINABLE_QUEUE)
    return mproc__err(MPROC_ETYPE, "task_done: only a JoinableQueue has it");
  for (;;) {
    long n = atomic_load(&q->st->unfinished);
    if (n <= 0)
      return mproc__err(MPROC_EINVAL, "task_done() called too many times");
    if (atomic_compare_exchange_weak(&q->st->unfinished, &n, n - 1)) {
      if (n == 1)
        bump(q, &q->st->join_seq, &q->st->join_waiters);
      return 0;
    }
  }
}

int mproc_queue_join(mproc_queue_t *q, double timeout)
{
  int rc = usable(q, "join");

  if (rc != 0)
    return rc;
  if (kind_of(q) != MPROC_KIND_JOINABLE_QUEUE)
    return mproc__err(MPROC_ETYPE, "join: only a JoinableQueue has it");
  rc = wait_until(q, no_unfinished, 0, &q->st->join_seq, &q->st->join_waiters,
                  mproc__deadline(timeout));
  if (rc == MPROC_ETIMEDOUT)
    return mproc__err(MPROC_ETIMEDOUT, "join: items are still unfinished");
  return rc;
}

void mproc_queue_free(mproc_queue_t *q)
{
  if (q != NULL)
    mproc__obj_unref(&q->hdr);
}
