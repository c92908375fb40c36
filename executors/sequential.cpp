// The reference: the caller runs every task, one after another, in task order.
#include "executors/run_task.hpp"

namespace cbench {
namespace {

class SequentialExecutor final : public Executor {
 public:
  std::string_view name() const override { return "sequential"; }
  int workers() const override { return 1; }
  int peak_parallelism() const override { return peak_; }

  void run(std::span<const Task> tasks, const ResultCallback& on_result) override {
    peak_ = tasks.empty() ? 0 : 1;
    for (std::size_t i = 0; i < tasks.size(); ++i) on_result(run_task(tasks[i], i, 0));
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

// A plain loop of calls to an empty function the compiler cannot see through.
class PlainLoop final : public NativeFloor {
 public:
  std::size_t run(std::size_t tasks) override {
    std::size_t ran = 0;
    for (std::size_t i = 0; i < tasks; ++i) empty_(ran);
    return ran;
  }

 private:
  static void count(std::size_t& ran) { ++ran; }
  void (*volatile empty_)(std::size_t&) = count;
};

}  // namespace

CBENCH_REGISTER_EXECUTOR(sequential) = {
    .name = "sequential",
    .model = "the caller runs every task in order; the reference",
    .traits = {.workers = WorkerPlace::caller, .worker_cap = 1},
    .make = make,
    .native_floor = [](int) -> std::unique_ptr<NativeFloor> {
      return std::make_unique<PlainLoop>();
    },
};

}  // namespace cbench
