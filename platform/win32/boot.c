/*
 * Windows backend, child side: the command-line marker, reading the
 * bootstrap message from the inherited pipe, and mproc__plat_main.
 */
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "platform.h"
#include "win32.h"

static __attribute__((noreturn)) void boot_fail(const char *why)
{
  fprintf(stderr,
          "mproc: child process cannot start: bootstrap message %s: %s\n", why,
          mproc_last_error());
  mproc__plat_exit_now(MPROC_EXIT_BOOTSTRAP);
}

static int read_all(HANDLE h, void *buf, size_t len)
{
  char *p = buf;

  while (len > 0) {
    DWORD chunk = len > (1u << 30) ? (1u << 30) : (DWORD)len, got = 0;
    if (!ReadFile(h, p, chunk, &got, NULL) || got == 0)
      return -1;
    p += got;
    len -= got;
  }
  return 0;
}

static __attribute__((noreturn)) void boot_from_handle(HANDLE h)
{
  unsigned char hdr[MPROC__BOOT_HDR];
  mproc__boot_t b;
  uint64_t len;
  void *payload;

  if (read_all(h, hdr, sizeof hdr) != 0) {
    mproc__err(MPROC_ECODEC, "header: end of data");
    boot_fail("is truncated");
  }
  if (mproc__boot_header(hdr, &len) != 0)
    boot_fail("is corrupted");
  payload = malloc(len ? (size_t)len : 1);
  if (payload == NULL) {
    mproc__err(MPROC_ENOMEM, "%llu bytes", (unsigned long long)len);
    boot_fail("does not fit in memory");
  }
  if (read_all(h, payload, (size_t)len) != 0) {
    mproc__err(MPROC_ECODEC, "payload of %llu bytes: end of data",
               (unsigned long long)len);
    boot_fail("is truncated");
  }
  CloseHandle(h);
  if (mproc__boot_decode(payload, (size_t)len, &b) != 0)
    boot_fail("is corrupted");
  free(payload);
  mproc__child_run(&b);
}

int mproc__plat_main(int argc, char **argv)
{
  size_t n = strlen(MPROC__SPAWN_ARG);
  unsigned long long v;
  char *end;

  if (argc < 2 || argv[1] == NULL || strncmp(argv[1], MPROC__SPAWN_ARG, n) != 0)
    return 0;
  v = strtoull(argv[1] + n, &end, 10);
  if (end == argv[1] + n || *end != '\0') {
    mproc__err(MPROC_EINVAL, "bad marker '%s'", argv[1]);
    boot_fail("cannot be found");
  }
  boot_from_handle((HANDLE)(uintptr_t)v);
}

int mproc__plat_is_spawned_child(void)
{
  const wchar_t *cmd = GetCommandLineW();
  wchar_t marker[32];

  swprintf(marker, 32, L" %hs", MPROC__SPAWN_ARG);
  return cmd != NULL && wcsstr(cmd, marker) != NULL;
}
