/*
 * Listener and Client (multiprocessing.connection), with CPython's
 * semantics as the reference: round trips through a child in every
 * family the platform has, with and without an authkey, accept timeouts,
 * addresses in use, closed listeners, nothing listening, wrong keys on
 * both sides, raw peers that must be dropped (garbage, huge frames,
 * silence) without hanging the listener, private addresses, families
 * deduced from addresses, the handshake on a plain Pipe, and, where
 * python3 exists, interoperability with CPython's own Listener and Client
 * (tests/python/).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"
#include "platform.h"

#ifndef MPROC_TEST_PYTHON
#define MPROC_TEST_PYTHON ""
#endif
#ifndef MPROC_TEST_PYTHON_DIR
#define MPROC_TEST_PYTHON_DIR ""
#endif

#define BADARGS 99
#define KEY "mproc-listener-test-key"
#define WRONG_KEY "not-the-listener-key"
/* Bound for waits expected to succeed (a peer starting, a handshake). */
#define LIMIT 30.0

/* A status as a child's exit code: 0, or 130 + |status| (131..160, clear
 * of the library's own 120 and 121). */
static int code_of(int status)
{
  return status == 0 ? 0 : 130 - status;
}

/* ---- conversations ---- */

/* The answering side: one bytes message comes back with "echo:" before
 * it, then one value message [i, s] comes back as [i + 1, s]. */
static int serve_echo(mproc_conn_t *c)
{
  char out[300];
  mproc_args_t *m = NULL;
  void *buf = NULL;
  size_t len = 0;
  const char *s;
  int i, rc;

  if ((rc = mproc_conn_recv_bytes(c, 256, &buf, &len)) != 0)
    return rc;
  memcpy(out, "echo:", 5);
  memcpy(out + 5, buf, len);
  mproc_free(buf);
  if ((rc = mproc_conn_send_bytes(c, out, len + 5, 0, MPROC_ALL)) != 0 ||
      (rc = mproc_conn_recv(c, &m)) != 0)
    return rc;
  rc = mproc_args_parse(m, "is", &i, &s);
  if (rc == 0)
    rc = mproc_conn_send(c, "is", i + 1, s);
  mproc_args_free(m);
  return rc;
}

/* The asking side: 1 when the peer answers as serve_echo() does. */
static int check_echo(mproc_conn_t *c)
{
  mproc_args_t *m = NULL;
  void *buf = NULL;
  size_t len = 0;
  const char *s = NULL;
  int i = 0, ok;

  ok = mproc_conn_send_bytes(c, "ping", 4, 0, MPROC_ALL) == 0 &&
       mproc_conn_recv_bytes(c, MPROC_ALL, &buf, &len) == 0 && len == 9 &&
       memcmp(buf, "echo:ping", 9) == 0;
  mproc_free(buf);
  ok = ok && mproc_conn_send(c, "is", 41, "forty-one") == 0 &&
       mproc_conn_recv(c, &m) == 0 && mproc_args_parse(m, "is", &i, &s) == 0 &&
       i == 42 && strcmp(s, "forty-one") == 0;
  mproc_args_free(m);
  return ok;
}

/* ---- helper children ---- */

/* Connects to @address (family @family, NULL: deduced) with the key when
 * @haskey, then answers as serve_echo(). Exit code: code_of(status). */
MPROC_TARGET(l_client)
{
  const char *address, *family;
  const void *key;
  size_t keylen;
  int haskey, rc;
  mproc_conn_t *c = NULL;

  if (mproc_args_parse(args, "szy#p", &address, &family, &key, &keylen,
                       &haskey) != 0)
    return BADARGS;
  rc = mproc_client(&c, address, family, haskey ? key : NULL,
                    haskey ? keylen : 0, LIMIT);
  if (rc == 0)
    rc = serve_echo(c);
  mproc_conn_free(c);
  return code_of(rc);
}

/* Listens on a private address of @family with @key, sends the address
 * through @report, accepts one peer and answers it as serve_echo(). */
MPROC_TARGET(l_server)
{
  mproc_conn_t *report, *c = NULL;
  mproc_listener_t *l = NULL;
  const char *family;
  const void *key;
  size_t keylen;
  int rc;

  if (mproc_args_parse(args, "osy#", MPROC_KIND_CONNECTION, &report, &family,
                       &key, &keylen) != 0)
    return BADARGS;
  rc = mproc_listener_create(&l, NULL, family, 1, key, keylen);
  if (rc == 0)
    rc = mproc_conn_send(report, "s", mproc_listener_address(l));
  if (rc == 0)
    rc = mproc_listener_accept(l, &c, LIMIT);
  if (rc == 0)
    rc = serve_echo(c);
  mproc_conn_free(c);
  mproc_listener_free(l);
  return code_of(rc);
}

/* What a raw peer (no key) does once connected. */
enum raw_mode {
  RAW_GARBAGE, /* a well-framed message that is no answer */
  RAW_HUGE32,  /* a frame header announcing 2 GiB - 1 bytes */
  RAW_HUGE64,  /* CPython's long header (-1) announcing 1 TiB */
  RAW_TEXT,    /* unframed text, as a stray HTTP client would send */
  RAW_SILENT,  /* nothing at all */
  RAW_HANGUP,  /* hangs up at once */
  RAW_MODES
};

static const char *const raw_names[RAW_MODES] = {"garbage", "huge32", "huge64",
                                                 "text",    "silent", "hangup"};

static int raw_write(mproc_conn_t *c, const void *buf, size_t len)
{
  return mproc__plat_pipe_write(mproc_conn_fileno(c), buf, len);
}

/* Waits until the listener drops the connection: 0 at EOF (or a reset),
 * 4 when it was kept open. A "#FAILURE#" may come first. */
static int await_drop(mproc_conn_t *c)
{
  void *buf;
  size_t len;

  for (int i = 0; i < 4; i++) {
    if (mproc_conn_poll(c, LIMIT) != 1)
      return 4;
    if (mproc_conn_recv_bytes(c, 256, &buf, &len) != 0)
      return 0;
    mproc_free(buf);
  }
  return 4;
}

/* Connects without a key, tells @ctl it is connected, reads the
 * challenge (except when hanging up), misbehaves as @mode says and waits
 * to be dropped. Exit: 0; code_of() a failed connect; 3 when the first
 * message was no challenge; 4 when never dropped; 5 when a write failed. */
