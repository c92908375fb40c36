#include "executors/executor.hpp"

#include <time.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <map>
#include <mutex>
#include <thread>

#include "executors/named_registry.hpp"
#include "executors/run_task.hpp"
#include "workloads/enum_names.hpp"

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

Bytes TaskKind::operator()(std::string_view input, std::span<const std::string_view> views) const {
  if (run_views != nullptr) return run_views(input, views);
  if (!views.empty()) {
    throw std::invalid_argument("task kind \"" + std::string(name) + "\" reads no views, and " +
                                std::to_string(views.size()) + " were given");
  }
  if (run_nested != nullptr) return run_nested(input, inline_spawner());
  return run(input);
}

void register_task_kind(const TaskKind& kind) {
  if ((kind.run != nullptr) + (kind.run_views != nullptr) + (kind.run_nested != nullptr) != 1) {
    throw std::logic_error("task kind \"" + std::string(kind.name) +
                           "\" needs exactly one of run, run_views and run_nested");
  }
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  if (!r.kinds.emplace(std::string(kind.name), kind).second) {
    throw std::logic_error("task kind \"" + std::string(kind.name) + "\" registered twice");
  }
}

namespace {

// Each child runs where it is spawned, to its end: wait() has nothing left to wait for.
class InlineSpawner final : public Spawner {
 public:
  void spawn(Join& join, ChildRef child) override { join.run_child(child); }
  void wait(Join&) override {}
};

}  // namespace

Spawner& inline_spawner() {
  static InlineSpawner spawner;
  return spawner;
}

Bytes run_nested_root(const Task& root, Spawner& spawner) {
  if (root.kind == nullptr || root.kind->run_nested == nullptr) {
    throw std::invalid_argument("task kind \"" + std::string(root.kind ? root.kind->name : "") +
                                "\" spawns no children: it is not a nested kind");
  }
  return root.kind->run_nested(root.input ? std::string_view(*root.input) : std::string_view{},
                               spawner);
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

TaskResult run_task(const Task& task, std::size_t index, int worker, const TraceClock& clock,
                    Clock::time_point start) {
  TaskResult result;
  result.index = index;
  result.worker = worker;
  const bool timed = task_cpu_timing();
  const double cpu_start = timed ? thread_cpu_seconds() : 0;
  result.start = start;
  try {
    result.value = task();
  } catch (...) {
    result.error = task_error(std::current_exception());
  }
  result.end = clock.now();
  result.cpu_seconds = timed ? thread_cpu_seconds() - cpu_start : 0;
  return result;
}

void throw_if_failed(const TaskResult& result, std::span<const Task> tasks) {
  if (!result.ok()) throw TaskError(tasks[result.index].name, result.error);
}

void Executor::run_into(std::span<const Task> tasks, std::span<TaskResult> results) {
  run(tasks, [&](TaskResult&& result) {
    const auto index = result.index;
    if (index >= results.size()) {
      throw std::out_of_range("the executor returned a result for task " + std::to_string(index) +
                              " of " + std::to_string(results.size()));
    }
    results[index] = std::move(result);
  });
}

std::vector<TaskResult> map(Executor& executor, std::span<const Task> tasks) {
  // Every slot is marked unfilled (an index no task has) until its task's result lands in it.
  constexpr std::size_t kUnfilled = ~std::size_t{0};
  TaskResult unfilled;
  unfilled.index = kUnfilled;
  std::vector<TaskResult> results(tasks.size(), unfilled);
  executor.run_into(tasks, results);
  for (std::size_t i = 0; i < results.size(); ++i) {
    if (results[i].index != i) throw TaskError(tasks[i].name, "the executor returned no result");
  }
  for (const auto& result : results) throw_if_failed(result, tasks);
  return results;
}

}  // namespace cbench

