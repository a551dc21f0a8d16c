#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each for a bounded time
# from the corpus in fuzz/corpus (new inputs go to a scratch copy, so the
# repository's corpus only changes by hand). Exits non-zero on any crash,
# leak, timeout or sanitizer report.
#   fuzz/run.sh [BUILD_DIR]     FUZZ_SECONDS=30 per target by default
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build/fuzz}
secs=${FUZZ_SECONDS:-30}
CC=clang CXX=clang++ cmake -S . -B "$dir" -DMPROC_FUZZ=ON -DMPROC_BUILD_TESTS=OFF \
  -DMPROC_BUILD_EXAMPLES=OFF -DMPROC_BUILD_BENCH=OFF >/dev/null
cmake --build "$dir" -j2 --target fuzz_bootstrap fuzz_args fuzz_conn >"$dir/build.log" 2>&1 \
  || { cat "$dir/build.log"; exit 1; }
status=0
for t in bootstrap args conn; do
  work=$(mktemp -d)
  cp fuzz/corpus/$t/* "$work/" 2>/dev/null || true
  if "$dir/fuzz/fuzz_$t" "$work" -max_total_time="$secs" -timeout=5 \
      -rss_limit_mb=2048 -max_len=4096 -print_final_stats=1 \
      -artifact_prefix="$dir/fuzz_$t-" >"$dir/fuzz_$t.log" 2>&1; then
    runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$dir/fuzz_$t.log" | grep -oE '[0-9]+$')
    echo "fuzz_$t: ${runs:-?} runs in ${secs}s, no findings"
  else
    echo "fuzz_$t: FAILED"; tail -40 "$dir/fuzz_$t.log"; status=1
  fi
  rm -rf "$work"
done
exit $status
