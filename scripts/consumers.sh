#!/usr/bin/env bash
# consumers.sh - mproc as its users get it: installed, packaged, documented,
# and built from a project outside the tree. Each leg prints one line
# "NAME: N passed, N failed, N skipped" (scripts/test.sh adds them up);
# exit 1 when any leg failed.
#
#   scripts/consumers.sh          every leg
#   SKIP_WIN=1 / SKIP_DEB=1       leave the MinGW legs / the .deb leg out
#
# Legs (Linux):
#   docs                 Doxygen over the public headers, zero warnings;
#                        `man mproc_process_start` finds the installed page
#   abi                  the installed libmproc.so exports exactly the API
#   consumer-cmake       find_package(mproc) + mproc::mproc, shared and static
#   consumer-pkgconfig   a Makefile with pkg-config: mproc.pc (shared) and
#                        mproc-static.pc
#   consumer-fetchcontent  FetchContent of the source tree: only the library
#                        builds (no mproc test, example or bench target, no
#                        -Werror), with a C compiler alone; the shared one
#                        with BUILD_SHARED_LIBS=ON
#   readme               every complete C program in README.md, compiled with
#                        -Wall -Wextra -Werror against the installed package
#                        and run under each start method
#   consumer-deb         CPack's libmproc0 and libmproc-dev installed with
#                        apt-get (as root; removed afterwards), then the
#                        CMake and pkg-config consumers against /usr
# Legs (MinGW, run under Wine): consumer-win32-cmake, -pkgconfig,
# -fetchcontent, against a static MinGW install.
#
# Everything is built under build/consumers (the install prefixes) and a
# temporary directory outside the tree (the downstream projects).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
jobs=${JOBS:-2}
work=$(mktemp -d "${TMPDIR:-/tmp}/mproc-consumers.XXXXXX")
trap 'rm -rf "$work"' EXIT
any_failed=0

# leg NAME FUNCTION: run FUNCTION (which calls pass/fail/skip), print the
# leg's line. A function that fails outright counts as one failure.
leg() {
  local name=$1 fn=$2 log=$work/$1.log
  P=0 F=0 S=0
  if ! "$fn" >"$log" 2>&1; then F=$((F + 1)); fi
  if [ "$F" -ne 0 ]; then
    any_failed=1
    tail -n 40 "$log" | sed "s/^/  [$name] /"
  fi
  grep -E '^skipped: ' "$log" | sed 's/^/  /' || true
  echo "$name: $P passed, $F failed, $S skipped"
}
pass() { P=$((P + 1)); echo "passed: $*"; }
skip() { S=$((S + 1)); echo "skipped: $*"; }
# check WHAT CMD...: run CMD, count it.
check() {
  local what=$1; shift
  if "$@"; then pass "$what"; else F=$((F + 1)); echo "FAILED: $what"; fi
}

cmake_build() { # src build-dir args...
  local src=$1 dir=$2; shift 2
  cmake -S "$src" -B "$dir" -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null &&
    cmake --build "$dir" -j"$jobs" >/dev/null
}

# ------------------------------------------------------------ the install
prefix=$root/build/consumers/prefix
install_mproc() {
  rm -rf "$prefix" build/consumers/lib
  cmake -S . -B build/consumers/lib -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_INSTALL_PREFIX="$prefix" -DMPROC_BUILD_TESTS=OFF \
    -DMPROC_BUILD_EXAMPLES=OFF -DMPROC_BUILD_BENCH=OFF -DMPROC_DOCS=ON >/dev/null
  cmake --build build/consumers/lib -j"$jobs"
  cmake --install build/consumers/lib >/dev/null
}

docs_leg() {
  # The build above ran doxygen with WARN_AS_ERROR=FAIL_ON_WARNINGS.
  check "doxygen: no warnings" test ! -s build/consumers/lib/docs/warnings.log
  check "man mproc_process_start" \
    bash -c "man -M '$prefix/share/man' -w mproc_process_start >/dev/null &&
             man -M '$prefix/share/man' mproc_process_start 2>/dev/null |
             grep -q mproc_process_start"
  check "html reference" test -f "$prefix/share/doc/mproc/html/index.html"
}

abi_leg() {
  check "exports = API" scripts/check-exports.sh "$prefix/lib/libmproc.so" \
    "$prefix/include"
  check "soname libmproc.so.0" bash -c \
    "readelf -d '$prefix/lib/libmproc.so' | grep -q 'SONAME.*\[libmproc.so.0\]'"
}

# run_app WHAT EXE [needs-libmproc.so: yes|no]
run_app() {
  local what=$1 exe=$2 want=$3 needed
  needed=$(readelf -d "$exe" | grep -c 'NEEDED.*libmproc\.so' || true)
  if [ "$want" = yes ] && [ "$needed" -eq 0 ]; then
    echo "FAILED: $what does not link libmproc.so"; F=$((F + 1)); return
  fi
  if [ "$want" = no ] && [ "$needed" -ne 0 ]; then
    echo "FAILED: $what links libmproc.so, not the static library"
    F=$((F + 1)); return
  fi
  check "$what" timeout 120 "$exe"
}

