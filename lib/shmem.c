/*
 * SharedMemory: named blocks of shared memory (CPython's
 * multiprocessing.shared_memory). The block's first bytes are a header
 * of ours (its real size, the unlinked mark); the caller's buffer
 * follows. The backend makes the lifetime safe: a block lives while a
 * process uses it and goes when the last one closes or dies.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "object.h"
#include "platform.h"

#define HDR 64
#define BLOCK_MAGIC 0x6d70626bu /* "mpbk" */
#define NAME_MAX_LEN 30
#define EXTRA_VERSION 1

typedef struct block_hdr {
  uint32_t magic;
  atomic_uint unlinked;
  uint64_t size;
} block_hdr_t;

struct mproc_shm {
  mproc__obj_t hdr;
  char name[NAME_MAX_LEN + 1];
  mproc__named_t m;
  size_t size;
  int closed;
  struct mproc_shm *next_open; /* the open list */
};

/* The blocks this process has open, so that a pool can tell that an
 * array already lives in one and let its workers use it in place. A
 * spin lock: held for a few pointer moves, never across a call. */
static mproc_shm_t *open_blocks;
static atomic_flag open_lock = ATOMIC_FLAG_INIT;

static void open_list_lock(void)
{
  while (atomic_flag_test_and_set(&open_lock))
    ;
}

static void open_list_add(mproc_shm_t *s)
{
  open_list_lock();
  s->next_open = open_blocks;
  open_blocks = s;
  atomic_flag_clear(&open_lock);
}

static void open_list_remove(mproc_shm_t *s)
{
  open_list_lock();
  for (mproc_shm_t **link = &open_blocks; *link != NULL;
       link = &(*link)->next_open)
    if (*link == s) {
      *link = s->next_open;
      break;
    }
  atomic_flag_clear(&open_lock);
}

int mproc__shm_locate(const void *p, size_t len, char *name, size_t cap,
                      size_t *offset)
{
  const char *c = p;
  int rc = MPROC_ENOTFOUND;

  open_list_lock();
  for (mproc_shm_t *s = open_blocks; s != NULL; s = s->next_open) {
    const char *buf = (const char *)s->m.map + HDR;
    if (c >= buf && (size_t)(c - buf) <= s->size &&
        len <= s->size - (size_t)(c - buf)) {
      snprintf(name, cap, "%s", s->name);
      *offset = (size_t)(c - buf);
      rc = 0;
      break;
    }
  }
  atomic_flag_clear(&open_lock);
  return rc;
}

static block_hdr_t *block_of(const mproc_shm_t *s)
{
  return (block_hdr_t *)s->m.map;
}

static void shm_destroy(mproc__obj_t *o)
{
  mproc_shm_t *s = (mproc_shm_t *)o;

  if (!s->closed) {
    open_list_remove(s);
    mproc__plat_named_close(s->name, &s->m);
  }
  free(s);
}

static int shm_export(mproc__obj_t *o, mproc__export_t *ex)
{
  mproc_shm_t *s = (mproc_shm_t *)o;
  size_t n = strlen(s->name);

  if (s->closed)
    return mproc__err(MPROC_ECLOSED, "SharedMemory '%s' is closed", s->name);
  ex->handles[0] = s->m.handle;
  ex->nhandles = 1;
  ex->extra[0] = EXTRA_VERSION;
  memcpy(ex->extra + 1, s->name, n);
  ex->extra_len = 1 + n;
  return 0;
}

static int valid_name(const char *name)
{
  size_t n = strlen(name);

  if (n == 0 || n > NAME_MAX_LEN)
    return 0;
  for (size_t i = 0; i < n; i++) {
    char ch = name[i];
    if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
          (ch >= '0' && ch <= '9') || ch == '_' || ch == '-'))
      return 0;
  }
  return 1;
}

/* Check the header of a freshly mapped block and fill @s from it. */
static int take_block(mproc_shm_t *s)
{
  block_hdr_t *b = block_of(s);

  if (s->m.map_size < HDR || b->magic != BLOCK_MAGIC ||
      b->size > s->m.map_size - HDR)
    return mproc__err(MPROC_ECODEC,
                      "'%s' is not an mproc shared memory "
                      "block",
                      s->name);
  if (atomic_load(&b->unlinked))
    return mproc__err(MPROC_ENOTFOUND, "No such file or directory: '%s'",
                      s->name);
  s->size = (size_t)b->size;
  return 0;
}

static int shm_import(mproc__obj_t **out, const intptr_t *h, size_t n,
                      const void *extra, size_t el);

const mproc__obj_ops_t mproc__shm_ops = {MPROC_KIND_SHARED_MEMORY, shm_export,
                                         shm_import, shm_destroy, NULL};
MPROC__OBJ_REGISTER(mproc__shm_ops)

