// E6: the trivial map x -> 2x over 0..9: nothing but dispatch, so every executor's fixed costs
// show.
#include "benchmarks/suite.hpp"

namespace cbench::bench {
namespace {

ExperimentPlan plan(const SuiteOptions&) {
  ExperimentPlan p;
  p.options.size = 10;
  return p;
}

[[maybe_unused]] const bool kAdded = add_experiment("double", plan);

}  // namespace
}  // namespace cbench::bench
