# With the Pool's MPI backend built (MPROC_WITH_MPI): the test binary
# links it, and the pool suites run again under mpirun, the pool on ranks
# 1..3: ctest entries mpi.<suite> (scripts/test.sh's linux-mpi leg). As
# root, Open MPI wants OMPI_ALLOW_RUN_AS_ROOT*; 4 ranks on fewer cores
# want --oversubscribe. Without these, or run as ./mproc_tests, the
# binary is the same as without MPI: it never starts MPI.
target_link_libraries(mproc_tests PRIVATE mproc_mpi)
add_executable(mproc_mpi_helper ${CMAKE_CURRENT_SOURCE_DIR}/mpi_helper.c)
target_link_libraries(mproc_mpi_helper PRIVATE mproc_mpi)
add_dependencies(mproc_tests mproc_mpi_helper)
target_compile_definitions(mproc_tests PRIVATE
  MPROC_TEST_MPI_HELPER="$<TARGET_FILE:mproc_mpi_helper>"
  MPROC_TEST_MPIRUN="${MPROC_MPIRUN}")
if(MPROC_MPIRUN)
  foreach(suite pool pool_mpi)
    add_test(NAME mpi.${suite}
      COMMAND ${MPROC_MPIRUN} -n 4 --oversubscribe
        $<TARGET_FILE:mproc_tests> --method fork --suite ${suite})
    set_tests_properties(mpi.${suite} PROPERTIES TIMEOUT 300
      ENVIRONMENT "MPROC_POOL_BACKEND=mpi;MPROC_MPI_MAX_MESSAGE=$<IF:$<STREQUAL:${suite},pool_mpi>,4096,0>;OMPI_ALLOW_RUN_AS_ROOT=1;OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1;OMPI_MCA_rmaps_base_oversubscribe=1")
  endforeach()
  # Spawn mode: the test binary alone, its first MPI pool spawning three
  # serving copies of it (MPI_Comm_spawn), which every later pool shares.
  add_test(NAME mpi.spawn.pool
    COMMAND $<TARGET_FILE:mproc_tests> --method fork --suite pool)
  set_tests_properties(mpi.spawn.pool PROPERTIES TIMEOUT 300
    ENVIRONMENT "MPROC_POOL_BACKEND=mpi;MPROC_MPI_SPAWN=3;OMPI_ALLOW_RUN_AS_ROOT=1;OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1")
endif()
