#!/usr/bin/env bash
# check-exports.sh LIBMPROC.so INCLUDE_DIR [CC]
#
# The shared library exports exactly the public API: every function the
# headers under INCLUDE_DIR declare (mproc.h and mproc/*.h, as the
# compiler sees them through <mproc.h>) is a defined, exported function of
# LIBMPROC.so, and nothing else is exported (an internal function that
# leaks out would become ABI). Run by ctest (abi.exports) and by the
# consumer leg against the installed library. Exit 1 with the lists of
# differences.
set -euo pipefail
lib=$1 inc=$2 cc=${3:-cc}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The compiler lists every function prototype it saw, with its file
# (-aux-info): those from mproc's headers are the API, but for the static
# inline helpers a header defines for its macros (MPROC_ARGS), which have
# no symbol.
inc_abs=$(cd "$inc" && pwd)
echo '#include <mproc.h>' >"$work/all.c"
"$cc" -I"$inc_abs" -fsyntax-only -aux-info "$work/protos" "$work/all.c"
grep -F "/* $inc_abs/mproc" "$work/protos" \
  | sed 's|^/\*[^*]*\*/ ||' \
  | grep -v '^static ' \
  | awk 'match($0, /[A-Za-z_][A-Za-z0-9_]* \(/) {print substr($0, RSTART, RLENGTH - 2)}' \
  | sort -u >"$work/declared"
nm -D --defined-only "$lib" | awk '$2 ~ /^[TtWiDdBbRrVv]$/ {print $3}' \
  | sed 's/@.*//' | grep -vE '^(_init|_fini|_edata|_end|__bss_start)$' \
  | sort -u >"$work/exported"

n=$(wc -l <"$work/declared")
[ "$n" -gt 0 ] || { echo "check-exports: no declarations found under $inc" >&2; exit 1; }
missing=$(comm -23 "$work/declared" "$work/exported")
extra=$(comm -13 "$work/declared" "$work/exported")
rc=0
if [ -n "$missing" ]; then
  echo "check-exports: declared in the headers but not exported by $lib:"
  echo "$missing" | sed 's/^/  /'
  rc=1
fi
if [ -n "$extra" ]; then
  echo "check-exports: exported by $lib but not declared in the headers:"
  echo "$extra" | sed 's/^/  /'
  rc=1
fi
[ $rc -eq 0 ] && echo "check-exports: $n public functions, all exported, nothing else"
exit $rc
