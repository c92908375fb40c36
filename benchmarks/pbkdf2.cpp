// E4: PBKDF2 fingerprints, CPU bound. Its cost does not depend on the book's size (the password
// is hashed once), so there is no bytes/s counter.
#include "benchmarks/suite.hpp"

namespace cbench::bench {
namespace {

ExperimentPlan plan(const SuiteOptions& o) {
  ExperimentPlan p;
  // At least 100,000 iterations (about 50 ms a book): fewer would measure dispatch, not scaling.
  p.options.iterations = by_preset(
      o, {.smoke = 1000, .quick = 100'000, .standard = 200'000, .seed = 1'000'000, .full = 1'000'000});
  return p;
}

[[maybe_unused]] const bool kAdded = add_experiment("pbkdf2", plan);

}  // namespace
}  // namespace cbench::bench
