# Finds a Python 3 interpreter that can import the given modules. The python3 first on PATH may
# lack Debian's packages (NumPy, SciPy, matplotlib), so every python3 on PATH is tried, then
# Debian's own interpreter.
function(cbench_find_python out_var)
  set(modules ${ARGN})
  string(JOIN ", " import_list ${modules})
  set(candidates "")
  string(REPLACE ":" ";" path_dirs "$ENV{PATH}")
  foreach(dir IN LISTS path_dirs)
    if(EXISTS "${dir}/python3")
      list(APPEND candidates "${dir}/python3")
    endif()
  endforeach()
  list(APPEND candidates /usr/bin/python3)
  foreach(candidate IN LISTS candidates)
    execute_process(COMMAND ${candidate} -c "import ${import_list}"
                    RESULT_VARIABLE rc OUTPUT_QUIET ERROR_QUIET)
    if(rc EQUAL 0)
      set(${out_var} "${candidate}" PARENT_SCOPE)
      return()
    endif()
  endforeach()
  set(${out_var} "" PARENT_SCOPE)
endfunction()
