#!/usr/bin/env bash
# package.sh [OUTDIR] - the Debian packages libmproc0 and libmproc-dev
# (CPack), built for /usr with the API reference, into OUTDIR (default
# build/package). Install them with
#   apt-get install ./build/package/libmproc0_*.deb ./build/package/libmproc-dev_*.deb
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-build/package}
scripts/deps.sh doxygen dpkg-dev file
cmake -S . -B "$out" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
  -DMPROC_BUILD_TESTS=OFF -DMPROC_BUILD_EXAMPLES=OFF -DMPROC_BUILD_BENCH=OFF \
  -DMPROC_DOCS=ON >/dev/null
cmake --build "$out" -j"${JOBS:-2}" >"$out.log" 2>&1 || { cat "$out.log"; exit 1; }
rm -f "$out"/*.deb
(cd "$out" && cpack >>"../$(basename "$out").log" 2>&1) || { cat "$out.log"; exit 1; }
ls "$out"/*.deb
