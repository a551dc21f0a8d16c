/*
 * CPython's connection handshake (multiprocessing.connection's
 * deliver_challenge / answer_challenge), so that mproc and Python peers
 * authenticate each other with a shared authkey.
 *
 * The side delivering a challenge sends `#CHALLENGE#{sha256}` and 40
 * random bytes; the other answers `{sha256}` and HMAC-SHA256(authkey,
 * message), where the message is everything after `#CHALLENGE#` (the
 * digest name is covered by the MAC, so it cannot be downgraded), and is
 * told `#WELCOME#` or `#FAILURE#`. CPython 3.11 and older speak the
 * legacy form: a 20-byte challenge without a prefix, answered with a raw
 * 16-byte HMAC-MD5. As CPython 3.12 does, an answerer recognises a legacy
 * challenge by its length and answers in kind, and a deliverer accepts a
 * 16-byte answer as HMAC-MD5 of its (prefixed) message, so every pairing
 * of old and new peers works. Every message is read with a 256-byte cap
 * and a deadline; digests are compared in constant time.
 */
#include <stdio.h>
#include <string.h>

#include <nettle/hmac.h>
#include <nettle/md5.h>
#include <nettle/memops.h>
#include <nettle/nettle-meta.h>
#include <nettle/sha2.h>
#include <nettle/sha3.h>

#include "object.h"
#include "platform.h"

#define CHALLENGE "#CHALLENGE#"
#define WELCOME "#WELCOME#"
#define FAILURE "#FAILURE#"
#define MESSAGE_LENGTH 40
#define MD5ONLY_MESSAGE_LENGTH 20 /* a legacy challenge's length */
#define MD5_DIGEST_LEN 16         /* a legacy answer's length */
#define MAX_MSG 256               /* CPython's recv_bytes(256) */
#define MAX_DIGEST_NAME 8         /* "sha3_384" */
#define MAX_DIGEST SHA512_DIGEST_SIZE

/* The digests CPython allows (_ALLOWED_DIGESTS). */
static const struct digest {
  const char *name;
  const struct nettle_hash *hash;
} digests[] = {
    {"md5", &nettle_md5},           {"sha256", &nettle_sha256},
    {"sha384", &nettle_sha384},     {"sha3_256", &nettle_sha3_256},
    {"sha3_384", &nettle_sha3_384},
};

/* Room for any of their contexts. */
typedef union hash_ctx {
  struct md5_ctx md5;
  struct sha256_ctx sha256;
  struct sha512_ctx sha384;
  struct sha3_256_ctx sha3_256;
  struct sha3_384_ctx sha3_384;
} hash_ctx_t;

static void hmac(const struct digest *d, const void *key, size_t keylen,
                 const void *msg, size_t len, unsigned char *out)
{
  hash_ctx_t outer, inner, state;

  hmac_set_key(&outer, &inner, &state, d->hash, keylen, key);
  hmac_update(&state, d->hash, len, msg);
  hmac_digest(&outer, &inner, &state, d->hash, d->hash->digest_size, out);
}

/* CPython's _get_digest_name_and_payload: a legacy message (by its
 * length) is MD5 without a prefix; otherwise "{name}" must lead it. */
static int digest_and_payload(const unsigned char *msg, size_t len,
                              const struct digest **d,
                              const unsigned char **payload, size_t *plen)
{
  const unsigned char *close;
  size_t n;

  if (len == MD5ONLY_MESSAGE_LENGTH || len == MD5_DIGEST_LEN) {
    *d = &digests[0];
    *payload = msg;
    *plen = len;
    return 1; /* legacy */
  }
  close = len > 1 && msg[0] == '{'
              ? memchr(msg + 1, '}',
                       len - 1 < MAX_DIGEST_NAME + 1 ? len - 1
                                                     : MAX_DIGEST_NAME + 1)
              : NULL;
  if (close != NULL) {
    n = (size_t)(close - msg - 1);
    for (size_t i = 0; i < sizeof digests / sizeof digests[0]; i++)
      if (strlen(digests[i].name) == n &&
          memcmp(msg + 1, digests[i].name, n) == 0) {
        *d = &digests[i];
        *payload = close + 1;
        *plen = len - n - 2;
        return 0;
      }
  }
  return mproc__err(MPROC_EAUTH,
                    "authentication: unsupported message length, missing "
                    "digest prefix, or unsupported digest");
}

