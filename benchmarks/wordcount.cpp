// E2': the most common word of each book, from memory: CPU work that grows with the bytes.
#include "benchmarks/suite.hpp"

namespace cbench::bench {
namespace {

ExperimentPlan plan(const SuiteOptions&) {
  ExperimentPlan p;
  p.bytes_counter = true;
  return p;
}

[[maybe_unused]] const bool kAdded = add_experiment("wordcount", plan);

}  // namespace
}  // namespace cbench::bench
