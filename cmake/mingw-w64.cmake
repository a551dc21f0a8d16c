# CMake toolchain file: cross-build for Windows x86_64 with MinGW-w64 on Linux.
#
#   cmake -S . -B build/win -DCMAKE_TOOLCHAIN_FILE=cmake/mingw-w64.cmake
#
# MPROC_WIN_DEPS (cache variable, else the environment variable of that
# name) is the prefix holding the static MinGW builds of APR, CUnit,
# msgpack-c and nettle. When neither is given, this file runs
# scripts/build-win-deps.sh, which builds them once (about two minutes) or
# just prints the prefix it already built. A prefix that script chose is
# asked for again at every configure, so that a new recipe (a new cache key)
# replaces a build directory's stale one. Tests run under Wine through
# scripts/wine-run.sh, the cross-compiling emulator ctest uses.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

set(MPROC_MINGW_TRIPLE x86_64-w64-mingw32)
set(CMAKE_C_COMPILER ${MPROC_MINGW_TRIPLE}-gcc)
set(CMAKE_RC_COMPILER ${MPROC_MINGW_TRIPLE}-windres)

# Headers, libraries and packages from the MinGW sysroot (and the deps
# prefix, appended below); programs from the build host.
set(CMAKE_FIND_ROOT_PATH /usr/${MPROC_MINGW_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

get_filename_component(_mproc_root "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
set(CMAKE_CROSSCOMPILING_EMULATOR "${_mproc_root}/scripts/wine-run.sh")

# The dependencies. Not in try_compile projects (CMake re-reads this file
# for each compiler check; they need no dependencies).
get_property(_mproc_in_try_compile GLOBAL PROPERTY IN_TRY_COMPILE)
if(NOT _mproc_in_try_compile)
  if(NOT MPROC_WIN_DEPS AND DEFINED ENV{MPROC_WIN_DEPS}
     AND NOT "$ENV{MPROC_WIN_DEPS}" STREQUAL "")
    set(MPROC_WIN_DEPS "$ENV{MPROC_WIN_DEPS}" CACHE PATH
      "Prefix of the MinGW builds of mproc's dependencies" FORCE)
  endif()
  # The script's own prefixes are named win-deps-<key>: one of those in the
  # cache is the script's choice (perhaps an outdated one), not the user's.
  if(NOT MPROC_WIN_DEPS OR MPROC_WIN_DEPS MATCHES "/mproc/win-deps-[^/]*$")
    message(STATUS "MPROC_WIN_DEPS: running scripts/build-win-deps.sh")
    # Its progress (stderr) shows here; the prefix is stdout's last line.
    execute_process(COMMAND "${_mproc_root}/scripts/build-win-deps.sh"
      OUTPUT_VARIABLE _mproc_deps_out RESULT_VARIABLE _mproc_deps_rc
      OUTPUT_STRIP_TRAILING_WHITESPACE)
    if(NOT _mproc_deps_rc EQUAL 0)
      message(FATAL_ERROR "scripts/build-win-deps.sh failed (${_mproc_deps_rc}); "
        "see its messages above, or pass -DMPROC_WIN_DEPS=<prefix>")
    endif()
    string(REGEX REPLACE "^.*\n" "" _mproc_deps_out "${_mproc_deps_out}")
    if(NOT IS_DIRECTORY "${_mproc_deps_out}")
      message(FATAL_ERROR "scripts/build-win-deps.sh printed "
        "'${_mproc_deps_out}', which is not a directory")
    endif()
    set(MPROC_WIN_DEPS "${_mproc_deps_out}" CACHE PATH
      "Prefix of the MinGW builds of mproc's dependencies" FORCE)
  endif()
  list(APPEND CMAKE_FIND_ROOT_PATH "${MPROC_WIN_DEPS}")
endif()
