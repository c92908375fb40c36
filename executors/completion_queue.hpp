// Where workers leave finished tasks for the caller, who hands them to on_result in the order
// they finished. Shared by every in-process executor so that all of them deliver results the same
// way, and so that the caller sleeps while it waits (after looking for a result for a few
// microseconds).
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <new>
#include <vector>

#include "executors/executor.hpp"

namespace cbench {

// A run's results, each in the slot of its place in the completion order: a worker takes the next
// place with one atomic increment and constructs its result there, so pushing costs no lock (a
// locked list of results made the workers and the caller wait for each other on every task). The
// caller takes the slots in order. Room for every task of the run, made before it starts.
class CompletionQueue {
 public:
  explicit CompletionQueue(std::size_t tasks) : slots_(new Slot[tasks]), size_(tasks) {}
  CompletionQueue(const CompletionQueue&) = delete;
  CompletionQueue& operator=(const CompletionQueue&) = delete;
  ~CompletionQueue() {
    // Results pushed and not delivered (on_result threw): every worker has left by now.
    for (std::size_t i = taken_; i < size_; ++i) {
      if (slots_[i].ready.load(std::memory_order_acquire)) slots_[i].result().~TaskResult();
    }
  }

  // Called by a worker, once per task.
  void push(TaskResult&& result) {
    const std::size_t place = pushed_.fetch_add(1, std::memory_order_relaxed);
    if (place >= size_) {
      std::fputs("cbench: internal error: more results than tasks in one run\n", stderr);
      std::abort();
    }
    Slot& slot = slots_[place];
    ::new (static_cast<void*>(slot.storage)) TaskResult(std::move(result));
    slot.ready.store(true, std::memory_order_seq_cst);
    // Waking the caller costs a system call: only a caller that said it sleeps is woken. The
    // store above and the load below, against the caller's store of caller_waiting_ and its load
    // of ready, are sequentially consistent: one side always sees the other's.
    if (caller_waiting_.load(std::memory_order_seq_cst)) {
      std::lock_guard lock(mutex_);
      wake_.notify_one();
    }
  }

  // Called by the caller: blocks until the next result is there, then delivers every result that
  // is, in completion order. Returns how many it delivered.
  //
  // Before it sleeps, the caller looks for the result for a few microseconds (kPatience): when
  // tasks are short, the next result is usually that close, and sleeping would cost the worker
  // that pushes it a wake-up call and the caller a context switch, several times what the task
  // cost.
  std::size_t deliver(const ResultCallback& on_result) {
    for (int spin = 0; spin < kPatience && !next_ready(); ++spin) pause();
    if (!next_ready()) {
      std::unique_lock lock(mutex_);
      caller_waiting_.store(true, std::memory_order_seq_cst);
      wake_.wait(lock, [&] { return next_ready(); });
      caller_waiting_.store(false, std::memory_order_relaxed);
    }
    std::size_t delivered = 0;
    while (next_ready()) {
      TaskResult& slot = slots_[taken_].result();
      TaskResult result = std::move(slot);
      slot.~TaskResult();
      ++taken_;
      ++delivered;
      on_result(std::move(result));
    }
    return delivered;
  }

 private:
  struct Slot {
    std::atomic<bool> ready{false};
    alignas(TaskResult) unsigned char storage[sizeof(TaskResult)];
    TaskResult& result() { return *std::launder(reinterpret_cast<TaskResult*>(storage)); }
  };

  bool next_ready() const {
    return taken_ < size_ && slots_[taken_].ready.load(std::memory_order_seq_cst);
  }

  // About 2 µs of pause instructions on this project's machines.
  static constexpr int kPatience = 64;
  static void pause() {
#if defined(__x86_64__)
    __builtin_ia32_pause();
#endif
  }

  std::unique_ptr<Slot[]> slots_;
  const std::size_t size_;
  std::atomic<std::size_t> pushed_{0};  // places taken by workers
  std::size_t taken_ = 0;               // results delivered (the caller's own)
  std::atomic<bool> caller_waiting_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
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
