// One interface for every concurrency model (docs/design.md, "The parts and their rules"): run N
// independent named tasks with W workers, results in task order (map) or in completion order (as
// completed).
//
// A task is described as data — the name of a registered task kind and its serialised input —
// rather than as a closure, because two executors cannot share the caller's memory: a worker of
// the fork server (started before any thread exists) and an MPI engine on another host. Both
// look the kind up by name in their own copy of the registry and decode the input themselves;
// the in-process executors call the same function on the same bytes, shared, never copied.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "executors/fork_join.hpp"

namespace cbench {

using Bytes = std::string;

// What a task computes. Registered once per process (see task_kind) under a unique name.
//
// A kind reads its input, the task's own few bytes, and may also read views: byte strings held
// once for every task that reads them (the corpus's books), which an in-process executor hands
// over as they are and only a worker in another process receives as bytes (docs/design.md,
// "Memory near the corpus"). A kind has exactly one of the three functions: the third is a nested
// kind's (fork_join.hpp), whose task spawns children and waits for them.
struct TaskKind {
  std::string_view name;
  // Decodes the input, computes, and encodes the result; throws on failure. For a kind that reads
  // no views: a task of it that has views fails.
  Bytes (*run)(std::string_view input) = nullptr;
  // The same for a kind that reads views too, in the task's order.
  Bytes (*run_views)(std::string_view input, std::span<const std::string_view> views) = nullptr;
  // The same for a nested kind: its task spawns children through the spawner and waits for them
  // (ForkJoin). Run by an executor without the capability, it spawns inline: one sequential tree.
  Bytes (*run_nested)(std::string_view input, Spawner& spawner) = nullptr;

  // Runs whichever of the three the kind has (a nested one with the inline spawner).
  Bytes operator()(std::string_view input, std::span<const std::string_view> views) const;
};

// Every task kind the binary knows, looked up by name (throws std::out_of_range naming it).
const TaskKind& task_kind(std::string_view name);
// A duplicate name, or a kind with neither or both functions, is std::logic_error.
void register_task_kind(const TaskKind& kind);

// The views a task reads: byte strings it does not own. `owner`, when set, keeps their memory
// alive; when not, they view memory that outlives the task (the corpus the tasks were made from:
// a corpus's tasks must not outlive it).
struct TaskViews {
  std::vector<std::string_view> views;
  std::shared_ptr<const void> owner;

  bool empty() const { return views.empty(); }
  std::size_t bytes() const {
    std::size_t n = 0;
    for (auto v : views) n += v.size();
    return n;
  }
};

struct Task {
  const TaskKind* kind = nullptr;
  std::string name;                    // what errors and output lines name: a book, "matrix 3"
  std::shared_ptr<const Bytes> input;  // shared: an in-process executor never copies it
  TaskViews views;                     // read in place by an in-process executor

  Bytes operator()() const {
    return (*kind)(input ? std::string_view(*input) : std::string_view{}, views.views);
  }
  // The bytes the task reads: its input and its views.
  std::size_t input_bytes() const { return (input ? input->size() : 0) + views.bytes(); }
};

using Clock = std::chrono::steady_clock;  // CLOCK_MONOTONIC: shared by a process and its children

struct TaskResult {
  std::size_t index = 0;   // the task's position in the list given to run()
  Bytes value;             // the kind's encoded result, when ok()
  std::string error;       // why the task failed; empty when it succeeded
  int worker = 0;          // which worker ran it, 0..W-1
  double cpu_seconds = 0;  // CPU time the task used on its worker (thread or process)
  Clock::time_point start{}, end{};

  // Provided, so that a vector of results (map's, one per task) is built member by member rather
  // than zero-filled first and then built: the fill cost more per task than a whole dispatch.
  TaskResult() {}

  bool ok() const { return error.empty(); }
};

// A task that failed, named.
class TaskError : public std::runtime_error {
 public:
  TaskError(std::string task, const std::string& why)
      : std::runtime_error(task + ": " + why), task_(std::move(task)) {}
  const std::string& task() const noexcept { return task_; }

 private:
  std::string task_;
};

using ResultCallback = std::function<void(TaskResult&&)>;

class Executor {
 public:
  virtual ~Executor() = default;

  virtual std::string_view name() const = 0;
  // W, as asked for at construction; W < 1 is rejected there.
  virtual int workers() const = 0;
  // The most tasks that ran at the same time during the last run(): tests check that an
  // executor honours W exactly.
  virtual int peak_parallelism() const = 0;

  // Runs every task and calls on_result once per task, on the caller's thread, in completion
  // order. A task that throws (or whose worker dies) yields a result whose error names the cause;
  // the other tasks still run. Returns when every task has ended.
  virtual void run(std::span<const Task> tasks, const ResultCallback& on_result) = 0;

  // Runs every task and leaves each result in results[its index] (results.size() ==
  // tasks.size()); returns when every task has ended. What map() calls: no result has to reach
  // the caller as it completes, so an executor whose workers share this process's memory writes
  // each in place, on the thread that ran it, and the caller waits once, for the end. The
  // default delivers through run().
  virtual void run_into(std::span<const Task> tasks, std::span<TaskResult> results);

