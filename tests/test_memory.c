/*
 * Value, Array and SharedMemory, after CPython's _TestValue, _TestArray
 * and _TestSharedMemory, plus what CPython's resource tracker gets wrong:
 * a block whose creator crashed is not leaked, and a block still in use
 * is not destroyed.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#ifndef _WIN32
#include <sys/stat.h>
#endif

#define BADARGS 99

/* Writes 1 (of its type) into every element of @v. */
MPROC_TARGET(v_fill)
{
  mproc_shared_t *v;
  unsigned char *p;
  size_t size;

  if (mproc_args_parse(args, "o", MPROC_KIND_ARRAY, &v) != 0 &&
      mproc_args_parse(args, "o", MPROC_KIND_VALUE, &v) != 0)
    return BADARGS;
  p = mproc_shared_ptr(v);
  size = mproc_ctype_size(mproc_shared_ctype(v));
  for (size_t i = 0; i < mproc_shared_len(v); i++) {
    unsigned char *e = p + i * size;
    switch (mproc_shared_ctype(v)) {
    case MPROC_C_FLOAT:
      *(float *)(void *)e = 1.0f;
      break;
    case MPROC_C_DOUBLE:
      *(double *)(void *)e = 1.0;
      break;
    default:
      memset(e, 0, size);
      e[0] = 1; /* little-endian: the integer 1 */
      break;
    }
  }
  return 0;
}

/* Adds 1 to an int Value @n times under its lock. */
MPROC_TARGET(v_count)
{
  mproc_shared_t *v;
  int n, st;

  if (mproc_args_parse(args, "oi", MPROC_KIND_VALUE, &v, &n) != 0)
    return BADARGS;
  for (int i = 0; i < n; i++) {
    MPROC_WITH_LOCK(mproc_shared_lock(v), st)
    {
      ++*(int *)mproc_shared_ptr(v);
    }
    if (st != 0)
      return 1;
  }
  return 0;
}

/* Attaches to block @name, checks "parent", writes "child". */
MPROC_TARGET(m_attach)
{
  const char *name;
  mproc_shm_t *m = NULL;
  int rc = 0;

  if (mproc_args_parse(args, "s", &name) != 0)
    return BADARGS;
  if (mproc_shm_open(&m, name, 0, 0) != 0)
    return 1;
  if (mproc_shm_size(m) != 4096 || memcmp(mproc_shm_buf(m), "parent", 6) != 0)
    rc = 2;
  memcpy(mproc_shm_buf(m), "child", 6);
  mproc_shm_free(m);
  return rc;
}

/* Writes into a block passed as an object. */
MPROC_TARGET(m_object)
{
  mproc_shm_t *m;

  if (mproc_args_parse(args, "o", MPROC_KIND_SHARED_MEMORY, &m) != 0)
    return BADARGS;
  memcpy(mproc_shm_buf(m), "object", 7);
  return 0;
}

/* Creates block @name, sets the event, waits to be killed. */
MPROC_TARGET(m_create_and_hang)
{
  const char *name;
  mproc_event_t *e;
  mproc_shm_t *m = NULL;

  if (mproc_args_parse(args, "so", &name, MPROC_KIND_EVENT, &e) != 0)
    return BADARGS;
  if (mproc_shm_open(&m, name, 1, 1000) != 0)
    return 1;
  mproc_event_set(e);
  mproc_test_block_forever();
  return 0;
}

/* Attaches to @name, says so, waits for the go, then uses the memory. */
MPROC_TARGET(m_keep_using)
{
  const char *name;
  mproc_event_t *attached, *go;
  mproc_shm_t *m = NULL;
  int rc = 0;

  if (mproc_args_parse(args, "soo", &name, MPROC_KIND_EVENT, &attached,
                       MPROC_KIND_EVENT, &go) != 0)
    return BADARGS;
  if (mproc_shm_open(&m, name, 0, 0) != 0)
    return 1;
  mproc_event_set(attached);
  if (mproc_event_wait(go, 60) != 0)
    rc = 2;
  /* The creator has unlinked and closed it: still ours. */
  else if (memcmp(mproc_shm_buf(m), "before", 7) != 0)
    rc = 3;
  memcpy(mproc_shm_buf(m), "after", 6);
  if (rc == 0 && memcmp(mproc_shm_buf(m), "after", 6) != 0)
    rc = 4;
  mproc_shm_free(m);
  return rc;
}

