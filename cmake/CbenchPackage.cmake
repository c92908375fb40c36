# cbench as a package (docs/design.md, "cbench as a package"): `cmake --install` puts its
# libraries, headers and the `cbench` CLI under the prefix, and find_package(cbench CONFIG) gives
# the same targets a project gets with add_subdirectory:
#
#   cbench::executors    the executors (executors/executor.hpp), with the fork server
#   cbench::experiments  the experiments' registry and the task kinds (experiments/experiment.hpp)
#   cbench::bench        the benchmark suite as a library (benchmarks/suite.hpp, run_suite)
#   cbench::bench_main   a main that runs it: a program with experiments of its own links this
#   cbench::cli          the `cbench` CLI as a library (cli/commands.hpp, run_cli)
#   cbench::cli_main     a main that runs it: `run` and `list` over the program's experiments
#
# and the others they need (options, coro, workloads, fixtures, http_server). Included at the end
# of the top-level CMakeLists.txt, once every target exists.
include(CMakePackageConfigHelpers)

set(_cbench_exported cbench_options cbench_coro cbench_workloads cbench_fixtures cbench_executors
                     cbench_experiments cbench_http_server cbench_cli cbench_cli_main)
if(CBENCH_BUILD_BENCHMARKS)
  list(APPEND _cbench_exported cbench_suite cbench_bench_main)
endif()
foreach(target IN LISTS _cbench_exported)
  string(REGEX REPLACE "^cbench_" "" short "${target}")
  if(target STREQUAL "cbench_suite")
    set(short bench)
  endif()
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${short})
  # A project that embeds cbench names its targets as an installed one does.
  add_library(cbench::${short} ALIAS ${target})
endforeach()

# What the installed config must find again: every package the exported targets link, including
# those only the optional entries of the registries link (omp's OpenMP, mpi's Open MPI).
get_property(_cbench_executor_stems TARGET cbench_executors PROPERTY CBENCH_REGISTERED)
set(CBENCH_PACKAGE_OPENMP OFF)
if("omp" IN_LIST _cbench_executor_stems)
  set(CBENCH_PACKAGE_OPENMP ON)
endif()
set(CBENCH_PACKAGE_MPI ${CBENCH_HAVE_MPI})
set(CBENCH_PACKAGE_BENCH ${CBENCH_BUILD_BENCHMARKS})

set(_cbench_config_dir "${CMAKE_INSTALL_LIBDIR}/cmake/cbench")
install(TARGETS ${_cbench_exported} EXPORT cbenchTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/cbench)
install(EXPORT cbenchTargets NAMESPACE cbench:: DESTINATION ${_cbench_config_dir})
# The headers, at the paths the sources include them by ("experiments/experiment.hpp").
install(DIRECTORY coro workloads fixtures executors experiments benchmarks cli
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/cbench
        FILES_MATCHING PATTERN "*.hpp")
# The CLI: `cbench serve` is the fixture server the suite starts for downloading experiments.
install(TARGETS cbench RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
if(CBENCH_BUILD_BENCHMARKS)
  install(TARGETS cbench_bench RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()

configure_package_config_file(cmake/cbenchConfig.cmake.in
                              "${PROJECT_BINARY_DIR}/cbenchConfig.cmake"
                              INSTALL_DESTINATION ${_cbench_config_dir})
write_basic_package_version_file("${PROJECT_BINARY_DIR}/cbenchConfigVersion.cmake"
                                 COMPATIBILITY SameMinorVersion)
install(FILES "${PROJECT_BINARY_DIR}/cbenchConfig.cmake"
              "${PROJECT_BINARY_DIR}/cbenchConfigVersion.cmake"
        DESTINATION ${_cbench_config_dir})
