/*
 * The forkserver's socket is authenticated: a client without the key is
 * refused before anything is forked, and the server goes on serving.
 * POSIX only (Windows has no forkserver).
 */
#include <stdio.h>
#include <string.h>

#include "harness.h"

#ifndef _WIN32
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

MPROC_TARGET(t_fs_seven)
{
  (void)args;
  return 7;
}

static int run_seven(const mproc_context_t *ctx)
{
  mproc_process_t *p = NULL;
  int code = MPROC_EXITCODE_NONE;

  if (mproc_context_process(ctx, &p, t_fs_seven, NULL) == 0 &&
      mproc_process_start(p) == 0 && mproc_process_join(p, 30) == 0)
    (void)mproc_process_exitcode(p, &code);
  mproc_process_free(p);
  return code;
}

/* The abstract address "@mproc-fs-<our pid>-..." from /proc/net/unix. */
static int find_server(struct sockaddr_un *addr, socklen_t *len)
{
  char line[512], want[64];
  FILE *f = fopen("/proc/net/unix", "r");
  int found = 0;

  if (f == NULL)
    return 0;
  snprintf(want, sizeof want, "@mproc-fs-%ld-", mproc_test_getpid());
  while (!found && fgets(line, sizeof line, f) != NULL) {
    char *at = strstr(line, want);
    if (at == NULL)
      continue;
    at[strcspn(at, " \n")] = '\0';
    memset(addr, 0, sizeof *addr);
    addr->sun_family = AF_UNIX;
    memcpy(addr->sun_path + 1, at + 1, strlen(at + 1));
    *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(at));
    found = 1;
  }
  fclose(f);
  return found;
}

static void test_wrong_key_refused(void)
{
  const mproc_context_t *ctx = mproc_get_context("forkserver");
  unsigned char challenge[32], wrong[32];
  struct timeval tv = {.tv_sec = 10};
  struct sockaddr_un addr;
  socklen_t len = 0;
  char byte;
  int fd;

  CU_ASSERT_PTR_NOT_NULL_FATAL(ctx);
  /* A first start makes sure the server runs. */
  CU_ASSERT_EQUAL(run_seven(ctx), 7);
  CU_ASSERT_FATAL(find_server(&addr, &len));
  fd = socket(AF_UNIX, SOCK_STREAM, 0);
  CU_ASSERT_FATAL(fd >= 0);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  CU_ASSERT_EQUAL_FATAL(connect(fd, (struct sockaddr *)&addr, len), 0);
  /* The server speaks first: a challenge to answer with HMAC(key). */
  CU_ASSERT_EQUAL(recv(fd, challenge, sizeof challenge, MSG_WAITALL),
                  (ssize_t)sizeof challenge);
  memset(wrong, 0xa5, sizeof wrong);
  CU_ASSERT_EQUAL(send(fd, wrong, sizeof wrong, MSG_NOSIGNAL),
                  (ssize_t)sizeof wrong);
  /* Refused: the connection is closed, nothing else is said. */
  CU_ASSERT_EQUAL(recv(fd, &byte, 1, 0), 0);
  close(fd);
  /* And the server still serves its owner. */
  CU_ASSERT_EQUAL(run_seven(ctx), 7);
}

static void test_truncated_request_refused(void)
{
  const mproc_context_t *ctx = mproc_get_context("forkserver");
  struct sockaddr_un addr;
  socklen_t len = 0;
  int fd;

  CU_ASSERT_EQUAL(run_seven(ctx), 7);
  CU_ASSERT_FATAL(find_server(&addr, &len));
  /* Connect and hang up at once: the server must drop it and go on. */
  fd = socket(AF_UNIX, SOCK_STREAM, 0);
  CU_ASSERT_FATAL(fd >= 0);
  CU_ASSERT_EQUAL(connect(fd, (struct sockaddr *)&addr, len), 0);
  close(fd);
  CU_ASSERT_EQUAL(run_seven(ctx), 7);
}
#else
static void test_wrong_key_refused(void)
{
  printf("skipped: Windows has no forkserver\n");
}

static void test_truncated_request_refused(void)
{
  printf("skipped: Windows has no forkserver\n");
}
#endif

void mproc_test_register_forkserver(void)
{
  static const mproc_test_case_t cases[] = {
      MPROC_TEST_CASE(test_wrong_key_refused),
      MPROC_TEST_CASE(test_truncated_request_refused),
      {NULL, NULL}};

  (void)mproc_test_add_suite("forkserver", cases);
}
