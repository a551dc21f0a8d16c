/*
 * The value codec and the bootstrap message, tested in-process through the
 * internal encoders/decoders, plus children fed a truncated or corrupted
 * bootstrap message (they must exit with MPROC_EXIT_BOOTSTRAP and say why
 * on stderr, never crash).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "internal.h"

#ifdef _WIN32
#include <windows.h>
#else
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
extern char **environ;
#endif

/* Encode @fmt as arguments and decode them again. */
static mproc_args_t *roundtrip(const char *fmt, ...)
{
  msgpack_sbuffer buf;
  mproc_args_t *a = NULL;
  va_list ap;
  int rc;

  msgpack_sbuffer_init(&buf);
  va_start(ap, fmt);
  rc = mproc__encode_args(&buf, fmt, &ap);
  va_end(ap);
  CU_ASSERT_EQUAL(rc, 0);
  if (rc == 0)
    CU_ASSERT_EQUAL(mproc__args_new(&a, buf.data, buf.size, NULL, 0), 0);
  msgpack_sbuffer_destroy(&buf);
  return a;
}

/* The status of encoding @fmt as arguments (@kw 0) or keyword arguments
 * (@kw 1). */
static int encode_status(int kw, const char *fmt, ...)
{
  msgpack_sbuffer buf;
  va_list ap;
  int rc;

  msgpack_sbuffer_init(&buf);
  va_start(ap, fmt);
  rc = kw ? mproc__encode_kwargs(&buf, fmt, &ap)
          : mproc__encode_args(&buf, fmt, &ap);
  va_end(ap);
  msgpack_sbuffer_destroy(&buf);
  return rc;
}

static void test_scalars_roundtrip(void)
{
  mproc_args_t *a = roundtrip("ilLdpszN", -7, 123456789L, (int64_t)INT64_MIN,
                              -0.5, 1, "héllo", (const char *)NULL);
  int i, b;
  long l;
  int64_t L;
  double d;
  const char *s, *z;
  const mproc_value_t *nil;

  CU_ASSERT_PTR_NOT_NULL_FATAL(a);
  CU_ASSERT_EQUAL(mproc_args_count(a), 8);
  CU_ASSERT_EQUAL(
      mproc_args_parse(a, "ilLdpszO:scalars", &i, &l, &L, &d, &b, &s, &z, &nil),
      0);
  CU_ASSERT_EQUAL(i, -7);
  CU_ASSERT_EQUAL(l, 123456789L);
  CU_ASSERT_EQUAL(L, INT64_MIN);
  CU_ASSERT_DOUBLE_EQUAL(d, -0.5, 0);
  CU_ASSERT_EQUAL(b, 1);
  CU_ASSERT_STRING_EQUAL(s, "héllo");
  CU_ASSERT_PTR_NULL(z);
  CU_ASSERT_EQUAL(mproc_value_type(nil), MPROC_T_NIL);
  mproc__args_free(a);
}

static void test_sized_and_bytes(void)
{
  static const char blob[5] = {'a', 0, 'b', 0, 'c'};
  mproc_args_t *a = roundtrip("s#y#", blob, (size_t)5, blob, (size_t)5);
  const char *s;
  const void *y;
  size_t slen, ylen;

  CU_ASSERT_PTR_NOT_NULL_FATAL(a);
  CU_ASSERT_EQUAL(mproc_args_parse(a, "s#y#", &s, &slen, &y, &ylen), 0);
  CU_ASSERT_EQUAL(slen, 5);
  CU_ASSERT_EQUAL(ylen, 5);
  CU_ASSERT_EQUAL(memcmp(s, blob, 5), 0);
  CU_ASSERT_EQUAL(memcmp(y, blob, 5), 0);
  CU_ASSERT_EQUAL(mproc_value_type(mproc_args_at(a, 0)), MPROC_T_STR);
  CU_ASSERT_EQUAL(mproc_value_type(mproc_args_at(a, 1)), MPROC_T_BYTES);
  /* An unsized 's' promises NUL termination: embedded NULs are refused. */
  CU_ASSERT_EQUAL(mproc_args_parse(a, "s|y#:f", &s, &y, &ylen), MPROC_ETYPE);
  CU_ASSERT_PTR_NOT_NULL(strstr(mproc_last_error(), "null character"));
  mproc__args_free(a);
}

