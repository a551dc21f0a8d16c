# Run after doxygen (cmake -P, with DIR set to the man3 directory): keep
# only pages whose names are mproc's. Doxygen names a header's page after
# the file ("queue.h") and writes a link page per struct field
# ("address", "type"): generic names that would clash with other
# packages' pages in /usr/share/man/man3 (manpages-dev has queue(3)).
# Header pages become mproc_<name>.h (and the links to them follow);
# field links go (their struct's page documents them).
file(GLOB _pages RELATIVE "${DIR}" "${DIR}/*.3")
foreach(_page IN LISTS _pages)
  if(_page STREQUAL "mproc.h.3")
    # already mproc's
  elseif(_page MATCHES "^[a-z_]+\\.h\\.3$")
    file(RENAME "${DIR}/${_page}" "${DIR}/mproc_${_page}")
  elseif(NOT _page MATCHES "^(mproc_|MPROC_|mproc-)")
    file(REMOVE "${DIR}/${_page}")
  endif()
endforeach()
file(GLOB _pages "${DIR}/*.3")
foreach(_page IN LISTS _pages)
  file(READ "${_page}" _text)
  if(_text MATCHES "^\\.so man3/([a-z_]+\\.h\\.3)" AND
     NOT _text MATCHES "^\\.so man3/mproc\\.h\\.3")
    string(REGEX REPLACE "^\\.so man3/" ".so man3/mproc_" _text "${_text}")
    file(WRITE "${_page}" "${_text}")
  endif()
endforeach()
