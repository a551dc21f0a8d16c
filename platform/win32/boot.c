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

static int read_handle(void *ctx, void *buf, size_t len)
{
  HANDLE h = *(HANDLE *)ctx;
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

int mproc__plat_main(int argc, char **argv)
{
  size_t n = strlen(MPROC__SPAWN_ARG);
  unsigned long long v;
  HANDLE h;
  char *end;

  if (argc < 2 || argv[1] == NULL || strncmp(argv[1], MPROC__SPAWN_ARG, n) != 0)
    return 0;
  v = strtoull(argv[1] + n, &end, 10);
  if (end == argv[1] + n || *end != '\0') {
    mproc__err(MPROC_EINVAL, "bad marker '%s'", argv[1]);
    mproc__boot_fail("cannot be found");
  }
  h = (HANDLE)(uintptr_t)v;
  mproc__boot_from_reader(read_handle, &h);
}

int mproc__plat_is_spawned_child(void)
{
  const wchar_t *cmd = GetCommandLineW();
  wchar_t marker[32];

  swprintf(marker, 32, L" %hs", MPROC__SPAWN_ARG);
  return cmd != NULL && wcsstr(cmd, marker) != NULL;
}
