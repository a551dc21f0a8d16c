/*
 * Pipe, Connection and wait, with CPython's _TestConnection as the
 * reference: echo through a child, send_bytes offsets, recv_bytes_into,
 * maxlength, poll, EOF, large messages, messages never merged, and the
 * framing byte for byte.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "platform.h"

#define BADARGS 99

/* Echoes every message back until "STOP" (under fork the child holds a
 * copy of the parent's end too, so EOF would never come: CPython's test
 * stops its echo child with a message for the same reason). */
MPROC_TARGET(c_echo)
{
  mproc_conn_t *c;
  void *buf;
  size_t len;
  int rc;

  if (mproc_args_parse(args, "o", MPROC_KIND_CONNECTION, &c) != 0)
    return BADARGS;
  while ((rc = mproc_conn_recv_bytes(c, MPROC_ALL, &buf, &len)) == 0) {
    if (len == 4 && memcmp(buf, "STOP", 4) == 0) {
      mproc_free(buf);
      return 0;
    }
    rc = mproc_conn_send_bytes(c, buf, len, 0, MPROC_ALL);
    mproc_free(buf);
    if (rc != 0)
      return 1;
  }
  return 2;
}

/* Writes a header announcing 100 bytes, then 10 bytes, and exits. */
MPROC_TARGET(c_truncate)
{
  static const unsigned char raw[14] = {0,   0,   0,   100, 'a', 'b', 'c',
                                        'd', 'e', 'f', 'g', 'h', 'i', 'j'};
  mproc_conn_t *c;

  if (mproc_args_parse(args, "o", MPROC_KIND_CONNECTION, &c) != 0)
    return BADARGS;
  return mproc__plat_pipe_write(mproc_conn_fileno(c), raw, sizeof raw) == 0 ? 0
                                                                            : 1;
}

/* Sends @n values "i s" then closes by returning. */
MPROC_TARGET(c_sender)
{
  mproc_conn_t *c;
  int n;

  if (mproc_args_parse(args, "oi", MPROC_KIND_CONNECTION, &c, &n) != 0)
    return BADARGS;
  for (int i = 0; i < n; i++)
    if (mproc_conn_send(c, "is", i, "payload") != 0)
      return 1;
  return 0;
}

static void make_pipe(mproc_conn_t **a, mproc_conn_t **b, int duplex)
{
  *a = *b = NULL;
  CU_ASSERT_EQUAL_FATAL(mproc_pipe(a, b, duplex), 0);
}

static void test_echo_through_child(void)
{
  mproc_conn_t *a, *b;
  mproc_process_t *p;
  mproc_args_t *m = NULL;
  const char *s = NULL;
  int i = 0;
  void *buf = NULL;
  size_t len = 0;

  make_pipe(&a, &b, 1);
  p = mproc_test_start(c_echo, "o", b);
  mproc_conn_free(b); /* the child has its own end now */
  CU_ASSERT_EQUAL(mproc_conn_send(a, "is", 7, "seven"), 0);
  CU_ASSERT_EQUAL(mproc_conn_recv(a, &m), 0);
  CU_ASSERT(m != NULL && mproc_args_parse(m, "is", &i, &s) == 0 && i == 7 &&
            strcmp(s, "seven") == 0);
  mproc_args_free(m);
  CU_ASSERT_EQUAL(mproc_conn_send_bytes(a, "hello world", 11, 6, 5), 0);
  CU_ASSERT_EQUAL(mproc_conn_recv_bytes(a, MPROC_ALL, &buf, &len), 0);
  CU_ASSERT(len == 5 && buf != NULL && memcmp(buf, "world", 5) == 0);
  mproc_free(buf);
  /* An empty message is a message. */
  CU_ASSERT_EQUAL(mproc_conn_send_bytes(a, "", 0, 0, MPROC_ALL), 0);
  CU_ASSERT_EQUAL(mproc_conn_recv_bytes(a, MPROC_ALL, &buf, &len), 0);
  CU_ASSERT_EQUAL(len, 0);
  mproc_free(buf);
  CU_ASSERT_EQUAL(mproc_conn_send_bytes(a, "STOP", 4, 0, MPROC_ALL), 0);
  EXPECT_EXIT(mproc_test_finish(p), 0);
  CU_ASSERT_EQUAL(mproc_conn_close(a), 0);
  mproc_conn_free(a);
}

static void test_send_bytes_errors(void)
{
  mproc_conn_t *r, *w;
  void *buf;
  size_t len;

  make_pipe(&r, &w, 0);
  CU_ASSERT_EQUAL(mproc_conn_send_bytes(w, "abc", 3, 4, MPROC_ALL),
                  MPROC_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(mproc_last_error(), "buffer length < offset"));
  CU_ASSERT_EQUAL(mproc_conn_send_bytes(w, "abc", 3, 1, 3), MPROC_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(mproc_last_error(), "offset + size"));
  CU_ASSERT_EQUAL(mproc_conn_send(r, "i", 1), MPROC_EPERM);
  CU_ASSERT_EQUAL(mproc_conn_recv_bytes(w, MPROC_ALL, &buf, &len), MPROC_EPERM);
  CU_ASSERT_EQUAL(mproc_conn_readable(r), 1);
  CU_ASSERT_EQUAL(mproc_conn_writable(r), 0);
  mproc_conn_free(r);
  mproc_conn_free(w);
}

