#include "executors/executor.hpp"

#include <time.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <exception>
#include <map>
#include <mutex>
#include <optional>

#include "executors/run_task.hpp"

namespace cbench {
namespace {

struct Registry {
  std::mutex mutex;
  std::map<std::string, TaskKind, std::less<>> kinds;
};

Registry& registry() {
  static Registry r;
  return r;
}

}  // namespace

const TaskKind& task_kind(std::string_view name) {
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  auto it = r.kinds.find(name);
  if (it == r.kinds.end())
    throw std::out_of_range("unknown task kind \"" + std::string(name) + "\"");
  return it->second;
}

void register_task_kind(const TaskKind& kind) {
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  if (!r.kinds.emplace(std::string(kind.name), kind).second) {
    throw std::logic_error("task kind \"" + std::string(kind.name) + "\" registered twice");
  }
}

namespace {

double cpu_seconds(clockid_t clock) {
  timespec ts{};
  ::clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

}  // namespace

double thread_cpu_seconds() {
  return cpu_seconds(CLOCK_THREAD_CPUTIME_ID);
}

double process_cpu_seconds() {
  return cpu_seconds(CLOCK_PROCESS_CPUTIME_ID);
}

namespace {
std::atomic<bool> cpu_timing{true};
}  // namespace

void set_task_cpu_timing(bool on) {
  cpu_timing.store(on, std::memory_order_relaxed);
}
bool task_cpu_timing() {
  return cpu_timing.load(std::memory_order_relaxed);
}

std::string task_error(std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    std::string what = e.what();
    return what.empty() ? "task failed" : what;
  } catch (...) {
    return "task threw a non-standard exception";
  }
}

TaskResult run_task(const Task& task, std::size_t index, int worker) {
  TaskResult result;
  result.index = index;
  result.worker = worker;
  const bool timed = task_cpu_timing();
  const double cpu_start = timed ? thread_cpu_seconds() : 0;
  result.start = Clock::now();
  try {
    result.value = task();
  } catch (...) {
    result.error = task_error(std::current_exception());
  }
  result.end = Clock::now();
  result.cpu_seconds = timed ? thread_cpu_seconds() - cpu_start : 0;
  return result;
}

void throw_if_failed(const TaskResult& result, std::span<const Task> tasks) {
  if (!result.ok()) throw TaskError(tasks[result.index].name, result.error);
}

std::vector<TaskResult> map(Executor& executor, std::span<const Task> tasks) {
  std::vector<std::optional<TaskResult>> slots(tasks.size());
  executor.run(tasks, [&](TaskResult&& result) {
    auto index = result.index;
    slots.at(index) = std::move(result);
  });
  std::vector<TaskResult> results;
  results.reserve(tasks.size());
  for (std::size_t i = 0; i < slots.size(); ++i) {
    if (!slots[i]) throw TaskError(tasks[i].name, "the executor returned no result");
    results.push_back(std::move(*slots[i]));
  }
  for (const auto& result : results) throw_if_failed(result, tasks);
  return results;
}

}  // namespace cbench

#include "executors/factories.hpp"

namespace cbench {
namespace {

struct ExecutorEntry {
  ExecutorInfo info;
  std::unique_ptr<Executor> (*make)(int workers);
};

constexpr ExecutorEntry kExecutors[] = {
    {{"sequential", "the caller runs every task in order; the reference"},
     make_sequential_executor},
    {{"thread", "one std::thread per task, at most W alive (threading.Thread)"},
     make_thread_executor},
    {{"pool", "W long-lived threads, a task queue, results as completed (ThreadPoolExecutor)"},
     make_pool_executor},
    {{"tbb", "oneTBB task_group in a task_arena of W under global_control"}, make_tbb_executor},
    {{"coro", "C++20 coroutines on one Asio event loop, W in flight (asyncio)"},
     make_coro_executor},
    {{"fork",
      "W worker processes from a fork server; tasks handed out dynamically, results over sockets "
      "(ProcessPoolExecutor)"},
     make_fork_executor},
#ifdef CBENCH_HAVE_MPI
    {{"mpi",
      "Open MPI: rank 0 hands each task to the next free engine, on this host or others "
      "(ipyparallel's load-balanced view)",
      true},
     make_mpi_executor},
#endif
};

constexpr auto kInfos = [] {
  std::array<ExecutorInfo, std::size(kExecutors)> infos{};
  for (std::size_t i = 0; i < infos.size(); ++i) infos[i] = kExecutors[i].info;
  return infos;
}();

}  // namespace

std::span<const ExecutorInfo> executors() {
  return kInfos;
}

std::unique_ptr<Executor> make_executor(std::string_view name, int workers) {
  if (workers < 1) {
    throw std::invalid_argument("workers must be at least 1, got " + std::to_string(workers));
  }
  std::string names;
  for (const auto& entry : kExecutors) {
    if (entry.info.name == name) return entry.make(workers);
    names += (names.empty() ? "" : ", ") + std::string(entry.info.name);
  }
  throw std::invalid_argument("unknown executor \"" + std::string(name) + "\" (known: " + names +
                              ")");
}

}  // namespace cbench