consumer_cmake_leg() { # [prefix-path]
  local pp=${1-$prefix}
  cp -r tests/consumer "$work/cm"
  check "build: find_package (shared)" cmake_build "$work/cm" "$work/cm/shared" \
    ${pp:+-DCMAKE_PREFIX_PATH="$pp"}
  run_app "find_package + mproc::mproc (shared)" "$work/cm/shared/app" yes
  check "build: find_package (static)" cmake_build "$work/cm" "$work/cm/static" \
    ${pp:+-DCMAKE_PREFIX_PATH="$pp"} -DMPROC_USE_STATIC_LIBS=ON
  run_app "find_package + mproc::mproc (static)" "$work/cm/static/app" no
  rm -rf "$work/cm"
}

consumer_pkgconfig_leg() { # [pkgconfig-dir]
  local pcdir=${1-$prefix/lib/pkgconfig}
  cp -r tests/consumer "$work/pc"
  check "build: make with mproc.pc" env PKG_CONFIG_PATH="$pcdir" make -s -C "$work/pc"
  LD_LIBRARY_PATH=${pcdir:+$prefix/lib} run_app "pkg-config mproc (shared)" \
    "$work/pc/app" yes
  make -s -C "$work/pc" clean
  check "build: make with mproc-static.pc" env PKG_CONFIG_PATH="$pcdir" \
    make -s -C "$work/pc" MPROC_PC=mproc-static
  run_app "pkg-config mproc-static" "$work/pc/app" no
  check "pkg-config --static --libs mproc" bash -c \
    "PKG_CONFIG_PATH='$pcdir' pkg-config --static --libs mproc | grep -q -- -lnettle"
  rm -rf "$work/pc"
}

consumer_fetchcontent_leg() {
  local b=$work/fc/build targets
  cp -r tests/consumer "$work/fc"
  check "build: FetchContent" cmake_build "$work/fc/subproject" "$b" \
    -DMPROC_SOURCE_DIR="$root" -DCMAKE_EXPORT_COMPILE_COMMANDS=ON
  run_app "FetchContent + mproc::mproc" "$b/app" no
  # Every target of the build: the app and mproc's library (and its
  # docs helper, not built by default), nothing else.
  targets=$(cmake --build "$b" --target help | sed -n 's/^\.\.\. \([A-Za-z0-9_]*\)$/\1/p' |
            grep -vxE 'all|clean|depend|edit_cache|rebuild_cache|install(/.*)?|list_install_components|package(_source)?|test' | sort | tr '\n' ' ')
  check "only the library's targets: $targets" \
    test "$targets" = "app mproc_docs mproc_objects mproc_static "
  check "no -Werror in mproc's compile lines" bash -c \
    "! grep -E '\"command\".*-Werror.*_deps/mproc' '$b/compile_commands.json' &&
     ! grep -B2 '\"file\": \"$root/' '$b/compile_commands.json' | grep -q -- -Werror"
  check "no C++ compiler configured" bash -c "! grep -q '^CMAKE_CXX_COMPILER:' '$b/CMakeCache.txt'"
  # BUILD_SHARED_LIBS chooses the shared library, as CMake users expect.
  check "build: FetchContent, BUILD_SHARED_LIBS=ON" cmake_build \
    "$work/fc/subproject" "$work/fc/shared" -DMPROC_SOURCE_DIR="$root" \
    -DBUILD_SHARED_LIBS=ON
  run_app "FetchContent + mproc::mproc (BUILD_SHARED_LIBS=ON)" \
    "$work/fc/shared/app" yes
  rm -rf "$work/fc"
}

