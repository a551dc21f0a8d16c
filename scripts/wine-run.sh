#!/usr/bin/env bash
# wine-run.sh PROGRAM.exe [ARGS...] - run a Windows console program under wine,
# quietly, in mproc's own wine prefix (CMAKE_CROSSCOMPILING_EMULATOR of
# cmake/mingw-w64.cmake, so ctest runs the MinGW tests through it).
#
# Prefix: ${XDG_CACHE_HOME:-$HOME/.cache}/mproc/wine (MPROC_WINEPREFIX
# overrides), initialised with `wineboot -i` the first time (~6-9 s).
# Exit status: the program's, or 127 when wine is not installed.
set -euo pipefail

if ! command -v wine >/dev/null 2>&1; then
  echo "wine-run.sh: 'wine' not found; it is needed to run Windows programs" \
       "(Debian: apt-get install wine64)" >&2
  exit 127
fi

export WINEDEBUG=-all
export WINEDLLOVERRIDES="mscoree,mshtml="
export WINEPREFIX=${MPROC_WINEPREFIX:-${XDG_CACHE_HOME:-$HOME/.cache}/mproc/wine}

# First use: create the prefix once, under a lock so parallel tests (ctest -j)
# do not all initialise it at the same time.
if [ ! -f "$WINEPREFIX/.mproc-ready" ]; then
  mkdir -p "$(dirname "$WINEPREFIX")"
  (
    if command -v flock >/dev/null 2>&1; then
      exec 9>"$WINEPREFIX.lock"
      flock 9
    fi
    if [ ! -f "$WINEPREFIX/.mproc-ready" ]; then
      echo "wine-run.sh: creating wine prefix $WINEPREFIX (once)" >&2
      wine wineboot -i >/dev/null 2>&1 || {
        echo "wine-run.sh: 'wineboot -i' failed for $WINEPREFIX" >&2
        exit 1
      }
      # No debugger for a crashing program (the tests crash workers on
      # purpose): Wine would run winedbg, 4-5 s and a register dump each.
      # An empty command makes the crash end the process at once, with a
      # failing exit code, as a Windows service without WER does.
      wine reg add 'HKLM\Software\Microsoft\Windows NT\CurrentVersion\AeDebug' \
        /v Debugger /t REG_SZ /d '' /f >/dev/null 2>&1 || true
      touch "$WINEPREFIX/.mproc-ready"
    fi
  )
fi

exec wine "$@"
