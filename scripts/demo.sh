#!/usr/bin/env bash
# Builds the examples and runs them: the seeds' Python programs, in C.
#   scripts/demo.sh                      default start method
#   MPROC_START_METHOD=spawn scripts/demo.sh
#   DEMO_PYTHON=1 scripts/demo.sh        also run each Python original
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake -S . -B build/demo -DCMAKE_BUILD_TYPE=Release -DMPROC_BUILD_TESTS=OFF \
  -DMPROC_BUILD_BENCH=OFF >/dev/null
cmake --build build/demo -j2 >build/demo.log 2>&1 || { cat build/demo.log; exit 1; }
echo "start method: ${MPROC_START_METHOD:-default}"
failed=0
for ex in process_basic process_subclass process_join process_isolation \
          current_process terminate daemon daemon_son factorial_sum; do
  echo
  echo "=== $ex  (seed: examples/python/$ex.py)"
  build/demo/examples/$ex || { echo "!!! $ex failed"; failed=1; }
  if [ -n "${DEMO_PYTHON:-}" ]; then
    echo "--- python3 examples/python/$ex.py"
    python3 examples/python/$ex.py
  fi
done
exit $failed
