// Sanitizer builds run the tests at tiny sizes (CBENCH_TINY=1, set by their ctest presets): the
// same checks, smaller inputs, so that an instrumented run stays within minutes.
#pragma once

#include <cstdlib>

namespace cbench::testing {

inline bool tiny() {
  const char* v = std::getenv("CBENCH_TINY");
  return v != nullptr && *v != '\0' && *v != '0';
}

// `normal` in a release run, `small` under a sanitizer.
template <typename T>
T sized(T normal, T small) {
  return tiny() ? small : normal;
}

}  // namespace cbench::testing
