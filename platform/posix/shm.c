/*
 * POSIX backend (Linux): the primitives the objects of lib/ are built on.
 * A segment is a memfd mapped shared, so it travels to children as one
 * descriptor and vanishes with its last mapping and descriptor: nothing
 * can leak in /dev/shm. Waits are futexes on words in the segment
 * (not FUTEX_PRIVATE: the waiters are in several processes). Mutexes are
 * glibc's robust process-shared mutexes: the kernel's robust list marks
 * one whose owner died, and the next locker is told (EOWNERDEAD).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "object.h"
#include "os.h"
#include "posix.h"

/* The backend's header at the start of every mapping: enough to check an
 * import, where the segment's mutexes are (see mproc__plat_seg_close),
 * and alignment for what follows. */
#define SEG_MAGIC 0x6d707367u /* "mpsg" */
#define SEG_HDR 64
#define MAX_MUTEXES 6 /* as many as the Windows backend allows */

typedef struct seg_hdr {
  uint32_t magic;
  uint32_t nmutex;
  uint64_t size;
  uint32_t mutex_off[MAX_MUTEXES]; /* from the start of the mapping */
} seg_hdr_t;

_Static_assert(sizeof(seg_hdr_t) <= SEG_HDR, "segment header too large");

_Static_assert(sizeof(pthread_mutex_t) <= sizeof(mproc__mutex_t),
               "mproc__mutex_t must hold a pthread_mutex_t");

static int map_segment(int fd, size_t size, mproc__seg_t *out)
{
  size_t total = SEG_HDR + size;
  void *map = os_mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

  if (map == MAP_FAILED)
    return mproc__err_os("mmap", errno);
  memset(out, 0, sizeof *out);
  out->map = map;
  out->map_size = total;
  out->addr = (char *)map + SEG_HDR;
  out->size = size;
  out->handle = fd;
  out->wake = -1;
  return 0;
}

int mproc__plat_seg_create(size_t size, mproc__seg_t *out)
{
  int fd, rc;

  if (size == 0 || size > SIZE_MAX - SEG_HDR)
    return mproc__err(MPROC_EINVAL, "shared segment of %zu bytes", size);
  fd = os_memfd_create("mproc", MFD_CLOEXEC);
  if (fd < 0)
    return mproc__err_os("memfd_create", errno);
  /* ftruncate makes the file sparse and zero-filled. */
  if (os_ftruncate(fd, (off_t)(SEG_HDR + size)) != 0) {
    rc = mproc__err_os("ftruncate", errno);
    close(fd);
    return rc;
  }
  rc = map_segment(fd, size, out);
  if (rc != 0) {
    close(fd);
    return rc;
  }
  ((seg_hdr_t *)out->map)->magic = SEG_MAGIC;
  ((seg_hdr_t *)out->map)->size = size;
  return 0;
}

int mproc__plat_seg_export(const mproc__seg_t *s, intptr_t *handles, size_t cap,
                           size_t *n)
{
  if (cap < 1)
    return mproc__err(MPROC_EINVAL, "no room to export a segment");
  handles[0] = s->handle;
  *n = 1;
  return 0;
}