  // CPU seconds spent in worker processes during the last run() (fork, mpi). Zero for executors
  // whose workers are threads of this process: the process's own CPU clock already counts them.
  virtual double worker_cpu_seconds() const { return 0; }
  // The worker processes (fork); empty for executors whose workers are threads.
  virtual std::vector<pid_t> worker_pids() const { return {}; }
};

// Results in task order. Throws TaskError for the first failed task in task order, once every
// task has ended.
std::vector<TaskResult> map(Executor& executor, std::span<const Task> tasks);

// Throws TaskError naming the task when result is an error.
void throw_if_failed(const TaskResult& result, std::span<const Task> tasks);

// Where an executor's workers live, which decides what a harness may share with them.
enum class WorkerPlace {
  caller,      // the caller runs every task itself: the sequential reference
  threads,     // threads of this process, sharing its memory
  coroutines,  // coroutines on one event loop, run by the caller's thread: a task that waits
               // suspends, and every task starts before any other resumes
  processes,   // processes of this host: a task reaches them as bytes, never as a pointer
  ranks,       // MPI ranks, on this host or others
};

// "caller", "threads", "coroutines", "processes", "ranks": as listings and JSON name them.
std::string_view to_string(WorkerPlace place);

// What the harnesses need to know of an executor, so that none of them asks for it by name
// (docs/design.md, "Executors describe themselves").
struct ExecutorTraits {
  WorkerPlace workers = WorkerPlace::threads;
  // Its workers are built with it, outside the timing: the grid adds a `cold` row that times
  // building and tearing them down too, as the original's per-call pool did.
  bool cold_mode = false;
  // The most workers the suite asks of it (0: as many as a case wants). A runtime's own limit
  // (oneTBB's thread cap), or where more would only exhaust a small machine (processes).
  int worker_cap = 0;
  // ThreadSanitizer sees its hand-offs. False for a runtime built without TSan (Debian's
  // oneTBB), whose correct hand-offs TSan reports as races: the TSan build skips its tests.
  bool tsan_visible = true;
  // Runs only under a launcher (mpirun): harnesses offer it where one started the program.
  bool needs_launcher = false;
  // Under its launcher, how many workers the launcher started for it (mpirun's engines); 0
  // outside one. Null for an executor without a launcher.
  int (*launcher_slots)() = nullptr;

  bool is_reference() const { return workers == WorkerPlace::caller; }
  // Tasks may share objects with the test or the harness that made them (a barrier, a gate).
  bool shares_memory() const {
    return workers == WorkerPlace::caller || workers == WorkerPlace::threads ||
           workers == WorkerPlace::coroutines;
  }
};

// What each task of a native floor does: nothing, when kind is null (the empty task of
// overhead:native), or the kind's function called directly on one input (the fixed work of
// granularity:native), whose every result must be `expected`.
struct FloorTask {
  const TaskKind* kind = nullptr;
  std::string_view input;
  std::string_view expected;
};

// How many tasks a floor's run ran, and how many of them gave a result other than the expected.
struct FloorCount {
  std::size_t ran = 0;
  std::size_t wrong = 0;
};

// The cheapest idiomatic way an executor's runtime runs tasks with W workers, with no cbench code
// in the loop: the floor its dispatch cost and its METG are measured against (docs/design.md,
// "Native floors"). Built outside the timing; run(n, task) runs n copies of the task and returns
// the count, which the benchmark checks.
class NativeFloor {
 public:
  virtual ~NativeFloor() = default;
  virtual FloorCount run(std::size_t tasks, const FloorTask& task) = 0;
};

// A count per worker on a cache line of its own, so that counting the tasks a floor ran does not
// make its workers share a line.
struct alignas(64) WorkerCount {
  std::size_t n = 0;
  std::size_t wrong = 0;

