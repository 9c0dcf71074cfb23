# tether_module(NAME SOURCES ... DEPS ...): one library per folder under src/.
function(tether_module name)
  cmake_parse_arguments(M "" "" "SOURCES;DEPS" ${ARGN})
  add_library(tether_${name} STATIC ${M_SOURCES})
  target_include_directories(tether_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(tether_${name} PUBLIC ${M_DEPS})
endfunction()

# tether_unit_test(NAME SOURCES ... DEPS ...): a GoogleTest binary registered with CTest.
function(tether_unit_test name)
  if(NOT TETHER_TESTS)
    return()
  endif()
  cmake_parse_arguments(T "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_DEPS} GTest::gtest GTest::gtest_main Threads::Threads)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/tests)
  include(GoogleTest)
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60
    PROPERTIES ENVIRONMENT "TETHER_SHARED=${PROJECT_SOURCE_DIR}/../shared;TETHER_SOURCE=${PROJECT_SOURCE_DIR}")
endfunction()

# tether_fuzz_target(NAME SOURCES ... DEPS ...): a libFuzzer binary, also run briefly as a test.
function(tether_fuzz_target name)
  if(NOT TETHER_FUZZ)
    return()
  endif()
  cmake_parse_arguments(F "" "" "SOURCES;DEPS;CORPUS" ${ARGN})
  add_executable(${name} ${F_SOURCES})
  target_link_libraries(${name} PRIVATE ${F_DEPS})
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/src)
  if(TETHER_TESTS)
    # libFuzzer adds new inputs to its first corpus folder: give it one in the build tree
    # and read the seeds from the source tree, which tests never write. The seed is fixed
    # so a test run is repeatable; longer runs by hand explore.
    set(work ${CMAKE_CURRENT_BINARY_DIR}/${name}.corpus)
    add_test(NAME fuzz.${name}
      COMMAND sh -c "mkdir -p '${work}' && exec \"$0\" -seed=1 -max_total_time=15 -timeout=5 -rss_limit_mb=2048 -artifact_prefix='${work}/' '${work}' \"$@\""
              $<TARGET_FILE:${name}> ${F_CORPUS})
  endif()
endfunction()
