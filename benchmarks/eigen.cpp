// E5: the largest eigenvalue of 8 random integer matrices, CPU and memory bound.
#include "benchmarks/suite.hpp"

namespace cbench::bench {
namespace {

ExperimentPlan plan(const SuiteOptions& o) {
  ExperimentPlan p;
  // The original's 1000 x 1000 takes about a second per matrix; the shorter presets keep the
  // work per task large against dispatch (200 x 200 is about 10 ms).
  p.options.size = by_preset(o, {.smoke = 16, .quick = 200, .standard = 300, .seed = 1000, .full = 1000});
  return p;
}

[[maybe_unused]] const bool kAdded = add_experiment("eigen", plan);

}  // namespace
}  // namespace cbench::bench
