# Debian packages with CPack (scripts/package.sh runs it):
#   libmproc0     the shared library (libmproc.so.0); its dependencies
#                 (libapr1, libmsgpackc2, libnettle8, libc6) computed by
#                 dpkg-shlibdeps
#   libmproc-dev  headers, static library, libmproc.so link, CMake package,
#                 .pc files, man pages and HTML reference (when built with
#                 MPROC_DOCS=ON); depends on libmproc0 of the same version
#                 and on what a static link and the CMake package need
#   libmproc-mpi-dev  with MPROC_WITH_MPI only: the Pool's MPI backend
#                 (libmproc_mpi.a, mprocMpiTargets*.cmake, mproc-mpi.pc);
#                 depends on libmproc-dev of the same version and on
#                 libopenmpi-dev, so that libmproc-dev never pulls in MPI
# Configure with -DCMAKE_INSTALL_PREFIX=/usr for packages.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME mproc)
set(CPACK_PACKAGE_VENDOR "mproc")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)
set(CPACK_PACKAGE_CONTACT "mproc maintainers <mproc@localhost>")
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL runtime dev)
set(CPACK_COMPONENT_DEV_DEPENDS runtime)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_ENABLE_COMPONENT_DEPENDS ON)

set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME libmproc0)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SECTION libs)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SHLIBDEPS ON)
# A shlibs file, so that packages built against libmproc0 depend on it.
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
# CPack puts the project description first, as the synopsis.
set(CPACK_DEBIAN_RUNTIME_DESCRIPTION "mproc gives C programs the model of Python's multiprocessing: processes
started with fork, spawn or forkserver, pipes, queues, locks, shared
memory, pools and managers. This package holds the shared library.")

set(CPACK_DEBIAN_DEV_PACKAGE_NAME libmproc-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
# A static link and the CMake package find APR, msgpack-c and nettle
# through pkg-config.
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS
  "libapr1-dev, libmsgpack-dev, nettle-dev, pkg-config")
set(CPACK_DEBIAN_DEV_DESCRIPTION "mproc gives C programs the model of Python's multiprocessing. This package
holds the headers, the static library, the CMake package (mproc::mproc),
the pkg-config files and the API reference (man pages, HTML).")
set(CPACK_COMPONENT_RUNTIME_DISPLAY_NAME "${CPACK_DEBIAN_RUNTIME_PACKAGE_NAME}")
set(CPACK_COMPONENT_DEV_DISPLAY_NAME "${CPACK_DEBIAN_DEV_PACKAGE_NAME}")
set(CPACK_COMPONENT_RUNTIME_DESCRIPTION "${CPACK_DEBIAN_RUNTIME_DESCRIPTION}")
set(CPACK_COMPONENT_DEV_DESCRIPTION "${CPACK_DEBIAN_DEV_DESCRIPTION}")

if(TARGET mproc_mpi)
  list(APPEND CPACK_COMPONENTS_ALL mpi)
  set(CPACK_COMPONENT_MPI_DEPENDS dev)
  set(CPACK_DEBIAN_MPI_PACKAGE_NAME libmproc-mpi-dev)
  set(CPACK_DEBIAN_MPI_PACKAGE_SECTION libdevel)
  # The CMake package finds MPI (C) with FindMPI, which asks mpicc
  # (libopenmpi-dev); mproc-mpi.pc requires ompi-c (libopenmpi-dev too).
  set(CPACK_DEBIAN_MPI_PACKAGE_DEPENDS "libopenmpi-dev")
  set(CPACK_DEBIAN_MPI_DESCRIPTION "mproc gives C programs the model of Python's multiprocessing. This package
holds the Pool's MPI backend (Open MPI): the static library libmproc_mpi.a,
the CMake component mpi (mproc::mpi) and mproc-mpi.pc. A program linked
with it runs its pools on the ranks of mpirun -n N ./app.")
  set(CPACK_COMPONENT_MPI_DISPLAY_NAME "${CPACK_DEBIAN_MPI_PACKAGE_NAME}")
  set(CPACK_COMPONENT_MPI_DESCRIPTION "${CPACK_DEBIAN_MPI_DESCRIPTION}")
endif()
include(CPack)