static int shm_import(mproc__obj_t **out, const intptr_t *h, size_t n,
                      const void *extra, size_t el)
{
  const unsigned char *e = extra;
  mproc_shm_t *s;
  int rc;

  if (n != 1 || el < 2 || el > 1 + NAME_MAX_LEN || e[0] != EXTRA_VERSION)
    return mproc__err(MPROC_ECODEC, "SharedMemory: bad description");
  s = calloc(1, sizeof *s);
  if (s == NULL)
    return mproc__err(MPROC_ENOMEM, "out of memory");
  memcpy(s->name, e + 1, el - 1);
  if (!valid_name(s->name)) {
    free(s);
    return mproc__err(MPROC_ECODEC, "SharedMemory: bad name from the parent");
  }
  rc = mproc__plat_named_adopt(s->name, h[0], &s->m);
  if (rc == 0 && (rc = take_block(s)) == MPROC_ENOTFOUND)
    rc = 0; /* unlinked since: still usable by those who have it */
  if (rc != 0) {
    if (s->m.map != NULL) {
      s->m.handle = -1; /* the caller keeps the handle on failure */
      mproc__plat_named_close(s->name, &s->m);
    }
    free(s);
    return rc;
  }
  s->size = (size_t)block_of(s)->size;
  mproc__obj_init(&s->hdr, &mproc__shm_ops);
  open_list_add(s);
  *out = &s->hdr;
  return 0;
}

static void random_name(char *buf)
{
  unsigned char r[8];

  if (mproc__random(r, sizeof r) != 0)
    memset(r, 0, sizeof r);
  snprintf(buf, NAME_MAX_LEN + 1, "psm_%02x%02x%02x%02x%02x%02x%02x%02x", r[0],
           r[1], r[2], r[3], r[4], r[5], r[6], r[7]);
}

static int create_block(mproc_shm_t *s, const char *name, size_t size)
{
  int rc, tries = 0;

  if (size == 0)
    return mproc__err(MPROC_EINVAL,
                      "'size' must be a positive number different from zero");
  if (size > SIZE_MAX - HDR)
    return mproc__err(MPROC_EINVAL, "'size' is too large");
  do {
    if (name == NULL)
      random_name(s->name);
    rc = mproc__plat_named_create(s->name, HDR + size, &s->m);
  } while (rc == MPROC_EEXIST && name == NULL && ++tries < 8);
  if (rc != 0)
    return rc;
  block_of(s)->magic = BLOCK_MAGIC;
  block_of(s)->size = size;
  s->size = size;
  return 0;
}

int mproc_shm_open(mproc_shm_t **out, const char *name, int create, size_t size)
{
  mproc_shm_t *s;
  int rc;

  if (out == NULL)
    return mproc__err(MPROC_EINVAL, "SharedMemory: NULL output");
  *out = NULL;
  if (name == NULL && !create)
    return mproc__err(MPROC_EINVAL, "'name' can only be None if create=True");
  if (name != NULL && !valid_name(name))
    return mproc__err(MPROC_EINVAL,
                      "bad name '%s': 1 to %d letters, digits, '_' or '-'",
                      name, NAME_MAX_LEN);
  if ((rc = mproc__init()) != 0)
    return rc;
  mproc__plat_named_sweep();
  s = calloc(1, sizeof *s);
  if (s == NULL)
    return mproc__err(MPROC_ENOMEM, "out of memory");
  s->m.handle = -1;
  if (name != NULL)
    snprintf(s->name, sizeof s->name, "%s", name);
  if (create) {
    rc = create_block(s, name, size);
  } else {
    rc = mproc__plat_named_open(s->name, &s->m);
    if (rc == 0 && (rc = take_block(s)) != 0)
      mproc__plat_named_close(s->name, &s->m);
  }
  if (rc != 0) {
    free(s);
    return rc;
  }
  mproc__obj_init(&s->hdr, &mproc__shm_ops);
  open_list_add(s);
  *out = s;
  return 0;
}

static mproc_shm_t *check(const mproc_shm_t *s)
{
  mproc__obj_t *o = mproc__obj_check(s);

  return o != NULL && o->ops == &mproc__shm_ops ? (mproc_shm_t *)s : NULL;
}

const char *mproc_shm_name(const mproc_shm_t *m)
{
  return check(m) ? m->name : NULL;
}

void *mproc_shm_buf(mproc_shm_t *m)
{
  return check(m) && !m->closed ? (char *)m->m.map + HDR : NULL;
}

size_t mproc_shm_size(const mproc_shm_t *m)
{
  return check(m) ? m->size : 0;
}

int mproc_shm_close(mproc_shm_t *m)
{
  if (check(m) == NULL)
    return mproc__err(MPROC_EINVAL, "close: not a SharedMemory");
  if (!m->closed) {
    open_list_remove(m);
    mproc__plat_named_close(m->name, &m->m);
  }
  m->closed = 1;
  return 0;
}

int mproc_shm_unlink(mproc_shm_t *m)
{
  int rc;

  if (check(m) == NULL)
    return mproc__err(MPROC_EINVAL, "unlink: not a SharedMemory");
  if (!m->closed && atomic_exchange(&block_of(m)->unlinked, 1))
    return mproc__err(MPROC_ENOTFOUND, "No such file or directory: '%s'",
                      m->name);
  rc = mproc__plat_named_unlink(m->name);
  return rc;
}

void mproc_shm_free(mproc_shm_t *m)
{
  if (m != NULL)
    mproc__obj_unref(&m->hdr);
}
