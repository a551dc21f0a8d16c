#!/usr/bin/env bash
# Builds the examples and runs them: the seeds' Python programs, in C.
#   scripts/demo.sh                      default start method
#   MPROC_START_METHOD=spawn scripts/demo.sh
#   DEMO_PYTHON=1 scripts/demo.sh        also run each Python original
#   DEMO_WINE=1 scripts/demo.sh          the Windows build, under Wine
set -euo pipefail
cd "$(dirname "$0")/.."
dir=build/demo run=() exe=""
if [ -n "${DEMO_WINE:-}" ]; then
  scripts/deps.sh gcc-mingw-w64-x86-64 g++-mingw-w64-x86-64 wine wine64
  dir=build/demo-win run=(scripts/wine-run.sh) exe=.exe
  extra=(-DCMAKE_TOOLCHAIN_FILE="$(pwd)/cmake/mingw-w64.cmake")
else
  scripts/deps.sh
  extra=()
fi
cmake -S . -B $dir -DCMAKE_BUILD_TYPE=Release -DMPROC_BUILD_TESTS=OFF \
  -DMPROC_BUILD_BENCH=OFF "${extra[@]}" >/dev/null
cmake --build $dir -j2 >$dir.log 2>&1 || { cat $dir.log; exit 1; }
echo "start method: ${MPROC_START_METHOD:-default}${DEMO_WINE:+ (Windows build, under Wine)}"
failed=0
for ex in process_basic process_subclass process_join process_isolation \
          current_process terminate daemon daemon_son factorial_sum \
          lock_global ticket queue_eval queue_reader_writer manager_queue \
          pool_async pool_apply pool_progress; do
  echo
  echo "=== $ex  (seed: examples/python/$ex.py)"
  "${run[@]}" $dir/examples/$ex$exe || { echo "!!! $ex failed"; failed=1; }
  if [ -n "${DEMO_PYTHON:-}" ]; then
    echo "--- python3 examples/python/$ex.py"
    python3 examples/python/$ex.py
  fi
done
exit $failed