int mproc__plat_seg_import(const intptr_t *handles, size_t n, size_t size,
                           mproc__seg_t *out)
{
  struct stat st;
  int fd, rc;

  if (n != 1 || handles[0] < 0 || handles[0] > INT_MAX)
    return mproc__err(MPROC_ECODEC,
                      "shared segment: expected 1 descriptor, "
                      "got %zu",
                      n);
  fd = (int)handles[0];
  if (fstat(fd, &st) != 0)
    return mproc__err_os("fstat(shared segment)", errno);
  if (size > SIZE_MAX - SEG_HDR || (uint64_t)st.st_size != SEG_HDR + size)
    return mproc__err(MPROC_ECODEC,
                      "shared segment: %lld bytes, expected "
                      "%zu",
                      (long long)st.st_size, size + SEG_HDR);
  rc = map_segment(fd, size, out);
  if (rc != 0)
    return rc;
  if (((seg_hdr_t *)out->map)->magic != SEG_MAGIC ||
      ((seg_hdr_t *)out->map)->size != size) {
    munmap(out->map, out->map_size);
    memset(out, 0, sizeof *out);
    return mproc__err(MPROC_ECODEC, "shared segment: not an mproc segment");
  }
  /* Inherited without close-on-exec; ours from now on. */
  (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
  return 0;
}

static unsigned owner_tid(mproc__mutex_t *m);

/* Whether a thread of this process holds a mutex of @s. */
static int held_here(const mproc__seg_t *s)
{
  const seg_hdr_t *h = s->map;
  uint32_t n = h->nmutex <= MAX_MUTEXES ? h->nmutex : 0;
  unsigned tid;

  for (uint32_t i = 0; i < n; i++) {
    if (h->mutex_off[i] < SEG_HDR ||
        h->mutex_off[i] > s->map_size - sizeof(mproc__mutex_t))
      continue;
    tid = owner_tid((mproc__mutex_t *)((char *)s->map + h->mutex_off[i]));
    /* tgkill with signal 0 only checks that @tid is one of our threads. */
    if (tid != 0 && syscall(SYS_tgkill, getpid(), (pid_t)tid, 0) == 0)
      return 1;
  }
  return 0;
}

void mproc__plat_seg_close(mproc__seg_t *s)
{
  /* A robust mutex is found, when its holder dies, through a list the
   * kernel walks in the holder's memory: unmapped, the mutex would stay
   * locked for ever (a target that returns holding a Lock frees its
   * arguments before the process ends). Such a mapping is kept until
   * the process ends; the descriptor can go, the mapping holds the
   * memory. */
  if (s->map != NULL && !held_here(s))
    munmap(s->map, s->map_size);
  if (s->map != NULL && s->handle >= 0)
    close((int)s->handle);
  memset(s, 0, sizeof *s);
  s->handle = -1;
  s->wake = -1;
}

static void to_timespec(double t, struct timespec *ts)
{
  ts->tv_sec = (time_t)t;
  ts->tv_nsec = (long)((t - (double)ts->tv_sec) * 1e9);
  if (ts->tv_nsec >= 1000000000L) {
    ts->tv_sec++;
    ts->tv_nsec -= 1000000000L;
  }
  if (ts->tv_nsec < 0)
    ts->tv_nsec = 0;
}

int mproc__plat_word_wait(mproc__seg_t *s, atomic_uint *word, unsigned expected,
                          double deadline)
{
  struct timespec ts, *tp = NULL;
  long r;

  (void)s;
  if (atomic_load(word) != expected)
    return 0;
  if (deadline < MPROC__NEVER) {
    if (mproc__plat_now() >= deadline)
      return MPROC_ETIMEDOUT;
    to_timespec(deadline, &ts);
    tp = &ts;
  }
  /* FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC time, the clock
   * of mproc__plat_now(): no drift over repeated spurious wakeups. */
  r = os_futex_wait((unsigned *)word, expected, tp);
  if (r != 0 && errno == ETIMEDOUT)
    return MPROC_ETIMEDOUT;
  return 0; /* woken, changed (EAGAIN) or interrupted: callers re-check */
}

void mproc__plat_word_wake(mproc__seg_t *s, atomic_uint *word, int n)
{
  (void)s;
  syscall(SYS_futex, (unsigned *)word, FUTEX_WAKE, n, NULL, NULL, 0);
}

int mproc__plat_mutex_init(mproc__seg_t *s, mproc__mutex_t *m)
{
  seg_hdr_t *h = s->map;
  pthread_mutexattr_t attr;
  int rc;

  if (h->nmutex >= MAX_MUTEXES)
    return mproc__err(MPROC_EINVAL, "too many mutexes in one segment");
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
  pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
  pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK);
  rc = pthread_mutex_init((pthread_mutex_t *)(void *)m->opaque, &attr);
  pthread_mutexattr_destroy(&attr);
  if (rc != 0)
    return mproc__err_os("pthread_mutex_init", rc);
  h->mutex_off[h->nmutex++] = (uint32_t)((char *)m - (char *)s->map);
  return 0;
}

