// What a concurrency model costs by itself, with no work to hide it:
//   overhead:dispatch   10,000 empty tasks per iteration through the executor, reported as ns
//                       per task;
//   overhead:native     the same 10,000 empty tasks run by the executor's runtime alone, with no
//                       cbench code in the loop (ExecutorInfo::native_floor): the floor that
//                       dispatch is measured against, at the same worker counts;
//   overhead:wake       one run of W empty tasks after the workers have gone to sleep: the
//                       start-up a run pays, in µs per run, over a fixed number of runs (each
//                       sleeps 2 ms outside the timing: iterating until the *measured* time
//                       reached a minimum would spend thousands of sleeps on a row);
//   overhead:lifecycle  building and destroying the executor;
//   overhead:memory     the memory each waiting task adds, with 10 to 10,000 tasks waiting at
//                       once (threads: a stack; coroutines: a frame; processes: a process): the
//                       larger of the proportional set size it adds and the heap in use it adds
//                       (a coroutine frame may land in heap pages an earlier case left resident,
//                       which the set size cannot see; a thread's stack is mapped outside the
//                       heap, which the heap cannot see).
#include <malloc.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "benchmarks/suite.hpp"
#include "coro/timer.hpp"
#include "executors/async_task.hpp"

namespace cbench::bench {
namespace {

constexpr int kDispatchTasks = 10'000;
// overhead:wake: runs per row, and how long the workers are left to fall asleep before each.
constexpr int kWakeRuns = 100;
constexpr auto kWakeSleep = std::chrono::milliseconds(2);

Bytes run_noop(std::string_view) {
  return {};
}

// Every task of a run waits until all of them are waiting; the last to arrive measures the memory
// and lets them all go. In-process executors only (fork is measured from its idle workers).
struct WaitAll {
  std::mutex mutex;
  std::condition_variable released_cv;
  int expected = 0, arrived = 0;
  bool released = false;
  std::size_t pss_at_peak = 0;
  std::size_t heap_at_peak = 0;
  std::vector<Timer*> timers;  // coro: the waiting coroutines, on one thread

