// threading.Thread: one std::thread per task, at most W alive at once. A thread is created when
// its task starts and joined when it ends; nothing is reused, which is what this model costs.
#include <thread>

#include "executors/one_per_task.hpp"

namespace cbench {
namespace {

class ThreadExecutor final : public Executor {
 public:
  explicit ThreadExecutor(int workers) : workers_(workers) {}

  std::string_view name() const override { return "thread"; }
  int workers() const override { return workers_; }
  int peak_parallelism() const override { return in_flight_.peak(); }

  void run(std::span<const Task> tasks, const ResultCallback& on_result) override {
    run_one_per_task<std::thread>(workers_, tasks, on_result, in_flight_, start, end);
  }

  static constexpr auto start = [](auto body) { return std::thread(std::move(body)); };
  static constexpr auto end = [](std::thread& t) { t.join(); };

 private:
  int workers_;
  InFlight in_flight_;
};

}  // namespace

CBENCH_REGISTER_EXECUTOR(thread) = {
    .name = "thread",
    .model = "one std::thread per task, at most W alive",
    .python = "threading.Thread",
    .traits = {.workers = WorkerPlace::threads},
    .make = build<Executor, ThreadExecutor>,
    // std::thread alone: created, run and joined, W at a time.
    .native_floor =
        [](int workers) {
          return one_per_task_floor<std::thread>(workers, ThreadExecutor::start,
                                                 ThreadExecutor::end);
        },
};

}  // namespace cbench
