# Toolchain for the Windows build: MinGW-w64 (x86_64-w64-mingw32) on Linux.
# The dependencies come from scripts/build-win-deps.sh (run here when
# MPROC_WIN_DEPS is not given); tests run under Wine through
# scripts/wine-run.sh, which ctest uses as the cross-compiling emulator.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(CMAKE_C_COMPILER x86_64-w64-mingw32-gcc)
set(CMAKE_CXX_COMPILER x86_64-w64-mingw32-g++)
set(CMAKE_RC_COMPILER x86_64-w64-mingw32-windres)
set(CMAKE_FIND_ROOT_PATH /usr/x86_64-w64-mingw32)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)

get_filename_component(_mproc_root "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
set(CMAKE_CROSSCOMPILING_EMULATOR "${_mproc_root}/scripts/wine-run.sh")

if(NOT MPROC_WIN_DEPS)
  execute_process(COMMAND "${_mproc_root}/scripts/build-win-deps.sh"
    OUTPUT_VARIABLE _mproc_deps_out RESULT_VARIABLE _mproc_deps_rc
    OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT _mproc_deps_rc EQUAL 0)
    message(FATAL_ERROR "scripts/build-win-deps.sh failed")
  endif()
  string(REGEX REPLACE ".*\n" "" _mproc_deps_out "${_mproc_deps_out}")
  set(MPROC_WIN_DEPS "${_mproc_deps_out}" CACHE PATH
    "Prefix of the MinGW builds of mproc's dependencies")
endif()