  void reset(int n) {
    expected = n;
    arrived = 0;
    released = false;
    timers.clear();
  }
};
WaitAll wait_all;

// Bytes the allocator has handed out and not taken back, over every arena.
std::size_t heap_in_use() {
  const struct mallinfo2 info = ::mallinfo2();
  return info.uordblks + info.hblkhd;
}

void measure_peak() {
  wait_all.pss_at_peak = pss_bytes(::getpid());
  wait_all.heap_at_peak = heap_in_use();
}

Bytes run_wait(std::string_view) {
  std::unique_lock lock(wait_all.mutex);
  if (++wait_all.arrived == wait_all.expected) {
    measure_peak();
    wait_all.released = true;
    wait_all.released_cv.notify_all();
  } else {
    wait_all.released_cv.wait(lock, [] { return wait_all.released; });
  }
  return {};
}

// The coroutine's side of the meeting, out of its body: GCC keeps every local of a coroutine in
// its frame, whether or not it lives across a wait. True when the timer must wait to be released;
// the last to arrive measures and releases the others instead.
bool arrive_async(Timer& timer) {
  if (++wait_all.arrived == wait_all.expected) {
    measure_peak();
    for (auto* t : wait_all.timers) t->cancel();
    return false;
  }
  wait_all.timers.push_back(&timer);
  return true;
}

// The same wait as a coroutine: its own timer, which expires never and is cancelled to release it
// (bound to the coroutine's loop at the wait).
Async<Bytes> run_wait_async(std::string_view) {
  Timer timer;
  if (arrive_async(timer)) co_await timer.wait();  // operation_aborted: released
  co_return Bytes{};
}

[[maybe_unused]] const bool kRegistered = [] {
  register_task_kind({"bench-noop", run_noop});
  register_task_kind({"bench-wait", run_wait});
  register_async_form("bench-wait", run_wait_async);
  return true;
}();

std::vector<Task> tasks_of(std::string_view kind, int n) {
  std::vector<Task> tasks(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i)
    tasks[i] = Task{&task_kind(kind), "task " + std::to_string(i), nullptr};
  return tasks;
}

// Nanoseconds per task over the timed region, measured with the same clock as the wall time.
void set_ns_per_task(benchmark::State& state, double seconds) {
  const double tasks =
      static_cast<double>(kDispatchTasks) * static_cast<double>(state.iterations());
  state.counters["ns_per_task"] = tasks > 0 ? seconds / tasks * 1e9 : 0;
}

void dispatch(benchmark::State& state, const ExecutorInfo& info) {
  const int workers = static_cast<int>(state.range(0));
  const auto tasks = tasks_of("bench-noop", kDispatchTasks);
  auto executor = info.make(workers);
  map(*executor, tasks);  // warm-up
  const Usage usage_before = usage_now(executor->worker_pids());
  const auto start = Clock::now();
  for (auto _ : state) {
    count_begin(executor.get());
    auto results = map(*executor, tasks);
    count_end(state, executor.get(), kDispatchTasks);
    benchmark::DoNotOptimize(results.data());
  }
  set_ns_per_task(state, std::chrono::duration<double>(Clock::now() - start).count());
  set_usage_counters(state, usage_before, usage_now(executor->worker_pids()),
                     static_cast<double>(kDispatchTasks) * static_cast<double>(state.iterations()));
  state.counters["workers"] = workers;
}

// An executor's runtime alone (ExecutorInfo::native_floor), built outside the timing and timed
// like dispatch; each run is checked to have run every task.
void native_floor(benchmark::State& state, const ExecutorInfo& info) {
  const int workers = static_cast<int>(state.range(0));
  auto floor = info.native_floor(workers);
  floor->run(kDispatchTasks, {});  // warm-up: threads started, caches filled
  const auto start = Clock::now();
  for (auto _ : state) {
    count_begin(nullptr);
    const FloorCount count = floor->run(kDispatchTasks, {});
    count_end(state, nullptr, kDispatchTasks);
    if (!check_floor_run(state, count, kDispatchTasks)) break;
  }
  set_ns_per_task(state, std::chrono::duration<double>(Clock::now() - start).count());
  state.counters["workers"] = workers;
}

// The start-up of one run: W empty tasks, one per worker, after the workers have gone to sleep
// (kWakeSleep apart, outside the timing), in µs per run: what a run of few tasks pays before any of
// them starts, and what the granularity sweep's many tasks per run amortise.
void wake(benchmark::State& state, const ExecutorInfo& info) {
  const int workers = static_cast<int>(state.range(0));
  const auto tasks = tasks_of("bench-noop", workers);
  auto executor = info.make(workers);
  map(*executor, tasks);  // warm-up
  double seconds = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::this_thread::sleep_for(kWakeSleep);
    state.ResumeTiming();
    count_begin(executor.get());
    const auto start = Clock::now();
    auto results = map(*executor, tasks);
    seconds += std::chrono::duration<double>(Clock::now() - start).count();
    count_end(state, executor.get(), workers);
    benchmark::DoNotOptimize(results.data());
  }
  const auto runs = static_cast<double>(state.iterations());
  state.counters["us_per_run"] = runs > 0 ? seconds / runs * 1e6 : 0;
  state.counters["workers"] = workers;
}

void lifecycle(benchmark::State& state, const ExecutorInfo& info) {
  const int workers = static_cast<int>(state.range(0));
  for (auto _ : state) {
    count_begin(nullptr);
    {
      auto executor = info.make(workers);
      benchmark::DoNotOptimize(executor.get());
    }
    count_end(state, nullptr, 0);  // no task: building and destroying
  }
  state.counters["workers"] = workers;
}

std::size_t total_pss(const Executor& executor) {
  std::size_t total = pss_bytes(::getpid());
  for (pid_t pid : executor.worker_pids()) total += pss_bytes(pid);
  return total;
}

void memory(benchmark::State& state, const ExecutorInfo& info) {
  const int n = static_cast<int>(state.range(0));
  // Tasks that wait on each other need the workers to share this process's memory.
  const bool in_process = info.traits.shares_memory();
  for (auto _ : state) {
    // The task list is the input, the same for every model: made before the baseline.
    const auto tasks = tasks_of(in_process ? "bench-wait" : "bench-noop", n);
    const std::size_t pss_before = pss_bytes(::getpid());
    const std::size_t heap_before = heap_in_use();
    auto executor = info.make(n);
    if (!in_process) {
      // A worker process is the cost of a task waiting in this model: measured idle, after one
      // task each has touched its memory.
      map(*executor, tasks);
      wait_all.pss_at_peak = total_pss(*executor);
      wait_all.heap_at_peak = heap_in_use();
    } else {
      wait_all.reset(n);
      map(*executor, tasks);
    }
    auto per_task = [n](std::size_t peak, std::size_t before) {
      return (static_cast<double>(peak) - static_cast<double>(before)) / n;
    };
    const double pss = per_task(wait_all.pss_at_peak, pss_before);
    const double heap = per_task(wait_all.heap_at_peak, heap_before);
    state.counters["pss_bytes_per_task"] = pss;
    state.counters["heap_bytes_per_task"] = heap;
    state.counters["bytes_per_task"] = std::max(pss, heap);
    state.counters["tasks"] = n;
  }
}

}  // namespace