/* The bytes on the wire are CPython's framing. */
static void test_wire_format(void)
{
  mproc_conn_t *r, *w;
  unsigned char raw[16];
  size_t got = 0, n = 0;

  make_pipe(&r, &w, 0);
  CU_ASSERT_EQUAL(mproc_conn_send_bytes(w, "abc", 3, 0, MPROC_ALL), 0);
  while (n < 7 &&
         mproc__plat_pipe_read(mproc_conn_fileno(r), raw + n, 7 - n, &got) ==
             0 &&
         got > 0)
    n += got;
  CU_ASSERT_EQUAL(n, 7);
  CU_ASSERT(memcmp(raw, "\0\0\0\3abc", 7) == 0);
  mproc_conn_free(r);
  mproc_conn_free(w);
}

static void test_maxlength_and_into(void)
{
  mproc_conn_t *a, *b;
  char small[4], big[32];
  void *buf;
  size_t len = 0;

  make_pipe(&a, &b, 1);
  CU_ASSERT_EQUAL(mproc_conn_send_bytes(b, "0123456789", 10, 0, MPROC_ALL), 0);
  CU_ASSERT_EQUAL(mproc_conn_recv_bytes_into(a, small, sizeof small, 0, &len),
                  MPROC_ETOOSHORT);
  CU_ASSERT_EQUAL(len, 10);
  /* The whole message is still there. */
  CU_ASSERT_EQUAL(mproc_conn_poll(a, 0), 1);
  CU_ASSERT_EQUAL(mproc_conn_recv_bytes_into(a, big, sizeof big, 5, &len), 0);
  CU_ASSERT(len == 10 && memcmp(big + 5, "0123456789", 10) == 0);
  CU_ASSERT_EQUAL(mproc_conn_recv_bytes_into(a, big, 4, 5, &len), MPROC_EINVAL);
  /* Longer than maxlength: an error, and the connection is unusable. */
  CU_ASSERT_EQUAL(mproc_conn_send_bytes(b, "0123456789", 10, 0, MPROC_ALL), 0);
  CU_ASSERT_EQUAL(mproc_conn_recv_bytes(a, 5, &buf, &len), MPROC_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(mproc_last_error(), "bad message length"));
  CU_ASSERT_EQUAL(mproc_conn_recv_bytes(a, MPROC_ALL, &buf, &len),
                  MPROC_ECODEC);
  mproc_conn_free(a);
  mproc_conn_free(b);
}

static void test_poll_and_eof(void)
{
  mproc_conn_t *a, *b;
  mproc_args_t *m = NULL;
  double t0;

  make_pipe(&a, &b, 1);
  CU_ASSERT_EQUAL(mproc_conn_poll(a, 0), 0);
  t0 = mproc_test_now();
  CU_ASSERT_EQUAL(mproc_conn_poll(a, 0.2), 0);
  CU_ASSERT(mproc_test_now() - t0 >= 0.19);
  CU_ASSERT_EQUAL(mproc_conn_send(b, "i", 1), 0);
  CU_ASSERT_EQUAL(mproc_conn_poll(a, 0), 1);
  CU_ASSERT_EQUAL(mproc_conn_poll(a, -1), 1); /* negative: 0 */
  CU_ASSERT_EQUAL(mproc_conn_recv(a, &m), 0);
  mproc_args_free(m);
  CU_ASSERT_EQUAL(mproc_conn_poll(a, 0), 0);
  CU_ASSERT_EQUAL(mproc_conn_close(b), 0);
  CU_ASSERT_EQUAL(mproc_conn_send(b, "i", 1), MPROC_ECLOSED);
  CU_ASSERT_EQUAL(mproc_conn_poll(a, 0), 1); /* EOF is readable */
  CU_ASSERT_EQUAL(mproc_conn_recv(a, &m), MPROC_EEOF);
  CU_ASSERT_EQUAL(mproc_conn_recv(a, &m), MPROC_EEOF);
  mproc_conn_free(a);
  mproc_conn_free(b);
}

/* A peer that dies in the middle of a message. */
static void test_truncated_message(void)
{
  mproc_conn_t *r, *w;
  void *buf;
  size_t len;

  make_pipe(&r, &w, 0);
  EXPECT_EXIT(mproc_test_run(c_truncate, "o", w), 0);
  mproc_conn_free(w);
  CU_ASSERT_EQUAL(mproc_conn_recv_bytes(r, MPROC_ALL, &buf, &len),
                  MPROC_ECODEC);
  CU_ASSERT_PTR_NOT_NULL(strstr(mproc_last_error(), "middle of a message"));
  CU_ASSERT_EQUAL(mproc_conn_recv_bytes(r, MPROC_ALL, &buf, &len),
                  MPROC_ECODEC);
  mproc_conn_free(r);
}

