#!/usr/bin/env bash
# Runs a Windows program under Wine, headless and quiet, in the project's
# own Wine prefix (created once, then reused).
#   scripts/wine-run.sh program.exe [args...]
set -euo pipefail
if ! command -v wine >/dev/null 2>&1; then
  echo "wine-run: wine is not installed (apt-get install wine64)" >&2
  exit 127
fi
export WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
export WINEPREFIX=${WINEPREFIX:-${XDG_CACHE_HOME:-$HOME/.cache}/mproc/wine}
if [ ! -f "$WINEPREFIX/system.reg" ]; then
  mkdir -p "$WINEPREFIX"
  wineboot -i >/dev/null 2>&1 || true
  wineserver -w || true
fi
exec wine "$@"
