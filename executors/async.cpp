// std::async(std::launch::async, ...): what a C++ programmer writes first, next to `thread`. At
// most W futures are in flight; each task's future runs on a thread of its own (libstdc++ starts
// one per call and keeps none), and its result reaches the caller as it completes.
#include <future>

#include "executors/completion_queue.hpp"
#include "executors/executor.hpp"
#include "executors/run_task.hpp"

namespace cbench {
namespace {

class AsyncExecutor final : public Executor {
 public:
  explicit AsyncExecutor(int workers) : workers_(workers) {}

  std::string_view name() const override { return "async"; }
  int workers() const override { return workers_; }
  int peak_parallelism() const override { return in_flight_.peak(); }

  void run(std::span<const Task> tasks, const ResultCallback& on_result) override {
    in_flight_.reset();
    CompletionQueue queue;
    // slot s holds the future of worker s; a finished one is waited for before its slot is reused.
    std::vector<std::future<void>> slots(static_cast<std::size_t>(workers_));
    std::vector<int> free_slots;
    for (int s = workers_ - 1; s >= 0; --s) free_slots.push_back(s);
    // Whatever happens (on_result may throw), no future is left running: each is waited for.
    struct WaitAll {
      std::vector<std::future<void>>& futures;
      ~WaitAll() {
        for (auto& f : futures) {
          if (f.valid()) f.wait();
        }
      }
    } wait_all{slots};
    std::size_t next = 0, delivered = 0;
    while (delivered < tasks.size()) {
      while (next < tasks.size() && !free_slots.empty()) {
        const int slot = free_slots.back();
        free_slots.pop_back();
        const std::size_t index = next++;
        in_flight_.enter();
        slots[slot] = std::async(std::launch::async, [&, index, slot] {
          TaskResult result = run_task(tasks[index], index, slot);
          in_flight_.leave();
          queue.push(std::move(result));
        });
      }
      delivered += queue.deliver([&](TaskResult&& result) {
        const int slot = result.worker;
        slots[slot].get();
        free_slots.push_back(slot);
        on_result(std::move(result));
      });
    }
  }

 private:
  int workers_;
  InFlight in_flight_;
};

}  // namespace

CBENCH_REGISTER_EXECUTOR(async) = {
    .name = "async",
    .model = "std::async(std::launch::async) per task, at most W futures in flight",
    .traits = {.workers = WorkerPlace::threads},
    .make = [](int workers) -> std::unique_ptr<Executor> {
      return std::make_unique<AsyncExecutor>(workers);
    },
};

}  // namespace cbench
