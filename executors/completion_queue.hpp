// Where workers leave finished tasks for the caller, who hands them to on_result in the order
// they finished. Shared by every in-process executor so that all of them deliver results the same
// way, and so that the caller sleeps (no spinning) while it waits.
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <vector>

#include "executors/executor.hpp"

namespace cbench {

class CompletionQueue {
 public:
  // Called by a worker.
  void push(TaskResult&& result) {
    bool wake = false;
    {
      std::lock_guard lock(mutex_);
      done_.push_back(std::move(result));
      wake = caller_waiting_;
    }
    pushed_.fetch_add(1, std::memory_order_release);
    // Waking the caller costs a system call; a caller that is busy delivering results, or still
    // looking for the next before it sleeps, will see this one without it.
    if (wake) ready_.notify_one();
  }

  // Called by the caller: blocks until at least one result is there, then delivers every result
  // that is, in completion order. Returns how many it delivered.
  //
  // Before it sleeps, the caller looks for a result for a few microseconds (kPatience): when tasks
  // are short, the next result is usually that close, and sleeping would cost the worker that
  // pushes it a wake-up call and the caller a context switch, several times what the task cost.
  std::size_t deliver(const ResultCallback& on_result) {
    const std::size_t seen = taken_;
    for (int spin = 0; spin < kPatience && pushed_.load(std::memory_order_acquire) == seen;
         ++spin) {
      pause();
    }
    {
      std::unique_lock lock(mutex_);
      caller_waiting_ = true;
      ready_.wait(lock, [&] { return !done_.empty(); });
      caller_waiting_ = false;
      batch_.swap(done_);
    }
    taken_ += batch_.size();
    const std::size_t n = batch_.size();
    for (auto& result : batch_) on_result(std::move(result));
    batch_.clear();
    return n;
  }

 private:
  // About 2 µs of pause instructions on this project's machines.
  static constexpr int kPatience = 64;
  static void pause() {
#if defined(__x86_64__)
    __builtin_ia32_pause();
#endif
  }

  std::mutex mutex_;
  std::condition_variable ready_;
  std::vector<TaskResult> done_;
  std::vector<TaskResult> batch_;       // the caller's side of the swap, kept to reuse its memory
  std::atomic<std::size_t> pushed_{0};  // results pushed so far
  std::size_t taken_ = 0;               // results the caller has taken (the caller's own)
  bool caller_waiting_ = false;
};

// The caller's side of a run: hands all n results to on_result as they complete, then calls
// finish() (which waits until the workers have left the run, so that the task list and the
// queue may go). When on_result throws, finish() is called before the exception goes on.
template <typename Finish>
void deliver_all(CompletionQueue& queue, std::size_t n, const ResultCallback& on_result,
                 Finish&& finish) {
  std::size_t delivered = 0;
  try {
    while (delivered < n) delivered += queue.deliver(on_result);
  } catch (...) {
    finish();
    throw;
  }
  finish();
}

// Counts the tasks running at once and remembers the most: how tests check that W is honoured.
class InFlight {
 public:
  void reset() {
    current_.store(0, std::memory_order_relaxed);
    peak_.store(0, std::memory_order_relaxed);
  }
  void enter() {
    int now = current_.fetch_add(1, std::memory_order_relaxed) + 1;
    int peak = peak_.load(std::memory_order_relaxed);
    while (now > peak && !peak_.compare_exchange_weak(peak, now, std::memory_order_relaxed)) {
    }
  }
  void leave() { current_.fetch_sub(1, std::memory_order_relaxed); }
  int peak() const { return peak_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int> current_{0};
  std::atomic<int> peak_{0};
};

}  // namespace cbench
