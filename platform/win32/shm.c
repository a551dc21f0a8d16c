/*
 * Windows backend: the primitives the objects of lib/ are built on.
 * A segment is a page-file-backed file mapping; waits sleep on one kernel
 * semaphore per segment (there is no cross-process futex), counted so
 * that a wake only makes a system call when someone sleeps; mutexes are
 * kernel mutexes, whose WAIT_ABANDONED is the robust "owner died".
 *
 * Inherited handles keep their values in the child, so the mutexes'
 * HANDLE values can live in the shared memory itself: valid in every
 * process that received the segment as an object's argument.
 */
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>

#include <limits.h>
#include <string.h>

#include "object.h"
#include "os.h"
#include "win32.h"

#define SEG_MAGIC 0x6d707367u /* "mpsg" */
#define SEG_HDR 256
#define MAX_MUTEXES 6 /* + the mapping and the semaphore: 8 handles */

typedef struct seg_hdr {
  uint32_t magic;
  atomic_uint waiters;
  uint64_t size;
  uint64_t wake;
  uint32_t nmutex;
  uint32_t pad;
  uint64_t mutex[MAX_MUTEXES];
} seg_hdr_t;

_Static_assert(sizeof(seg_hdr_t) <= SEG_HDR, "segment header too large");

typedef struct win_mutex {
  uint64_t handle;
  uint64_t owner; /* thread id of the holder (kernel mutexes recurse) */
} win_mutex_t;

_Static_assert(sizeof(win_mutex_t) <= sizeof(mproc__mutex_t),
               "mproc__mutex_t too small");

static seg_hdr_t *hdr_of(const mproc__seg_t *s)
{
  return (seg_hdr_t *)s->map;
}

static DWORD ms_until(double deadline)
{
  double left;

  if (deadline >= MPROC__NEVER)
    return INFINITE;
  left = deadline - mproc__plat_now();
  if (left <= 0)
    return 0;
  if (left > 1e6)
    return 1000000000u;
  return (DWORD)(left * 1000.0 + 0.999);
}

static int map_view(HANDLE mapping, size_t size, mproc__seg_t *out)
{
  void *map =
      os_MapViewOfFile(mapping, FILE_MAP_ALL_ACCESS, 0, 0, SEG_HDR + size);

  if (map == NULL)
    return mproc__err_os("MapViewOfFile", (long)GetLastError());
  memset(out, 0, sizeof *out);
  out->map = map;
  out->map_size = SEG_HDR + size;
  out->addr = (char *)map + SEG_HDR;
  out->size = size;
  out->handle = (intptr_t)mapping;
  return 0;
}

int mproc__plat_seg_create(size_t size, mproc__seg_t *out)
{
  unsigned long long total = (unsigned long long)SEG_HDR + size;
  HANDLE mapping, wake;
  int rc;

  if (size == 0 || size > SIZE_MAX - SEG_HDR)
    return mproc__err(MPROC_EINVAL, "shared segment of %zu bytes", size);
  mapping = os_CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE,
                                  (DWORD)(total >> 32), (DWORD)total, NULL);
  if (mapping == NULL)
    return mproc__err_os("CreateFileMapping", (long)GetLastError());
  wake = os_CreateSemaphoreW(NULL, 0, LONG_MAX, NULL);
  if (wake == NULL) {
    rc = mproc__err_os("CreateSemaphore", (long)GetLastError());
    CloseHandle(mapping);
    return rc;
  }
  rc = map_view(mapping, size, out);
  if (rc != 0) {
    CloseHandle(wake);
    CloseHandle(mapping);
    return rc;
  }
  out->wake = (intptr_t)wake;
  hdr_of(out)->magic = SEG_MAGIC;
  hdr_of(out)->size = size;
  hdr_of(out)->wake = (uint64_t)(uintptr_t)wake;
  return 0;
}

int mproc__plat_seg_export(const mproc__seg_t *s, intptr_t *handles, size_t cap,
                           size_t *n)
{
  seg_hdr_t *h = hdr_of(s);

  if (cap < 2 + h->nmutex)
    return mproc__err(MPROC_EINVAL, "no room to export a segment");
  handles[0] = s->handle;
  handles[1] = s->wake;
  for (uint32_t i = 0; i < h->nmutex; i++)
    handles[2 + i] = (intptr_t)h->mutex[i];
  *n = 2 + h->nmutex;
  return 0;
}

int mproc__plat_seg_import(const intptr_t *handles, size_t n, size_t size,
                           mproc__seg_t *out)
{
  seg_hdr_t *h;
  int rc;

  if (n < 2 || n > 2 + MAX_MUTEXES || size > SIZE_MAX - SEG_HDR)
    return mproc__err(MPROC_ECODEC, "shared segment: %zu handles", n);
  rc = map_view((HANDLE)handles[0], size, out);
  if (rc != 0)
    return rc;
  h = hdr_of(out);
  if (h->magic != SEG_MAGIC || h->size != size || h->nmutex != n - 2 ||
      h->wake != (uint64_t)handles[1]) {
    UnmapViewOfFile(out->map);
    memset(out, 0, sizeof *out);
    return mproc__err(MPROC_ECODEC, "shared segment: not the one described");
  }
  for (size_t i = 2; i < n; i++)
    if (h->mutex[i - 2] != (uint64_t)handles[i]) {
      UnmapViewOfFile(out->map);
      memset(out, 0, sizeof *out);
      return mproc__err(MPROC_ECODEC, "shared segment: mutex handles differ");
    }
  out->wake = handles[1];
  /* Inherited handles are inheritable; ours are not, until a start. */
  for (size_t i = 0; i < n; i++)
    SetHandleInformation((HANDLE)handles[i], HANDLE_FLAG_INHERIT, 0);
  return 0;
}

