/**
 * @file mproc/version.h
 * @brief The version of mproc.
 *
 * Part of the public API; include <mproc.h>, which includes every part.
 * This file is the one place the version is written: CMake reads it.
 */
#ifndef MPROC_VERSION_H
#define MPROC_VERSION_H

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @defgroup mproc-version Version
 * @brief The version of the headers (macros) and of the library (functions).
 * @{
 */

/** Major version: changes when the API or ABI breaks (the soname's 0). */
#define MPROC_VERSION_MAJOR 0
/** Minor version: new API, compatible with the same major version. */
#define MPROC_VERSION_MINOR 2
/** Patch version: fixes only. */
#define MPROC_VERSION_PATCH 0

/** The version as one number, 0xMMmmpp, to compare with `>=`. */
#define MPROC_VERSION_HEX                                                      \
  ((MPROC_VERSION_MAJOR << 16) | (MPROC_VERSION_MINOR << 8) |                  \
   MPROC_VERSION_PATCH)

/**
 * The version of the library the program runs with, as MPROC_VERSION_HEX
 * (which gives the version of the header it was compiled with). A shared
 * library newer than the header has the same major version.
 * @return the library's version, 0xMMmmpp.
 */
unsigned mproc_version(void);

/**
 * The version of the library the program runs with.
 * @return "MAJOR.MINOR.PATCH", e.g. "0.2.0"; static.
 */
const char *mproc_version_string(void);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* MPROC_VERSION_H */
