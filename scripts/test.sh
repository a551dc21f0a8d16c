#!/usr/bin/env bash
# Builds mproc and runs the whole test suite: every suite under every start
# method (the legs), then again under ASan+UBSan, then the fuzzers for a
# bounded time. Prints one summary line per leg and a closing total.
#
#   scripts/test.sh            everything
#   SKIP_WIN=1 SKIP_ASAN=1 SKIP_FUZZ=1 SKIP_CONSUMERS=1   skip those stages
#   SKIP_VALGRIND=1 SKIP_FAULT=1                          and these
#   (SKIP_WIN also leaves out the MinGW consumer legs; SKIP_DEB=1 the .deb one)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
scripts/deps.sh clang libclang-rt-14-dev
# Open MPI for the Pool's MPI backend (the linux-mpi leg); without it (no
# root to install it) that leg says it is skipped. iproute2: a spawn-mode
# test brings up loopback in a network namespace of its own.
scripts/deps.sh libopenmpi-dev openmpi-bin iproute2 || true

jobs=2
total_pass=0 total_fail=0 total_skip=0 failed_legs=()

# Runs the ctest entries of one start method and sums CUnit's counts.
run_leg() { # name build-dir method
  local name=$1 dir=$2 method=$3 log
  log=$(mktemp)
  ctest --test-dir "$dir" -R "^${method}\\." -j"$jobs" --output-on-failure \
    -V >"$log" 2>&1 || true
  local pass fail skip bad
  pass=$(awk '$1 ~ /^[0-9]+:$/ && $2=="tests" {p+=$5} END{print p+0}' "$log")
  fail=$(awk '$1 ~ /^[0-9]+:$/ && $2=="tests" {f+=$6} END{print f+0}' "$log")
  skip=$(grep -c 'skipped: ' "$log" || true)
  pass=$((pass - skip))
  bad=$(grep -cE ' [1-9][0-9]* tests failed out of|\*\*\*(Failed|Timeout|Exception)' "$log" || true)
  if [ "$fail" -ne 0 ] || [ "$bad" -ne 0 ] || [ "$pass" -eq 0 ]; then
    failed_legs+=("$name")
    grep -E 'FAILED|\*\*\*|Sanitizer|runtime error| - ' "$log" | head -40 || true
    [ "$fail" -eq 0 ] && fail=1
  fi
  grep -oE '[A-Za-z_0-9]+ \.\.\.skipped: .*' "$log" | sed 's/^/  /' | sort -u || true
  echo "$name: $pass passed, $fail failed, $skip skipped"
  total_pass=$((total_pass + pass)) total_fail=$((total_fail + fail))
  total_skip=$((total_skip + skip))
  rm -f "$log"
}

build() { # dir build-type extra-cmake-args...
  local dir=$1 type=$2; shift 2
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE="$type" -DMPROC_WERROR=ON "$@" >/dev/null
  cmake --build "$dir" -j"$jobs" ${target:+--target "$target"} >"$dir.log" 2>&1 ||
    { cat "$dir.log"; exit 1; }
}

# Optimised: -O2 finds warnings (maybe-uninitialized) that -O0 does not.
# With Open MPI there, the same build has the Pool's MPI backend.
mpi_opt=()
command -v mpicc >/dev/null && command -v mpirun >/dev/null && mpi_opt=(-DMPROC_WITH_MPI=ON)
build build/ci RelWithDebInfo "${mpi_opt[@]}"
for m in fork spawn forkserver; do run_leg "linux-$m" build/ci "$m"; done

