// The reference: the caller runs every task, one after another, in task order.
#include <algorithm>
#include <vector>

#include "executors/run_task.hpp"

namespace cbench {
namespace {

class SequentialExecutor final : public Executor {
  static constexpr std::size_t kBatch = 64;
  static constexpr auto kBatchTime = std::chrono::microseconds(20);

 public:
  std::string_view name() const override { return "sequential"; }
  int workers() const override { return 1; }
  int peak_parallelism() const override { return peak_; }

  // Tasks run back to back, so the end of one is the start of the next (one clock read per task),
  // and their results reach on_result in batches: after kBatch tasks, or as soon as a task ends
  // kBatchTime or more after the batch began, so a task that takes longer is delivered when it
  // ends. Between a batch's delivery and the next task the clock is read again: the time
  // on_result takes is no task's.
  void run(std::span<const Task> tasks, const ResultCallback& on_result) override {
    peak_ = tasks.empty() ? 0 : 1;
    const TraceClock clock = TraceClock::start();
    std::vector<TaskResult> batch;
    batch.reserve(std::min(tasks.size(), kBatch));
    auto deliver = [&] {
      for (auto& result : batch) on_result(std::move(result));
      batch.clear();
    };
    Clock::time_point batch_start = clock.now(), now = batch_start;
    for (std::size_t i = 0; i < tasks.size(); ++i) {
      now = batch.emplace_back(run_task(tasks[i], i, 0, clock, now)).end;
      if (batch.size() == kBatch || now - batch_start >= kBatchTime) {
        deliver();
        batch_start = now = clock.now();
      }
    }
    deliver();
  }

  // In place, back to back: nothing runs between two tasks, so one clock read each.
  void run_into(std::span<const Task> tasks, std::span<TaskResult> results) override {
    peak_ = tasks.empty() ? 0 : 1;
    const TraceClock clock = TraceClock::start();
    Clock::time_point now = clock.now();
    for (std::size_t i = 0; i < tasks.size(); ++i) {
      results[i] = run_task(tasks[i], i, 0, clock, now);
      now = results[i].end;
    }
  }

 private:
  int peak_ = 0;
};

std::unique_ptr<Executor> make(int workers) {
  // The reference has no workers to give: asking it for more is a mistake worth reporting.
  if (workers != 1) {
    throw std::invalid_argument(
        "the sequential executor runs every task on the caller: workers must be 1, got " +
        std::to_string(workers));
  }
  return std::make_unique<SequentialExecutor>();
}

// A plain loop of calls to a function the compiler cannot see through.
class PlainLoop final : public NativeFloor {
 public:
  FloorCount run(std::size_t tasks, const FloorTask& task) override {
    WorkerCount count;
    for (std::size_t i = 0; i < tasks; ++i) run_(count, task);
    return take_total({&count, 1});
  }

 private:
  static void one(WorkerCount& count, const FloorTask& task) { count.run(task); }
  void (*volatile run_)(WorkerCount&, const FloorTask&) = one;
};

// The reference's fork-join: each child runs where it is spawned (inline_spawner).
class InlineForkJoin final : public ForkJoin {
 public:
  Bytes run(const Task& root) override {
    return run_root_on(root, inline_spawner(), [](auto&& body) { body(); });
  }
};

// fib as plain recursion, no task at all: what the work of a fib tree costs by itself.
class PlainFib final : public NativeFib {
 public:
  std::uint64_t fib(int n, int) override { return fib_sequential(n); }
};

}  // namespace

CBENCH_REGISTER_EXECUTOR(sequential) = {
    .name = "sequential",
    .model = "the caller runs every task in order; the reference",
    .traits = {.workers = WorkerPlace::caller, .worker_cap = 1},
    .make = make,
    .native_floor = build<NativeFloor, PlainLoop>,
    .fork_join = build<ForkJoin, InlineForkJoin>,
    .native_fib = build<NativeFib, PlainFib>,
};

}  // namespace cbench
