#!/usr/bin/env bash
# docs.sh - build the API reference alone and fail on any Doxygen warning
# (every public function, parameter, return value, type, field and macro
# must be documented). Output: build/docs/docs/html/index.html and
# build/docs/docs/man/man3/ (MANPATH=build/docs/docs/man man mproc_...).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh doxygen
cmake -S . -B build/docs -DMPROC_BUILD_TESTS=OFF -DMPROC_BUILD_EXAMPLES=OFF \
  -DMPROC_BUILD_BENCH=OFF >/dev/null
if cmake --build build/docs --target docs >build/docs.log 2>&1; then
  echo "docs: no warnings; build/docs/docs/html/index.html, build/docs/docs/man/man3"
else
  cat build/docs/docs/warnings.log 2>/dev/null || cat build/docs.log
  echo "docs: FAILED ($(grep -c . build/docs/docs/warnings.log 2>/dev/null || echo ?) warnings)"
  exit 1
fi
