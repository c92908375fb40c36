// E2': the most common word of each book, from memory: CPU work that grows with the bytes.
#include "benchmarks/suite.hpp"

namespace cbench::bench {
namespace {

[[maybe_unused]] const bool kAdded = add_experiment("wordcount", bytes_plan);

}  // namespace
}  // namespace cbench::bench
