# cmake -DBIN=<gpu_test_main_selftest> -P check_gpu_test_main.cmake
# Checks gpu_test_main.cc's exit status for each mix of outcomes: all
# skipped -> 77 (ctest "Not Run"); skipped + passed -> 0; any failure -> 1
# (even beside skips); no test selected -> 0.
foreach(case "Skip.*=77" "Skip.*:Pass.*=0" "Pass.*=0" "Pass.*:Fail.*=1"
             "Skip.*:Fail.*=1" "Nothing.*=0")
  string(REPLACE "=" ";" parts "${case}")
  list(GET parts 0 filter)
  list(GET parts 1 want)
  execute_process(COMMAND ${BIN} --gtest_filter=${filter}
                  RESULT_VARIABLE got OUTPUT_VARIABLE out ERROR_VARIABLE out
                  TIMEOUT 60)
  if(NOT got STREQUAL want)
    message(FATAL_ERROR "--gtest_filter=${filter}: exit ${got}, want ${want}\n${out}")
  endif()
  message(STATUS "--gtest_filter=${filter}: exit ${got} as wanted")
endforeach()