static void test_nested_list_and_map(void)
{
  mproc_args_t *a =
      roundtrip("[i,[s,d],{s:i}]{s:[N,p]}", 1, "x", 2.0, "k", 3, "m", 0);
  const mproc_value_t *list, *map, *v, *key, *val;
  size_t n;
  int64_t i;
  int b;

  CU_ASSERT_PTR_NOT_NULL_FATAL(a);
  CU_ASSERT_EQUAL_FATAL(mproc_args_parse(a, "OO", &list, &map), 0);
  CU_ASSERT_EQUAL(mproc_value_type(list), MPROC_T_LIST);
  CU_ASSERT_EQUAL(mproc_value_len(list, &n), 0);
  CU_ASSERT_EQUAL(n, 3);
  CU_ASSERT_EQUAL(mproc_value_int(mproc_value_at(list, 0), &i), 0);
  CU_ASSERT_EQUAL(i, 1);
  v = mproc_value_at(list, 1);
  CU_ASSERT_EQUAL(mproc_value_type(v), MPROC_T_LIST);
  CU_ASSERT_EQUAL(mproc_value_type(mproc_value_at(v, 1)), MPROC_T_DOUBLE);
  CU_ASSERT_PTR_NULL(mproc_value_at(list, 3));
  v = mproc_value_get(mproc_value_at(list, 2), "k");
  CU_ASSERT_EQUAL(mproc_value_int(v, &i), 0);
  CU_ASSERT_EQUAL(i, 3);
  CU_ASSERT_EQUAL(mproc_value_entry(map, 0, &key, &val), 0);
  CU_ASSERT_EQUAL(mproc_value_type(key), MPROC_T_STR);
  CU_ASSERT_EQUAL(mproc_value_bool(mproc_value_at(val, 1), &b), 0);
  CU_ASSERT_EQUAL(b, 0);
  CU_ASSERT_EQUAL(mproc_value_entry(map, 1, &key, &val), MPROC_ERANGE);
  CU_ASSERT_EQUAL(mproc_value_int(key, &i), MPROC_ETYPE);
  mproc__args_free(a);
}

static void test_build_errors(void)
{
  CU_ASSERT_EQUAL(encode_status(0, "q", 1), MPROC_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(mproc_last_error(), "unknown format unit"));
  CU_ASSERT_EQUAL(encode_status(0, "[i", 1), MPROC_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(mproc_last_error(), "unbalanced"));
  CU_ASSERT_EQUAL(encode_status(0, "{i:i}", 1, 2), MPROC_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(mproc_last_error(), "keys must be strings"));
  CU_ASSERT_EQUAL(encode_status(0, "{s}", "k"), MPROC_EINVAL);
  CU_ASSERT_EQUAL(encode_status(0, "y", "x"), MPROC_EINVAL);
  CU_ASSERT_EQUAL(encode_status(0, "y#", (const char *)NULL, (size_t)3),
                  MPROC_EINVAL);
}

static void test_parse_errors_name_the_argument(void)
{
  mproc_args_t *a = roundtrip("si", "jason", 18);
  const char *s;
  int i, j;
  double d;

  CU_ASSERT_PTR_NOT_NULL_FATAL(a);
  CU_ASSERT_EQUAL(mproc_args_parse(a, "ii:task", &i, &j), MPROC_ETYPE);
  CU_ASSERT_PTR_NOT_NULL(strstr(mproc_last_error(), "task() argument 1"));
  CU_ASSERT_PTR_NOT_NULL(strstr(mproc_last_error(), "must be int, not str"));
  CU_ASSERT_EQUAL(mproc_args_parse(a, "s:task", &s), MPROC_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(mproc_last_error(), "at most 1 argument"));
  CU_ASSERT_EQUAL(mproc_args_parse(a, "sid:task", &s, &i, &d), MPROC_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(mproc_last_error(), "missing required"));
  /* Optional units after '|' are left untouched when absent. */
  d = 9.5;
  CU_ASSERT_EQUAL(mproc_args_parse(a, "si|d:task", &s, &i, &d), 0);
  CU_ASSERT_DOUBLE_EQUAL(d, 9.5, 0);
  CU_ASSERT_EQUAL(mproc_args_parse(a, "s&:task", &s), MPROC_EINVAL);
  mproc__args_free(a);
}