  // Runs one of a floor's tasks and counts it.
  void run(const FloorTask& task) {
    ++n;
    if (task.kind != nullptr && (*task.kind)(task.input, {}) != task.expected) ++wrong;
  }
};

// The counts of a floor's workers, added up; each is reset for the next run.
inline FloorCount take_total(std::span<WorkerCount> counts) {
  FloorCount total;
  for (auto& c : counts) {
    total.ran += c.n;
    total.wrong += c.wrong;
    c = WorkerCount{};
  }
  return total;
}

// A descriptor's constructors (`.make = build<Executor, PoolExecutor>`): a T with W workers, or
// one without, for what has none to take (the reference's floor, a coroutine fork-join).
template <typename Base, typename T>
std::unique_ptr<Base> build(int workers) {
  if constexpr (std::is_constructible_v<T, int>) {
    return std::make_unique<T>(workers);
  } else {
    return std::make_unique<T>();
  }
}

// An executor's description, registered by its own file (CBENCH_REGISTER_EXECUTOR).
struct ExecutorInfo {
  std::string_view name;
  std::string_view model;   // one line: what it is
  std::string_view python;  // its counterpart in the Python original; empty when none
  ExecutorTraits traits;
  std::unique_ptr<Executor> (*make)(int workers) = nullptr;
  // Its runtime's own floor with W workers (the rows overhead:native/executor:<name>); null when
  // it has none.
  std::unique_ptr<NativeFloor> (*native_floor)(int workers) = nullptr;
  // The name under which an earlier version timed the floor at W = 1 as a dispatch row
  // (overhead:dispatch/executor:asio-co_spawn), still written so that baselines compare.
  std::string_view native_floor_name;
  // Nested fork-join (fork_join.hpp): its runtime's fork-join with W workers, null when it has
  // none (the grid lists it as "not supported" for the nested experiments); a variant whose
  // waiting workers block rather than help, to show the deadlock helping avoids (pool's); and
  // its runtime's own fib, with no cbench code in the loop (the rows fib:native/executor:<name>).
  std::unique_ptr<ForkJoin> (*fork_join)(int workers) = nullptr;
  std::unique_ptr<ForkJoin> (*fork_join_blocking)(int workers) = nullptr;
  std::unique_ptr<NativeFib> (*native_fib)(int workers) = nullptr;

  // What a process must do at the top of main, before its arguments are read and before any
  // thread exists (the fork server's start, an MPI engine's loop): see start_processes. Null
  // when nothing.
  void (*process_start)(int& argc, char**& argv) = nullptr;

  bool has_fork_join() const { return fork_join != nullptr; }
  // The workers its launcher started for it; 0 without a launcher or outside one.
  int launcher_workers() const { return traits.launcher_slots ? traits.launcher_slots() : 0; }
  // Whether a harness offers it here: everywhere, or where its launcher started the program.
  bool offered() const { return !traits.needs_launcher || launcher_workers() > 0; }

  // The line `cbench list` prints: the model and, in brackets, its Python counterpart.
  std::string description() const;
};

// Every executor this build has, in the order listings show them (the order of the build's list
// of executors, executors/CMakeLists.txt; then any registered at run time).
std::span<const ExecutorInfo* const> executors();

// "sequential, thread, ...": every executor's name, for messages that list what is valid.
std::string executor_names();

// The executor every other is checked against: the one whose caller runs the tasks.
const ExecutorInfo& reference_executor();

// The executor of that name, or null.
const ExecutorInfo* find_executor(std::string_view name);

// An executor the build knows of but left out, and why ("Open MPI was not found when it was
// configured ..."), so that asking for it says so instead of "unknown"; null when there is none.
const char* missing_executor_reason(std::string_view name);

// Adds an executor defined outside this library (a user's own). A name already taken is
// std::logic_error. Call before the first executors().
void register_executor(const ExecutorInfo& info);

// Builds an executor by name with W workers. Unknown names and W < 1 are std::invalid_argument
// with a message listing what is valid.
std::unique_ptr<Executor> make_executor(std::string_view name, int workers);

// Registers an executor from its own file, inside namespace cbench, where STEM is the file's
// name without .cpp (the build's generated list refers to it by that name):
//
//   CBENCH_REGISTER_EXECUTOR(pool) = {.name = "pool", .model = "...", .traits = {...},
//                                     .make = ...};
#define CBENCH_REGISTER_EXECUTOR(stem)                 \
  namespace builtin {                                  \
  extern const ::cbench::ExecutorInfo executor_##stem; \
  }                                                    \
  const ::cbench::ExecutorInfo builtin::executor_##stem

// The check of W an executor built directly (not through make_executor) makes: the first of
// workers_refused's, std::invalid_argument for W < 1.
int checked_workers(int workers);

// The worker count's one rule, for both front ends and the grid (docs/design.md, "Where things
// live"): why `info` cannot run with W workers — fewer than 1, more than its cap (the reference's
// is 1) — or empty when it can. An executor under a launcher also refuses more workers than the
// launcher started (with its own message: only it knows how the launcher is asked for more).
std::string workers_refused(const ExecutorInfo& info, long workers);

// Of the worker counts a grid asks for, those `info` is offered with here: none when it needs a
// launcher that did not start the program; 1 for the reference; else those it admits, within
// what its launcher started.
std::vector<int> offered_workers(const ExecutorInfo& info, std::vector<int> workers);

// W for a front end: `asked` when it was given, else the executor's default — 1 when its cap is
// 1 (the reference), every worker its launcher started when under one, else the cores.
// std::invalid_argument with workers_refused's reason when W cannot be.
int resolve_workers(const ExecutorInfo& info, std::optional<long> asked);

// Every executor's process_start, in the registry's order (the fork server's before MPI's, as
// executors/CMakeLists.txt lists them). Call first thing in main, while the process has one
// thread. Under mpirun, ranks other than 0 become engines here and never return. Throws
// std::runtime_error saying what could not start.
void start_processes(int& argc, char**& argv);

}  // namespace cbench
