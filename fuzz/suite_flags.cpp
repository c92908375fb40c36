// The benchmarks' own flags (benchmarks/suite.hpp, parse_suite_flags): the input's parts (cut at
// NUL bytes) are the arguments after the program's name. Any arguments give the options or
// std::invalid_argument naming the flag; what is not a --cbench_ flag is left, in its order, for
// Google Benchmark; a worker count is at least 1. The process's CPU affinity (--cbench_cpus pins
// it) is put back after each input.
#include <sched.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "benchmarks/suite.hpp"
#include "fuzz/fuzz.hpp"

using namespace cbench;

CBENCH_FUZZ_TARGET {
  static cpu_set_t affinity = [] {
    cpu_set_t set;
    CPU_ZERO(&set);
    sched_getaffinity(0, sizeof set, &set);
    return set;
  }();
  std::vector<std::string> args{"cbench_bench"};
  fuzz::for_each_part(fuzz::bytes(data, size), '\0',
                      [&](std::string_view part) { args.emplace_back(part); });
  std::vector<char*> argv;
  std::vector<std::string> others;
  for (std::string& a : args) {
    argv.push_back(a.data());
    if (&a != &args.front() && !a.starts_with("--cbench_")) others.push_back(a);
  }
  argv.push_back(nullptr);
  int argc = static_cast<int>(args.size());
  char** v = argv.data();
  try {
    const bench::SuiteOptions o = bench::parse_suite_flags(argc, v);
    fuzz::check(argc == static_cast<int>(others.size()) + 1 && v[argc] == nullptr,
                "the arguments left are not the others");
    for (int i = 1; i < argc; ++i) fuzz::check(others[i - 1] == v[i], "an argument out of order");
    for (const int w : o.workers) fuzz::check(w >= 1, "a worker count below 1");
  } catch (const std::invalid_argument&) {
  }
  sched_setaffinity(0, sizeof affinity, &affinity);
  return 0;
}