int register_overheads(const SuiteOptions& o) {
  if (!o.workloads.empty()) return 0;  // asked for particular workloads only
  int registered = 0;
  // iterations: a fixed count (a measurement of memory is taken once; a wake-up row runs a fixed
  // number of runs), or 0: the preset's minimum time.
  auto add = [&](const std::string& name, CaseBody fn, const char* arg_name,
                 const std::vector<int>& args, int iterations = 0) {
    registered += register_family(o,
                                  {.name = name,
                                   .arg = arg_name,
                                   .values = args,
                                   .unit = benchmark::kMicrosecond,
                                   .repeat = false,
                                   .iterations = iterations},
                                  [&] { return fn; });
  };
  // The reference first: the caller running 10,000 empty tasks itself.
  for (const ExecutorInfo* info : executors()) {
    const std::vector<int> grid = grid_workers(o, *info);
    if (grid.empty()) continue;
    add(
        "overhead:dispatch/executor:" + std::string(info->name),
        [info](benchmark::State& s) { dispatch(s, *info); }, "workers", grid);
  }
  // Each runtime's own floor at the same worker counts (overhead:native), and under the name an
  // earlier version gave it at W = 1 (overhead:dispatch/executor:asio-co_spawn), for baselines.
  for (const ExecutorInfo* info : executors()) {
    const std::vector<int> grid = grid_workers(o, *info);
    if (info->native_floor == nullptr || grid.empty()) continue;
    auto body = [info](benchmark::State& s) { native_floor(s, *info); };
    add("overhead:native/executor:" + std::string(info->name), body, "workers", grid);
    if (!info->native_floor_name.empty()) {
      add("overhead:dispatch/executor:" + std::string(info->native_floor_name), body, "workers",
          {1});
    }
  }
  // Executors that build workers; not those of a launcher (mpirun's engines live as long as the
  // run: spawning is not what a cluster repeats).
  auto builds_workers = [&](const ExecutorInfo& info) {
    return !info.traits.is_reference() && !info.traits.needs_launcher &&
           wanted_executor(o, info.name);
  };
  note_unmeasured("overhead:wake", std::chrono::duration<double>(kWakeSleep).count());
  for (const ExecutorInfo* info : executors()) {
    if (!builds_workers(*info)) continue;
    add(
        "overhead:wake/executor:" + std::string(info->name),
        [info](benchmark::State& s) { wake(s, *info); }, "workers", grid_workers(o, *info),
        o.smoke ? 3 : kWakeRuns);
  }
  for (const ExecutorInfo* info : executors()) {
    if (!builds_workers(*info)) continue;
    add(
        "overhead:lifecycle/executor:" + std::string(info->name),
        [info](benchmark::State& s) { lifecycle(s, *info); }, "workers", grid_workers(o, *info));
  }
  // Waiting tasks: up to 10,000 threads or coroutines, each executor up to its worker cap.
  const std::vector<int> many = o.smoke ? std::vector<int>{10}
                                : o.preset == Preset::quick
                                    ? std::vector<int>{10, 100, 1000}
                                    : std::vector<int>{10, 100, 1000, 10000};
  for (const ExecutorInfo* info : executors()) {
    if (!builds_workers(*info)) continue;
    std::vector<int> counts;
    for (int n : many) {
      if (info->traits.worker_cap == 0 || n <= info->traits.worker_cap) counts.push_back(n);
    }
    add(
        "overhead:memory/executor:" + std::string(info->name),
        [info](benchmark::State& s) { memory(s, *info); }, "tasks", counts, 1);
  }
  return registered;
}

}  // namespace cbench::bench
