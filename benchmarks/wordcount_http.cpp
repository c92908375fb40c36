// E2: the most common word of each book, downloaded from the fixture server (a process of its
// own, started before the cases run): waiting work, where the model's way of waiting decides.
#include "benchmarks/suite.hpp"

namespace cbench::bench {
namespace {

ExperimentPlan plan(const SuiteOptions&) {
  ExperimentPlan p;
  p.bytes_counter = true;
  // A stalled download must end a case, never hang the suite.
  p.options.http.total_timeout = std::chrono::seconds(120);
  return p;
}

[[maybe_unused]] const bool kAdded = add_experiment("wordcount-http", plan);

}  // namespace
}  // namespace cbench::bench