/* Waits for a word on @c, then ends (keeping @m, a block, to the end). */
MPROC_TARGET(m_wait_then_end)
{
  mproc_shm_t *m;
  mproc_conn_t *c;
  mproc_args_t *msg = NULL;

  if (mproc_args_parse(args, "oo", MPROC_KIND_SHARED_MEMORY, &m,
                       MPROC_KIND_CONNECTION, &c) != 0)
    return BADARGS;
  (void)mproc_conn_recv(c, &msg);
  mproc_args_free(msg);
  return 0;
}

/* Creates block @name, starts m_wait_then_end with it (not daemonic, so
 * it outlives us), says "ready" on @c, waits to be killed. */
MPROC_TARGET(m_hand_on_and_hang)
{
  const char *name;
  mproc_conn_t *c;
  mproc_shm_t *m = NULL;
  mproc_process_t *p = NULL;

  if (mproc_args_parse(args, "so", &name, MPROC_KIND_CONNECTION, &c) != 0)
    return BADARGS;
  if (mproc_shm_open(&m, name, 1, 64) != 0 ||
      mproc_process_create(&p, m_wait_then_end, "oo", m, c) != 0 ||
      mproc_process_start(p) != 0 || mproc_conn_send(c, "s", "ready") != 0)
    return 1;
  mproc_test_block_forever();
  return 0;
}

static void unique_name(char *buf, size_t cap, const char *tag)
{
  static int counter;

  snprintf(buf, cap, "t%ld-%s-%d", mproc_test_getpid(), tag, ++counter);
}

/* Whether block @name exists, without becoming one of its users for
 * long (an attach that succeeds is closed at once). */
static int block_exists(const char *name)
{
  mproc_shm_t *m = NULL;

  if (mproc_shm_open(&m, name, 0, 0) != 0)
    return 0;
  mproc_shm_free(m);
  return 1;
}

static void test_value_every_type(void)
{
  for (int t = MPROC_C_CHAR; t <= MPROC_C_DOUBLE; t++) {
    mproc_shared_t *v = NULL;
    unsigned char zero[8] = {0};
    CU_ASSERT_EQUAL_FATAL(mproc_shared_value_create(&v, (mproc_ctype_t)t, 1),
                          0);
    CU_ASSERT_EQUAL(mproc_shared_len(v), 1);
    CU_ASSERT(memcmp(mproc_shared_ptr(v), zero, mproc_ctype_size(t)) == 0);
    CU_ASSERT_EQUAL(mproc_object_kind(v), MPROC_KIND_VALUE);
    CU_ASSERT_EQUAL((int)mproc_ctype_from_code(mproc_ctype_code(t)), t);
    EXPECT_EXIT(mproc_test_run(v_fill, "o", v), 0);
    if (t == MPROC_C_FLOAT) {
      CU_ASSERT(*(float *)mproc_shared_ptr(v) == 1.0f);
    } else if (t == MPROC_C_DOUBLE) {
      CU_ASSERT(*(double *)mproc_shared_ptr(v) == 1.0);
    } else {
      CU_ASSERT_EQUAL(((unsigned char *)mproc_shared_ptr(v))[0], 1);
    }
    mproc_shared_free(v);
  }
  CU_ASSERT_EQUAL(mproc_shared_value_create(&(mproc_shared_t *){NULL},
                                            (mproc_ctype_t)99, 0),
                  MPROC_EINVAL);
  CU_ASSERT_EQUAL((int)mproc_ctype_from_code('z'), 0);
}

static void test_array_raw_and_locked(void)
{
  mproc_shared_t *a = NULL, *raw = NULL;

  CU_ASSERT_EQUAL_FATAL(mproc_shared_array_create(&a, MPROC_C_INT64, 10, 1), 0);
  CU_ASSERT_EQUAL_FATAL(mproc_shared_array_create(&raw, MPROC_C_DOUBLE, 3, 0),
                        0);
  CU_ASSERT_PTR_NOT_NULL(mproc_shared_lock(a));
  CU_ASSERT_PTR_NULL(mproc_shared_lock(raw));
  CU_ASSERT_EQUAL(
      mproc_shared_array_create(&(mproc_shared_t *){NULL}, MPROC_C_INT, 0, 0),
      MPROC_EINVAL);
  EXPECT_EXIT(mproc_test_run(v_fill, "o", a), 0);
  EXPECT_EXIT(mproc_test_run(v_fill, "o", raw), 0);
  for (int i = 0; i < 10; i++)
    CU_ASSERT_EQUAL(((int64_t *)mproc_shared_ptr(a))[i], 1);
  for (int i = 0; i < 3; i++)
    CU_ASSERT(((double *)mproc_shared_ptr(raw))[i] == 1.0);
  mproc_shared_free(a);
  mproc_shared_free(raw);
}

