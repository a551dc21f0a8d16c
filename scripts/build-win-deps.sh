#!/usr/bin/env bash
# build-win-deps.sh - static x86_64-w64-mingw32 builds of mproc's dependencies
# (APR 1.7.2, CUnit 2.1-3, msgpack-c 4.0.0, nettle 3.8.1), made from
# Debian 12's source packages, Debian's own patches applied.
#
#   scripts/build-win-deps.sh     build if needed; the LAST line of stdout is
#                                 the prefix (progress goes to stderr)
#
# Prefix: ${XDG_CACHE_HOME:-$HOME/.cache}/mproc/win-deps-<key>, <key> = the
# versions plus a recipe revision. A prefix holding the stamp .complete is
# reused as is. Layout:
#   include/  msgpack.h msgpack/ nettle/ CUnit/
#   include/apr-1/  every APR public header (apr_encode.h included) + apr.h
#   lib/      libapr-1.a libmsgpackc.a libnettle.a libcunit.a
#   BUILDINFO the exact Debian source versions, compiler and link flags
# Consumers: -DAPR_DECLARE_STATIC -I<p>/include/apr-1
#   -I<p>/include ... -L<p>/lib -lcunit -lapr-1 -lmsgpackc -lnettle
#   -lws2_32 -lmswsock -lrpcrt4 -ladvapi32 -static
#
# Env: MPROC_WIN_DEPS_SRC=DIR  use the Debian source packages (.dsc and its
#                              files) already in DIR instead of downloading
#      JOBS=N                  parallel make jobs (default: nproc)
#
# Needs (installed with apt-get when missing, if run as root): MinGW-w64 gcc
# and g++ (msgpack-c's CMake project enables C++, though its library is C),
# host gcc, cmake, make, dpkg-dev (apt-get source, dpkg-source).
# Wine is not needed to build.
set -euo pipefail

HOST=x86_64-w64-mingw32
APR_V=1.7.2 CUNIT_V=2.1-3 MSGPACK_V=4.0.0 NETTLE_V=3.8.1
REV=4   # bump whenever the recipe below changes the result
KEY="apr$APR_V-cunit$CUNIT_V-msgpack$MSGPACK_V-nettle$NETTLE_V-r$REV"
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/mproc
PREFIX=$CACHE/win-deps-$KEY
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
SYSLIBS="-lws2_32 -lmswsock -lrpcrt4 -ladvapi32"

say() { echo "build-win-deps: $*" >&2; }
done_already() { [ -f "$PREFIX/.complete" ]; }

if done_already; then echo "$PREFIX"; exit 0; fi

# ---------------------------------------------------------------- tools
need_pkgs=(gcc-mingw-w64-x86-64 g++-mingw-w64-x86-64 gcc libc6-dev cmake make
           dpkg-dev patch bzip2 xz-utils)
missing=()
for p in "${need_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
    || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    say "missing packages: ${missing[*]}"
    say "install them with: sudo apt-get install -y ${missing[*]}"
    exit 1
  fi
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

# ---------------------------------------------------------------- lock
mkdir -p "$CACHE"
exec 9>"$CACHE/win-deps-$KEY.lock"
flock 9
if done_already; then echo "$PREFIX"; exit 0; fi   # built while we waited