static void test_int_ranges(void)
{
  mproc_args_t *a = roundtrip("LL", (int64_t)INT32_MAX + 1, (int64_t)INT64_MAX);
  int i;
  int64_t L;
  double d;

  CU_ASSERT_PTR_NOT_NULL_FATAL(a);
  CU_ASSERT_EQUAL(mproc_args_parse(a, "i|L", &i, &L), MPROC_ERANGE);
  CU_ASSERT_EQUAL(mproc_args_parse(a, "Ld", &L, &d), 0);
  CU_ASSERT_EQUAL(L, INT32_MAX + (int64_t)1);
  mproc__args_free(a);
}

static mproc_args_t *with_kwargs(const char *posfmt, const char *kwfmt, ...)
{
  msgpack_sbuffer pos, kw;
  mproc_args_t *a = NULL;
  va_list ap;

  msgpack_sbuffer_init(&pos);
  msgpack_sbuffer_init(&kw);
  va_start(ap, kwfmt);
  CU_ASSERT_EQUAL(mproc__encode_args(&pos, posfmt, &ap), 0);
  CU_ASSERT_EQUAL(mproc__encode_kwargs(&kw, kwfmt, &ap), 0);
  va_end(ap);
  CU_ASSERT_EQUAL(mproc__args_new(&a, pos.data, pos.size, kw.data, kw.size), 0);
  msgpack_sbuffer_destroy(&pos);
  msgpack_sbuffer_destroy(&kw);
  return a;
}

static void test_keywords(void)
{
  static const char *const kwlist[] = {"name", "age", "city", NULL};
  mproc_args_t *a = with_kwargs("s", "{s:i}", "egon", "age", 18);
  const char *name, *city = "none";
  int age = 0;

  CU_ASSERT_PTR_NOT_NULL_FATAL(a);
  CU_ASSERT_EQUAL(
      mproc_args_parse_kw(a, "si|s:person", kwlist, &name, &age, &city), 0);
  CU_ASSERT_STRING_EQUAL(name, "egon");
  CU_ASSERT_EQUAL(age, 18);
  CU_ASSERT_STRING_EQUAL(city, "none");
  mproc__args_free(a);

  a = with_kwargs("s", "{s:s}", "egon", "name", "again");
  CU_ASSERT_PTR_NOT_NULL_FATAL(a);
  CU_ASSERT_EQUAL(
      mproc_args_parse_kw(a, "s|is:person", kwlist, &name, &age, &city),
      MPROC_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(mproc_last_error(), "by name ('name')"));
  mproc__args_free(a);

  a = with_kwargs("", "{s:i}", "height", 180);
  CU_ASSERT_PTR_NOT_NULL_FATAL(a);
  CU_ASSERT_EQUAL(
      mproc_args_parse_kw(a, "|sis:person", kwlist, &name, &age, &city),
      MPROC_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(mproc_last_error(), "'height'"));
  mproc__args_free(a);
}

static void test_kwargs_must_be_a_map(void)
{
  CU_ASSERT_EQUAL(encode_status(1, "{s:i}", "a", 1), 0);
  CU_ASSERT_EQUAL(encode_status(1, "i", 1), MPROC_EINVAL);
  CU_ASSERT_EQUAL(encode_status(1, "{s:i}i", "a", 1, 2), MPROC_EINVAL);
  CU_ASSERT_EQUAL(encode_status(1, "{i:i}", 1, 2), MPROC_EINVAL);
}

static void test_malformed_args_rejected(void)
{
  static const unsigned char not_list[] = {0x01};             /* int 1 */
  static const unsigned char truncated[] = {0x92, 0x01};      /* [1, ? */
  static const unsigned char extra[] = {0x90, 0x00};          /* [] then 0 */
  static const unsigned char int_keys[] = {0x81, 0x01, 0x02}; /* {1: 2} */
  static const unsigned char empty_list[] = {0x90};
  /* A 5-byte map32 header claiming 2^32-1 pairs: must be refused from its
   * size, not allocated (msgpack-c would ask for ~100 GB). */
  static const unsigned char bomb[] = {0xdf, 0xff, 0xff, 0xff, 0xff};
  mproc_args_t *a = NULL;

  CU_ASSERT_EQUAL(mproc__args_new(&a, not_list, 1, NULL, 0), MPROC_ECODEC);
  CU_ASSERT_EQUAL(mproc__args_new(&a, truncated, 2, NULL, 0), MPROC_ECODEC);
  CU_ASSERT_EQUAL(mproc__args_new(&a, extra, 2, NULL, 0), MPROC_ECODEC);
  CU_ASSERT_EQUAL(mproc__args_new(&a, empty_list, 1, int_keys, 3),
                  MPROC_ECODEC);
  CU_ASSERT_EQUAL(mproc__args_new(&a, empty_list, 0, NULL, 0), MPROC_ECODEC);
  CU_ASSERT_EQUAL(mproc__args_new(&a, empty_list, 1, bomb, sizeof bomb),
                  MPROC_ECODEC);
  CU_ASSERT_EQUAL(mproc__msgpack_bounded(bomb, sizeof bomb), -1);
  CU_ASSERT_EQUAL(mproc__msgpack_bounded(empty_list, 1), 0);
  CU_ASSERT_PTR_NULL(a);
}

