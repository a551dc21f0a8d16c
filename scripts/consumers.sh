#!/usr/bin/env bash
# consumers.sh - mproc as its users get it: installed, packaged, documented,
# and built from a project outside the tree. Each leg prints one line
# "NAME: N passed, N failed, N skipped" (scripts/test.sh adds them up);
# exit 1 when any leg failed.
#
#   scripts/consumers.sh          every leg
#   SKIP_WIN=1 / SKIP_DEB=1       leave the MinGW legs / the .deb leg out
#   MPROC_WITH_MPI=OFF            no MPI part even where Open MPI is installed
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
#   consumer-mpi         the Pool's MPI backend (installed with Open MPI's
#                        mpicc and mpirun there): the seeds' pool program
#                        built with find_package(mproc COMPONENTS mpi) +
#                        mproc::mpi and with mproc-mpi.pc, its output under
#                        `mpirun -n 4 --oversubscribe` the same as alone;
#                        a core consumer needs and links no MPI; without
#                        the MPI part (the core's components alone), the
#                        mpi component is reported missing
#   consumer-deb         CPack's libmproc0 and libmproc-dev installed with
#                        apt-get (as root; removed afterwards), then the
#                        CMake and pkg-config consumers against /usr; then
#                        libmproc-mpi-dev, where built, and the MPI ones
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
# The same install without the MPI part: the components the core's
# packages (libmproc0, libmproc-dev) hold.
core_prefix=$root/build/consumers/core-prefix
# The MPI part where Open MPI is installed; MPROC_WITH_MPI=OFF leaves it
# out (consumer-mpi then checks that the mpi component is missing).
have_mpi=
if [ "${MPROC_WITH_MPI:-}" != OFF ] && command -v mpicc >/dev/null &&
   command -v mpirun >/dev/null; then
  have_mpi=1
