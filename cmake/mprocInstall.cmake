# Install rules, the CMake package, pkg-config files and the Debian
# packages (CPack). Included by the top-level CMakeLists.txt when
# MPROC_INSTALL is ON (the default when mproc is built on its own).
#
# Layout under the prefix:
#   include/mproc.h, include/mproc/*.h
#   lib/libmproc.so.0.2.0 (soname libmproc.so.0), libmproc.so, libmproc.a
#   lib/libmproc_mpi.a  (MPROC_WITH_MPI only)
#   lib/cmake/mproc/  mprocConfig.cmake, mprocConfigVersion.cmake,
#                     mprocTargets*.cmake, mprocDeps.cmake,
#                     mprocMpiTargets*.cmake (MPROC_WITH_MPI only)
#   lib/pkgconfig/    mproc.pc, mproc-static.pc, mproc-mpi.pc (MPI only)
#   share/man/man3/   one page per header part and per function (docs)
#   share/doc/mproc/  README.md, CHANGELOG.md, LICENSE, html/ (docs)
include(CMakePackageConfigHelpers)

set(MPROC_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/mproc)

# Components: "runtime" is the shared library alone (libmproc0), "dev" the
# rest of the core (libmproc-dev), "mpi" the Pool's MPI backend
# (libmproc-mpi-dev), so that the core's packages never pull in MPI.
install(DIRECTORY include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  COMPONENT dev FILES_MATCHING PATTERN "*.h")
install(TARGETS ${MPROC_LIBRARY_TARGETS} EXPORT mprocTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime
    NAMELINK_COMPONENT dev
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)
install(EXPORT mprocTargets NAMESPACE mproc:: DESTINATION ${MPROC_CMAKEDIR}
  COMPONENT dev)

configure_package_config_file(cmake/mprocConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/mprocConfig.cmake
  INSTALL_DESTINATION ${MPROC_CMAKEDIR})
# 0.x: a new minor version may break the API, so only the same minor
# version is compatible (SameMinorVersion); from 1.0, SameMajorVersion.
write_basic_package_version_file(
  ${CMAKE_CURRENT_BINARY_DIR}/mprocConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/mprocConfig.cmake
  ${CMAKE_CURRENT_BINARY_DIR}/mprocConfigVersion.cmake
  cmake/mprocDeps.cmake
  DESTINATION ${MPROC_CMAKEDIR} COMPONENT dev)

# pkg-config: mproc.pc (the shared library, or the static one with
# --static where only that is installed), mproc-static.pc (the static
# library by name, as libuv-static.pc does, for a static link while the
# shared library is installed too).
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(MPROC_PC_LIBDIR "${CMAKE_INSTALL_LIBDIR}")
else()
  set(MPROC_PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
endif()
if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(MPROC_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
else()
  set(MPROC_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
if(WIN32)
  # build-win-deps.sh installs no .pc files: name the libraries (the
  # consumer adds -L<deps prefix>/lib).
  set(MPROC_PC_REQUIRES_PRIVATE "")
  set(MPROC_PC_LIBS_PRIVATE
    "-lapr-1 -lmsgpackc -lnettle -lws2_32 -lmswsock -lrpcrt4 -ladvapi32")
else()
  set(MPROC_PC_REQUIRES_PRIVATE "apr-1 msgpack nettle")
  set(MPROC_PC_LIBS_PRIVATE "")
endif()
set(MPROC_PC_NAME mproc)
set(MPROC_PC_DESCRIPTION "${PROJECT_DESCRIPTION}")
set(MPROC_PC_LIB "-lmproc")
set(MPROC_PC_REQUIRES "")
configure_file(cmake/mproc.pc.in ${CMAKE_CURRENT_BINARY_DIR}/mproc.pc @ONLY)
set(MPROC_PC_FILES ${CMAKE_CURRENT_BINARY_DIR}/mproc.pc)
if(MPROC_BUILD_STATIC)
  # Everything a static link needs, without --static.
  set(MPROC_PC_NAME mproc-static)
  set(MPROC_PC_LIB "-l:libmproc.a ${MPROC_PC_LIBS_PRIVATE}")
  set(MPROC_PC_REQUIRES "${MPROC_PC_REQUIRES_PRIVATE}")
  set(MPROC_PC_REQUIRES_PRIVATE "")
  set(MPROC_PC_LIBS_PRIVATE "")
  configure_file(cmake/mproc.pc.in ${CMAKE_CURRENT_BINARY_DIR}/mproc-static.pc
    @ONLY)
  list(APPEND MPROC_PC_FILES ${CMAKE_CURRENT_BINARY_DIR}/mproc-static.pc)
endif()
install(FILES ${MPROC_PC_FILES}
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT dev)

# The Pool's MPI backend: libmproc_mpi.a, mproc::mpi in an export set of
# its own (mprocConfig.cmake reads it for COMPONENTS mpi only, so a
# package without it still works), and mproc-mpi.pc. Both carry
# `-u mproc__mpi_plugin`: nothing in a program calls into the archive, and
# without the option the linker would leave out the constructor that plugs
# the backend in.
if(TARGET mproc_mpi)
  install(TARGETS mproc_mpi EXPORT mprocMpiTargets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT mpi)
  install(EXPORT mprocMpiTargets NAMESPACE mproc::
    FILE mprocMpiTargets.cmake DESTINATION ${MPROC_CMAKEDIR} COMPONENT mpi)
  # Debian's Open MPI names its C bindings ompi-c (MPICH: mpich).
  set(MPROC_MPI_PC_MODULE ompi-c CACHE STRING
    "The pkg-config module of the MPI that mproc-mpi.pc requires")
  set(MPROC_PC_NAME mproc-mpi)
  set(MPROC_PC_DESCRIPTION "mproc's Pool on MPI ranks (mpirun -n N ./app)")
  set(MPROC_PC_LIB "-Wl,-u,mproc__mpi_plugin -lmproc_mpi")
  set(MPROC_PC_REQUIRES
    "mproc-static = ${PROJECT_VERSION}, ${MPROC_MPI_PC_MODULE}")
  set(MPROC_PC_REQUIRES_PRIVATE "")
  set(MPROC_PC_LIBS_PRIVATE "")
  configure_file(cmake/mproc.pc.in ${CMAKE_CURRENT_BINARY_DIR}/mproc-mpi.pc
    @ONLY)
  install(FILES ${CMAKE_CURRENT_BINARY_DIR}/mproc-mpi.pc
    DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT mpi)
endif()

install(FILES README.md CHANGELOG.md LICENSE
  DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT dev)

include(cmake/mprocPackage.cmake)
