// E3: reading the books from the local disk, from the page cache and (cold-cache rows) with the
// books dropped from it before each run.
#include "benchmarks/suite.hpp"

namespace cbench::bench {
namespace {

ExperimentPlan plan(const SuiteOptions&) {
  ExperimentPlan p;
  p.bytes_counter = true;
  p.cold_cache = true;
  return p;
}

[[maybe_unused]] const bool kAdded = add_experiment("read", plan);

}  // namespace
}  // namespace cbench::bench
