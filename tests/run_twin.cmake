# Runs one Python twin of an example and keeps its output (stdout and
# stderr, as a terminal would show them) for test_examples.c:
#   cmake -DPYTHON=python3 -DSCRIPT=examples/python/X.py -DOUT=X.out -P run_twin.cmake
# Its working directory is a fresh one next to OUT (ticket.py and others
# write files where they run).
get_filename_component(dir ${OUT} DIRECTORY)
file(MAKE_DIRECTORY ${dir}/work)
execute_process(COMMAND ${PYTHON} ${SCRIPT}
  WORKING_DIRECTORY ${dir}/work
  OUTPUT_FILE ${OUT}.part ERROR_FILE ${OUT}.err
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  file(READ ${OUT}.err err)
  message(FATAL_ERROR "${SCRIPT} failed (${rc}):\n${err}")
endif()
file(RENAME ${OUT}.part ${OUT})
