// primes-pitfall: the same count, written the way that does not work in every model. Its task
// builder fills a table of small primes for the kind to divide by — in the caller's memory, after
// main has started the fork server. A thread or a coroutine sees the table; a fork worker (forked
// from the server before the table was filled) and an MPI engine (the binary started again) see
// it empty, take every number for a prime, and give other counts. The suite names the task, its
// kind and the executor whose results differ from the sequential reference; it does not time
// them. Built only with -DPRIMES_WITH_PITFALL=ON. The fix: a task carries what it reads in its
// input (or its views), or the kind computes it itself.
#include <charconv>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "experiments/experiment.hpp"

namespace primes {
namespace {

std::vector<std::uint64_t> small_primes;  // filled by the task builder, in the caller only

cbench::Bytes run_pitfall(std::string_view input) {
  std::uint64_t lo = 0, hi = 0;
  const char* end = input.data() + input.size();
  auto [mid, error] = std::from_chars(input.data(), end, lo);
  if (error != std::errc{} || mid == end) throw std::invalid_argument("not a range");
  if (std::from_chars(mid + 1, end, hi).ec != std::errc{})
    throw std::invalid_argument("not a range");
  std::uint64_t count = 0;
  for (std::uint64_t n = lo; n < hi; ++n) {
    bool prime = n >= 2;
    for (std::uint64_t p : small_primes) {
      if (p * p > n) break;
      if (n % p == 0) {
        prime = false;
        break;
      }
    }
    count += prime ? 1 : 0;
  }
  return std::to_string(count);
}

[[maybe_unused]] const bool kKinds = cbench::register_task_kinds({{"primes-pitfall", run_pitfall}});

std::vector<cbench::Task> pitfall_tasks(const cbench::Corpus&, const cbench::Options& o) {
  const auto ranges = static_cast<std::uint64_t>(o.integer("ranges"));
  const auto width = static_cast<std::uint64_t>(o.integer("width"));
  // Every prime up to the square root of the largest number, by a sieve.
  std::uint64_t root = 1;
  while (root * root < ranges * width) ++root;
  std::vector<bool> composite(root + 1, false);
  small_primes.clear();
  for (std::uint64_t n = 2; n <= root; ++n) {
    if (composite[n]) continue;
    small_primes.push_back(n);
    for (std::uint64_t m = n * n; m <= root; m += n) composite[m] = true;
  }
  std::vector<cbench::Task> tasks;
  for (std::uint64_t i = 0; i < ranges; ++i) {
    const std::string input = std::to_string(i * width) + " " + std::to_string((i + 1) * width);
    tasks.push_back(cbench::make_task("primes-pitfall", "range " + std::to_string(i), input));
  }
  return tasks;
}

std::string pitfall_json(const cbench::Bytes& value) {
  return value;
}

const cbench::OptionSpec kOptions[] = {
    {.name = "ranges",
     .placeholder = "N",
     .help = "N ranges, one task each",
     .fallback = 4,
     .min = 1,
     .max = 100'000},
    {.name = "width",
     .placeholder = "N",
     .help = "N numbers in each range",
     .fallback = 2'000,
     .min = 1,
     .max = 1'000'000'000},
};

const cbench::Experiment kPitfall = {
    .name = "primes-pitfall",
    .summary = "primes by a table the task builder fills: wrong where workers are processes",
    .work = cbench::WorkKind::cpu,
    .options = kOptions,
    .make_tasks = pitfall_tasks,
    .task_json = pitfall_json,
};

[[maybe_unused]] const bool kRegistered = (cbench::register_experiment(kPitfall), true);

}  // namespace
}  // namespace primes