# The pool suites again with the pools on MPI ranks: each under
# `mpirun -n 4 --oversubscribe` (as root with OMPI_ALLOW_RUN_AS_ROOT*),
# rank 0 running the tests (tests/mpi.cmake). About a minute.
if [ ${#mpi_opt[@]} -gt 0 ]; then
  run_leg "linux-mpi" build/ci mpi
else
  echo "linux-mpi: skipped (Open MPI not installed: scripts/deps.sh libopenmpi-dev openmpi-bin)"
fi

# The Windows leg: the same sources cross-built with MinGW, the same suite
# run under Wine with spawn, the only method Windows has.
if [ -z "${SKIP_WIN:-}" ]; then
  scripts/deps.sh gcc-mingw-w64-x86-64 g++-mingw-w64-x86-64 wine wine64
  build build/win RelWithDebInfo -DCMAKE_TOOLCHAIN_FILE="$root/cmake/mingw-w64.cmake" \
    -DMPROC_BUILD_BENCH=OFF
  # A new Wine prefix is made once, before tests start side by side.
  scripts/wine-run.sh build/win/tests/mproc_tests.exe --list >/dev/null
  run_leg "win32-spawn" build/win spawn
fi

if [ -z "${SKIP_ASAN:-}" ]; then
  build build/asan Debug -DMPROC_SANITIZE=ON -DMPROC_BUILD_EXAMPLES=OFF -DMPROC_BUILD_BENCH=OFF
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  for m in fork spawn forkserver; do run_leg "linux-asan-$m" build/asan "$m"; done
  unset ASAN_OPTIONS UBSAN_OPTIONS
fi

# Valgrind memcheck of the process and queues suites under each method,
# and of the pool suite under spawn:
# the test process must end with 0 errors and 0 bytes definitely lost.
# Children run natively (re-executed) or, forked, silently. Valgrind 3.19
# does not know pidfd_open: children are tracked by pid there (the
# fallback the nopidfd ctest entries force). A few minutes.
valgrind_one() { # method suite
  local log=build/valgrind/$1.$2
  valgrind --child-silent-after-fork=yes --leak-check=full \
    --errors-for-leak-kinds=definite --log-file="$log.vg" \
    build/ci/tests/mproc_tests --method "$1" --suite "$2" >"$log.out" 2>&1 &&
    grep -q 'ERROR SUMMARY: 0 errors' "$log.vg" &&
    grep -qE 'definitely lost: 0 bytes|no leaks are possible' "$log.vg" &&
    echo "ok $1.$2" || echo "FAILED $1.$2 (build/valgrind/$1.$2.*)"
}
if [ -z "${SKIP_VALGRIND:-}" ]; then
  scripts/deps.sh valgrind
  rm -rf build/valgrind && mkdir -p build/valgrind
  export -f valgrind_one
  # The pool suite once (spawn: its workers run natively; the parent's
  # side is the same under every method, and each method's start path is
  # the process suite's), the others under each method.
  vg=$( (echo "spawn pool"
         for m in fork spawn forkserver; do for s in process queues; do
           echo "$m $s"; done; done) | xargs -P"$jobs" -L1 bash -c 'valgrind_one "$@"' _)
  vpass=$(grep -c '^ok ' <<<"$vg" || true)
  vfail=$(grep -c '^FAILED ' <<<"$vg" || true)
  grep '^FAILED ' <<<"$vg" | sed 's/^/  /' || true
  echo "linux-valgrind: $vpass passed, $vfail failed, 0 skipped"
  [ "$vfail" -eq 0 ] && [ "$vpass" -gt 0 ] || failed_legs+=(linux-valgrind)
  total_pass=$((total_pass + vpass)) total_fail=$((total_fail + vfail))
fi

# Fault injection: every scenario with each OS call it makes failing in
# turn (tests/fault/), in builds whose OS wrappers fail on demand. The
# summary counts the faults injected and what became of them.
fault_leg() { # name build-dir driver-command...
  local name=$1 dir=$2 log; shift 2
  log=$(mktemp)
  "$@" >"$log" 2>&1 || true
  grep '^FAIL' "$log" | head -20 | sed 's/^/  /' || true
  local line bad
  line=$(grep '^faults: ' "$log" | tr -d '\r' | tail -1)
  bad=$(sed -n 's/.*, \([0-9]*\) failures$/\1/p' <<<"$line")
  echo "$name: ${line#faults: }"
  if [ -z "$line" ] || [ "${bad:-1}" -ne 0 ]; then
    failed_legs+=("$name"); total_fail=$((total_fail + ${bad:-1}))
  fi
  rm -f "$log"
}
if [ -z "${SKIP_FAULT:-}" ]; then
  target=mproc_faults build build/fault RelWithDebInfo -DMPROC_FAULT_INJECTION=ON \
    -DMPROC_BUILD_EXAMPLES=OFF -DMPROC_BUILD_BENCH=OFF
  fault_leg linux-faults build/fault build/fault/tests/mproc_faults
  if [ -z "${SKIP_WIN:-}" ]; then
    target=mproc_faults build build/win-fault RelWithDebInfo -DMPROC_FAULT_INJECTION=ON \
      -DCMAKE_TOOLCHAIN_FILE="$root/cmake/mingw-w64.cmake" \
      -DMPROC_BUILD_EXAMPLES=OFF -DMPROC_BUILD_BENCH=OFF
    fault_leg win32-faults build/win-fault \
      scripts/wine-run.sh build/win-fault/tests/mproc_faults.exe
  fi
fi

# The consumer legs (scripts/consumers.sh): the install, the API reference,
# the exports, downstream projects outside the tree (CMake package shared
# and static, pkg-config, FetchContent, the .deb packages; MinGW under
# Wine), the README's programs under each method. Each prints its own line.
# About 1-1.5 minutes on the 2-core machine: 20-65 s the Linux legs (four
# Release builds of the library, two with the docs), 15-20 s the MinGW ones.
# With Open MPI installed, the MPI part is installed and packaged too and
# consumer-mpi runs the seeds' pool program under mpirun (5-10 s a run, 4
# runs with the .deb leg's): about 1 minute more (41 s without MPI, 99 s
# with it, no .deb leg, at load average 6).
if [ -z "${SKIP_CONSUMERS:-}" ]; then
  scripts/deps.sh doxygen dpkg-dev file man-db
  log=$(mktemp)
  SKIP_WIN=${SKIP_WIN:-} scripts/consumers.sh | tee "$log" || true
  while read -r name p f s; do
    total_pass=$((total_pass + p)) total_fail=$((total_fail + f))
    total_skip=$((total_skip + s))
    [ "$f" -eq 0 ] || failed_legs+=("${name%:}")
  done < <(sed -nE 's/^([a-z0-9-]+:) ([0-9]+) passed, ([0-9]+) failed, ([0-9]+) skipped$/\1 \2 \3 \4/p' "$log")
  grep -qE '^consumer-cmake: [1-9]' "$log" || failed_legs+=(consumers)
  rm -f "$log"
fi

if [ -z "${SKIP_FUZZ:-}" ] && [ -x fuzz/run.sh ]; then
  if FUZZ_SECONDS=${FUZZ_SECONDS:-30} fuzz/run.sh build/fuzz; then
    echo "fuzz: passed"
  else
    echo "fuzz: FAILED"; failed_legs+=(fuzz); total_fail=$((total_fail + 1))
  fi
fi

echo
[ ${#failed_legs[@]} -eq 0 ] || echo "failed legs: ${failed_legs[*]}"
echo "total: $total_pass passed, $total_fail failed, $total_skip skipped"
[ ${#failed_legs[@]} -eq 0 ]
