# Run at every build (cmake -P), not at configure: writes OUTPUT, a header defining
# CBENCH_GIT_COMMIT as the commit SOURCE_DIR is at ("unknown" without git), and rewrites it only
# when the commit changed, so that build_info.cpp is compiled again only then. Without it, a build
# made after new commits would record the commit its build folder was configured at.
set(_commit "unknown")
if(GIT)
  execute_process(COMMAND ${GIT} rev-parse --short=12 HEAD
                  WORKING_DIRECTORY ${SOURCE_DIR}
                  OUTPUT_VARIABLE _out OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET
                  RESULT_VARIABLE _rc)
  if(_rc EQUAL 0 AND _out)
    set(_commit "${_out}")
  endif()
endif()
# file(CONFIGURE) writes only when the content changes.
file(CONFIGURE OUTPUT "${OUTPUT}" CONTENT "#define CBENCH_GIT_COMMIT \"${_commit}\"\n" @ONLY)
