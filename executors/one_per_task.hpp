// The run of an executor that starts something of its own for every task — a std::thread, a
// std::async future — with at most W alive at once: what `thread` and `async` share. Internal to
// the executors library.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "executors/completion_queue.hpp"
#include "executors/run_task.hpp"

namespace cbench {

// Runs every task on a Handle of its own: start(body) starts body (a callable) and returns the
// Handle, end(handle) waits for it to finish. Slot s is worker s; a finished task's handle is
// ended before its slot takes the next task; results reach on_result, on the caller's thread, in
// completion order. Whatever happens (on_result may throw), no handle is left running.
template <typename Handle, typename Start, typename End>
void run_one_per_task(int workers, std::span<const Task> tasks, const ResultCallback& on_result,
                      InFlight& in_flight, Start start, End end) {
  in_flight.reset();
  CompletionQueue queue(tasks.size());
  const TraceClock clock = TraceClock::start();
  std::vector<std::optional<Handle>> slots(static_cast<std::size_t>(workers));
  struct EndAll {
    std::vector<std::optional<Handle>>& slots;
    End& end;
    ~EndAll() {
      for (auto& handle : slots) {
        if (handle) end(*handle);
      }
    }
  } end_all{slots, end};
  std::vector<int> free_slots;
  for (int s = workers - 1; s >= 0; --s) free_slots.push_back(s);
  std::size_t next = 0, delivered = 0;
  while (delivered < tasks.size()) {
    while (next < tasks.size() && !free_slots.empty()) {
      const int slot = free_slots.back();
      free_slots.pop_back();
      const std::size_t index = next++;
      in_flight.enter();
      slots[slot].emplace(start([&, index, slot] {
        TaskResult result = run_task(tasks[index], index, slot, clock);
        in_flight.leave();
        queue.push(std::move(result));
      }));
    }
    delivered += queue.deliver([&](TaskResult&& result) {
      const int slot = result.worker;
      end(*slots[slot]);
      slots[slot].reset();
      free_slots.push_back(slot);
      on_result(std::move(result));
    });
  }
}

// The floor of such an executor: its handles alone, at most W alive, each running an empty task;
// the oldest is ended before the next starts in its place (first in, first out, as a programmer
// keeps W threads going without knowing which finished first); no cbench code between them.
template <typename Handle, typename Start, typename End>
class OnePerTaskFloor final : public NativeFloor {
 public:
  OnePerTaskFloor(int workers, Start start, End end)
      : counts_(static_cast<std::size_t>(workers)), start_(start), end_(end) {}

  FloorCount run(std::size_t tasks, const FloorTask& task) override {
    std::vector<std::optional<Handle>> slots(counts_.size());
    for (std::size_t i = 0; i < tasks; ++i) {
      const std::size_t s = i % slots.size();
      if (slots[s]) end_(*slots[s]);
      slots[s].emplace(start_([this, s, &task] { counts_[s].run(task); }));
    }
    for (auto& handle : slots) {
      if (handle) end_(*handle);
    }
    return take_total(counts_);
  }

 private:
  std::vector<WorkerCount> counts_;
  Start start_;
  End end_;
};

template <typename Handle, typename Start, typename End>
std::unique_ptr<NativeFloor> one_per_task_floor(int workers, Start start, End end) {
  return std::make_unique<OnePerTaskFloor<Handle, Start, End>>(workers, start, end);
}

}  // namespace cbench
