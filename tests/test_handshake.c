/*
 * The exact status and message of every way CPython's handshake can fail,
 * on both halves (deliver_challenge, answer_challenge) and on the
 * listener's side (mproc__auth_server, which reports every failure as
 * MPROC_EAUTH). The peer is the other end of a duplex Pipe in this
 * process: what it "says" is written before the half under test runs,
 * so no child and no timing is involved (the silent peer excepted, which
 * waits out a short deadline).
 */
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "internal.h"
#include "platform.h"

#define KEY "mproc-handshake-test-key"

typedef int (*half_fn)(mproc_conn_t *, const void *, size_t, double);

/* A message as the peer would frame it (CPython's 4-byte length). */
static void peer_says(mproc_conn_t *peer, const void *msg, size_t len)
{
  CU_ASSERT_EQUAL(mproc_conn_send_bytes(peer, msg, len, 0, MPROC_ALL), 0);
}

/* Bytes as they are, no frame. */
static void peer_writes(mproc_conn_t *peer, const void *buf, size_t len)
{
  CU_ASSERT_EQUAL(mproc__plat_pipe_write(mproc_conn_fileno(peer), buf, len), 0);
}

static void expect(int rc, int want, const char *msg, const char *what)
{
  CU_ASSERT_EQUAL(rc, want);
  CU_ASSERT_STRING_EQUAL(mproc_last_error(), msg);
  if (rc != want || strcmp(mproc_last_error(), msg) != 0)
    printf("\n  %s: got %s \"%s\", want %s \"%s\"\n", what, mproc_strerror(rc),
           mproc_last_error(), mproc_strerror(want), msg);
}

/* A fresh connected pair: the end under test and the peer's. */
static void pair(mproc_conn_t **a, mproc_conn_t **peer)
{
  *a = *peer = NULL;
  CU_ASSERT_EQUAL_FATAL(mproc_pipe(a, peer, 1), 0);
}

/* ---- what the deliverer (the side that challenges) is answered ---- */

typedef struct answer_case {
  const char *what;
  const char *framed; /* the peer's answer, framed; NULL: see raw */
  size_t len;
  const void *raw; /* or bytes without a frame */
  size_t raw_len;
  int status;
  const char *msg;
} answer_case_t;

