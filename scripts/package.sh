#!/usr/bin/env bash
# package.sh [OUTDIR] - the Debian packages libmproc0 and libmproc-dev
# (CPack), built for /usr with the API reference, into OUTDIR (default
# build/package); with the Pool's MPI backend also libmproc-mpi-dev
# (libmproc_mpi.a, mproc::mpi, mproc-mpi.pc; depends on libmproc-dev and
# libopenmpi-dev). Install them with
#   apt-get install ./build/package/libmproc0_*.deb ./build/package/libmproc-dev_*.deb
#   apt-get install ./build/package/libmproc-mpi-dev_*.deb   # the MPI part
#
#   MPROC_WITH_MPI=ON|OFF   build the MPI part or not; by default, where
#                           Open MPI (mpicc, mpirun) is installed
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-build/package}
mpi=${MPROC_WITH_MPI:-}
if [ -z "$mpi" ]; then
  mpi=OFF
  command -v mpicc >/dev/null && command -v mpirun >/dev/null && mpi=ON
fi
scripts/deps.sh doxygen dpkg-dev file
cmake -S . -B "$out" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
  -DMPROC_BUILD_TESTS=OFF -DMPROC_BUILD_EXAMPLES=OFF -DMPROC_BUILD_BENCH=OFF \
  -DMPROC_DOCS=ON -DMPROC_WITH_MPI="$mpi" >/dev/null
cmake --build "$out" -j"${JOBS:-2}" >"$out.log" 2>&1 || { cat "$out.log"; exit 1; }
rm -f "$out"/*.deb
(cd "$out" && cpack >>"../$(basename "$out").log" 2>&1) || { cat "$out.log"; exit 1; }
ls "$out"/*.deb