static void fill_boot(mproc__boot_t *b, msgpack_sbuffer *args)
{
  static unsigned char key[32] = {1, 2, 3};
  static int64_t ident[2] = {4, 2};
  va_list *none = NULL;

  memset(b, 0, sizeof *b);
  msgpack_sbuffer_init(args);
  (void)mproc__encode_args(args, "", none);
  b->target = "t_target";
  b->name = "Process-4:2";
  b->authkey = key;
  b->authkey_len = sizeof key;
  b->identity = ident;
  b->identity_len = 2;
  b->parent_pid = 1234;
  b->parent_name = "Process-4";
  b->daemon = 1;
  b->method = MPROC_SPAWN;
  b->args = args->data;
  b->args_len = args->size;
}

static void test_boot_roundtrip(void)
{
  mproc__boot_t in, out;
  msgpack_sbuffer args, msg;
  uint64_t len;

  fill_boot(&in, &args);
  msgpack_sbuffer_init(&msg);
  CU_ASSERT_EQUAL_FATAL(mproc__boot_encode(&in, &msg), 0);
  CU_ASSERT_EQUAL(mproc__boot_header((const unsigned char *)msg.data, &len), 0);
  CU_ASSERT_EQUAL(len, msg.size - MPROC__BOOT_HDR);
  CU_ASSERT_EQUAL_FATAL(
      mproc__boot_decode(msg.data + MPROC__BOOT_HDR, (size_t)len, &out), 0);
  CU_ASSERT_STRING_EQUAL(out.target, "t_target");
  CU_ASSERT_STRING_EQUAL(out.name, "Process-4:2");
  CU_ASSERT_STRING_EQUAL(out.parent_name, "Process-4");
  CU_ASSERT_EQUAL(out.authkey_len, 32);
  CU_ASSERT_EQUAL(memcmp(out.authkey, in.authkey, 32), 0);
  CU_ASSERT_EQUAL(out.identity_len, 2);
  CU_ASSERT_EQUAL(out.identity[0], 4);
  CU_ASSERT_EQUAL(out.parent_pid, 1234);
  CU_ASSERT_EQUAL(out.daemon, 1);
  CU_ASSERT_EQUAL(out.method, MPROC_SPAWN);
  mproc__boot_clear(&out);
  CU_ASSERT_PTR_NULL(out.name);

  /* Every strict prefix is truncated, never accepted, never a crash. */
  for (size_t cut = 0; cut < len; cut++)
    CU_ASSERT_EQUAL(mproc__boot_decode(msg.data + MPROC__BOOT_HDR, cut, &out),
                    MPROC_ECODEC);
  /* Flipping any byte is either still a valid message or an error. */
  for (size_t at = MPROC__BOOT_HDR; at < msg.size; at++) {
    msg.data[at] ^= 0x5a;
    int rc = mproc__boot_decode(msg.data + MPROC__BOOT_HDR, (size_t)len, &out);
    CU_ASSERT(rc == 0 || rc == MPROC_ECODEC);
    mproc__boot_clear(&out);
    msg.data[at] ^= 0x5a;
  }
  msgpack_sbuffer_destroy(&msg);
  msgpack_sbuffer_destroy(&args);
}

static void test_boot_header_checks(void)
{
  unsigned char hdr[MPROC__BOOT_HDR] = {'M', 'P', 'B', '1', 0, 0,
                                        0,   0,   0,   0,   0, 9};
  uint64_t len = 0;

  CU_ASSERT_EQUAL(mproc__boot_header(hdr, &len), 0);
  CU_ASSERT_EQUAL(len, 9);
  hdr[4] = 0xff; /* an absurd length */
  CU_ASSERT_EQUAL(mproc__boot_header(hdr, &len), MPROC_ECODEC);
  hdr[4] = 0;
  hdr[0] = 'X';
  CU_ASSERT_EQUAL(mproc__boot_header(hdr, &len), MPROC_ECODEC);
  CU_ASSERT_PTR_NOT_NULL(strstr(mproc_last_error(), "magic"));
}

