// What the suites parameterised over the registry of executors share: the parameter's name in
// the test's name (Registry/ExecutorTest.X/pool), and whether this build runs under
// ThreadSanitizer, which cannot see the hand-offs of an executor whose traits say so.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "executors/executor.hpp"

namespace cbench::testing {

#if defined(__SANITIZE_THREAD__)
inline constexpr bool kThreadSanitizer = true;
#else
inline constexpr bool kThreadSanitizer = false;
#endif

inline std::string executor_param_name(const ::testing::TestParamInfo<const ExecutorInfo*>& info) {
  return std::string(info.param->name);
}

}  // namespace cbench::testing