void mproc__plat_seg_close(mproc__seg_t *s)
{
  if (s->map != NULL) {
    seg_hdr_t *h = hdr_of(s);
    HANDLE mutexes[MAX_MUTEXES];
    uint32_t n = h->nmutex <= MAX_MUTEXES ? h->nmutex : 0;
    for (uint32_t i = 0; i < n; i++)
      mutexes[i] = (HANDLE)(uintptr_t)h->mutex[i];
    UnmapViewOfFile(s->map);
    for (uint32_t i = 0; i < n; i++)
      CloseHandle(mutexes[i]);
    if (s->wake != 0)
      CloseHandle((HANDLE)s->wake);
    CloseHandle((HANDLE)s->handle);
  }
  memset(s, 0, sizeof *s);
}

int mproc__plat_word_wait(mproc__seg_t *s, atomic_uint *word, unsigned expected,
                          double deadline)
{
  seg_hdr_t *h = hdr_of(s);
  DWORD r;

  if (atomic_load(word) != expected)
    return 0;
  if (deadline < MPROC__NEVER && mproc__plat_now() >= deadline)
    return MPROC_ETIMEDOUT;
  /* Counted first, checked again after: a waker that changed the word
   * before our check is seen; one after it sees the count. */
  atomic_fetch_add(&h->waiters, 1);
  if (atomic_load(word) != expected) {
    atomic_fetch_sub(&h->waiters, 1);
    return 0;
  }
  r = WaitForSingleObject((HANDLE)s->wake, ms_until(deadline));
  atomic_fetch_sub(&h->waiters, 1);
  if (r == WAIT_TIMEOUT)
    return MPROC_ETIMEDOUT;
  return 0;
}

void mproc__plat_word_wake(mproc__seg_t *s, atomic_uint *word, int n)
{
  seg_hdr_t *h = hdr_of(s);
  unsigned w = atomic_load(&h->waiters);

  (void)word;
  (void)n;
  /* The semaphore is shared by every word of the segment: wake all the
   * sleepers; each re-checks its own word. */
  if (w > 0)
    ReleaseSemaphore((HANDLE)s->wake, (LONG)w, NULL);
}

int mproc__plat_mutex_init(mproc__seg_t *s, mproc__mutex_t *m)
{
  seg_hdr_t *h = hdr_of(s);
  win_mutex_t *wm = (win_mutex_t *)(void *)m->opaque;
  HANDLE mx;

  if (h->nmutex >= MAX_MUTEXES)
    return mproc__err(MPROC_EINVAL, "too many mutexes in one segment");
  mx = os_CreateMutexW(NULL, FALSE, NULL);
  if (mx == NULL)
    return mproc__err_os("CreateMutex", (long)GetLastError());
  wm->handle = (uint64_t)(uintptr_t)mx;
  wm->owner = 0;
  h->mutex[h->nmutex++] = wm->handle;
  return 0;
}

int mproc__plat_mutex_lock(mproc__seg_t *s, mproc__mutex_t *m, double deadline)
{
  win_mutex_t *wm = (win_mutex_t *)(void *)m->opaque;
  uint64_t me = mproc__plat_thread_id();
  DWORD r;

  (void)s;
  if (wm->owner == me)
    return mproc__err(MPROC_EDEADLK, "the calling thread already holds "
                                     "the lock");
  r = WaitForSingleObject((HANDLE)(uintptr_t)wm->handle, ms_until(deadline));
  switch (r) {
  case WAIT_OBJECT_0:
    wm->owner = me;
    return 0;
  case WAIT_ABANDONED:
    wm->owner = me;
    return mproc__err(MPROC_EOWNERDEAD,
                      "the previous owner of the lock died holding it");
  case WAIT_TIMEOUT:
    return MPROC_ETIMEDOUT;
  default:
    return mproc__err_os("WaitForSingleObject(mutex)", (long)GetLastError());
  }
}

int mproc__plat_mutex_unlock(mproc__seg_t *s, mproc__mutex_t *m)
{
  win_mutex_t *wm = (win_mutex_t *)(void *)m->opaque;

  (void)s;
  if (wm->owner != mproc__plat_thread_id())
    return mproc__err(MPROC_EPERM, "cannot release un-acquired lock");
  wm->owner = 0;
  if (!ReleaseMutex((HANDLE)(uintptr_t)wm->handle))
    return mproc__err_os("ReleaseMutex", (long)GetLastError());
  return 0;
}

int mproc__plat_mutex_locked(mproc__mutex_t *m)
{
  return ((win_mutex_t *)(void *)m->opaque)->owner != 0;
}

int mproc__plat_mutex_mine(mproc__mutex_t *m)
{
  return ((win_mutex_t *)(void *)m->opaque)->owner == mproc__plat_thread_id();
}

uint64_t mproc__plat_thread_id(void)
{
  return (uint64_t)GetCurrentProcessId() << 32 | GetCurrentThreadId();
}