static void test_boot_field_errors(void)
{
  mproc__boot_t in, out;
  msgpack_sbuffer args, msg;

  fill_boot(&in, &args);
  in.target = ""; /* must not be empty */
  msgpack_sbuffer_init(&msg);
  CU_ASSERT_EQUAL_FATAL(mproc__boot_encode(&in, &msg), 0);
  CU_ASSERT_EQUAL(mproc__boot_decode(msg.data + MPROC__BOOT_HDR,
                                     msg.size - MPROC__BOOT_HDR, &out),
                  MPROC_ECODEC);
  CU_ASSERT_PTR_NOT_NULL(strstr(mproc_last_error(), "'target'"));
  CU_ASSERT_PTR_NULL(out.name);
  msgpack_sbuffer_destroy(&msg);
  msgpack_sbuffer_destroy(&args);

  fill_boot(&in, &args);
  in.method = 7;
  msgpack_sbuffer_init(&msg);
  CU_ASSERT_EQUAL_FATAL(mproc__boot_encode(&in, &msg), 0);
  CU_ASSERT_EQUAL(mproc__boot_decode(msg.data + MPROC__BOOT_HDR,
                                     msg.size - MPROC__BOOT_HDR, &out),
                  MPROC_ECODEC);
  CU_ASSERT_PTR_NOT_NULL(strstr(mproc_last_error(), "'method'"));
  msgpack_sbuffer_destroy(&msg);
  msgpack_sbuffer_destroy(&args);
}

/* ---- children fed a bad bootstrap message ---- */

/* Write @data to a new temporary file @path. */
static int write_tmp(char *path, size_t cap, const void *data, size_t len)
{
  FILE *f;

  if (mproc_test_tmp_path(path, cap) != 0 || (f = fopen(path, "wb")) == NULL)
    return -1;
  fwrite(data, 1, len, f);
  fclose(f);
  return 0;
}

#ifdef _WIN32
/* Re-execute this test binary as a spawned child whose bootstrap handle
 * reads @data (an inheritable file handle named on its command line). */
static int spawn_boot_child(const char *in, const char *out, int *code)
{
  SECURITY_ATTRIBUTES sa = {sizeof sa, NULL, TRUE};
  STARTUPINFOA si;
  PROCESS_INFORMATION pi;
  char exe[MAX_PATH], cmd[MAX_PATH + 64];
  HANDLE hin, herr;
  DWORD ec = 0;
  int rc = -1;

  hin = CreateFileA(in, GENERIC_READ, FILE_SHARE_READ, &sa, OPEN_EXISTING, 0,
                    NULL);
  herr = CreateFileA(out, GENERIC_WRITE, FILE_SHARE_READ, &sa, CREATE_ALWAYS, 0,
                     NULL);
  GetModuleFileNameA(NULL, exe, sizeof exe);
  snprintf(cmd, sizeof cmd, "\"%s\" --mproc-spawn=%llu", exe,
           (unsigned long long)(uintptr_t)hin);
  memset(&si, 0, sizeof si);
  si.cb = sizeof si;
  si.dwFlags = STARTF_USESTDHANDLES;
  si.hStdOutput = herr;
  si.hStdError = herr;
  if (hin != INVALID_HANDLE_VALUE && herr != INVALID_HANDLE_VALUE &&
      CreateProcessA(NULL, cmd, NULL, NULL, TRUE, 0, NULL, NULL, &si, &pi)) {
    WaitForSingleObject(pi.hProcess, INFINITE);
    GetExitCodeProcess(pi.hProcess, &ec);
    CloseHandle(pi.hThread);
    CloseHandle(pi.hProcess);
    *code = (int)ec;
    rc = 0;
  }
  if (hin != INVALID_HANDLE_VALUE)
    CloseHandle(hin);
  if (herr != INVALID_HANDLE_VALUE)
    CloseHandle(herr);
  return rc;
}
#else
/* Re-execute this test binary as a spawned child whose bootstrap
 * descriptor reads @in; its stderr goes to @out. */