int mproc__plat_mutex_lock(mproc__seg_t *s, mproc__mutex_t *m, double deadline)
{
  pthread_mutex_t *mx = (pthread_mutex_t *)(void *)m->opaque;
  struct timespec ts;
  int rc;

  (void)s;
  if (deadline >= MPROC__NEVER) {
    rc = pthread_mutex_lock(mx);
  } else {
    rc = pthread_mutex_trylock(mx);
    if (rc == EBUSY) {
      to_timespec(deadline, &ts);
      rc = pthread_mutex_clocklock(mx, CLOCK_MONOTONIC, &ts);
    }
  }
  switch (rc) {
  case 0:
    return 0;
  case EOWNERDEAD:
    /* The lock is ours; make it usable again and tell the caller. */
    pthread_mutex_consistent(mx);
    return mproc__err(MPROC_EOWNERDEAD,
                      "the previous owner of the lock died holding it");
  case ETIMEDOUT:
    return MPROC_ETIMEDOUT;
  case EDEADLK:
    return mproc__err(MPROC_EDEADLK, "the calling thread already holds "
                                     "the lock");
  case ENOTRECOVERABLE:
    return mproc__err(MPROC_EBROKEN, "the lock is not recoverable");
  default:
    return mproc__err_os("pthread_mutex_lock", rc);
  }
}

int mproc__plat_mutex_unlock(mproc__seg_t *s, mproc__mutex_t *m)
{
  int rc = pthread_mutex_unlock((pthread_mutex_t *)(void *)m->opaque);

  (void)s;
  if (rc == EPERM)
    return mproc__err(MPROC_EPERM, "cannot release un-acquired lock");
  if (rc != 0)
    return mproc__err_os("pthread_mutex_unlock", rc);
  return 0;
}

/* glibc keeps the owner's thread id in the low bits of a robust mutex's
 * futex word (the kernel's robust-futex protocol, a stable ABI); the
 * high bits are the waiters and owner-died flags. */
#define TID_MASK 0x3fffffffu

static unsigned owner_tid(mproc__mutex_t *m)
{
  pthread_mutex_t *mx = (pthread_mutex_t *)(void *)m->opaque;

  return (unsigned)__atomic_load_n(&mx->__data.__lock, __ATOMIC_RELAXED) &
         TID_MASK;
}

int mproc__plat_mutex_locked(mproc__mutex_t *m)
{
  return owner_tid(m) != 0;
}

static _Thread_local unsigned my_tid;

int mproc__plat_mutex_mine(mproc__mutex_t *m)
{
  if (my_tid == 0)
    my_tid = (unsigned)gettid();
  return owner_tid(m) == my_tid;
}

/* getpid() and gettid() are system calls: the id is cached per thread,
 * and forgotten in the child of any fork (the forking thread is the
 * child's only thread, with a new id). */
static _Thread_local uint64_t tid_cache;

static void forget_tid(void)
{
  tid_cache = 0;
  my_tid = 0;
}

__attribute__((constructor)) static void register_forget_tid(void)
{
  pthread_atfork(NULL, NULL, forget_tid);
}

uint64_t mproc__plat_thread_id(void)
{
  /* A thread id is unique system-wide among live threads; the pid makes
   * a stale record of a dead process's thread unlikely to match. */
  if (tid_cache == 0)
    tid_cache = (uint64_t)getpid() << 32 | (uint32_t)gettid();
  return tid_cache;
}
