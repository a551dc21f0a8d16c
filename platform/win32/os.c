/*
 * Windows backend: the OS facts a ported program asks for (the parent's
 * id, sleeping), behind mproc_getppid() and mproc_sleep().
 */
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>

#include <tlhelp32.h>

#include "platform.h"
#include "win32.h"

/* Windows keeps the id of the process that created this one (which may
 * have ended since, as on POSIX before reparenting). */
long mproc__plat_getppid(void)
{
  PROCESSENTRY32W pe;
  DWORD self = GetCurrentProcessId();
  HANDLE snap = CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0);
  long ppid = 0;

  if (snap == INVALID_HANDLE_VALUE)
    return 0;
  pe.dwSize = sizeof pe;
  for (BOOL ok = Process32FirstW(snap, &pe); ok; ok = Process32NextW(snap, &pe))
    if (pe.th32ProcessID == self) {
      ppid = (long)pe.th32ParentProcessID;
      break;
    }
  CloseHandle(snap);
  return ppid;
}

void mproc__plat_sleep(double seconds)
{
  double deadline = mproc__plat_now() + seconds;
  double left = seconds;

  /* Sleep() takes whole milliseconds: loop until the time has passed. */
  while (left > 0) {
    Sleep(left >= 4e6 ? 4000000000u : (DWORD)(left * 1000.0 + 0.999));
    left = deadline - mproc__plat_now();
  }
}
