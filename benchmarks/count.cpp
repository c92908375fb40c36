// E1: a worker counts while the main thread counts, sleeping between numbers: waiting work, where
// a thread or a coroutine per task is the point and the CPU is idle.
#include "benchmarks/suite.hpp"

namespace cbench::bench {
namespace {

ExperimentPlan plan(const SuiteOptions& o) {
  ExperimentPlan p;
  p.options.size = by_preset(o, {.smoke = 2, .quick = 5, .standard = 10, .seed = 10, .full = 10});
  // The original sleeps 1 s; shorter sleeps keep the shape (all time is waiting) in less time.
  p.options.interval = std::chrono::milliseconds(
      by_preset(o, {.smoke = 1, .quick = 10, .standard = 50, .seed = 1000, .full = 100}));
  return p;
}

[[maybe_unused]] const bool kAdded = add_experiment("count", plan);

}  // namespace
}  // namespace cbench::bench