namespace cbench {

// The executors of the build's list (executors/CMakeLists.txt), each defined in its own file with
// CBENCH_REGISTER_EXECUTOR; the list is generated, so that naming a file there is all it takes.
namespace builtin {
#define CBENCH_BUILTIN(stem) extern const ExecutorInfo executor_##stem;
#define CBENCH_MISSING(stem, why)
#include "registered_executors.inc"
#undef CBENCH_BUILTIN
#undef CBENCH_MISSING
}  // namespace builtin

namespace {

struct Missing {
  std::string_view name;
  const char* why;
};

constexpr Missing kMissing[] = {
#define CBENCH_BUILTIN(stem)
#define CBENCH_MISSING(stem, why) {#stem, why},
#include "registered_executors.inc"
#undef CBENCH_BUILTIN
#undef CBENCH_MISSING
    {"", nullptr},
};

NamedRegistry<ExecutorInfo>& executor_registry() {
  static NamedRegistry<ExecutorInfo> r({
#define CBENCH_BUILTIN(stem) &builtin::executor_##stem,
#define CBENCH_MISSING(stem, why)
#include "registered_executors.inc"
#undef CBENCH_BUILTIN
#undef CBENCH_MISSING
  });
  return r;
}

}  // namespace

constexpr EnumNames<WorkerPlace, 5> kWorkerPlaceNames{{{WorkerPlace::caller, "caller"},
                                                       {WorkerPlace::threads, "threads"},
                                                       {WorkerPlace::coroutines, "coroutines"},
                                                       {WorkerPlace::processes, "processes"},
                                                       {WorkerPlace::ranks, "ranks"}}};

std::string_view to_string(WorkerPlace place) {
  return name_of(kWorkerPlaceNames, place);
}

std::string ExecutorInfo::description() const {
  return python.empty() ? std::string(model)
                        : std::string(model) + " (" + std::string(python) + ")";
}

std::string executor_names() {
  return executor_registry().names();
}

std::span<const ExecutorInfo* const> executors() {
  return executor_registry().all();
}

const ExecutorInfo* find_executor(std::string_view name) {
  return executor_registry().find(name);
}

const ExecutorInfo& reference_executor() {
  for (const ExecutorInfo* e : executors()) {
    if (e->traits.is_reference()) return *e;
  }
  throw std::logic_error("no executor runs the tasks on the caller: there is no reference");
}

const char* missing_executor_reason(std::string_view name) {
  for (const auto& m : kMissing) {
    if (m.why != nullptr && m.name == name) return m.why;
  }
  return nullptr;
}

void register_executor(const ExecutorInfo& info) {
  if (info.make == nullptr) {
    throw std::logic_error("executor \"" + std::string(info.name) + "\" has no constructor");
  }
  executor_registry().add(info, "executor");
}

namespace {

std::string below_one(long workers) {
  return workers < 1 ? "workers must be at least 1, got " + std::to_string(workers) : "";
}

}  // namespace

int checked_workers(int workers) {
  if (std::string why = below_one(workers); !why.empty()) throw std::invalid_argument(why);
  return workers;
}

std::string workers_refused(const ExecutorInfo& info, long workers) {
  const std::string name(info.name);
  if (std::string why = below_one(workers); !why.empty()) return why;
  if (info.traits.worker_cap == 1 && workers != 1) {
    return "the " + name + " executor has no workers to give: --workers must be 1";
  }
  if (info.traits.worker_cap > 0 && workers > info.traits.worker_cap) {
    return "the " + name + " executor runs at most " + std::to_string(info.traits.worker_cap) +
           " workers, not " + std::to_string(workers);
  }
  return {};
}

std::vector<int> offered_workers(const ExecutorInfo& info, std::vector<int> workers) {
  if (!info.offered()) return {};
  if (info.traits.is_reference()) return {1};
  const int slots = info.launcher_workers();
  std::erase_if(workers, [&](int w) {
    return !workers_refused(info, w).empty() || (slots > 0 && w > slots);
  });
  return workers;
}

int resolve_workers(const ExecutorInfo& info, std::optional<long> asked) {
  const long cores = std::max(1u, std::thread::hardware_concurrency());
  long workers = info.traits.worker_cap == 1 ? 1 : cores;
  if (info.launcher_workers() > 0) workers = info.launcher_workers();
  if (asked) workers = *asked;
  if (std::string why = workers_refused(info, workers); !why.empty()) {
    throw std::invalid_argument(why);
  }
  return static_cast<int>(workers);
}

void start_processes(int& argc, char**& argv) {
  for (const ExecutorInfo* info : executors()) {
    if (info->process_start != nullptr) info->process_start(argc, argv);
  }
}

std::unique_ptr<Executor> make_executor(std::string_view name, int workers) {
  const ExecutorInfo* e = find_executor(name);
  if (e == nullptr) {
    throw std::invalid_argument("unknown executor \"" + std::string(name) +
                                "\" (known: " + executor_names() + ")");
  }
  if (std::string why = workers_refused(*e, workers); !why.empty()) {
    throw std::invalid_argument(why);
  }
  return e->make(workers);
}

}  // namespace cbench
