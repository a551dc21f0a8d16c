# Finds APR, msgpack-c, libsodium and CUnit and exposes them as the
# interface targets mproc_deps and mproc_cunit.
#
# Linux: Debian's -dev packages, through pkg-config.
# MinGW cross build: static libraries built from Debian's source packages
# by scripts/build-win-deps.sh into MPROC_WIN_DEPS (see cmake/mingw-w64.cmake).
# libsodium gives random bytes (and the forkserver's HMAC); nettle gives the
# HMACs of CPython's connection handshake (MD5 for CPython 3.11 peers,
# SHA-256/384, SHA3), which libsodium lacks.

add_library(mproc_deps INTERFACE)
add_library(mproc_cunit INTERFACE)

if(WIN32)
  if(NOT MPROC_WIN_DEPS OR NOT EXISTS "${MPROC_WIN_DEPS}/lib/libnettle.a")
    message(FATAL_ERROR "MPROC_WIN_DEPS must name a prefix built by "
                        "scripts/build-win-deps.sh")
  endif()
  target_include_directories(mproc_deps INTERFACE
    ${MPROC_WIN_DEPS}/include ${MPROC_WIN_DEPS}/include/apr-1)
  target_compile_definitions(mproc_deps INTERFACE APR_DECLARE_STATIC
    SODIUM_STATIC)
  # advapi32: libsodium's random bytes (RtlGenRandom).
  target_link_libraries(mproc_deps INTERFACE ${MPROC_WIN_DEPS}/lib/libapr-1.a
    ${MPROC_WIN_DEPS}/lib/libmsgpackc.a ${MPROC_WIN_DEPS}/lib/libsodium.a
    ${MPROC_WIN_DEPS}/lib/libnettle.a ws2_32 mswsock rpcrt4 advapi32)
  target_link_libraries(mproc_cunit INTERFACE ${MPROC_WIN_DEPS}/lib/libcunit.a)
  target_link_options(mproc_deps INTERFACE -static)
else()
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(APR REQUIRED IMPORTED_TARGET apr-1)
  pkg_check_modules(MSGPACK REQUIRED IMPORTED_TARGET msgpack)
  pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)
  pkg_check_modules(NETTLE REQUIRED IMPORTED_TARGET nettle)
  target_link_libraries(mproc_deps INTERFACE PkgConfig::APR PkgConfig::MSGPACK
    PkgConfig::SODIUM PkgConfig::NETTLE)
  if(MPROC_BUILD_TESTS)
    pkg_check_modules(CUNIT REQUIRED IMPORTED_TARGET cunit)
    target_link_libraries(mproc_cunit INTERFACE PkgConfig::CUNIT)
  endif()
endif()