fi
install_mproc() {
  rm -rf "$prefix" "$core_prefix" build/consumers/lib
  cmake -S . -B build/consumers/lib -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_INSTALL_PREFIX="$prefix" -DMPROC_BUILD_TESTS=OFF \
    -DMPROC_BUILD_EXAMPLES=OFF -DMPROC_BUILD_BENCH=OFF -DMPROC_DOCS=ON \
    ${have_mpi:+-DMPROC_WITH_MPI=ON} >/dev/null
  cmake --build build/consumers/lib -j"$jobs"
  cmake --install build/consumers/lib >/dev/null
  for c in runtime dev; do
    cmake --install build/consumers/lib --component $c --prefix "$core_prefix" >/dev/null
  done
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

# run_app WHAT EXE [needs-libmproc.so: yes|no]; the program of a core
# consumer never links MPI.
run_app() {
  local what=$1 exe=$2 want=$3 needed
  if readelf -d "$exe" | grep -q 'NEEDED.*libmpi'; then
    echo "FAILED: $what links MPI"; F=$((F + 1)); return
  fi
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

# The seeds' pool program (examples/pool_async.c: 100 tasks, each prints
# its number) as a downstream project's app.c.
mpi_app_source() { # dir
  cp -r tests/consumer "$1"
  cp examples/pool_async.c "$1/app.c"
  cp examples/common.h "$1/"
}

# run_mpi_app WHAT EXE: the program alone and under mpirun (as root too)
# prints the same lines, in any order; without the backend plugged in
# every rank would run main and print them all.
run_mpi_app() {
  local what=$1 exe=$2
  check "$what links MPI" bash -c "readelf -d '$exe' | grep -q 'NEEDED.*libmpi'"
  check "$what: ./app" bash -c \
    "set -o pipefail; timeout 120 '$exe' | sort >'$exe.local'"
  check "$what: 100 lines" test "$(wc -l <"$exe.local")" -eq 100
  check "$what: mpirun -n 4 --oversubscribe ./app, the same output" bash -c \
    "set -o pipefail
     OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 timeout 180 \
       mpirun -n 4 --oversubscribe '$exe' | sort >'$exe.mpi' &&
     cmp '$exe.local' '$exe.mpi'"
}

# consumer_mpi_cmake [prefix-path]
consumer_mpi_cmake() {
  local pp=${1-$prefix}
  mpi_app_source "$work/mc"
  check "build: find_package(mproc REQUIRED COMPONENTS mpi)" cmake_build \
    "$work/mc/mpi" "$work/mc/b" ${pp:+-DCMAKE_PREFIX_PATH="$pp"}
  run_mpi_app "find_package + mproc::mpi" "$work/mc/b/app"
  rm -rf "$work/mc"
}

# consumer_mpi_pkgconfig [pkgconfig-dir]
consumer_mpi_pkgconfig() {
  local pcdir=${1-$prefix/lib/pkgconfig}
  mpi_app_source "$work/mp"
  check "pkg-config --libs mproc-mpi has -u mproc__mpi_plugin" bash -c \
    "PKG_CONFIG_PATH='$pcdir' pkg-config --libs mproc-mpi | grep -q -- '-Wl,-u,mproc__mpi_plugin'"
  check "build: make with mproc-mpi.pc" env PKG_CONFIG_PATH="$pcdir" \
    make -s -C "$work/mp" MPROC_PC=mproc-mpi
  run_mpi_app "pkg-config mproc-mpi" "$work/mp/app"
  rm -rf "$work/mp"
}

# check_find WHAT PREFIX FIND-ARGS ok|fails TEXT: configure
# tests/consumer/components (find_package(mproc 0.2 FIND-ARGS)) against
# PREFIX; it must succeed or fail as told and print TEXT (CMake's wrapping
# of messages undone).
check_find() {
  local what=$1 pp=$2 args=$3 want=$4 text=$5 rc=0
  rm -rf "$work/fcomp"
  cmake -S tests/consumer/components -B "$work/fcomp" \
    -DCMAKE_PREFIX_PATH="$pp" -DMPROC_FIND="$args" >"$work/fcomp.log" 2>&1 || rc=1
  cat "$work/fcomp.log"
  if { [ "$want" = ok ] && [ $rc -eq 0 ]; } ||
     { [ "$want" = fails ] && [ $rc -ne 0 ]; }; then
    if tr '\n' ' ' <"$work/fcomp.log" | tr -s ' ' | grep -qF -- "$text"; then
      pass "$what"; return
    fi
  fi
  F=$((F + 1)); echo "FAILED: $what"
}

consumer_mpi_leg() {
  # The core's components alone: a package without the MPI part.
  check_find "without the MPI part: REQUIRED COMPONENTS mpi fails, saying why" \
    "$core_prefix" "REQUIRED COMPONENTS mpi" fails \
    "mproc's component 'mpi' (mproc::mpi, libmproc_mpi.a) is not installed"
  check_find "without the MPI part: OPTIONAL_COMPONENTS mpi finds mproc, not mpi" \
    "$core_prefix" "OPTIONAL_COMPONENTS mpi" ok \
    "mproc: found yes, mpi no, mproc::mpi no"
  check_find "no such component: REQUIRED COMPONENTS bogus fails" \
    "$prefix" "REQUIRED COMPONENTS bogus" fails "mproc has no component 'bogus'"
  if [ -z "$have_mpi" ]; then
    check_find "built without MPI: REQUIRED COMPONENTS mpi fails, saying why" \
      "$prefix" "REQUIRED COMPONENTS mpi" fails \
      "mproc's component 'mpi' (mproc::mpi, libmproc_mpi.a) is not installed"
    skip "no MPI part built: Open MPI (mpicc, mpirun) not installed (scripts/deps.sh libopenmpi-dev openmpi-bin), or MPROC_WITH_MPI=OFF"
    return
  fi
  check_find "with the MPI part: REQUIRED COMPONENTS mpi finds mproc::mpi" \
    "$prefix" "REQUIRED COMPONENTS mpi" ok "mproc: found yes, mpi yes, mproc::mpi yes"
  # A core consumer never needs MPI, even with the MPI part installed.
  cp -r tests/consumer "$work/nompi"
  check "build: find_package(mproc) with MPI unfindable (static)" \
    cmake_build "$work/nompi" "$work/nompi/b" -DCMAKE_PREFIX_PATH="$prefix" \
    -DMPROC_USE_STATIC_LIBS=ON -DCMAKE_DISABLE_FIND_PACKAGE_MPI=ON
  check "find_package(mproc) did not look for MPI" bash -c \
    "! grep -q '^MPI_C' '$work/nompi/b/CMakeCache.txt'"
  run_app "find_package + mproc::mproc (static, no MPI)" "$work/nompi/b/app" no
  rm -rf "$work/nompi"
  consumer_mpi_cmake
  consumer_mpi_pkgconfig
}

consumer_deb_leg() {
  local debs=build/consumers/deb
  if [ "$(id -u)" -ne 0 ]; then skip "needs root to install the packages"; return; fi
  if dpkg-query -W -f='${Status}\n' libmproc0 libmproc-dev libmproc-mpi-dev 2>/dev/null | grep -q 'install ok installed'; then
    skip "libmproc0/libmproc-dev/libmproc-mpi-dev already installed on this machine: not touched"; return
  fi
  # With Open MPI there, package.sh builds libmproc-mpi-dev too.
  check "build: scripts/package.sh" env \
    MPROC_WITH_MPI="$([ -n "$have_mpi" ] && echo ON || echo OFF)" \
    scripts/package.sh "$debs"
  dpkg-deb -f "$debs"/libmproc0_*.deb Depends
  dpkg-deb -f "$debs"/libmproc-dev_*.deb Depends
  check "libmproc0 depends on its libraries" bash -c \
    "dpkg-deb -f '$debs'/libmproc0_*.deb Depends | grep -q libapr1 &&
     dpkg-deb -f '$debs'/libmproc0_*.deb Depends | grep -q libnettle8"
  check "libmproc-dev neither depends on MPI nor holds the MPI part" bash -c \
    "! dpkg-deb -f '$debs'/libmproc-dev_*.deb Depends | grep -qi mpi &&
     ! dpkg-deb -c '$debs'/libmproc-dev_*.deb | grep -qiE 'mproc_mpi|mproc-mpi|mprocMpi'"
  local mpideb=
  if [ -n "$have_mpi" ]; then
    mpideb=$(ls "$root/$debs"/libmproc-mpi-dev_*.deb 2>/dev/null || true)
    dpkg-deb -f "$mpideb" Depends || true
    check "libmproc-mpi-dev built, depending on libmproc-dev and libopenmpi-dev" \
      bash -c "dpkg-deb -f '$mpideb' Depends | grep -q 'libmproc-dev (= ' &&
               dpkg-deb -f '$mpideb' Depends | grep -q libopenmpi-dev"
    check "libmproc-mpi-dev holds libmproc_mpi.a, mprocMpiTargets.cmake, mproc-mpi.pc" \
      bash -c "dpkg-deb -c '$mpideb' | grep -q '/libmproc_mpi\.a$' &&
               dpkg-deb -c '$mpideb' | grep -q '/cmake/mproc/mprocMpiTargets\.cmake$' &&
               dpkg-deb -c '$mpideb' | grep -q '/pkgconfig/mproc-mpi\.pc$'"
  else
    check "no libmproc-mpi-dev without Open MPI" bash -c "! ls '$debs'/libmproc-mpi-dev_*.deb"
  fi
  # From here on the packages may be installed: remove them however this
  # ends (apt-get knows libmproc-mpi-dev only if it was built).
  purge_pkgs="libmproc-dev libmproc0"
  [ -z "$mpideb" ] || purge_pkgs="libmproc-mpi-dev $purge_pkgs"
  trap 'DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq $purge_pkgs >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
  check "apt-get install ./libmproc0_*.deb ./libmproc-dev_*.deb" \
    env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    "$root/$debs"/libmproc0_*.deb "$root/$debs"/libmproc-dev_*.deb
  check "man page in libmproc-dev" bash -c \
    "dpkg -L libmproc-dev | grep -q '/usr/share/man/man3/mproc_process_start.3'"
  check "man mproc_process_start" bash -c "man -w mproc_process_start | grep -q '^/usr/share/man'"
  consumer_cmake_leg ""
  consumer_pkgconfig_leg ""
  if [ -n "$mpideb" ]; then
    check "apt-get install ./libmproc-mpi-dev_*.deb" \
      env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$mpideb"
    consumer_mpi_cmake ""
    consumer_mpi_pkgconfig ""
  fi
  DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq $purge_pkgs >/dev/null
  trap 'rm -rf "$work"' EXIT
  check "packages removed" bash -c "! dpkg-query -W -f='\${Status}\n' $purge_pkgs 2>/dev/null | grep -q 'install ok installed'"
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
  leg consumer-mpi consumer_mpi_leg
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
