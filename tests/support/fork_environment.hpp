// Test binaries whose tests use the fork executor start its server before any test can start a
// thread (executors/fork_server.hpp): include this header in one file of the binary.
#pragma once

#include <gtest/gtest.h>

#include "executors/fork_server.hpp"

namespace cbench::testing {

class ForkServerEnvironment : public ::testing::Environment {
 public:
  void SetUp() override { start_fork_server(); }
};

[[maybe_unused]] inline const auto* const kForkServerEnvironment =
    ::testing::AddGlobalTestEnvironment(new ForkServerEnvironment);

}  // namespace cbench::testing
