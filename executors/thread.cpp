// threading.Thread: one std::thread per task, at most W alive at once. A thread is created when
// its task starts and joined when it ends; nothing is reused, which is what this model costs.
#include <thread>

#include "executors/completion_queue.hpp"
#include "executors/run_task.hpp"

namespace cbench {
namespace {

class ThreadExecutor final : public Executor {
 public:
  explicit ThreadExecutor(int workers) : workers_(workers) {}

  std::string_view name() const override { return "thread"; }
  int workers() const override { return workers_; }
  int peak_parallelism() const override { return in_flight_.peak(); }

  void run(std::span<const Task> tasks, const ResultCallback& on_result) override {
    in_flight_.reset();
    CompletionQueue queue;
    // slot s holds the thread of worker s; a finished thread is joined before its slot is reused.
    std::vector<std::thread> slots(static_cast<std::size_t>(workers_));
    std::vector<int> free_slots;
    for (int s = workers_ - 1; s >= 0; --s) free_slots.push_back(s);
    std::size_t next = 0, delivered = 0;
    // Whatever happens (on_result may throw), no thread is left unjoined.
    struct JoinAll {
      std::vector<std::thread>& threads;
      ~JoinAll() {
        for (auto& t : threads) {
          if (t.joinable()) t.join();
        }
      }
    } join_all{slots};
    while (delivered < tasks.size()) {
      while (next < tasks.size() && !free_slots.empty()) {
        const int slot = free_slots.back();
        free_slots.pop_back();
        const std::size_t index = next++;
        in_flight_.enter();
        slots[slot] = std::thread([&, index, slot] {
          TaskResult result = run_task(tasks[index], index, slot);
          in_flight_.leave();
          queue.push(std::move(result));
        });
      }
      delivered += queue.deliver([&](TaskResult&& result) {
        const int slot = result.worker;
        slots[slot].join();
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

CBENCH_REGISTER_EXECUTOR(thread) = {
    .name = "thread",
    .model = "one std::thread per task, at most W alive",
    .python = "threading.Thread",
    .traits = {.workers = WorkerPlace::threads},
    .make = [](int workers) -> std::unique_ptr<Executor> {
      return std::make_unique<ThreadExecutor>(workers);
    },
};

}  // namespace cbench
