#!/usr/bin/env bash
# Cross-builds mproc's dependencies for x86_64-w64-mingw32 from Debian's
# source packages: static APR 1.7.2, CUnit 2.1-3 and msgpack-c 4.0.0.
# (libsodium is not needed on Windows: it serves the POSIX forkserver.)
#
# The sources come through apt's own client, with deb-src entries given
# for that call only (the machine's apt set-up is not changed). The result
# goes to a prefix outside the source tree, keyed by the versions, and is
# reused when complete. The prefix is printed on the last line.
#
#   scripts/build-win-deps.sh            build if missing, print the prefix
#   MPROC_WIN_DEPS_CACHE=DIR             where prefixes live
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
HOST=x86_64-w64-mingw32
APR=1.7.2 CUNIT=2.1-3 MSGPACK=4.0.0
key="apr$APR-cunit$CUNIT-msgpack$MSGPACK-r1"
cache=${MPROC_WIN_DEPS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mproc}
prefix="$cache/win-deps-$key"
if [ -f "$prefix/.complete" ]; then
  echo "$prefix"
  exit 0
fi

"$here/deps.sh" gcc-mingw-w64-x86-64 g++-mingw-w64-x86-64 dpkg-dev bzip2 >&2

work=$(mktemp -d)
log="$work/build.log"
trap 'rm -rf "$work"' EXIT
fail() { echo "build-win-deps: $*" >&2; tail -40 "$log" >&2; exit 1; }
step() { echo "build-win-deps: $*" >&2; }

# ---- sources, through apt with deb-src entries for this call only
src="$cache/sources"
mkdir -p "$src" "$work/apt/lists/partial" "$work/apt/etc"
if ! ls "$src"/apr_$APR.orig.tar.* "$src"/cunit_$CUNIT*.orig.tar.* \
    "$src"/msgpack-c_$MSGPACK.orig.tar.* >/dev/null 2>&1; then
  step "downloading Debian source packages"
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources \
      >"$work/apt/etc/src.sources"
  else
    sed -n 's/^deb /deb-src /p' /etc/apt/sources.list >"$work/apt/etc/src.list"
  fi
  O=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$work/apt/etc"
     -o "Dir::State::Lists=$work/apt/lists")
  apt-get "${O[@]}" update >>"$log" 2>&1 || fail "apt-get update (deb-src)"
  (cd "$src" && apt-get "${O[@]}" source --download-only apr cunit msgpack-c) \
    >>"$log" 2>&1 || fail "apt-get source"
fi

cat >"$work/toolchain.cmake" <<TC
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(CMAKE_C_COMPILER $HOST-gcc)
set(CMAKE_CXX_COMPILER $HOST-g++)
set(CMAKE_RC_COMPILER $HOST-windres)
set(CMAKE_FIND_ROOT_PATH /usr/$HOST)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
TC
rm -rf "$prefix"
mkdir -p "$prefix/include/apr-1" "$prefix/lib"
cd "$work"

# ---- APR (its own CMakeLists; four small fixes, see shared notes)
step "building APR $APR"
tar xf "$src"/apr_$APR.orig.tar.bz2
# 1. The build runs the cross-compiled gen_test_char.exe on the host: build
#    that generator for the host instead (its output is identical).
gcc -DWIN32 -o gen_test_char apr-$APR/tools/gen_test_char.c
sed -i "s|COMMAND \$<TARGET_FILE:gen_test_char> >|COMMAND $work/gen_test_char >|" \
  apr-$APR/CMakeLists.txt
grep -q "COMMAND $work/gen_test_char >" apr-$APR/CMakeLists.txt || fail "APR fix 1"
# 2. COM_NO_WINDOWS_H: APR's MSVC trick around wtypes.h breaks MinGW's.
# 3. Atomic builtins: otherwise win32 atomics call a Unix-only helper.
# 4. No IPv6: MinGW lacks names APR's win32 IPv6 code expects.
cmake -S apr-$APR -B apr-build -DCMAKE_TOOLCHAIN_FILE="$work/toolchain.cmake" \
  -DCMAKE_BUILD_TYPE=Release -DAPR_HAVE_IPV6=OFF \
  -DCMAKE_C_FLAGS="-DCOM_NO_WINDOWS_H -DHAVE_ATOMIC_BUILTINS=1 -DHAVE_ATOMIC_BUILTINS64=1" \
  >>"$log" 2>&1 || fail "APR configure"
cmake --build apr-build --target apr-1 -j2 >>"$log" 2>&1 || fail "APR build"
install -m644 apr-$APR/include/apr_*.h apr-build/apr.h "$prefix/include/apr-1/"
install -m644 apr-build/libapr-1.a "$prefix/lib/"

# ---- CUnit (its shipped configure; no fixes)
step "building CUnit $CUNIT"
tar xf "$src"/cunit_$CUNIT*.orig.tar.gz
(cd cunit-$CUNIT* && ./configure --host=$HOST --build="$(./config.guess)" \
   --prefix="$prefix" --disable-shared --enable-static >>"$log" 2>&1 &&
 make -C CUnit -j2 >>"$log" 2>&1 && make -C CUnit install >>"$log" 2>&1) \
  || fail "CUnit"

# ---- msgpack-c (its CMake; no fixes)
step "building msgpack-c $MSGPACK"
tar xf "$src"/msgpack-c_$MSGPACK.orig.tar.gz
cmake -S msgpack-c-$MSGPACK -B msgpack-build \
  -DCMAKE_TOOLCHAIN_FILE="$work/toolchain.cmake" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_INSTALL_PREFIX="$prefix" -DMSGPACK_BUILD_TESTS=OFF \
  -DMSGPACK_BUILD_EXAMPLES=OFF -DMSGPACK_ENABLE_SHARED=OFF >>"$log" 2>&1 \
  || fail "msgpack-c configure"
cmake --build msgpack-build -j2 >>"$log" 2>&1 || fail "msgpack-c build"
cmake --install msgpack-build >>"$log" 2>&1 || fail "msgpack-c install"

# ---- every archive links: no unresolved symbols
echo 'int main(void){return 0;}' >linkcheck.c
$HOST-gcc linkcheck.c -o linkcheck.exe -static -Wl,--whole-archive \
  "$prefix"/lib/libapr-1.a "$prefix"/lib/libcunit.a "$prefix"/lib/libmsgpackc.a \
  -Wl,--no-whole-archive -lws2_32 -lmswsock -lrpcrt4 >>"$log" 2>&1 \
  || fail "link check"
touch "$prefix/.complete"
step "done"
echo "$prefix"