static int spawn_boot_child(const char *in, const char *out, int *code)
{
  char *argv[] = {"mproc_tests", "--mproc-spawn=3", NULL};
  posix_spawn_file_actions_t fa;
  int status = 0, rc;
  pid_t pid;

  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 3, in, O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, out, O_WRONLY | O_CREAT | O_TRUNC,
                                   0600);
  rc = posix_spawn(&pid, "/proc/self/exe", &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc == 0 && waitpid(pid, &status, 0) == pid)
    *code = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  else
    rc = -1;
  return rc;
}
#endif

/* Run a child fed @data as its bootstrap message; its exit code and what
 * it wrote on stderr. */
static int run_boot_child(const void *data, size_t len, int *code, char *err,
                          size_t errcap)
{
  char in[256], out[256];
  int rc;

  if (write_tmp(in, sizeof in, data, len) != 0 ||
      mproc_test_tmp_path(out, sizeof out) != 0)
    return -1;
  rc = spawn_boot_child(in, out, code);
  if (mproc_test_read_file(out, err, errcap) != 0)
    err[0] = '\0';
  mproc_test_remove(in);
  mproc_test_remove(out);
  return rc;
}

MPROC_TARGET(t_codec_ok)
{
  (void)args;
  return 0;
}

static void check_boot_child(const void *data, size_t len, int want,
                             const char *needle)
{
  char err[2048];
  int code = -1000;

  CU_ASSERT_EQUAL_FATAL(run_boot_child(data, len, &code, err, sizeof err), 0);
  CU_ASSERT_EQUAL(code, want);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, needle));
}

static void test_bad_boot_child_exits_cleanly(void)
{
  mproc__boot_t in;
  msgpack_sbuffer args, msg;

  check_boot_child("MPB", 3, MPROC_EXIT_BOOTSTRAP, "truncated");
  check_boot_child("XXXX\0\0\0\0\0\0\0\0", 12, MPROC_EXIT_BOOTSTRAP, "magic");
  fill_boot(&in, &args);
  in.target = "t_codec_ok";
  in.daemon = 0;
  msgpack_sbuffer_init(&msg);
  CU_ASSERT_EQUAL_FATAL(mproc__boot_encode(&in, &msg), 0);
  /* The whole message works: the control case. */
  check_boot_child(msg.data, msg.size, 0, "");
  /* Cut short: truncated. */
  check_boot_child(msg.data, msg.size - 3, MPROC_EXIT_BOOTSTRAP, "truncated");
  /* A payload byte corrupted into a reserved MessagePack code. */
  msg.data[MPROC__BOOT_HDR] = (char)0xc1;
  check_boot_child(msg.data, msg.size, MPROC_EXIT_BOOTSTRAP, "bootstrap");
  msgpack_sbuffer_destroy(&msg);
  msgpack_sbuffer_destroy(&args);

  /* A valid message naming a target this program does not have. */
  fill_boot(&in, &args);
  in.target = "no_such_target";
  in.daemon = 0;
  msgpack_sbuffer_init(&msg);
  CU_ASSERT_EQUAL_FATAL(mproc__boot_encode(&in, &msg), 0);
  check_boot_child(msg.data, msg.size, MPROC_EXIT_NOTARGET, "no_such_target");
  msgpack_sbuffer_destroy(&msg);
  msgpack_sbuffer_destroy(&args);
}

void mproc_test_register_codec(void)
{
  static const mproc_test_case_t cases[] = {
      MPROC_TEST_CASE(test_scalars_roundtrip),
      MPROC_TEST_CASE(test_sized_and_bytes),
      MPROC_TEST_CASE(test_nested_list_and_map),
      MPROC_TEST_CASE(test_build_errors),
      MPROC_TEST_CASE(test_parse_errors_name_the_argument),
      MPROC_TEST_CASE(test_int_ranges),
      MPROC_TEST_CASE(test_keywords),
      MPROC_TEST_CASE(test_kwargs_must_be_a_map),
      MPROC_TEST_CASE(test_malformed_args_rejected),
      MPROC_TEST_CASE(test_boot_roundtrip),
      MPROC_TEST_CASE(test_boot_header_checks),
      MPROC_TEST_CASE(test_boot_field_errors),
      MPROC_TEST_CASE(test_bad_boot_child_exits_cleanly),
      {NULL, NULL}};

  (void)mproc_test_add_suite("codec", cases);
}