static void test_value_counter_under_lock(void)
{
  enum { P = 4, N = 500 };
  mproc_shared_t *v = NULL;
  mproc_process_t *p[P];

  CU_ASSERT_EQUAL_FATAL(mproc_shared_value_create(&v, MPROC_C_INT, 1), 0);
  for (int i = 0; i < P; i++)
    p[i] = mproc_test_start(v_count, "oi", v, N);
  for (int i = 0; i < P; i++)
    EXPECT_EXIT(mproc_test_finish(p[i]), 0);
  CU_ASSERT_EQUAL(*(int *)mproc_shared_ptr(v), P * N);
  mproc_shared_free(v);
}

static void test_shm_errors(void)
{
  mproc_shm_t *m = NULL, *m2 = NULL;
  char name[64];

  unique_name(name, sizeof name, "err");
  CU_ASSERT_EQUAL(mproc_shm_open(&m, name, 1, 0), MPROC_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(mproc_last_error(), "'size' must be"));
  CU_ASSERT_EQUAL(mproc_shm_open(&m, NULL, 0, 0), MPROC_EINVAL);
  CU_ASSERT_EQUAL(mproc_shm_open(&m, "bad/name", 1, 10), MPROC_EINVAL);
  CU_ASSERT_EQUAL(mproc_shm_open(&m, name, 0, 0), MPROC_ENOTFOUND);
  CU_ASSERT_EQUAL_FATAL(mproc_shm_open(&m, name, 1, 100), 0);
  CU_ASSERT_EQUAL(mproc_shm_open(&m2, name, 1, 100), MPROC_EEXIST);
  CU_ASSERT_STRING_EQUAL(mproc_shm_name(m), name);
  CU_ASSERT_EQUAL(mproc_shm_size(m), 100);
  CU_ASSERT_EQUAL(mproc_shm_unlink(m), 0);
  CU_ASSERT_EQUAL(mproc_shm_unlink(m), MPROC_ENOTFOUND);
  /* Unlinked: no new attach, but ours still works. */
  CU_ASSERT_EQUAL(mproc_shm_open(&m2, name, 0, 0), MPROC_ENOTFOUND);
  memset(mproc_shm_buf(m), 7, 100);
  CU_ASSERT_EQUAL(mproc_shm_close(m), 0);
  CU_ASSERT_EQUAL(mproc_shm_close(m), 0);
  CU_ASSERT_PTR_NULL(mproc_shm_buf(m));
  mproc_shm_free(m);
  /* A random name when none is given. */
  CU_ASSERT_EQUAL_FATAL(mproc_shm_open(&m, NULL, 1, 10), 0);
  CU_ASSERT(strncmp(mproc_shm_name(m), "psm_", 4) == 0);
  CU_ASSERT_EQUAL(mproc_shm_unlink(m), 0);
  mproc_shm_free(m);
}

static void test_shm_by_name_and_object(void)
{
  mproc_shm_t *m = NULL;
  char name[64];

  unique_name(name, sizeof name, "name");
  CU_ASSERT_EQUAL_FATAL(mproc_shm_open(&m, name, 1, 4096), 0);
  memcpy(mproc_shm_buf(m), "parent", 7);
  EXPECT_EXIT(mproc_test_run(m_attach, "s", name), 0);
  CU_ASSERT(memcmp(mproc_shm_buf(m), "child", 6) == 0);
  EXPECT_EXIT(mproc_test_run(m_object, "o", m), 0);
  CU_ASSERT(memcmp(mproc_shm_buf(m), "object", 7) == 0);
  CU_ASSERT_EQUAL(mproc_shm_unlink(m), 0);
  mproc_shm_free(m);
  CU_ASSERT(!block_exists(name));
}

/* The creator is killed before it unlinks: the block goes with it. */
static void test_shm_creator_crash_leaks_nothing(void)
{
  mproc_event_t *e = NULL;
  mproc_process_t *p;
  char name[64];

  unique_name(name, sizeof name, "crash");
  CU_ASSERT_EQUAL_FATAL(mproc_event_create(&e), 0);
  p = mproc_test_start(m_create_and_hang, "so", name, e);
  CU_ASSERT_EQUAL(mproc_event_wait(e, 60), 0);
  CU_ASSERT_EQUAL(mproc_process_kill(p), 0);
  EXPECT_EXIT(mproc_test_finish(p), -SIGKILL);
  CU_ASSERT(!block_exists(name));
  mproc_event_free(e);
}

