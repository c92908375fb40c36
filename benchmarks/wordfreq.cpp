// E7: map-reduce word frequencies of the whole corpus in 16 chunks; the merge runs on the caller.
#include "benchmarks/suite.hpp"

namespace cbench::bench {
namespace {

[[maybe_unused]] const bool kAdded = add_experiment("wordfreq", bytes_plan);

}  // namespace
}  // namespace cbench::bench