static const unsigned char negative[] = {0x80, 0, 0, 0};
static const unsigned char cut[] = {0, 0, 0, 100, 'a', 'b', 'c'};
static const char http[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
static char garbage[100], too_long[300], short_mac[8 + 31], zero_mac[8 + 32],
    sha1[6 + 20];

static void fill_cases(void)
{
  memset(garbage, 0xa5, sizeof garbage);
  memset(too_long, 'x', sizeof too_long);
  memset(short_mac, 0, sizeof short_mac);
  memcpy(short_mac, "{sha256}", 8);
  memset(zero_mac, 0, sizeof zero_mac);
  memcpy(zero_mac, "{sha256}", 8);
  memset(sha1, 0, sizeof sha1);
  memcpy(sha1, "{sha1}", 6);
}

#define UNSUPPORTED                                                            \
  "authentication: unsupported message length, missing digest prefix, or "     \
  "unsupported digest"

static const answer_case_t answers[] = {
    {"garbage", garbage, sizeof garbage, NULL, 0, MPROC_EAUTH, UNSUPPORTED},
    {"sha1", sha1, sizeof sha1, NULL, 0, MPROC_EAUTH, UNSUPPORTED},
    {"short digest", short_mac, sizeof short_mac, NULL, 0, MPROC_EAUTH,
     "authentication: expected sha256 of length 32, got 31"},
    {"wrong digest", zero_mac, sizeof zero_mac, NULL, 0, MPROC_EAUTH,
     "authentication: digest received was wrong"},
    {"too long", too_long, sizeof too_long, NULL, 0, MPROC_EAUTH,
     "authentication: the peer's message is longer than 256 bytes"},
    {"http", NULL, 0, http, sizeof http - 1, MPROC_EAUTH,
     "authentication: the peer's message is longer than 256 bytes"},
    {"negative length", NULL, 0, negative, sizeof negative, MPROC_EAUTH,
     "authentication: recv: a message had a negative length"},
    {NULL, NULL, 0, NULL, 0, 0, NULL}};

static void run_answer_case(const answer_case_t *t, half_fn fn, int status)
{
  mproc_conn_t *a, *peer;

  pair(&a, &peer);
  if (t->framed != NULL)
    peer_says(peer, t->framed, t->len);
  else
    peer_writes(peer, t->raw, t->raw_len);
  expect(fn(a, KEY, strlen(KEY), 10.0), status, t->msg, t->what);
  mproc_conn_free(a);
  mproc_conn_free(peer);
}

static int auth_server(mproc_conn_t *c, const void *key, size_t len,
                       double timeout)
{
  return mproc__auth_server(c, key, len, timeout, NULL);
}

static void test_deliver_messages(void)
{
  mproc_conn_t *a, *peer;

  fill_cases();
  for (const answer_case_t *t = answers; t->what != NULL; t++)
    run_answer_case(t, mproc_deliver_challenge, t->status);

  /* Silence: the deadline. */
  pair(&a, &peer);
  expect(mproc_deliver_challenge(a, KEY, strlen(KEY), 0.2), MPROC_ETIMEDOUT,
         "authentication: the peer did not answer in time", "silent");
  mproc_conn_free(a);
  mproc_conn_free(peer);
}

/* ---- what the answerer (the side challenged) is sent ---- */

static void test_answer_messages(void)
{
  char challenge[11 + 8 + 40], tiny[11 + 5], sha1_challenge[11 + 6 + 40];
  mproc_conn_t *a, *peer;

  memcpy(challenge, "#CHALLENGE#{sha256}", 19);
  memset(challenge + 19, 7, 40);
  memcpy(tiny, "#CHALLENGE#abcde", 16);
  memcpy(sha1_challenge, "#CHALLENGE#{sha1}", 17);
  memset(sha1_challenge + 17, 7, 40);

  pair(&a, &peer);
  peer_says(peer, "hello", 5);
  expect(mproc_answer_challenge(a, KEY, strlen(KEY), 10.0), MPROC_EAUTH,
         "authentication: protocol error, expected a challenge", "hello");
  mproc_conn_free(a);
  mproc_conn_free(peer);

  pair(&a, &peer);
  peer_says(peer, tiny, sizeof tiny);
  expect(mproc_answer_challenge(a, KEY, strlen(KEY), 10.0), MPROC_EAUTH,
         "authentication: challenge too short: 5 bytes", "tiny");
  mproc_conn_free(a);
  mproc_conn_free(peer);

  pair(&a, &peer);
  peer_says(peer, sha1_challenge, sizeof sha1_challenge);
  expect(mproc_answer_challenge(a, KEY, strlen(KEY), 10.0), MPROC_EAUTH,
         UNSUPPORTED, "sha1 challenge");
  mproc_conn_free(a);
  mproc_conn_free(peer);

  /* A good challenge, then the peer says our digest was wrong. */
  pair(&a, &peer);
  peer_says(peer, challenge, sizeof challenge);
  peer_says(peer, "#FAILURE#", 9);
  expect(mproc_answer_challenge(a, KEY, strlen(KEY), 10.0), MPROC_EAUTH,
         "authentication: digest sent was rejected", "rejected");
  mproc_conn_free(a);
  mproc_conn_free(peer);

  /* A message cut short by the peer's hang-up. */
  pair(&a, &peer);
  peer_writes(peer, cut, sizeof cut);
  CU_ASSERT_EQUAL(mproc_conn_close(peer), 0);
  expect(mproc_answer_challenge(a, KEY, strlen(KEY), 10.0), MPROC_EAUTH,
         "authentication: recv: the stream ended in the middle of a message",
         "cut");
  mproc_conn_free(a);
  mproc_conn_free(peer);

  /* Hung up before challenging: CPython's EOFError. */
  pair(&a, &peer);
  CU_ASSERT_EQUAL(mproc_conn_close(peer), 0);
  expect(mproc_answer_challenge(a, KEY, strlen(KEY), 10.0), MPROC_EEOF,
         "authentication: the peer closed the connection", "hang-up");
  mproc_conn_free(a);
  mproc_conn_free(peer);

  pair(&a, &peer);
  expect(mproc_answer_challenge(a, KEY, strlen(KEY), 0.2), MPROC_ETIMEDOUT,
         "authentication: the peer did not answer in time", "silent");
  mproc_conn_free(a);
  mproc_conn_free(peer);
}

/* ---- the listener's side: every failure is MPROC_EAUTH, same words ---- */

/* A write to a peer that hung up, in the OS call's own words. */
#ifdef _WIN32
#define HUNG_UP "authentication: WriteFile failed: "
#else
#define HUNG_UP "authentication: write failed: "
#endif

static void test_server_messages(void)
{
  mproc_conn_t *a, *peer;

  fill_cases();
  for (const answer_case_t *t = answers; t->what != NULL; t++)
    run_answer_case(t, auth_server, MPROC_EAUTH);

  pair(&a, &peer);
  expect(mproc__auth_server(a, KEY, strlen(KEY), 0.2, NULL), MPROC_EAUTH,
         "authentication: the peer did not answer in time", "silent");
  mproc_conn_free(a);
  mproc_conn_free(peer);

  /* Hung up before the challenge could be sent: the write's own words,
   * after the same prefix. */
  pair(&a, &peer);
  CU_ASSERT_EQUAL(mproc_conn_close(peer), 0);
  CU_ASSERT_EQUAL(mproc__auth_server(a, KEY, strlen(KEY), 10.0, NULL),
                  MPROC_EAUTH);
  CU_ASSERT_EQUAL(strncmp(mproc_last_error(), HUNG_UP, strlen(HUNG_UP)), 0);
  if (strncmp(mproc_last_error(), HUNG_UP, strlen(HUNG_UP)) != 0)
    printf("\n  hung up: \"%s\"\n", mproc_last_error());
  mproc_conn_free(a);
  mproc_conn_free(peer);
}

void mproc_test_register_handshake(void)
{
  static const mproc_test_case_t cases[] = {
      MPROC_TEST_CASE(test_deliver_messages),
      MPROC_TEST_CASE(test_answer_messages),
      MPROC_TEST_CASE(test_server_messages),
      {NULL, NULL}};

  (void)mproc_test_add_suite("handshake", cases);
}
