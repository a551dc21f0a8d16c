# The API reference: `cmake --build <dir> --target docs` runs Doxygen over
# the public headers into <dir>/docs (html/, man/man3/) and fails on any
# warning (the warnings are also in <dir>/docs/warnings.log). With
# MPROC_DOCS=ON the reference is built with the library and installed:
# HTML under share/doc/mproc/html, man pages under share/man/man3
# (`man mproc_process_start`). scripts/docs.sh runs the check alone.
option(MPROC_DOCS "Build and install the API reference (needs doxygen)" OFF)

find_program(MPROC_DOXYGEN NAMES doxygen)
set(MPROC_DOCS_DIR ${CMAKE_CURRENT_BINARY_DIR}/docs)
if(MPROC_DOXYGEN)
  configure_file(docs/Doxyfile.in ${MPROC_DOCS_DIR}/Doxyfile @ONLY)
  file(GLOB _mproc_doc_inputs CONFIGURE_DEPENDS include/mproc.h
    include/mproc/*.h docs/mainpage.md)
  # The stamp is written only when doxygen succeeded with no warning, so
  # a failed run is run again next time.
  add_custom_command(OUTPUT ${MPROC_DOCS_DIR}/docs.stamp
    COMMAND ${CMAKE_COMMAND} -E rm -rf ${MPROC_DOCS_DIR}/html
      ${MPROC_DOCS_DIR}/man
    COMMAND ${MPROC_DOXYGEN} ${MPROC_DOCS_DIR}/Doxyfile
    COMMAND ${CMAKE_COMMAND} -DDIR=${MPROC_DOCS_DIR}/man/man3
      -P ${PROJECT_SOURCE_DIR}/cmake/mprocManClean.cmake
    COMMAND ${CMAKE_COMMAND} -E touch ${MPROC_DOCS_DIR}/docs.stamp
    DEPENDS ${_mproc_doc_inputs} ${MPROC_DOCS_DIR}/Doxyfile
      ${PROJECT_SOURCE_DIR}/cmake/mprocManClean.cmake
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
    COMMENT "Doxygen: API reference (fails on any warning)" VERBATIM)
  if(MPROC_DOCS)
    add_custom_target(mproc_docs ALL DEPENDS ${MPROC_DOCS_DIR}/docs.stamp)
  else()
    add_custom_target(mproc_docs DEPENDS ${MPROC_DOCS_DIR}/docs.stamp)
  endif()
  if(MPROC_TOP)
    add_custom_target(docs DEPENDS mproc_docs)
  endif()
elseif(MPROC_DOCS)
  message(FATAL_ERROR "mproc: MPROC_DOCS=ON needs doxygen "
    "(Debian: apt-get install doxygen)")
endif()

if(MPROC_DOCS AND MPROC_INSTALL)
  install(DIRECTORY ${MPROC_DOCS_DIR}/html/
    DESTINATION ${CMAKE_INSTALL_DOCDIR}/html COMPONENT dev)
  install(DIRECTORY ${MPROC_DOCS_DIR}/man/man3/
    DESTINATION ${CMAKE_INSTALL_MANDIR}/man3 COMPONENT dev)
endif()
