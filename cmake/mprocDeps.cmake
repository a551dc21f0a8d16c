# mproc's link dependencies as one imported target, mproc::deps.
#
# Read by mproc's own build and installed beside mprocConfig.cmake, which
# reads it again in a consumer's build, so both link the static library's
# dependencies the same way. The shared library carries them itself: only
# a static consumer needs this target.
#
#   APR        threads, mutexes, memory pools, time, random bytes
#   msgpack-c  the value codec (arguments, results, queue items)
#   nettle     the HMACs of the connection and forkserver handshakes
#
# Linux: Debian's -dev packages, through pkg-config (imported as
# PkgConfig::mproc_<NAME>, prefixed so that they do not clash with a
# consumer's own pkg_check_modules names).
# Windows (MinGW): the static libraries scripts/build-win-deps.sh builds,
# found in MPROC_WIN_DEPS (a CMake variable, or the environment variable of
# that name), else on the consumer's search path. The MinGW build links
# statically (-static), so a program needs no MinGW runtime DLLs.
if(TARGET mproc::deps)
  return()
endif()

if(WIN32)
  if(NOT MPROC_WIN_DEPS AND DEFINED ENV{MPROC_WIN_DEPS})
    set(MPROC_WIN_DEPS "$ENV{MPROC_WIN_DEPS}")
  endif()
  set(_mproc_dep_hints)
  if(MPROC_WIN_DEPS)
    set(_mproc_dep_hints HINTS "${MPROC_WIN_DEPS}/lib" NO_CMAKE_FIND_ROOT_PATH)
  endif()
  set(_mproc_dep_libs)
  foreach(_mproc_lib apr-1 msgpackc nettle)
    string(MAKE_C_IDENTIFIER "MPROC_LIB_${_mproc_lib}" _mproc_var)
    find_library(${_mproc_var} NAMES lib${_mproc_lib}.a ${_mproc_lib}
      ${_mproc_dep_hints})
    if(NOT ${_mproc_var})
      message(FATAL_ERROR "mproc: lib${_mproc_lib}.a not found; set "
        "MPROC_WIN_DEPS to the prefix scripts/build-win-deps.sh printed")
    endif()
    list(APPEND _mproc_dep_libs "${${_mproc_var}}")
  endforeach()
  # The headers matter to mproc's own sources only (a static consumer
  # links mproc::deps, which brings the libraries and not the flags).
  get_filename_component(_mproc_dep_prefix "${MPROC_LIB_apr_1}" DIRECTORY)
  get_filename_component(_mproc_dep_prefix "${_mproc_dep_prefix}" DIRECTORY)
  add_library(mproc::deps INTERFACE IMPORTED GLOBAL)
  set_target_properties(mproc::deps PROPERTIES
    INTERFACE_LINK_LIBRARIES "${_mproc_dep_libs};ws2_32;mswsock;rpcrt4;advapi32"
    INTERFACE_LINK_OPTIONS "-static"
    INTERFACE_COMPILE_DEFINITIONS APR_DECLARE_STATIC
    INTERFACE_INCLUDE_DIRECTORIES
      "${_mproc_dep_prefix}/include;${_mproc_dep_prefix}/include/apr-1")
else()
  find_package(PkgConfig REQUIRED QUIET)
  pkg_check_modules(mproc_APR REQUIRED QUIET IMPORTED_TARGET GLOBAL apr-1)
  pkg_check_modules(mproc_MSGPACK REQUIRED QUIET IMPORTED_TARGET GLOBAL msgpack)
  pkg_check_modules(mproc_NETTLE REQUIRED QUIET IMPORTED_TARGET GLOBAL nettle)
  add_library(mproc::deps INTERFACE IMPORTED GLOBAL)
  set_target_properties(mproc::deps PROPERTIES INTERFACE_LINK_LIBRARIES
    "PkgConfig::mproc_APR;PkgConfig::mproc_MSGPACK;PkgConfig::mproc_NETTLE")
endif()