MPROC_TARGET(l_raw_peer)
{
  static const unsigned char huge32[] = {0x7f, 0xff, 0xff, 0xff, 'x', 'y'};
  static const unsigned char huge64[] = {0xff, 0xff, 0xff, 0xff, 0, 0,
                                         1,    0,    0,    0,    0, 0};
  static const char text[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  unsigned char garbage[100];
  const char *address, *family;
  mproc_conn_t *ctl, *c = NULL;
  void *buf = NULL;
  size_t len = 0;
  int mode, rc, code = 0;

  if (mproc_args_parse(args, "szio", &address, &family, &mode,
                       MPROC_KIND_CONNECTION, &ctl) != 0)
    return BADARGS;
  if ((rc = mproc_client(&c, address, family, NULL, 0, LIMIT)) != 0)
    return code_of(rc);
  if (mproc_conn_send(ctl, "i", 1) != 0) {
    mproc_conn_free(c);
    return 6;
  }
  if (mode == RAW_HANGUP) {
    mproc_conn_free(c);
    return 0;
  }
  if (mproc_conn_recv_bytes(c, 256, &buf, &len) != 0 || len < 11 ||
      memcmp(buf, "#CHALLENGE#", 11) != 0)
    code = 3;
  mproc_free(buf);
  memset(garbage, 0xa5, sizeof garbage);
  if (code == 0) {
    switch (mode) {
    case RAW_GARBAGE:
      rc = mproc_conn_send_bytes(c, garbage, sizeof garbage, 0, MPROC_ALL);
      break;
    case RAW_HUGE32:
      rc = raw_write(c, huge32, sizeof huge32);
      break;
    case RAW_HUGE64:
      rc = raw_write(c, huge64, sizeof huge64);
      break;
    case RAW_TEXT:
      rc = raw_write(c, text, strlen(text));
      break;
    default:
      rc = 0;
      break;
    }
    code = rc != 0 ? 5 : await_drop(c);
  }
  mproc_conn_free(c);
  return code;
}

/* The client's half of the handshake on a Pipe end: answer, then
 * deliver, with @key. Exit: code_of(status). */
MPROC_TARGET(l_challenged)
{
  mproc_conn_t *c;
  const void *key;
  size_t keylen;
  int rc;

  if (mproc_args_parse(args, "oy#", MPROC_KIND_CONNECTION, &c, &key, &keylen) !=
      0)
    return BADARGS;
  rc = mproc_answer_challenge(c, key, keylen, LIMIT);
  if (rc == 0)
    rc = mproc_deliver_challenge(c, key, keylen, LIMIT);
  if (rc == 0)
    rc = serve_echo(c);
  return code_of(rc);
}

/* Opens @idle connections that never say a word and @trickle that send
 * a byte every 20 ms (a frame announcing 200 bytes, then its bytes), to
 * @address; says how many it opened on @ctl, then trickles until @ctl
 * has something to say. Exit 0. */
MPROC_TARGET(l_idle_peers)
{
  static const unsigned char header[4] = {0, 0, 0, 200};
  const char *address, *family;
  mproc_conn_t *ctl, **c;
  int idle, trickle, made = 0;

  if (mproc_args_parse(args, "sziio", &address, &family, &idle, &trickle,
                       MPROC_KIND_CONNECTION, &ctl) != 0 ||
      (c = calloc((size_t)(idle + trickle), sizeof *c)) == NULL)
    return BADARGS;
  for (int i = 0; i < idle + trickle; i++)
    (void)mproc_client(&c[i], address, family, NULL, 0, LIMIT);
  /* Ready once the listener has taken every one of them on: each has its
   * challenge (a listener that authenticated one peer at a time would
   * never send the second its own). */
  for (double end = mproc_test_now() + LIMIT, left; made < idle + trickle;
       made++) {
    left = end - mproc_test_now();
    if (c[made] == NULL || mproc_conn_poll(c[made], left > 0 ? left : 0) != 1)
      break;
  }
  (void)mproc_conn_send(ctl, "i", made);
  for (int round = 0; mproc_conn_poll(ctl, 0.02) == 0; round++)
    for (int i = idle; i < idle + trickle; i++)
      if (c[i] != NULL)
        (void)raw_write(c[i], round < 4 ? (const char *)header + round : "x",
                        1);
  for (int i = 0; i < idle + trickle; i++)
    mproc_conn_free(c[i]);
  free(c);
  return 0;
}

/* For each "go" on @ctl, connects with @key and answers as serve_echo();
 * ends at "stop". Exit: code_of(the first failing status). */
MPROC_TARGET(l_timed_client)
{
  const char *address, *family, *word;
  mproc_conn_t *ctl, *c;
  mproc_args_t *m = NULL;
  int rc = 0;

  if (mproc_args_parse(args, "szo", &address, &family, MPROC_KIND_CONNECTION,
                       &ctl) != 0)
    return BADARGS;
  while (rc == 0 && mproc_conn_recv(ctl, &m) == 0 &&
         mproc_args_parse(m, "s", &word) == 0 && strcmp(word, "go") == 0) {
    c = NULL;
    rc = mproc_client(&c, address, family, KEY, strlen(KEY), LIMIT);
    if (rc == 0)
      rc = serve_echo(c);
    mproc_conn_free(c);
    mproc_args_free(m);
    m = NULL;
  }
  mproc_args_free(m);
  return code_of(rc);
}

/* Listens (a private address of the default family, with a key) and
 * starts a manager; sends both addresses on @report; waits to be
 * killed. */
MPROC_TARGET(l_owner)
{
  mproc_listener_t *l = NULL;
  mproc_manager_t *m = NULL;
  mproc_conn_t *report;

  if (mproc_args_parse(args, "o", MPROC_KIND_CONNECTION, &report) != 0)
    return BADARGS;
  if (mproc_listener_create(&l, NULL, NULL, 1, KEY, strlen(KEY)) != 0 ||
      mproc_manager(&m) != 0 ||
      mproc_conn_send(report, "ss", mproc_listener_address(l),
                      mproc_manager_address(m)) != 0)
    return 1;
  mproc_test_block_forever();
  return 0;
}

/* Runs python3 with the script and arguments it is given (at most six
 * strings); its exit code, 200 + N when python was killed by signal N,
 * 199 when it could not run. */
MPROC_TARGET(l_python)
{
  const char *argv[8] = {MPROC_TEST_PYTHON};
  char *copies[6] = {NULL};
  size_t n = mproc_args_count(args);
  int code = 199;

  if (n < 1 || n > 6)
    return BADARGS;
  for (size_t i = 0; i < n; i++) {
    const void *data;
    size_t len;
    if (mproc_value_bytes(mproc_args_at(args, i), &data, &len) != 0 ||
        (copies[i] = calloc(1, len + 1)) == NULL)
      goto out;
    memcpy(copies[i], data, len);
    argv[i + 1] = copies[i];
  }
  if (mproc_test_run_program(MPROC_TEST_PYTHON, argv, &code) != 0)
    code = 199;
  else if (code < 0)
    code = 200 - code;
out:
  for (size_t i = 0; i < n; i++)
    free(copies[i]);
  return code;
}

/* ---- helpers ---- */

/* Run @body once per family of the platform, naming the family when it
 * failed there. */
static void for_each_family(void (*body)(const char *family))
{
  for (const char *const *f = mproc_all_families(); *f != NULL; f++) {
    unsigned before = CU_get_number_of_failures();
    body(*f);
    if (CU_get_number_of_failures() > before)
      printf("\n  (the failures above are with family %s)\n", *f);
  }
}

/* A listener on a private address of @family; NULL @key: none. */
static mproc_listener_t *listen_on(const char *family, const char *key)
{
  mproc_listener_t *l = NULL;
  int rc = mproc_listener_create(&l, NULL, family, 4, key,
                                 key != NULL ? strlen(key) : 0);

  CU_ASSERT_EQUAL(rc, 0);
  if (rc != 0)
    printf("\n  listener (%s): %s\n", family, mproc_last_error());
  return l;
}

/* Accept one peer started as @p and check that it answers as
 * serve_echo(); the peer is finished here. */
static void accept_and_check(mproc_listener_t *l, mproc_process_t *p)
{
  mproc_conn_t *c = NULL;

  CU_ASSERT_EQUAL(mproc_listener_accept(l, &c, LIMIT), 0);
  if (c != NULL)
    CU_ASSERT(check_echo(c));
  mproc_conn_free(c);
  EXPECT_EXIT(mproc_test_finish(p), 0);
}

static int path_exists(const char *path)
{
  struct stat st;
  return stat(path, &st) == 0;
}

/* ---- round trips ---- */

static void round_trip_with_key(const char *family)
{
  mproc_listener_t *l = listen_on(family, KEY);
  mproc_process_t *p;

  if (l == NULL)
    return;
  CU_ASSERT_STRING_EQUAL(mproc_listener_family(l), family);
  p = mproc_test_start(l_client, "szy#p", mproc_listener_address(l), family,
                       KEY, strlen(KEY), 1);
  accept_and_check(l, p);
  mproc_listener_free(l);
}

static void test_round_trip_with_key(void)
{
  for_each_family(round_trip_with_key);
}

/* Without a key, and with the client deducing the family from the
 * address. */
static void round_trip_without_key(const char *family)
{
  mproc_listener_t *l = listen_on(family, NULL);
  mproc_process_t *p;

  if (l == NULL)
    return;
  p = mproc_test_start(l_client, "szy#p", mproc_listener_address(l), NULL, "",
                       (size_t)0, 0);
  accept_and_check(l, p);
  mproc_listener_free(l);
}

static void test_round_trip_without_key(void)
{
  for_each_family(round_trip_without_key);
}

/* An empty key is a key (CPython: authkey=b''), not "no key": a client
 * without one cannot pass. */
static void empty_key(const char *family)
{
  mproc_listener_t *l = NULL;
  mproc_process_t *p;

  CU_ASSERT_EQUAL_FATAL(mproc_listener_create(&l, NULL, family, 1, "", 0), 0);
  p = mproc_test_start(l_client, "szy#p", mproc_listener_address(l), family, "",
                       (size_t)0, 1);
  accept_and_check(l, p);
  mproc_listener_free(l);
}

static void test_empty_key(void)
{
  for_each_family(empty_key);
}

/* The child listens and sends its address back through a Pipe. */
static void child_listens(const char *family)
{
  mproc_conn_t *a = NULL, *b = NULL, *c = NULL;
  mproc_process_t *p;
  mproc_args_t *m = NULL;
  const char *address = NULL;

  CU_ASSERT_EQUAL_FATAL(mproc_pipe(&a, &b, 1), 0);
  p = mproc_test_start(l_server, "osy#", b, family, KEY, strlen(KEY));
  mproc_conn_free(b);
  CU_ASSERT_EQUAL(mproc_conn_recv(a, &m), 0);
  CU_ASSERT(m != NULL && mproc_args_parse(m, "s", &address) == 0);
  if (address != NULL) {
    CU_ASSERT_EQUAL(mproc_client(&c, address, family, KEY, strlen(KEY), LIMIT),
                    0);
    if (c != NULL)
      CU_ASSERT(check_echo(c));
    mproc_conn_free(c);
  }
  mproc_args_free(m);
  EXPECT_EXIT(mproc_test_finish(p), 0);
  mproc_conn_free(a);
}

static void test_child_listens(void)
{
  for_each_family(child_listens);
}

/* ---- errors ---- */

static void accept_timeout(const char *family)
{
  mproc_listener_t *l = listen_on(family, KEY);
  mproc_conn_t *c = NULL;
  double t0, dt;

  if (l == NULL)
    return;
  t0 = mproc_test_now();
  CU_ASSERT_EQUAL(mproc_listener_accept(l, &c, 0.3), MPROC_ETIMEDOUT);
  dt = mproc_test_now() - t0;
  CU_ASSERT(dt >= 0.29 && dt < 3.0);
  CU_ASSERT_PTR_NULL(c);
  t0 = mproc_test_now();
  CU_ASSERT_EQUAL(mproc_listener_accept(l, &c, 0), MPROC_ETIMEDOUT);
  CU_ASSERT(mproc_test_now() - t0 < 1.0);
  /* Still listening after the timeouts. */
  accept_and_check(l, mproc_test_start(l_client, "szy#p",
                                       mproc_listener_address(l), family, KEY,
                                       strlen(KEY), 1));
  mproc_listener_free(l);
}

static void test_accept_timeout(void)
{
  for_each_family(accept_timeout);
}

static void address_in_use(const char *family)
{
  mproc_listener_t *l = listen_on(family, NULL), *again = NULL;

  if (l == NULL)
    return;
  CU_ASSERT_EQUAL(mproc_listener_create(&again, mproc_listener_address(l),
                                        family, 1, NULL, 0),
                  MPROC_EADDRINUSE);
  CU_ASSERT_PTR_NULL(again);
  mproc_listener_free(again);
  mproc_listener_free(l);
}

static void test_address_in_use(void)
{
  for_each_family(address_in_use);
}

static void accept_after_close(const char *family)
{
  mproc_listener_t *l = listen_on(family, KEY);
  mproc_conn_t *c = NULL;
  char address[600];

  if (l == NULL)
    return;
  snprintf(address, sizeof address, "%s", mproc_listener_address(l));
  CU_ASSERT_EQUAL(mproc_listener_close(l), 0);
  CU_ASSERT_EQUAL(mproc_listener_close(l), 0); /* idempotent */
  CU_ASSERT_EQUAL(mproc_listener_accept(l, &c, 0), MPROC_ECLOSED);
  CU_ASSERT_EQUAL(mproc_listener_accept(l, &c, 1.0), MPROC_ECLOSED);
  CU_ASSERT_PTR_NULL(c);
  /* The address is still readable, and nothing listens there now. */
  CU_ASSERT_STRING_EQUAL(mproc_listener_address(l), address);
  CU_ASSERT_EQUAL(mproc_client(&c, address, family, KEY, strlen(KEY), 5.0),
                  MPROC_ENOTFOUND);
  CU_ASSERT_PTR_NULL(c);
  mproc_listener_free(l);
}

static void test_accept_after_close(void)
{
  for_each_family(accept_after_close);
}

static void test_client_to_nothing(void)
{
  mproc_conn_t *c = NULL;
  char path[512];
  double t0 = mproc_test_now();

  CU_ASSERT_EQUAL_FATAL(mproc_test_tmp_path(path, sizeof path), 0);
  if (MPROC_TEST_POSIX) {
    CU_ASSERT_EQUAL(mproc_client(&c, path, "AF_UNIX", NULL, 0, 5.0),
                    MPROC_ENOTFOUND);
    CU_ASSERT_EQUAL(mproc_client(&c, path, NULL, KEY, strlen(KEY), 5.0),
                    MPROC_ENOTFOUND);
  } else {
    CU_ASSERT_EQUAL(mproc_client(&c, "\\\\.\\pipe\\mproc-test-nobody-here",
                                 NULL, KEY, strlen(KEY), 5.0),
                    MPROC_ENOTFOUND);
  }
  /* A port freed just now: refused. */
  {
    mproc_listener_t *l = listen_on("AF_INET", NULL);
    char address[600];
    if (l != NULL) {
      snprintf(address, sizeof address, "%s", mproc_listener_address(l));
      mproc_listener_free(l);
      CU_ASSERT_EQUAL(mproc_client(&c, address, NULL, NULL, 0, 5.0),
                      MPROC_ENOTFOUND);
    }
  }
  CU_ASSERT_PTR_NULL(c);
  CU_ASSERT(mproc_test_now() - t0 < 5.0);
}

/* What accept() says when no peer passed and @dropped failed since one
 * was last accepted, the last with @why. The listener may tell a peer it
 * failed a moment before it counts it: that moment is waited for. */
static void expect_dropped(mproc_listener_t *l, int dropped, const char *why)
{
  double end = mproc_test_now() + LIMIT;
  mproc_conn_t *c = NULL;
  char want[400];
  int rc;

  snprintf(want, sizeof want,
           "no peer passed the handshake in time (%d failed it; the last: %s",
           dropped, why);
  while ((rc = mproc_listener_accept(l, &c, 0)) == MPROC_ETIMEDOUT &&
         strncmp(mproc_last_error(), want, strlen(want)) != 0 &&
         mproc_test_now() < end)
    mproc_test_sleep_ms(5);
  CU_ASSERT_EQUAL(rc, MPROC_ETIMEDOUT);
  CU_ASSERT_PTR_NULL(c);
  CU_ASSERT_EQUAL(strncmp(mproc_last_error(), want, strlen(want)), 0);
  if (strncmp(mproc_last_error(), want, strlen(want)) != 0)
    printf("\n  accept: \"%s\", want \"%s...\"\n", mproc_last_error(), want);
}

/* A wrong key fails on both sides: the client is told, the listener
 * drops it (accept() goes on waiting for a peer that passes, and says
 * why when it gives up); then it accepts a good client. */
static void wrong_key(const char *family)
{
  mproc_listener_t *l = listen_on(family, KEY);
  mproc_conn_t *c = NULL;
  mproc_process_t *p;

  if (l == NULL)
    return;
  /* The first accept starts the handshakes. */
  CU_ASSERT_EQUAL(mproc_listener_accept(l, &c, 0), MPROC_ETIMEDOUT);
  CU_ASSERT_STRING_EQUAL(mproc_last_error(), "no peer connected in time");
  p = mproc_test_start(l_client, "szy#p", mproc_listener_address(l), family,
                       WRONG_KEY, strlen(WRONG_KEY), 1);
  EXPECT_EXIT(mproc_test_finish(p), code_of(MPROC_EAUTH));
  /* A key that only starts like the right one is wrong too. */
  p = mproc_test_start(l_client, "szy#p", mproc_listener_address(l), family,
                       KEY, strlen(KEY) - 1, 1);
  EXPECT_EXIT(mproc_test_finish(p), code_of(MPROC_EAUTH));
  expect_dropped(l, 2, "authentication: digest received was wrong)");
  p = mproc_test_start(l_client, "szy#p", mproc_listener_address(l), family,
                       KEY, strlen(KEY), 1);
  accept_and_check(l, p);
  mproc_listener_free(l);
}

static void test_wrong_key(void)
{
  for_each_family(wrong_key);
}

/* Why the listener drops each raw peer (the hang-up: its first write
 * fails, or its first read ends, whichever comes first). */
static const char *const raw_reasons[RAW_MODES] = {
    "authentication: unsupported message length, missing digest prefix, or "
    "unsupported digest)",
    "authentication: the peer's message is longer than 256 bytes)",
    "authentication: the peer's message is longer than 256 bytes)",
    "authentication: the peer's message is longer than 256 bytes)",
    "authentication: the peer did not answer in time)",
    "authentication: "};

/* One raw peer per misbehaviour; each is dropped well before the
 * handshake's timeout (the silent one at the timeout), with its reason,
 * and the listener still serves a good client afterwards. */
static void raw_peers(const char *family)
{
  mproc_listener_t *l = listen_on(family, KEY);
  mproc_conn_t *c = NULL;

  if (l == NULL)
    return;
  CU_ASSERT_EQUAL(mproc_listener_accept(l, &c, 0), MPROC_ETIMEDOUT);
  for (int mode = 0; mode < RAW_MODES; mode++) {
    mproc_conn_t *a = NULL, *b = NULL;
    mproc_args_t *m = NULL;
    mproc_process_t *p;
    double bound = mode == RAW_SILENT ? 0.5 : 10.0, t0, dt;

    CU_ASSERT_EQUAL(mproc_listener_set_auth_timeout(l, bound), 0);
    CU_ASSERT_EQUAL_FATAL(mproc_pipe(&a, &b, 0), 0);
    p = mproc_test_start(l_raw_peer, "szio", mproc_listener_address(l), family,
                         mode, b);
    mproc_conn_free(b);
    /* Connected before the clock starts, so that the child's start-up
     * time is not counted. */
    CU_ASSERT_EQUAL(mproc_conn_recv(a, &m), 0);
    mproc_args_free(m);
    t0 = mproc_test_now();
    /* The peer ends once it has been dropped. */
    EXPECT_EXIT(mproc_test_finish(p), 0);
    dt = mproc_test_now() - t0;
    /* Not the 10 s timeout: dropped at once (the silent one at 0.5 s). */
    CU_ASSERT(dt < 5.0 && (mode != RAW_SILENT || dt >= 0.45));
    if (dt >= 5.0 || (mode == RAW_SILENT && dt < 0.45))
      printf("\n  raw peer '%s' (%s): dropped after %.2f s\n", raw_names[mode],
             family, dt);
    expect_dropped(l, mode + 1, raw_reasons[mode]);
    mproc_conn_free(a);
  }
  CU_ASSERT_EQUAL(mproc_listener_set_auth_timeout(l, MPROC_AUTH_TIMEOUT), 0);
  accept_and_check(l, mproc_test_start(l_client, "szy#p",
                                       mproc_listener_address(l), family, KEY,
                                       strlen(KEY), 1));
  mproc_listener_free(l);
}

static void test_raw_peers_dropped(void)
{
  for_each_family(raw_peers);
}

/* ---- addresses and families ---- */

static void test_null_address(void)
{
  const char *const *f = mproc_all_families();
  mproc_listener_t *l = NULL;
  mproc_conn_t *c = NULL;
  char path[600];
  int has_default = 0, has_inet = 0;

  for (; *f != NULL; f++) {
    has_default |= strcmp(*f, mproc_default_family()) == 0;
    has_inet |= strcmp(*f, "AF_INET") == 0;
  }
  CU_ASSERT(has_default && has_inet);
  CU_ASSERT_STRING_EQUAL(mproc_default_family(),
                         MPROC_TEST_POSIX ? "AF_UNIX" : "AF_PIPE");

  /* The default family, at a private address. */
  CU_ASSERT_EQUAL_FATAL(mproc_listener_create(&l, NULL, NULL, 1, NULL, 0), 0);
  CU_ASSERT_STRING_EQUAL(mproc_listener_family(l), mproc_default_family());
  CU_ASSERT(strlen(mproc_listener_address(l)) > 0);
  snprintf(path, sizeof path, "%s", mproc_listener_address(l));
  if (MPROC_TEST_POSIX) {
    /* Linux's abstract namespace: no file, nothing to leave behind. */
    CU_ASSERT_EQUAL(strncmp(path, "@mproc-listener-", 16), 0);
    CU_ASSERT(!path_exists(path + 1));
    CU_ASSERT_EQUAL(mproc_listener_close(l), 0);
    CU_ASSERT_EQUAL(mproc_client(&c, path, NULL, NULL, 0, 5.0),
                    MPROC_ENOTFOUND);
  } else {
    CU_ASSERT_EQUAL(strncmp(path, "\\\\.\\pipe\\", 9), 0);
  }
  mproc_listener_free(l);

  /* AF_INET: the loopback with the port chosen. */
  l = NULL;
  CU_ASSERT_EQUAL_FATAL(mproc_listener_create(&l, NULL, "AF_INET", 1, NULL, 0),
                        0);
  {
    const char *a = mproc_listener_address(l), *colon = strrchr(a, ':');
    CU_ASSERT_PTR_NOT_NULL(colon);
    CU_ASSERT(colon != NULL && atoi(colon + 1) > 0 && atoi(colon + 1) < 65536);
    CU_ASSERT_EQUAL(strncmp(a, "127.0.0.1:", 10), 0);
  }
  mproc_listener_free(l);

  /* Two private addresses are two addresses. */
  {
    mproc_listener_t *x = NULL, *y = NULL;
    CU_ASSERT_EQUAL(mproc_listener_create(&x, NULL, NULL, 1, NULL, 0), 0);
    CU_ASSERT_EQUAL(mproc_listener_create(&y, NULL, NULL, 1, NULL, 0), 0);
    CU_ASSERT(x != NULL && y != NULL &&
              strcmp(mproc_listener_address(x), mproc_listener_address(y)) !=
                  0);
    mproc_listener_free(x);
    mproc_listener_free(y);
  }
}

/* An explicit AF_UNIX path: there while listening, gone after close. */
static void test_unix_path(void)
{
  mproc_listener_t *l = NULL;
  mproc_process_t *p;
  char path[512], longpath[400];

  if (!MPROC_TEST_POSIX) {
    printf("skipped: Windows has no AF_UNIX family here\n");
    return;
  }
  CU_ASSERT_EQUAL_FATAL(mproc_test_tmp_path(path, sizeof path), 0);
  CU_ASSERT_EQUAL_FATAL(
      mproc_listener_create(&l, path, "AF_UNIX", 1, KEY, strlen(KEY)), 0);
  CU_ASSERT_STRING_EQUAL(mproc_listener_address(l), path);
  CU_ASSERT(path_exists(path));
  p = mproc_test_start(l_client, "szy#p", path, "AF_UNIX", KEY, strlen(KEY), 1);
  accept_and_check(l, p);
  CU_ASSERT_EQUAL(mproc_listener_close(l), 0);
  CU_ASSERT(!path_exists(path));
  mproc_listener_free(l);

  /* Longer than a sockaddr_un holds: refused, not truncated. */
  memset(longpath, 'x', sizeof longpath - 1);
  longpath[sizeof longpath - 1] = '\0';
  memcpy(longpath, "/tmp/", 5);
  l = NULL;
  CU_ASSERT_EQUAL(mproc_listener_create(&l, longpath, "AF_UNIX", 1, NULL, 0),
                  MPROC_EINVAL);
  CU_ASSERT_PTR_NULL(l);
}

/* CPython's address_type(): "host:port" is AF_INET, "\\\\" a pipe,
 * anything else a unix path. */
static void test_family_deduced(void)
{
  mproc_listener_t *l = NULL;
  char path[512], colon_path[600], pipe_name[600];
  int rc;

  CU_ASSERT_EQUAL(mproc_listener_create(&l, "127.0.0.1:0", NULL, 1, NULL, 0),
                  0);
  CU_ASSERT(l != NULL && strcmp(mproc_listener_family(l), "AF_INET") == 0);
  mproc_listener_free(l);

  CU_ASSERT_EQUAL_FATAL(mproc_test_tmp_path(path, sizeof path), 0);
  /* A ':' followed by digits in a path with a '/' is still a path. */
  snprintf(colon_path, sizeof colon_path, "%s:80", path);
  snprintf(pipe_name, sizeof pipe_name, "\\\\.\\pipe\\mproc-test-%ld",
           mproc_test_getpid());
  for (int i = 0; i < 3; i++) {
    const char *address = i == 0 ? path : i == 1 ? colon_path : pipe_name;
    int pipe = i == 2;
    l = NULL;
    rc = mproc_listener_create(&l, address, NULL, 1, NULL, 0);
    if (pipe == !MPROC_TEST_POSIX) {
      CU_ASSERT_EQUAL(rc, 0);
      CU_ASSERT(l != NULL && strcmp(mproc_listener_family(l),
                                    pipe ? "AF_PIPE" : "AF_UNIX") == 0);
    } else {
      /* Deduced as the family the platform lacks. */
      CU_ASSERT_EQUAL(rc, MPROC_ENOSYS);
    }
    mproc_listener_free(l);
  }
}

static void test_bad_family_and_address(void)
{
  static const char *const all[] = {"AF_UNIX", "AF_INET", "AF_PIPE"};
  mproc_listener_t *l = NULL;
  mproc_conn_t *c = NULL;

  CU_ASSERT_EQUAL(mproc_listener_create(&l, NULL, "AF_FOO", 1, NULL, 0),
                  MPROC_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(mproc_last_error(), "unrecognized family"));
  CU_ASSERT_EQUAL(
      mproc_listener_create(&l, "127.0.0.1:0", "af_inet", 1, NULL, 0),
      MPROC_EINVAL);
  CU_ASSERT_EQUAL(mproc_client(&c, "127.0.0.1:1", "AF_FOO", NULL, 0, 1.0),
                  MPROC_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(mproc_last_error(), "unrecognized family"));
  CU_ASSERT_PTR_NULL(l);
  CU_ASSERT_PTR_NULL(c);
  /* A family the platform does not have. */
  for (size_t i = 0; i < 3; i++) {
    int has = 0;
    for (const char *const *f = mproc_all_families(); *f != NULL; f++)
      has |= strcmp(*f, all[i]) == 0;
    if (!has) {
      CU_ASSERT_EQUAL(mproc_listener_create(&l, NULL, all[i], 1, NULL, 0),
                      MPROC_ENOSYS);
      CU_ASSERT_PTR_NULL(l);
    }
  }
  /* AF_INET addresses that are not "host:port". */
  CU_ASSERT_EQUAL(mproc_listener_create(&l, "127.0.0.1", "AF_INET", 1, NULL, 0),
                  MPROC_EINVAL);
  CU_ASSERT_EQUAL(mproc_listener_create(&l, "", NULL, 1, NULL, 0),
                  MPROC_EINVAL);
  CU_ASSERT_EQUAL(mproc_client(&c, "", NULL, NULL, 0, 1.0), MPROC_EINVAL);
  CU_ASSERT_EQUAL(mproc_client(&c, NULL, NULL, NULL, 0, 1.0), MPROC_EINVAL);
  CU_ASSERT_PTR_NULL(l);
  CU_ASSERT_PTR_NULL(c);
}

/* ---- peers that hold up nobody ---- */

/* How soon a good client behind the silent peers is accepted: 100 ms,
 * as the issue asks. Under Wine, whose server process carries every
 * thread's waits, a connection and its handshake alone take 75-90 ms
 * with no other peer; sockets wait in select() (96-157 ms beside 200
 * idle peers), but named pipes can only be polled (no overlapped I/O
 * here), and 200 polling threads make it 0.4-0.8 s: 2 s there, a fifth
 * of what the first silent peer alone cost before handshakes ran side
 * by side. */
#ifdef _WIN32
#define FIRST_PEER 2.0
#else
#define FIRST_PEER 0.1
#endif

/* 200 peers that never speak and a few that trickle hold their own
 * handshakes, and nobody else's: a client with the key is accepted at
 * once (CPython's accept would make it wait 10 s per silent peer). */
static void idle_peers(const char *family)
{
  mproc_listener_t *l = NULL;
  mproc_conn_t *a = NULL, *b = NULL, *ctl = NULL, *peer_end = NULL, *c = NULL;
  mproc_process_t *peers, *client;
  mproc_args_t *m = NULL;
  const int idle = 200, trickle = 4;
  int made = 0, rc;
  double t0, dt, best = 1e9;

  CU_ASSERT_EQUAL_FATAL(
      mproc_listener_create(&l, NULL, family, 256, KEY, strlen(KEY)), 0);
  /* No silent peer is dropped while the others are still being taken
   * on (under Wine that takes seconds). */
  CU_ASSERT_EQUAL(mproc_listener_set_auth_timeout(l, 2 * LIMIT), 0);
  /* Both helpers start before the listener has a thread (a fork beside
   * 200 handshake threads may inherit a lock one of them held). The
   * peers wait in the backlog until the first accept. */
  CU_ASSERT_EQUAL_FATAL(mproc_pipe(&a, &b, 1), 0);
  CU_ASSERT_EQUAL_FATAL(mproc_pipe(&ctl, &peer_end, 1), 0);
  peers = mproc_test_start(l_idle_peers, "sziio", mproc_listener_address(l),
                           family, idle, trickle, b);
  client = mproc_test_start(l_timed_client, "szo", mproc_listener_address(l),
                            family, peer_end);
  mproc_conn_free(b);
  mproc_conn_free(peer_end);
  /* The first accept starts the handshakes. */
  CU_ASSERT_EQUAL(mproc_listener_accept(l, &c, 0), MPROC_ETIMEDOUT);
  CU_ASSERT_EQUAL(mproc_conn_recv(a, &m), 0);
  CU_ASSERT(m != NULL && mproc_args_parse(m, "i", &made) == 0);
  CU_ASSERT_EQUAL(made, idle + trickle);
  mproc_args_free(m);
  m = NULL;
  /* The best of up to three connections of the client, one after the
   * other: a loaded machine may leave it unscheduled for a while; behind
   * the silent peers (before handshakes ran side by side) each waited
   * the handshake timeout per peer. */
  for (int round = 0; round < 3 && best >= FIRST_PEER; round++) {
    c = NULL;
    CU_ASSERT_EQUAL(mproc_conn_send(ctl, "s", "go"), 0);
    t0 = mproc_test_now();
    rc = mproc_listener_accept(l, &c, LIMIT);
    dt = mproc_test_now() - t0;
    CU_ASSERT_EQUAL(rc, 0);
    best = dt < best ? dt : best;
    if (rc != 0 || dt >= FIRST_PEER)
      printf("\n  %s: accepted after %.1f ms: %s\n", family, dt * 1e3,
             rc == 0 ? "ok" : mproc_last_error());
    if (c != NULL)
      CU_ASSERT(check_echo(c));
    mproc_conn_free(c);
    if (rc != 0)
      break;
  }
  CU_ASSERT_EQUAL(mproc_conn_send(ctl, "s", "stop"), 0);
  EXPECT_EXIT(mproc_test_finish(client), 0);
  CU_ASSERT(best < FIRST_PEER);
  CU_ASSERT_EQUAL(mproc_conn_send(a, "s", "stop"), 0);
  EXPECT_EXIT(mproc_test_finish(peers), 0);
  mproc_conn_free(a);
  mproc_conn_free(ctl);
  /* Closing with handshakes still waiting wakes and ends them all. */
  mproc_listener_free(l);
}

static void test_idle_peers_hold_up_nobody(void)
{
  for_each_family(idle_peers);
}

/* A program holding a Listener and a manager is killed: nothing of
 * theirs is left on disk (the manager's server dies with its owner). */
static void test_owner_killed_leaves_nothing(void)
{
  mproc_conn_t *a = NULL, *b = NULL, *c = NULL;
  mproc_args_t *m = NULL;
  mproc_process_t *p;
  const char *laddr = NULL, *maddr = NULL;
  char lpath[600] = "", mpath[600] = "";
  double end;
  int rc = 0;

  CU_ASSERT_EQUAL_FATAL(mproc_pipe(&a, &b, 1), 0);
  p = mproc_test_start(l_owner, "o", b);
  mproc_conn_free(b);
  CU_ASSERT_EQUAL(mproc_conn_recv(a, &m), 0);
  if (m != NULL && mproc_args_parse(m, "ss", &laddr, &maddr) == 0) {
    snprintf(lpath, sizeof lpath, "%s", laddr);
    snprintf(mpath, sizeof mpath, "%s", maddr);
  }
  mproc_args_free(m);
  CU_ASSERT(lpath[0] != '\0' && mpath[0] != '\0');
  CU_ASSERT_EQUAL(mproc_process_kill(p), 0);
  EXPECT_EXIT(mproc_test_finish(p), -SIGKILL);
  /* The manager's server, a daemon, goes with its owner. */
  for (end = mproc_test_now() + LIMIT; mproc_test_now() < end;) {
    rc = mproc_client(&c, mpath, NULL, NULL, 0, 1.0);
    mproc_conn_free(c);
    c = NULL;
    if (rc == MPROC_ENOTFOUND)
      break;
    mproc_test_sleep_ms(10);
  }
  CU_ASSERT_EQUAL(rc, MPROC_ENOTFOUND);
  CU_ASSERT_EQUAL(mproc_client(&c, lpath, NULL, NULL, 0, 1.0), MPROC_ENOTFOUND);
  CU_ASSERT(!path_exists(lpath));
  CU_ASSERT(!path_exists(mpath));
  if (path_exists(lpath) || path_exists(mpath))
    printf("\n  left behind: %s %s\n", lpath, mpath);
  mproc_conn_free(a);
}

/* ---- the handshake on any connection ---- */

static void test_challenge_over_pipe(void)
{
  mproc_conn_t *a = NULL, *b = NULL;
  mproc_process_t *p;
  double t0;

  /* The right key: both halves pass, in both directions. */
  CU_ASSERT_EQUAL_FATAL(mproc_pipe(&a, &b, 1), 0);
  p = mproc_test_start(l_challenged, "oy#", b, KEY, strlen(KEY));
  mproc_conn_free(b);
  CU_ASSERT_EQUAL(mproc_deliver_challenge(a, KEY, strlen(KEY), LIMIT), 0);
  CU_ASSERT_EQUAL(mproc_answer_challenge(a, KEY, strlen(KEY), LIMIT), 0);
  CU_ASSERT(check_echo(a));
  EXPECT_EXIT(mproc_test_finish(p), 0);
  mproc_conn_free(a);

  /* A wrong key: both sides are told. */
  CU_ASSERT_EQUAL_FATAL(mproc_pipe(&a, &b, 1), 0);
  p = mproc_test_start(l_challenged, "oy#", b, WRONG_KEY, strlen(WRONG_KEY));
  mproc_conn_free(b);
  CU_ASSERT_EQUAL(mproc_deliver_challenge(a, KEY, strlen(KEY), LIMIT),
                  MPROC_EAUTH);
  EXPECT_EXIT(mproc_test_finish(p), code_of(MPROC_EAUTH));
  mproc_conn_free(a);

  /* A silent peer: the timeout, not a hang. */
  CU_ASSERT_EQUAL_FATAL(mproc_pipe(&a, &b, 1), 0);
  t0 = mproc_test_now();
  CU_ASSERT_EQUAL(mproc_deliver_challenge(a, KEY, strlen(KEY), 0.3),
                  MPROC_ETIMEDOUT);
  CU_ASSERT(mproc_test_now() - t0 >= 0.29 && mproc_test_now() - t0 < 3.0);
  mproc_conn_free(a);
  mproc_conn_free(b);
  CU_ASSERT_EQUAL_FATAL(mproc_pipe(&a, &b, 1), 0);
  t0 = mproc_test_now();
  CU_ASSERT_EQUAL(mproc_answer_challenge(b, KEY, strlen(KEY), 0.3),
                  MPROC_ETIMEDOUT);
  CU_ASSERT(mproc_test_now() - t0 >= 0.29 && mproc_test_now() - t0 < 3.0);
  mproc_conn_free(a);
  mproc_conn_free(b);

  /* A closed connection. */
  CU_ASSERT_EQUAL_FATAL(mproc_pipe(&a, &b, 1), 0);
  CU_ASSERT_EQUAL(mproc_conn_close(a), 0);
  CU_ASSERT_EQUAL(mproc_deliver_challenge(a, KEY, strlen(KEY), 1.0),
                  MPROC_ECLOSED);
  CU_ASSERT_EQUAL(mproc_answer_challenge(a, KEY, strlen(KEY), 1.0),
                  MPROC_ECLOSED);
  mproc_conn_free(a);
  mproc_conn_free(b);
}

/* ---- interoperability with CPython ---- */

/* Why the interop tests cannot run here, or NULL. */
static const char *no_python(void)
{
  if (!MPROC_TEST_POSIX)
    return "CPython's Listener and Client are tested on POSIX only";
  if (MPROC_TEST_PYTHON[0] == '\0')
    return "python3 was not found when the tests were configured";
  return NULL;
}

static void script_path(char *buf, size_t cap, const char *name)
{
  snprintf(buf, cap, "%s/%s", MPROC_TEST_PYTHON_DIR, name);
}

static void hex(char *out, const char *key)
{
  for (size_t i = 0; key[i] != '\0'; i++)
    sprintf(out + 2 * i, "%02x", (unsigned char)key[i]);
  if (key[0] == '\0')
    strcpy(out, "-");
}

/* The mproc side of the scripts' conversation: CPython sends three
 * messages (a greeting, 100 KiB, an empty one), each answered with
 * "mproc:" before it; then one of ours comes back with "cpython:" before
 * it; then CPython closes. 1 when every byte was as expected. */
static int python_conversation(mproc_conn_t *c)
{
  static const char hello[] = "hello from CPython";
  const size_t big = 256 * 400;
  unsigned char *reply = malloc(big + 6);
  void *buf = NULL;
  size_t len = 0;
  int ok = reply != NULL;

  for (int k = 0; ok && k < 3; k++) {
    ok = mproc_conn_recv_bytes(c, MPROC_ALL, &buf, &len) == 0;
    if (ok && k == 0)
      ok = len == strlen(hello) && memcmp(buf, hello, len) == 0;
    if (ok && k == 1) {
      ok = len == big;
      for (size_t i = 0; ok && i < len; i++)
        ok = ((unsigned char *)buf)[i] == (unsigned char)(i % 256);
    }
    if (ok && k == 2)
      ok = len == 0;
    if (ok) {
      memcpy(reply, "mproc:", 6);
      if (len > 0)
        memcpy(reply + 6, buf, len);
      ok = mproc_conn_send_bytes(c, reply, len + 6, 0, MPROC_ALL) == 0;
    }
    mproc_free(buf);
    buf = NULL;
  }
  ok = ok &&
       mproc_conn_send_bytes(c, "hello from mproc", 16, 0, MPROC_ALL) == 0 &&
       mproc_conn_recv_bytes(c, MPROC_ALL, &buf, &len) == 0 && len == 24 &&
       memcmp(buf, "cpython:hello from mproc", 24) == 0;
  mproc_free(buf);
  ok = ok && mproc_conn_recv_bytes(c, MPROC_ALL, &buf, &len) == MPROC_EEOF;
  free(reply);
  return ok;
}

/* The scripts' exit codes. */
#define PY_OK 0
#define PY_AUTH 3

/* CPython's Client against an mproc Listener. */
static void python_client(const char *family, const char *lkey,
                          const char *ckey)
{
  mproc_listener_t *l = listen_on(family, lkey[0] ? lkey : NULL);
  mproc_process_t *p;
  mproc_conn_t *c = NULL;
  char script[600], hexkey[100];
  int rc, good = strcmp(lkey, ckey) == 0;

  if (l == NULL)
    return;
  script_path(script, sizeof script, "interop_client.py");
  hex(hexkey, ckey);
  p = mproc_test_start(l_python, "ssss", script, family,
                       mproc_listener_address(l), hexkey);
  /* A client with the wrong key is dropped: accept() waits on for one
   * that passes, so the client is left to finish first. */
  rc = mproc_listener_accept(l, &c, good ? LIMIT : 0);
  if (good) {
    CU_ASSERT_EQUAL(rc, 0);
    if (c != NULL)
      CU_ASSERT(python_conversation(c));
    if (rc != 0)
      printf("\n  accepting CPython's Client (%s): %s\n", family,
             mproc_last_error());
  }
  mproc_conn_free(c);
  EXPECT_EXIT(mproc_test_finish(p), good ? PY_OK : PY_AUTH);
  if (!good)
    expect_dropped(l, 1, "authentication: digest received was wrong)");
  mproc_listener_free(l);
}

/* An mproc Client against CPython's Listener. */
static void python_listener(const char *family, const char *lkey,
                            const char *ckey)
{
  mproc_process_t *p;
  mproc_conn_t *c = NULL;
  char script[600], hexkey[100], file[512], address[600];
  int rc = MPROC_ENOTFOUND, good = strcmp(lkey, ckey) == 0;

  CU_ASSERT_EQUAL_FATAL(mproc_test_tmp_path(file, sizeof file), 0);
  script_path(script, sizeof script, "interop_listener.py");
  hex(hexkey, lkey);
  p = mproc_test_start(l_python, "ssss", script, family, hexkey, file);
  /* The script writes its address to the file once it listens. */
  CU_ASSERT_EQUAL(mproc_test_wait_file(file, address, sizeof address, LIMIT),
                  0);
  if (address[0] != '\0') {
    rc = mproc_client(&c, address, family, ckey[0] ? ckey : NULL, strlen(ckey),
                      LIMIT);
    if (good) {
      CU_ASSERT_EQUAL(rc, 0);
      if (c != NULL)
        CU_ASSERT(python_conversation(c));
    } else {
      CU_ASSERT_EQUAL(rc, MPROC_EAUTH);
    }
    if (rc != (good ? 0 : MPROC_EAUTH))
      printf("\n  connecting to CPython's Listener (%s): %s\n", family,
             mproc_last_error());
  }
  mproc_conn_free(c);
  EXPECT_EXIT(mproc_test_finish(p), good ? PY_OK : PY_AUTH);
  mproc_test_remove(file);
}

static void python_families(void (*body)(const char *, const char *,
                                         const char *),
                            const char *lkey, const char *ckey)
{
  static const char *const families[] = {"AF_UNIX", "AF_INET"};
  const char *why = no_python();

  if (why != NULL) {
    printf("skipped: %s\n", why);
    return;
  }
  for (size_t i = 0; i < 2; i++) {
    unsigned before = CU_get_number_of_failures();
    body(families[i], lkey, ckey);
    if (CU_get_number_of_failures() > before)
      printf("\n  (the failures above are with family %s)\n", families[i]);
  }
}

static void test_cpython_client_with_key(void)
{
  python_families(python_client, KEY, KEY);
}

static void test_cpython_client_without_key(void)
{
  python_families(python_client, "", "");
}

static void test_cpython_listener_with_key(void)
{
  python_families(python_listener, KEY, KEY);
}

static void test_cpython_listener_without_key(void)
{
  python_families(python_listener, "", "");
}

/* A wrong key fails on both sides, whichever side is CPython. */
static void test_cpython_wrong_key(void)
{
  python_families(python_client, KEY, WRONG_KEY);
  if (no_python() == NULL)
    python_families(python_listener, KEY, WRONG_KEY);
}

void mproc_test_register_listener(void)
{
  static const mproc_test_case_t cases[] = {
      MPROC_TEST_CASE(test_round_trip_with_key),
      MPROC_TEST_CASE(test_round_trip_without_key),
      MPROC_TEST_CASE(test_empty_key),
      MPROC_TEST_CASE(test_child_listens),
      MPROC_TEST_CASE(test_accept_timeout),
      MPROC_TEST_CASE(test_address_in_use),
      MPROC_TEST_CASE(test_accept_after_close),
      MPROC_TEST_CASE(test_client_to_nothing),
      MPROC_TEST_CASE(test_wrong_key),
      MPROC_TEST_CASE(test_raw_peers_dropped),
      MPROC_TEST_CASE(test_null_address),
      MPROC_TEST_CASE(test_unix_path),
      MPROC_TEST_CASE(test_family_deduced),
      MPROC_TEST_CASE(test_bad_family_and_address),
      MPROC_TEST_CASE(test_idle_peers_hold_up_nobody),
      MPROC_TEST_CASE(test_owner_killed_leaves_nothing),
      MPROC_TEST_CASE(test_challenge_over_pipe),
      MPROC_TEST_CASE(test_cpython_client_with_key),
      MPROC_TEST_CASE(test_cpython_client_without_key),
      MPROC_TEST_CASE(test_cpython_listener_with_key),
      MPROC_TEST_CASE(test_cpython_listener_without_key),
      MPROC_TEST_CASE(test_cpython_wrong_key),
      {NULL, NULL}};

  (void)mproc_test_add_suite("listener", cases);
}
