// The task-granularity sweep (Task Bench's METG): tasks of a fixed amount of CPU work, from about
// 1 µs to about 10 ms each, enough of them per run that the run's start-up (waking W workers,
// tens of µs on a VM: overhead:wake measures it) is amortised, as Task Bench runs many tasks per
// core: at least 16·W, and at least 20 ms of work per worker. The scripts compute each executor's
// efficiency against the ideal at each size, and the smallest task for which it reaches 50%. The
// granularity:native rows run the same tasks, as many per run, through each executor's native
// floor (ExecutorInfo::native_floor), so that METG is computed the same way for the runtime alone.
//
// The work is a fixed number of iterations of a dependent arithmetic chain, calibrated once at
// start-up to the sizes above: fixed work rather than "spin until T has passed", so that a
// slower worker shows as a longer task, as it would with real work.
#include <chrono>

#include "benchmarks/suite.hpp"
#include "executors/wire.hpp"

namespace cbench::bench {
namespace {

std::uint64_t spin(std::uint64_t iterations) {
  std::uint64_t x = iterations | 1;
  for (std::uint64_t i = 0; i < iterations; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;  // each step waits for the last
    asm volatile("" : "+r"(x));
  }
  return x;
}

Bytes run_spin(std::string_view input) {
  wire::Reader in(input);
  const auto iterations = in.u64();
  in.expect_done();
  return wire::Writer().u64(spin(iterations)).take();
}

[[maybe_unused]] const bool kRegistered = [] {
  register_task_kind({"bench-spin", run_spin});
  return true;
}();

// Iterations per microsecond on this machine, best of a few tries.
double iterations_per_us() {
  static const double rate = [] {
    double best = 0;
    for (int attempt = 0; attempt < 5; ++attempt) {
      constexpr std::uint64_t n = 2'000'000;
      const auto start = std::chrono::steady_clock::now();
      benchmark::DoNotOptimize(spin(n));
      const double us =
          std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
              .count();
      best = std::max(best, static_cast<double>(n) / us);
    }
    return best;
  }();
  return rate;
}

// At least 16 per worker, and enough for 20 ms of work per worker, at most 100,000.
int tasks_per_run(int workers, long task_us) {
  const long per_worker = std::max(16L, 20'000L / std::max(1L, task_us));
  return static_cast<int>(std::min(100'000L, per_worker * workers));
}

// The input of a task of task_us µs of work, and the result every such task must give.
struct SpinTask {
  Bytes input, expected;
};
SpinTask spin_task(long task_us) {
  const auto iterations =
      static_cast<std::uint64_t>(std::max(1.0, iterations_per_us() * static_cast<double>(task_us)));
  return {wire::Writer().u64(iterations).take(), wire::Writer().u64(spin(iterations)).take()};
}

void set_counters(benchmark::State& state, long task_us, int n, int workers, int cores) {
  state.counters["task_seconds"] = static_cast<double>(task_us) * 1e-6;
  state.counters["tasks"] = n;
  state.counters["workers"] = workers;
  state.counters["cores"] = cores;
}

void granularity(benchmark::State& state, const ExecutorInfo& info, int workers, int cores) {
  const long task_us = state.range(0);
  const SpinTask spin = spin_task(task_us);
  const int n = tasks_per_run(workers, task_us);
  const auto input = std::make_shared<const Bytes>(spin.input);
  std::vector<Task> tasks;
  for (int i = 0; i < n; ++i) {
    tasks.push_back({&task_kind("bench-spin"), "task " + std::to_string(i), input});
  }
  auto executor = info.make(workers);
  map(*executor, tasks);  // warm-up
  for (auto _ : state) {
    count_begin(executor.get());
    auto results = map(*executor, tasks);
    count_end(state, executor.get(), n);
    state.PauseTiming();
    for (const auto& r : results) {
      if (r.value != spin.expected) {
        state.SkipWithError(("task " + std::to_string(r.index) + ": wrong result").c_str());
        break;
      }
    }
    state.ResumeTiming();
  }
  set_counters(state, task_us, n, workers, cores);
}

// The same tasks, as many per run, run by the executor's runtime alone (its native floor): METG
// computed the same way shows what the runtime itself allows.
void native_granularity(benchmark::State& state, const ExecutorInfo& info, int workers, int cores) {
  const long task_us = state.range(0);
  const SpinTask spin = spin_task(task_us);
  const int n = tasks_per_run(workers, task_us);
  const FloorTask task{&task_kind("bench-spin"), spin.input, spin.expected};
  auto floor = info.native_floor(workers);
  floor->run(static_cast<std::size_t>(n), task);  // warm-up
  for (auto _ : state) {
    count_begin(nullptr);
    const FloorCount count = floor->run(static_cast<std::size_t>(n), task);
    count_end(state, nullptr, n);
    if (!check_floor_run(state, count, static_cast<std::size_t>(n))) break;
  }
  set_counters(state, task_us, n, workers, cores);
}

}  // namespace

int register_granularity(const SuiteOptions& o) {
  if (!o.workloads.empty()) return 0;
  const std::vector<int> sizes =
      o.smoke ? std::vector<int>{1, 100} : std::vector<int>{1, 10, 100, 1000, 10000};
  int registered = 0;
  using Body = void (*)(benchmark::State&, const ExecutorInfo&, int, int);
  // granularity/...: through the executor; granularity:native/...: its runtime alone.
  const std::pair<const char*, Body> families[] = {{"granularity", granularity},
                                                   {"granularity:native", native_granularity}};
  for (const auto& entry : families) {
    const char* prefix = entry.first;
    const Body body = entry.second;  // a variable, not a binding: clang 14 captures no binding
    for (const ExecutorInfo* info : executors()) {
      if (body == native_granularity && info->native_floor == nullptr) continue;
      for (int w : grid_workers(o, *info)) {
        const std::string family = std::string(prefix) + "/executor:" + std::string(info->name) +
                                   "/workers:" + std::to_string(w);
        registered += register_family(
            o, {.name = family, .arg = "task_us", .values = sizes, .repeat = false}, [&] {
              return [info, w, cores = o.cores, body = body](benchmark::State& s) {
                body(s, *info, w, cores);
              };
            });
      }
    }
  }
  return registered;
}

}  // namespace cbench::bench