T0=$SECONDS
WORK=$(mktemp -d "${TMPDIR:-/tmp}/mproc-win-deps.XXXXXX")
BG_PIDS=() PREFIX_STARTED=''
# kill_tree PID: PID and its descendants (a failed step must not leave the
# background builds running).
kill_tree() {
  local c
  for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do kill_tree "$c"; done
  kill "$1" 2>/dev/null || true
}
cleanup() {
  local p
  for p in "${BG_PIDS[@]}"; do kill_tree "$p"; wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
  # a half-built prefix is not left behind
  [ -f "$PREFIX/.complete" ] || [ -z "$PREFIX_STARTED" ] || rm -rf "$PREFIX"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
FAILLOG=$CACHE/win-deps-$KEY.failed.log
rm -f "$FAILLOG"

# fail STEP LOG: show the end of LOG, keep all of it in $FAILLOG, stop.
fail() {
  cp "$2" "$FAILLOG" 2>/dev/null || true
  say "FAILED: $1 -- last lines of its log (all of it: $FAILLOG):"
  tail -n 60 "$2" >&2 || true
  exit 1
}
# run STEP LOG CMD...: run CMD with all output into LOG.
run() {
  local step=$1 log=$2; shift 2
  "$@" >>"$log" 2>&1 || fail "$step" "$log"
}

# ---------------------------------------------------------------- sources
SRC=$WORK/src
mkdir -p "$SRC"
if [ -n "${MPROC_WIN_DEPS_SRC:-}" ]; then
  say "using source packages in $MPROC_WIN_DEPS_SRC"
  cp "$MPROC_WIN_DEPS_SRC"/*.dsc "$MPROC_WIN_DEPS_SRC"/*.tar.* "$SRC"/
else
  say "downloading Debian source packages (apr cunit msgpack-c nettle)"
  # deb-src entries for these two apt-get calls only: the machine's apt
  # configuration and package lists are left alone.
  A=$WORK/apt
  mkdir -p "$A/etc" "$A/lists/partial"
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources \
      >"$A/etc/src.sources"
  fi
  if [ -f /etc/apt/sources.list ]; then
    sed -n 's/^[[:space:]]*deb[[:space:]]/deb-src /p' /etc/apt/sources.list \
      >"$A/etc/src.list"
  fi
  O=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$A/etc"
     -o "Dir::State::Lists=$A/lists" -o APT::Sandbox::User=root)
  run "apt-get update (deb-src)" "$WORK/apt.log" apt-get "${O[@]}" update
  (cd "$SRC" && apt-get "${O[@]}" source --download-only \
     apr cunit msgpack-c nettle) >>"$WORK/apt.log" 2>&1 \
    || fail "apt-get source" "$WORK/apt.log"
fi

# unpack PKG UPSTREAM_VERSION DIR: dpkg-source -x (applies Debian's patches)
# of the one PKG_<UPSTREAM_VERSION>-*.dsc, into $WORK/DIR.
unpack() {
  local dsc
  dsc=$(ls "$SRC/$1_$2"-*.dsc 2>/dev/null | sort -V | tail -n 1) || true
  [ -n "$dsc" ] || { say "no $1 $2 source package in $SRC:"; ls "$SRC" >&2; exit 1; }
  basename "$dsc" .dsc >>"$WORK/versions"
  run "unpack $1" "$WORK/unpack.log" dpkg-source -x "$dsc" "$WORK/$3"
}
say "  sources downloaded at $((SECONDS - T0)) s"
: >"$WORK/versions"
unpack apr "$APR_V" apr
unpack cunit "$CUNIT_V-dfsg" cunit
unpack msgpack-c "$MSGPACK_V" msgpack-c
unpack nettle "$NETTLE_V" nettle

cat >"$WORK/toolchain.cmake" <<EOF
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(CMAKE_C_COMPILER $HOST-gcc)
set(CMAKE_CXX_COMPILER $HOST-g++)
set(CMAKE_RC_COMPILER $HOST-windres)
set(CMAKE_FIND_ROOT_PATH /usr/$HOST)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
EOF
BUILD=$(gcc -dumpmachine)

PREFIX_STARTED=1
rm -rf "$PREFIX"
mkdir -p "$PREFIX/include/apr-1" "$PREFIX/lib"

# ---------------------------------------------------------------- nettle
# The HMACs (MD5, SHA-2, SHA-3) of the connection handshake. Its shipped
# configure works unchanged; the public-key half (hogweed, which needs GMP)
# and the documentation are left out. Only the static library is built and
# installed (headers in include/nettle/), not its tools or tests.
build_nettle() {
  local log=$WORK/nettle.log
  cd "$WORK/nettle"
  run "nettle configure" "$log" ./configure --host=$HOST --build="$BUILD" \
    --prefix="$PREFIX" --disable-shared --enable-static --disable-public-key \
    --disable-documentation --disable-openssl --disable-dependency-tracking \
    CFLAGS=-O2
  run "nettle build" "$log" make -j"$JOBS" libnettle.a
  run "nettle install" "$log" make install-headers install-static
  say "  nettle done at $((SECONDS - T0)) s"
}

say "building nettle $NETTLE_V (background), APR $APR_V, CUnit $CUNIT_V, msgpack-c $MSGPACK_V"
build_nettle &
BG_PIDS+=($!)

# ---------------------------------------------------------------- APR
# APR's own CMakeLists, five small fixes:
# 1. it runs the cross-compiled gen_test_char.exe on the build host: build that
#    stdio generator for the host (-DWIN32; same output) and point the custom
#    command at it.
# 2. -DCOM_NO_WINDOWS_H: APR's MSVC trick of pre-defining __wtypes_h__ breaks
#    MinGW's wtypes.h (which pulls ole2.h first: BSTR, CLIPFORMAT unknown).
# 3. -DHAVE_ATOMIC_BUILTINS(64)=1: else the win32 atomics call
#    apr__atomic_generic64_init, which only the Unix sources define.
# 4. APR_HAVE_IPV6=OFF: the win32 IPv6 code wants netioapi.h names apr.h
#    does not provide.
# 5. apr.h says MinGW lacks strcasecmp/strncasecmp (true of MSVC only), so
#    apr_general.h #defines them to stricmp/strnicmp, which clashes with
#    MinGW's own macros at -O0 ("strcasecmp" redefined: an error under
#    -Werror). MinGW has both: say so (only apr_general.h's fallback reads it).
# Only the static target apr-1 is built (the DLL's .rc and the aprapp helpers
# do not build with MinGW), so headers are installed by hand (CMake's install
# list also misses apr_encode.h).
(
  log=$WORK/apr.log
  cd "$WORK"
  run "APR gen_test_char (host)" "$log" gcc -DWIN32 -o gen_test_char apr/tools/gen_test_char.c
  sed -i "s|COMMAND \$<TARGET_FILE:gen_test_char> >|COMMAND $WORK/gen_test_char >|" \
    apr/CMakeLists.txt
  grep -q "COMMAND $WORK/gen_test_char >" apr/CMakeLists.txt \
    || { echo "APR fix 1: pattern not found in CMakeLists.txt" >>"$log"; fail "APR fix 1" "$log"; }
  sed -i -E 's/^(#define APR_HAVE_STR(N?)CASECMP +)0$/\11/' apr/include/apr.hwc
  [ "$(grep -cE '^#define APR_HAVE_STRN?CASECMP +1$' apr/include/apr.hwc)" = 2 ] \
    || { echo "APR fix 5: pattern not found in apr.hwc" >>"$log"; fail "APR fix 5" "$log"; }
  run "APR configure" "$log" cmake -S apr -B apr-build \
    -DCMAKE_TOOLCHAIN_FILE="$WORK/toolchain.cmake" -DCMAKE_BUILD_TYPE=Release \
    -DAPR_HAVE_IPV6=OFF \
    -DCMAKE_C_FLAGS="-DCOM_NO_WINDOWS_H -DHAVE_ATOMIC_BUILTINS=1 -DHAVE_ATOMIC_BUILTINS64=1"
  run "APR build" "$log" cmake --build apr-build --target apr-1 -j "$JOBS"
  install -m644 apr/include/apr_*.h apr-build/apr.h "$PREFIX/include/apr-1/"
  install -m644 apr-build/libapr-1.a "$PREFIX/lib/"
  say "  APR done at $((SECONDS - T0)) s"
)

# ---------------------------------------------------------------- CUnit
# Its shipped configure works unchanged; only the CUnit/ subdir (library and
# headers) is built. (The -dfsg tarball's configure calls itself 2.1-2.)
(
  log=$WORK/cunit.log
  cd "$WORK/cunit"
  run "CUnit configure" "$log" ./configure --host=$HOST --build="$BUILD" \
    --prefix="$PREFIX" --disable-shared --enable-static --disable-dependency-tracking
  run "CUnit build" "$log" make -C CUnit -j"$JOBS"
  run "CUnit install" "$log" make -C CUnit install
  say "  CUnit done at $((SECONDS - T0)) s"
)

# ---------------------------------------------------------------- msgpack-c
# Its CMake, unchanged. (It declares C++ too, hence CMAKE_CXX_COMPILER.)
(
  log=$WORK/msgpack.log
  cd "$WORK"
  run "msgpack-c configure" "$log" cmake -S msgpack-c -B msgpack-build \
    -DCMAKE_TOOLCHAIN_FILE="$WORK/toolchain.cmake" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_INSTALL_PREFIX="$PREFIX" -DMSGPACK_ENABLE_SHARED=OFF \
    -DMSGPACK_ENABLE_STATIC=ON -DMSGPACK_BUILD_TESTS=OFF -DMSGPACK_BUILD_EXAMPLES=OFF
  run "msgpack-c build" "$log" cmake --build msgpack-build -j "$JOBS"
  run "msgpack-c install" "$log" cmake --install msgpack-build
  say "  msgpack-c done at $((SECONDS - T0)) s"
)

# Each background build reported its own failure.
while [ ${#BG_PIDS[@]} -gt 0 ]; do
  wait "${BG_PIDS[0]}" || { BG_PIDS=("${BG_PIDS[@]:1}"); exit 1; }
  BG_PIDS=("${BG_PIDS[@]:1}")
done

# ---------------------------------------------------------------- check
# Every archive whole, no unresolved symbols, with the documented flags.
rm -f "$PREFIX"/lib/*.la
for f in libapr-1.a libcunit.a libmsgpackc.a libnettle.a; do
  [ -f "$PREFIX/lib/$f" ] || { echo "$PREFIX/lib/$f missing" >"$WORK/check.log"; fail "install" "$WORK/check.log"; }
done
[ -f "$PREFIX/include/apr-1/apr_encode.h" ] && [ -f "$PREFIX/include/msgpack.h" ] \
  && [ -f "$PREFIX/include/CUnit/Basic.h" ] \
  && [ -f "$PREFIX/include/nettle/hmac.h" ] && [ -f "$PREFIX/include/nettle/memops.h" ] \
  || { echo "headers missing" >"$WORK/check.log"; fail "install" "$WORK/check.log"; }
echo 'int main(void){return 0;}' >"$WORK/linkcheck.c"
# shellcheck disable=SC2086
run "link check" "$WORK/check.log" $HOST-gcc "$WORK/linkcheck.c" -o "$WORK/linkcheck.exe" \
  -static -Wl,--whole-archive "$PREFIX"/lib/libapr-1.a "$PREFIX"/lib/libcunit.a \
  "$PREFIX"/lib/libmsgpackc.a "$PREFIX"/lib/libnettle.a \
  -Wl,--no-whole-archive $SYSLIBS

{
  echo "built $(date -u +%Y-%m-%dT%H:%M:%SZ) by scripts/build-win-deps.sh r$REV"
  echo "debian sources: $(tr '\n' ' ' <"$WORK/versions")"
  echo "compiler: $($HOST-gcc --version | head -n 1)"
  echo "cflags: -DAPR_DECLARE_STATIC -I$PREFIX/include/apr-1 -I$PREFIX/include"
  echo "libs: -L$PREFIX/lib -lcunit -lapr-1 -lmsgpackc -lnettle $SYSLIBS -static"
} >"$PREFIX/BUILDINFO"
touch "$PREFIX/.complete"
say "done in $((SECONDS - T0)) s"
echo "$PREFIX"
