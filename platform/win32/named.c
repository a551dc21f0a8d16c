/*
 * Windows backend: named shared memory for SharedMemory. A named file
 * mapping in the session's namespace lives exactly as long as some
 * process has a handle to it, which is the lifetime mproc promises on
 * every platform: nothing leaks when a user crashes, nothing is removed
 * while in use. A name cannot be removed early; lib/ marks the block
 * unlinked in its header instead.
 */
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>

#include <stdio.h>

#include "os.h"
#include "win32.h"

static void mapping_name(const char *name, wchar_t *buf, size_t cap)
{
  swprintf(buf, cap, L"Local\\mproc-%hs", name);
}

static int map_handle(HANDLE h, mproc__named_t *out)
{
  MEMORY_BASIC_INFORMATION mbi;
  void *map = os_MapViewOfFile(h, FILE_MAP_ALL_ACCESS, 0, 0, 0);

  if (map == NULL)
    return mproc__err_os("MapViewOfFile", (long)GetLastError());
  if (VirtualQuery(map, &mbi, sizeof mbi) == 0) {
    UnmapViewOfFile(map);
    return mproc__err_os("VirtualQuery", (long)GetLastError());
  }
  out->handle = (intptr_t)h;
  out->map = map;
  out->map_size = mbi.RegionSize;
  return 0;
}

int mproc__plat_named_create(const char *name, size_t size, mproc__named_t *out)
{
  unsigned long long total = size;
  wchar_t wname[128];
  HANDLE h;
  int rc;

  mapping_name(name, wname, sizeof wname / sizeof wname[0]);
  h = os_CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE,
                            (DWORD)(total >> 32), (DWORD)total, wname);
  if (h == NULL)
    return mproc__err_os("CreateFileMapping", (long)GetLastError());
  if (GetLastError() == ERROR_ALREADY_EXISTS) {
    CloseHandle(h);
    return mproc__err(MPROC_EEXIST, "File exists: '%s'", name);
  }
  rc = map_handle(h, out);
  if (rc != 0)
    CloseHandle(h);
  return rc;
}

int mproc__plat_named_open(const char *name, mproc__named_t *out)
{
  wchar_t wname[128];
  HANDLE h;
  int rc;

  mapping_name(name, wname, sizeof wname / sizeof wname[0]);
  h = os_OpenFileMappingW(FILE_MAP_ALL_ACCESS, FALSE, wname);
  if (h == NULL) {
    DWORD err = GetLastError();
    if (err == ERROR_FILE_NOT_FOUND)
      return mproc__err(MPROC_ENOTFOUND, "No such file or directory: '%s'",
                        name);
    return mproc__err_os("OpenFileMapping", (long)err);
  }
  rc = map_handle(h, out);
  if (rc != 0)
    CloseHandle(h);
  return rc;
}

int mproc__plat_named_adopt(const char *name, intptr_t h, mproc__named_t *out)
{
  (void)name; /* the kernel counts a mapping's users by its handles */
  int rc = map_handle((HANDLE)h, out);

  if (rc == 0)
    SetHandleInformation((HANDLE)h, HANDLE_FLAG_INHERIT, 0);
  return rc;
}

void mproc__plat_named_close(const char *name, mproc__named_t *m)
{
  (void)name;
  if (m->map != NULL)
    UnmapViewOfFile(m->map);
  if (m->handle != 0)
    CloseHandle((HANDLE)m->handle);
  m->map = NULL;
  m->handle = 0;
}

int mproc__plat_named_unlink(const char *name)
{
  (void)name;
  return 0;
}

void mproc__plat_named_sweep(void) {}