/* Every failure of a handshake step is told as "authentication: " and
 * the reason, once. */
static int send_raw(mproc_conn_t *c, const void *buf, size_t len)
{
  int rc = mproc_conn_send_bytes(c, buf, len, 0, MPROC_ALL);

  if (rc != 0)
    return mproc__err(rc, "authentication: %s", mproc_last_error());
  return 0;
}

/* Receive one handshake message into @buf (MAX_MSG bytes). Transport
 * failures keep their status, a hang-up is MPROC_EEOF and silence past
 * the deadline MPROC_ETIMEDOUT; a message too long or a stream that
 * breaks is the peer not speaking the protocol: MPROC_EAUTH. */
static int recv_msg(mproc_conn_t *c, unsigned char *buf, size_t *len)
{
  void *msg;
  int rc = mproc_conn_recv_bytes(c, MAX_MSG, &msg, len);

  switch (rc) {
  case 0:
    break;
  case MPROC_EINVAL:
    return mproc__err(MPROC_EAUTH,
                      "authentication: the peer's message is longer than %d "
                      "bytes",
                      MAX_MSG);
  case MPROC_ECODEC:
    return mproc__err(MPROC_EAUTH, "authentication: %s", mproc_last_error());
  case MPROC_EEOF: /* CPython's EOFError, not AuthenticationError */
    return mproc__err(MPROC_EEOF,
                      "authentication: the peer closed the connection");
  case MPROC_ETIMEDOUT:
    return mproc__err(MPROC_ETIMEDOUT,
                      "authentication: the peer did not answer in time");
  default:
    return mproc__err(rc, "authentication: %s", mproc_last_error());
  }
  memcpy(buf, msg, *len);
  mproc_free(msg);
  return 0;
}

static int check_key(const void *key, size_t len)
{
  if (key == NULL && len > 0)
    return mproc__err(MPROC_EINVAL, "authkey: NULL with a length");
  return 0;
}

static int verify(const void *key, size_t keylen, const unsigned char *message,
                  size_t mlen, const unsigned char *response, size_t rlen)
{
  unsigned char expected[MAX_DIGEST];
  const struct digest *d;
  const unsigned char *mac;
  size_t maclen;
  int rc = digest_and_payload(response, rlen, &d, &mac, &maclen);

  if (rc < 0)
    return rc;
  if (maclen != d->hash->digest_size)
    return mproc__err(MPROC_EAUTH,
                      "authentication: expected %s of length %u, got %zu",
                      d->name, d->hash->digest_size, maclen);
  hmac(d, key, keylen, message, mlen, expected);
  if (!memeql_sec(expected, mac, maclen))
    return mproc__err(MPROC_EAUTH, "authentication: digest received was wrong");
  return 0;
}

/* mproc__auth_server()'s refusal, logged once and before the #FAILURE#
 * reply (a peer told of it may end the program before a later line). */
static _Thread_local struct {
  int active; /* inside mproc__auth_server() */
  int logged;
  const char *note;
} refusal;

static void log_refusal(void)
{
  MPROC__LOG(MPROC_LOG_WARNING, "handshake refused: %s", mproc_last_error());
  if (refusal.note != NULL)
    MPROC__LOG(MPROC_LOG_WARNING, "%s", refusal.note);
  refusal.logged = 1;
}