static void test_messages_not_merged(void)
{
  enum { N = 500 };
  mproc_conn_t *r, *w;
  mproc_process_t *p;
  mproc_args_t *m;
  const char *s;
  int i, ok = 1;

  make_pipe(&r, &w, 0);
  p = mproc_test_start(c_sender, "oi", w, N);
  mproc_conn_free(w);
  for (int k = 0; k < N && ok; k++) {
    ok = mproc_conn_recv(r, &m) == 0;
    ok = ok && mproc_args_count(m) == 2 &&
         mproc_args_parse(m, "is", &i, &s) == 0 && i == k &&
         strcmp(s, "payload") == 0;
    if (m != NULL)
      mproc_args_free(m);
  }
  CU_ASSERT(ok);
  EXPECT_EXIT(mproc_test_finish(p), 0);
  CU_ASSERT_EQUAL(mproc_conn_recv(r, &m), MPROC_EEOF);
  mproc_conn_free(r);
}

static void test_16mib_message(void)
{
  const size_t len = 16u << 20;
  mproc_conn_t *a, *b;
  mproc_process_t *p;
  unsigned char *buf = malloc(len);
  void *back = NULL;
  size_t n = 0;

  CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
  for (size_t i = 0; i < len; i++)
    buf[i] = (unsigned char)(i * 13);
  make_pipe(&a, &b, 1);
  p = mproc_test_start(c_echo, "o", b);
  mproc_conn_free(b);
  CU_ASSERT_EQUAL(mproc_conn_send_bytes(a, buf, len, 0, MPROC_ALL), 0);
  CU_ASSERT_EQUAL(mproc_conn_recv_bytes(a, MPROC_ALL, &back, &n), 0);
  CU_ASSERT(n == len && back != NULL && memcmp(back, buf, len) == 0);
  mproc_free(back);
  CU_ASSERT_EQUAL(mproc_conn_send_bytes(a, "STOP", 4, 0, MPROC_ALL), 0);
  EXPECT_EXIT(mproc_test_finish(p), 0);
  mproc_conn_free(a);
  free(buf);
}

static void test_wait(void)
{
  mproc_conn_t *a, *b, *c, *d;
  mproc_process_t *p;
  mproc_waitable_t w[3];
  int ready[3];
  double t0;

  make_pipe(&a, &b, 1);
  make_pipe(&c, &d, 0);
  p = mproc_test_start(c_sender, "oi", d, 0); /* ends at once */
  w[0] = MPROC_WAITABLE_CONN(a);
  w[1] = MPROC_WAITABLE_CONN(c);
  w[2] = MPROC_WAITABLE_PROCESS(p);
  /* Nothing ready until the child ends... but d is still ours: c only
   * sees EOF once we close it too. */
  CU_ASSERT_EQUAL(mproc_process_join(p, 60), 0);
  CU_ASSERT_EQUAL(mproc_wait(w, 3, 0, ready), 1);
  CU_ASSERT(ready[0] == 0 && ready[1] == 0 && ready[2] == 1);
  CU_ASSERT_EQUAL(mproc_conn_send(b, "i", 5), 0);
  CU_ASSERT_EQUAL(mproc_wait(w, 2, 10, ready), 1);
  CU_ASSERT(ready[0] == 1 && ready[1] == 0);
  mproc_conn_free(d);
  CU_ASSERT_EQUAL(mproc_wait(w + 1, 1, 10, ready), 1);
  t0 = mproc_test_now();
  w[0] = MPROC_WAITABLE_CONN(b);
  CU_ASSERT_EQUAL(mproc_wait(w, 1, 0.2, ready), 0);
  CU_ASSERT(mproc_test_now() - t0 >= 0.19);
  EXPECT_EXIT(mproc_test_finish(p), 0);
  mproc_conn_free(a);
  mproc_conn_free(b);
  mproc_conn_free(c);
}

void mproc_test_register_conns(void)
{
  static const mproc_test_case_t cases[] = {
      MPROC_TEST_CASE(test_echo_through_child),
      MPROC_TEST_CASE(test_send_bytes_errors),
      MPROC_TEST_CASE(test_wire_format),
      MPROC_TEST_CASE(test_maxlength_and_into),
      MPROC_TEST_CASE(test_poll_and_eof),
      MPROC_TEST_CASE(test_truncated_message),
      MPROC_TEST_CASE(test_messages_not_merged),
      MPROC_TEST_CASE(test_16mib_message),
      MPROC_TEST_CASE(test_wait),
      {NULL, NULL}};

  (void)mproc_test_add_suite("conns", cases);
}