readme_leg() {
  local d=$work/readme n
  mkdir -p "$d"
  python3 scripts/readme-snippets.py README.md "$d" || { F=$((F + 1)); return; }
  for src in "$d"/*.c; do
    n=$(basename "$src" .c)
    if ! cc -Wall -Wextra -Werror -o "$d/$n" "$src" \
         $(PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config --cflags --libs mproc-static); then
      echo "FAILED: $n does not compile"; F=$((F + 1)); continue
    fi
    for m in fork spawn forkserver; do
      check "README $n ($m)" env MPROC_START_METHOD=$m timeout 120 "$d/$n"
    done
  done
}

consumer_deb_leg() {
  local debs=build/consumers/deb
  if [ "$(id -u)" -ne 0 ]; then skip "needs root to install the packages"; return; fi
  if dpkg-query -W -f='${Status}\n' libmproc0 libmproc-dev 2>/dev/null | grep -q 'install ok installed'; then
    skip "libmproc0/libmproc-dev already installed on this machine: not touched"; return
  fi
  check "build: scripts/package.sh" scripts/package.sh "$debs"
  dpkg-deb -f "$debs"/libmproc0_*.deb Depends
  dpkg-deb -f "$debs"/libmproc-dev_*.deb Depends
  check "libmproc0 depends on its libraries" bash -c \
    "dpkg-deb -f '$debs'/libmproc0_*.deb Depends | grep -q libapr1 &&
     dpkg-deb -f '$debs'/libmproc0_*.deb Depends | grep -q libnettle8"
  # From here on the packages may be installed: remove them however this ends.
  trap 'DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq libmproc-dev libmproc0 >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
  check "apt-get install ./libmproc0_*.deb ./libmproc-dev_*.deb" \
    env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    "$root/$debs"/libmproc0_*.deb "$root/$debs"/libmproc-dev_*.deb
  check "man page in libmproc-dev" bash -c \
    "dpkg -L libmproc-dev | grep -q '/usr/share/man/man3/mproc_process_start.3'"
  check "man mproc_process_start" bash -c "man -w mproc_process_start | grep -q '^/usr/share/man'"
  consumer_cmake_leg ""
  consumer_pkgconfig_leg ""
  DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq libmproc-dev libmproc0 >/dev/null
  trap 'rm -rf "$work"' EXIT
  check "packages removed" bash -c "! dpkg-query -W -f='\${Status}' libmproc0 2>/dev/null | grep -q 'install ok installed'"
}

# ------------------------------------------------------------ MinGW
wprefix=$root/build/consumers/win-prefix
win_toolchain=$work/mingw.cmake
install_mproc_win() {
  rm -rf "$wprefix" build/consumers/win-lib
  cmake -S . -B build/consumers/win-lib -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_TOOLCHAIN_FILE="$root/cmake/mingw-w64.cmake" \
    -DCMAKE_INSTALL_PREFIX="$wprefix" -DMPROC_BUILD_TESTS=OFF \
    -DMPROC_BUILD_EXAMPLES=OFF -DMPROC_BUILD_BENCH=OFF >/dev/null
  cmake --build build/consumers/win-lib -j"$jobs"
  cmake --install build/consumers/win-lib >/dev/null
  win_deps=$(sed -n 's/^MPROC_WIN_DEPS:PATH=//p' build/consumers/win-lib/CMakeCache.txt)
  # A downstream project's own MinGW toolchain file: nothing of mproc's.
  cat >"$win_toolchain" <<EOF
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_C_COMPILER x86_64-w64-mingw32-gcc)
set(CMAKE_FIND_ROOT_PATH /usr/x86_64-w64-mingw32 "$wprefix" "$win_deps")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
EOF
}

win_run() { check "$1" timeout 300 scripts/wine-run.sh "$2"; }

consumer_win32_cmake_leg() {
  cp -r tests/consumer "$work/wcm"
  check "build: find_package (MinGW)" cmake_build "$work/wcm" "$work/wcm/b" \
    -DCMAKE_TOOLCHAIN_FILE="$win_toolchain"
  win_run "find_package + mproc::mproc (MinGW, static)" "$work/wcm/b/app.exe"
  rm -rf "$work/wcm"
}

consumer_win32_pkgconfig_leg() {
  cp -r tests/consumer "$work/wpc"
  check "build: make with mproc-static.pc (MinGW)" \
    env PKG_CONFIG_LIBDIR="$wprefix/lib/pkgconfig" make -s -C "$work/wpc" \
    CC=x86_64-w64-mingw32-gcc MPROC_PC=mproc-static LDFLAGS="-static -L$win_deps/lib"
  win_run "pkg-config mproc-static (MinGW)" "$work/wpc/app.exe"
  rm -rf "$work/wpc"
}

consumer_win32_fetchcontent_leg() {
  cp -r tests/consumer "$work/wfc"
  check "build: FetchContent (MinGW)" cmake_build "$work/wfc/subproject" \
    "$work/wfc/b" -DCMAKE_TOOLCHAIN_FILE="$win_toolchain" \
    -DMPROC_SOURCE_DIR="$root" -DMPROC_WIN_DEPS="$win_deps"
  win_run "FetchContent + mproc::mproc (MinGW)" "$work/wfc/b/app.exe"
  rm -rf "$work/wfc"
}

# ------------------------------------------------------------ run
t0=$SECONDS
if install_mproc >"$work/install.log" 2>&1; then
  leg docs docs_leg
  leg abi abi_leg
  leg consumer-cmake consumer_cmake_leg
  leg consumer-pkgconfig consumer_pkgconfig_leg
  leg consumer-fetchcontent consumer_fetchcontent_leg
  leg readme readme_leg
else
  tail -n 40 "$work/install.log"
  echo "install: 0 passed, 1 failed, 0 skipped"; any_failed=1
fi
if [ -z "${SKIP_DEB:-}" ]; then leg consumer-deb consumer_deb_leg; fi
echo "  (Linux consumer legs: $((SECONDS - t0)) s)"
if [ -z "${SKIP_WIN:-}" ]; then
  t0=$SECONDS
  if install_mproc_win >"$work/install-win.log" 2>&1; then
    leg consumer-win32-cmake consumer_win32_cmake_leg
    leg consumer-win32-pkgconfig consumer_win32_pkgconfig_leg
    leg consumer-win32-fetchcontent consumer_win32_fetchcontent_leg
  else
    tail -n 40 "$work/install-win.log"
    echo "install-win32: 0 passed, 1 failed, 0 skipped"; any_failed=1
  fi
  echo "  (MinGW consumer legs: $((SECONDS - t0)) s)"
fi
exit $any_failed
