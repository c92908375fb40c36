// The runtimes' own fib (ExecutorInfo::native_fib): oneTBB's task_group, OpenMP's task and
// taskwait, Asio's coroutines, plain recursion, each with no cbench code in the loop, at the same
// n and cutoff as the fib experiment of the run and at the same W, so that its ns per task sits
// beside the fork-join's (docs/design.md, "Nested fork-join"). Rows
// fib:native/executor:E/workers:W, each result checked against fib by iteration.
#include <chrono>

#include "benchmarks/suite.hpp"

namespace cbench::bench {
namespace {

void native_fib(benchmark::State& state, const ExecutorInfo& info, int n, int cutoff, int cores) {
  const int workers = static_cast<int>(state.range(0));
  auto fib = info.native_fib(workers);
  const std::uint64_t expected = fib_iterative(n);
  std::uint64_t value = fib->fib(n, cutoff);  // warm-up
  double wall = 0;
  for (auto _ : state) {
    if (value != expected) break;
    count_begin(nullptr);
    const auto start = Clock::now();
    value = fib->fib(n, cutoff);
    wall += std::chrono::duration<double>(Clock::now() - start).count();
    count_end(state, nullptr, static_cast<double>(fib_tasks(n, cutoff)));
  }
  if (value != expected) {
    state.SkipWithError(("fib(" + std::to_string(n) + ") came out as " + std::to_string(value) +
                         ", not " + std::to_string(expected))
                            .c_str());
    return;
  }
  // Counted as the fork-join's rows count theirs (experiment_cases.cpp), so the two compare.
  const double tasks = static_cast<double>(fib_tasks(n, cutoff));
  const double all_tasks = tasks * static_cast<double>(state.iterations());
  state.counters["tasks"] = tasks;
  state.counters["tasks_per_second"] = benchmark::Counter(all_tasks, benchmark::Counter::kIsRate);
  state.counters["ns_per_task"] = all_tasks > 0 ? wall * 1e9 / all_tasks : 0;
  state.counters["workers"] = workers;
  state.counters["cores"] = cores;
}

}  // namespace

int register_native_fib(const SuiteOptions& o) {
  if (!o.workloads.empty() &&
      std::find(o.workloads.begin(), o.workloads.end(), "fib") == o.workloads.end()) {
    return 0;
  }
  const Experiment* fib = nullptr;
  for (const Experiment* e : experiments()) {
    if (e->name == "fib") fib = e;
  }
  if (fib == nullptr) return 0;
  const Options options = fib->defaults(preset_member(o));
  const int n = static_cast<int>(options.integer("size"));
  const int cutoff = static_cast<int>(options.integer("cutoff"));
  int registered = 0;
  for (const ExecutorInfo* info : executors()) {
    if (info->native_fib == nullptr) continue;
    const std::string family = "fib:native/executor:" + std::string(info->name);
    registered += register_family(o, {.name = family, .values = grid_workers(o, *info)}, [&] {
      return [info, n, cutoff, cores = o.cores](benchmark::State& state) {
        native_fib(state, *info, n, cutoff, cores);
      };
    });
  }
  return registered;
}

}  // namespace cbench::bench