/* Whether block @name is there, looking only (an attach would sweep
 * away a leaked block first). */
static int block_left(const char *name)
{
#ifdef _WIN32
  return block_exists(name);
#else
  char path[128];
  struct stat st;

  snprintf(path, sizeof path, "/dev/shm/mproc-%s", name);
  return stat(path, &st) == 0;
#endif
}

/* The creator is killed while a child it gave the block to runs on: the
 * block goes when that child ends (under fork too, where the child
 * never opened it itself but shares its parent's descriptor). */
static void test_shm_outlived_creator_leaks_nothing(void)
{
  mproc_conn_t *a = NULL, *b = NULL;
  mproc_args_t *msg = NULL;
  mproc_process_t *p;
  char name[64];
  double end;

  unique_name(name, sizeof name, "orphan");
  CU_ASSERT_EQUAL_FATAL(mproc_pipe(&a, &b, 1), 0);
  p = mproc_test_start(m_hand_on_and_hang, "so", name, b);
  mproc_conn_free(b);
  CU_ASSERT_EQUAL(mproc_conn_recv(a, &msg), 0);
  mproc_args_free(msg);
  CU_ASSERT(block_left(name));
  CU_ASSERT_EQUAL(mproc_process_kill(p), 0);
  EXPECT_EXIT(mproc_test_finish(p), -SIGKILL);
  /* Still in use by the grandchild. */
  CU_ASSERT(block_left(name));
  CU_ASSERT_EQUAL(mproc_conn_send(a, "s", "go"), 0);
  for (end = mproc_test_now() + 30; block_left(name) && mproc_test_now() < end;)
    mproc_test_sleep_ms(10);
  CU_ASSERT(!block_left(name));
  mproc_conn_free(a);
}

/* Unlinked and closed by its creator while another process uses it: the
 * other process keeps it; it goes when that one is done. */
static void test_shm_in_use_survives(void)
{
  mproc_event_t *attached = NULL, *go = NULL;
  mproc_process_t *p;
  mproc_shm_t *m = NULL;
  char name[64];

  unique_name(name, sizeof name, "inuse");
  CU_ASSERT_EQUAL_FATAL(mproc_event_create(&attached), 0);
  CU_ASSERT_EQUAL_FATAL(mproc_event_create(&go), 0);
  CU_ASSERT_EQUAL_FATAL(mproc_shm_open(&m, name, 1, 64), 0);
  memcpy(mproc_shm_buf(m), "before", 7);
  p = mproc_test_start(m_keep_using, "soo", name, attached, go);
  CU_ASSERT_EQUAL(mproc_event_wait(attached, 60), 0);
  CU_ASSERT_EQUAL(mproc_shm_unlink(m), 0);
  mproc_shm_free(m);
  CU_ASSERT_EQUAL(mproc_event_set(go), 0);
  EXPECT_EXIT(mproc_test_finish(p), 0);
  CU_ASSERT(!block_exists(name));
  mproc_event_free(attached);
  mproc_event_free(go);
}

/* Closed by every user without unlinking: removed, not leaked. */
static void test_shm_last_close_removes(void)
{
  mproc_shm_t *m = NULL;
  char name[64];

  unique_name(name, sizeof name, "close");
  CU_ASSERT_EQUAL_FATAL(mproc_shm_open(&m, name, 1, 64), 0);
  memcpy(mproc_shm_buf(m), "parent", 7);
  CU_ASSERT(block_exists(name));
  mproc_shm_free(m);
  CU_ASSERT(!block_exists(name));
}

void mproc_test_register_memory(void)
{
  static const mproc_test_case_t cases[] = {
      MPROC_TEST_CASE(test_value_every_type),
      MPROC_TEST_CASE(test_array_raw_and_locked),
      MPROC_TEST_CASE(test_value_counter_under_lock),
      MPROC_TEST_CASE(test_shm_errors),
      MPROC_TEST_CASE(test_shm_by_name_and_object),
      MPROC_TEST_CASE(test_shm_creator_crash_leaks_nothing),
      MPROC_TEST_CASE(test_shm_outlived_creator_leaks_nothing),
      MPROC_TEST_CASE(test_shm_in_use_survives),
      MPROC_TEST_CASE(test_shm_last_close_removes),
      {NULL, NULL}};

  (void)mproc_test_add_suite("memory", cases);
}
