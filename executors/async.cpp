// std::async(std::launch::async, ...): what a C++ programmer writes first, next to `thread`. At
// most W futures are in flight; each task's future runs on a thread of its own (libstdc++ starts
// one per call and keeps none), and its result reaches the caller as it completes.
#include <future>

#include "executors/executor.hpp"
#include "executors/one_per_task.hpp"

namespace cbench {
namespace {

class AsyncExecutor final : public Executor {
 public:
  explicit AsyncExecutor(int workers) : workers_(workers) {}

  std::string_view name() const override { return "async"; }
  int workers() const override { return workers_; }
  int peak_parallelism() const override { return in_flight_.peak(); }

  void run(std::span<const Task> tasks, const ResultCallback& on_result) override {
    run_one_per_task<std::future<void>>(workers_, tasks, on_result, in_flight_, start, end);
  }

  static constexpr auto start = [](auto body) {
    return std::async(std::launch::async, std::move(body));
  };
  static constexpr auto end = [](std::future<void>& f) { f.wait(); };

 private:
  int workers_;
  InFlight in_flight_;
};

}  // namespace

CBENCH_REGISTER_EXECUTOR(async) = {
    .name = "async",
    .model = "std::async(std::launch::async) per task, at most W futures in flight",
    .traits = {.workers = WorkerPlace::threads},
    .make = build<Executor, AsyncExecutor>,
    // std::async alone: launched and waited for, W at a time.
    .native_floor =
        [](int workers) {
          return one_per_task_floor<std::future<void>>(workers, AsyncExecutor::start,
                                                       AsyncExecutor::end);
        },
};

}  // namespace cbench
