# The compile-fail check of the type-checked argument form, run by ctest:
#   cmake -DCC=<compiler> -DINCLUDE=<include dir> -DDIR=<this dir> -P check.cmake
# args_ok.c must compile; args_bad.c must not, and for the right reason:
# the compiler's _Generic diagnostic (GCC: "not compatible with any
# association"; Clang: "not compatible with any generic association").
foreach(v CC INCLUDE DIR)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "check.cmake: -D${v}= is missing")
  endif()
endforeach()
set(flags -std=c11 -Wall -Wextra -Werror -fsyntax-only -I${INCLUDE})
execute_process(COMMAND ${CC} ${flags} ${DIR}/args_ok.c
  RESULT_VARIABLE ok_rc OUTPUT_VARIABLE ok_out ERROR_VARIABLE ok_out)
if(NOT ok_rc EQUAL 0)
  message(FATAL_ERROR "args_ok.c does not compile:\n${ok_out}")
endif()
execute_process(COMMAND ${CC} ${flags} ${DIR}/args_bad.c
  RESULT_VARIABLE bad_rc OUTPUT_VARIABLE bad_out ERROR_VARIABLE bad_out)
if(bad_rc EQUAL 0)
  message(FATAL_ERROR "args_bad.c compiled: a wrong argument type was not "
                      "rejected")
endif()
if(NOT bad_out MATCHES "not compatible with any (generic )?association")
  message(FATAL_ERROR "args_bad.c failed for another reason:\n${bad_out}")
endif()
message(STATUS "compile check passed: args_ok.c compiles, args_bad.c is "
               "rejected for its wrong argument type")
# One check passed, in the columns of CUnit's run summary (type, total,
# ran, passed, failed, inactive), which scripts/test.sh adds up per leg.
message(NOTICE "               tests      1      1      1      0        0")
