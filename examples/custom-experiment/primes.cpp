// primes: how many primes lie in each of N ranges of consecutive numbers, counted by trial
// division. An experiment of this project's own, in cbench's grid beside the built-in ones.
//
// Two registrations during static initialisation, before main starts the fork server: the task
// kind, so that every fork worker and every MPI engine (the same binary, started again) knows it
// by name; and the experiment, so that the suite builds its rows. A task is data: the range it
// counts travels as its input, so a worker in another process needs nothing else.
#include <charconv>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "experiments/experiment.hpp"

namespace primes {
namespace {

std::uint64_t parse_number(std::string_view& text) {
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{}) throw std::invalid_argument("not a number: " + std::string(text));
  text.remove_prefix(static_cast<std::size_t>(end - text.data()));
  if (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  return value;
}

// A task's input: "LO HI", the range [LO, HI).
struct Range {
  std::uint64_t lo = 0, hi = 0;
};

Range parse_range(std::string_view input) {
  Range r;
  r.lo = parse_number(input);
  r.hi = parse_number(input);
  if (!input.empty() || r.hi < r.lo) throw std::invalid_argument("not a range");
  return r;
}

bool is_prime(std::uint64_t n) {
  if (n < 2) return false;
  if (n % 2 == 0) return n == 2;
  for (std::uint64_t d = 3; d * d <= n; d += 2) {
    if (n % d == 0) return false;
  }
  return true;
}

// The work, a plain function: what the sequential reference runs too.
std::uint64_t count_primes(Range r) {
  std::uint64_t count = 0;
  for (std::uint64_t n = r.lo; n < r.hi; ++n) count += is_prime(n) ? 1 : 0;
  return count;
}

// The task kind: bytes in, bytes out. The result is the count in decimal.
cbench::Bytes run_primes(std::string_view input) {
  return std::to_string(count_primes(parse_range(input)));
}

[[maybe_unused]] const bool kKinds = cbench::register_task_kinds({{"primes", run_primes}});

std::vector<cbench::Task> primes_tasks(const cbench::Corpus&, const cbench::Options& o) {
  const auto ranges = static_cast<std::uint64_t>(o.integer("ranges"));
  const auto width = static_cast<std::uint64_t>(o.integer("width"));
  std::vector<cbench::Task> tasks;
  for (std::uint64_t i = 0; i < ranges; ++i) {
    // Later ranges cost more (larger divisors) and hold fewer primes: tasks of unequal sizes.
    const std::string input = std::to_string(i * width) + " " + std::to_string((i + 1) * width);
    tasks.push_back(cbench::make_task("primes", "range " + std::to_string(i), input));
  }
  return tasks;
}

std::string primes_line(const cbench::Task& task, const cbench::Bytes& value) {
  const Range r = parse_range(*task.input);
  return "Primes in [" + std::to_string(r.lo) + ", " + std::to_string(r.hi) + "): " + value;
}

// A count in decimal is already a JSON number.
std::string primes_json(const cbench::Bytes& value) {
  return value;
}

// The reduce step: the total, checked against the sequential reference's like every result.
cbench::Bytes primes_total(std::span<const cbench::Bytes> values) {
  std::uint64_t total = 0;
  for (const auto& v : values) total += std::stoull(v);
  return std::to_string(total);
}

std::vector<std::string> primes_summary(const cbench::Bytes& total) {
  return {"Primes in all ranges: " + total};
}

const cbench::OptionSpec kOptions[] = {
    {.name = "ranges",
     .placeholder = "N",
     .help = "N ranges, one task each",
     .fallback = 8,
     .min = 1,
     .max = 100'000,
     .bench = cbench::PresetValues{.smoke = 4, .quick = 8, .standard = 16, .seed = 16, .full = 32}},
    {.name = "width",
     .placeholder = "N",
     .help = "N numbers in each range",
     .fallback = 200'000,
     .min = 1,
     .max = 1'000'000'000,
     .bench = cbench::PresetValues{.smoke = 2'000,
                                   .quick = 20'000,
                                   .standard = 100'000,
                                   .seed = 200'000,
                                   .full = 200'000}},
};

const cbench::Experiment kPrimes = {
    .name = "primes",
    .summary = "how many primes lie in each of N ranges, by trial division",
    .work = cbench::WorkKind::cpu,
    .options = kOptions,
    .make_tasks = primes_tasks,
    .task_line = primes_line,
    .task_json = primes_json,
    .reduce = primes_total,
    .summary_lines = primes_summary,
};

// After kPrimes in this file, so initialised after it.
[[maybe_unused]] const bool kRegistered = (cbench::register_experiment(kPrimes), true);

}  // namespace
}  // namespace primes
