# One helper for every test and benchmark binary, so that none is set up by a copied block.
#
#   cbench_add_executable(NAME KIND test|benchmark|tool SOURCES ... [LIBS ...] [LABELS ...]
#                         [ARGS ...] [TIMEOUT s] [NO_TEST] [SERIAL])
#
# KIND test links GoogleTest and registers every test case with ctest (gtest_discover_tests);
# KIND benchmark links Google Benchmark and registers the binary as a smoke test (label
# bench-smoke) run with ARGS; KIND tool only builds. LABELS are added to every ctest entry;
# SERIAL runs its tests alone (what they measure is the whole host's).
include(GoogleTest)

function(cbench_add_executable name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "NO_TEST;SERIAL" "KIND;TIMEOUT" "SOURCES;LIBS;LABELS;ARGS")
  add_executable(${name} ${arg_SOURCES})
  target_link_libraries(${name} PRIVATE cbench_options ${arg_LIBS})
  if(NOT arg_TIMEOUT)
    set(arg_TIMEOUT 300)
  endif()
  set(serial FALSE)
  if(arg_SERIAL)
    set(serial TRUE)
  endif()
  if(arg_KIND STREQUAL "test")
    target_link_libraries(${name} PRIVATE GTest::gtest GTest::gtest_main)
    # Tests keep assert() alive in release builds.
    target_compile_options(${name} PRIVATE -UNDEBUG)
    if(NOT arg_NO_TEST)
      gtest_discover_tests(${name} TEST_LIST ${name}_TESTS NO_PRETTY_VALUES
                           PROPERTIES TIMEOUT ${arg_TIMEOUT} RUN_SERIAL ${serial}
                           DISCOVERY_TIMEOUT 60)
      # Labels go on after discovery, from a file ctest reads after the discovered list:
      # gtest_discover_tests's PROPERTIES cannot carry a list of labels through intact.
      set(labels_file "${CMAKE_CURRENT_BINARY_DIR}/${name}_labels.cmake")
      file(WRITE "${labels_file}"
           "if(${name}_TESTS)\n  set_tests_properties(\${${name}_TESTS} PROPERTIES LABELS \"${arg_LABELS}\")\nendif()\n")
      set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${labels_file}")
    endif()
  elseif(arg_KIND STREQUAL "benchmark")
    target_link_libraries(${name} PRIVATE benchmark::benchmark)
    if(NOT arg_NO_TEST)
      add_test(NAME ${name} COMMAND ${name} ${arg_ARGS})
      set_tests_properties(${name} PROPERTIES LABELS "bench-smoke;${arg_LABELS}"
                                              TIMEOUT ${arg_TIMEOUT})
    endif()
  elseif(NOT arg_KIND STREQUAL "tool")
    message(FATAL_ERROR "cbench_add_executable: KIND must be test, benchmark or tool")
  endif()
endfunction()