static int deliver(mproc_conn_t *c, const void *key, size_t keylen)
{
  static const char prefix[] = "{sha256}";
  unsigned char out[sizeof CHALLENGE - 1 + sizeof prefix - 1 + MESSAGE_LENGTH];
  unsigned char *message = out + sizeof CHALLENGE - 1, response[MAX_MSG];
  size_t mlen = sizeof prefix - 1 + MESSAGE_LENGTH, rlen;
  int rc;

  memcpy(out, CHALLENGE, sizeof CHALLENGE - 1);
  memcpy(message, prefix, sizeof prefix - 1);
  if ((rc = mproc__random(message + sizeof prefix - 1, MESSAGE_LENGTH)) != 0 ||
      (rc = send_raw(c, out, sizeof out)) != 0 ||
      (rc = recv_msg(c, response, &rlen)) != 0)
    return rc;
  rc = verify(key, keylen, message, mlen, response, rlen);
  if (rc != 0) {
    /* The reason outlives the #FAILURE# sent after it, which may fail
     * too (the peer gone) and would tell its own. */
    char why[256];
    snprintf(why, sizeof why, "%s", mproc_last_error());
    if (refusal.active)
      log_refusal();
    (void)send_raw(c, FAILURE, sizeof FAILURE - 1);
    return mproc__err(MPROC_EAUTH, "%s", why);
  }
  return send_raw(c, WELCOME, sizeof WELCOME - 1);
}

static int answer(mproc_conn_t *c, const void *key, size_t keylen)
{
  unsigned char msg[MAX_MSG], out[MAX_DIGEST_NAME + 2 + MAX_DIGEST];
  const unsigned char *message = msg + sizeof CHALLENGE - 1, *payload;
  const struct digest *d;
  size_t len, mlen, plen, n = 0;
  int rc, legacy;

  if ((rc = recv_msg(c, msg, &len)) != 0)
    return rc;
  if (len < sizeof CHALLENGE - 1 ||
      memcmp(msg, CHALLENGE, sizeof CHALLENGE - 1) != 0)
    return mproc__err(MPROC_EAUTH,
                      "authentication: protocol error, expected a challenge");
  mlen = len - (sizeof CHALLENGE - 1);
  if (mlen < MD5ONLY_MESSAGE_LENGTH)
    return mproc__err(MPROC_EAUTH,
                      "authentication: challenge too short: %zu bytes", mlen);
  if ((legacy = digest_and_payload(message, mlen, &d, &payload, &plen)) < 0)
    return legacy;
  if (!legacy) {
    n = (size_t)sprintf((char *)out, "{%s}", d->name);
  }
  hmac(d, key, keylen, message, mlen, out + n);
  if ((rc = send_raw(c, out, n + d->hash->digest_size)) != 0 ||
      (rc = recv_msg(c, msg, &len)) != 0)
    return rc;
  if (len != sizeof WELCOME - 1 || memcmp(msg, WELCOME, len) != 0)
    return mproc__err(MPROC_EAUTH, "authentication: digest sent was rejected");
  return 0;
}

/* Run @step under a deadline @timeout seconds away, then lift it. */
static int bounded(int (*step)(mproc_conn_t *, const void *, size_t),
                   mproc_conn_t *c, const void *key, size_t keylen,
                   double timeout)
{
  int rc;

  if (c == NULL)
    return mproc__err(MPROC_EINVAL, "authentication: NULL connection");
  if ((rc = check_key(key, keylen)) != 0)
    return rc;
  mproc__conn_set_deadline(c, mproc__deadline(timeout));
  rc = step(c, key, keylen);
  mproc__conn_set_deadline(c, MPROC__NEVER);
  return rc;
}

int mproc_deliver_challenge(mproc_conn_t *c, const void *authkey,
                            size_t authkey_len, double timeout)
{
  return bounded(deliver, c, authkey, authkey_len, timeout);
}

int mproc_answer_challenge(mproc_conn_t *c, const void *authkey,
                           size_t authkey_len, double timeout)
{
  return bounded(answer, c, authkey, authkey_len, timeout);
}

int mproc__auth_server(mproc_conn_t *c, const void *key, size_t len,
                       double timeout, const char *refused)
{
  double deadline = mproc__deadline(timeout);
  int rc;

  refusal.active = 1;
  refusal.logged = 0;
  refusal.note = refused;
  rc = mproc_deliver_challenge(c, key, len, timeout);
  if (rc == 0)
    rc = mproc_answer_challenge(c, key, len, deadline - mproc__plat_now());
  /* The message already says "authentication: " and why. */
  if (rc != 0 && rc != MPROC_EAUTH)
    rc = mproc__err(MPROC_EAUTH, "%s", mproc_last_error());
  if (rc != 0 && !refusal.logged)
    log_refusal();
  refusal.active = 0;
  return rc;
}
