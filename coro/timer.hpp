// cbench::Timer: the timer a cbench::Async coroutine waits on (coro/async.hpp), kept by its event
// loop's TimerQueue rather than by Asio's timer service. A waiting coroutine then holds its frame
// and nothing else: the timer is 32 bytes inside the frame, the wait allocates no operation, and
// the loop keeps one pointer per timer that has a deadline (in a binary heap) and none for a
// timer that waits to be cancelled. The queue sleeps on one Asio timer, set for the earliest
// deadline, so the loop stays an Asio event loop that sockets and libcurl share.
//
//   Async<void> nap() {
//     Timer timer;                             // bound to the loop of its first wait
//     timer.expires_after(std::chrono::milliseconds(10));
//     const asio::error_code& error = co_await timer.wait();  // operation_aborted: cancelled
//   }
//
// Semantics are Asio's: a wait ends when the deadline passes (at once if it has) or with
// asio::error::operation_aborted when cancel() or a new deadline ends it first; the coroutine is
// always resumed from the loop, never from inside cancel(). One wait at a time per timer. A timer
// belongs to one loop and is used on that loop's thread only. A timer destroyed while a coroutine
// waits on it (the coroutine's frame destroyed with it) withdraws the wait; the loop must still
// exist then.
#pragma once

#include <asio/basic_waitable_timer.hpp>
#include <asio/error.hpp>
#include <asio/execution_context.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <chrono>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "coro/async.hpp"

namespace cbench {

class TimerQueue;

class Timer {
 public:
  using clock_type = std::chrono::steady_clock;
  using time_point = clock_type::time_point;
  using duration = clock_type::duration;

  // A timer whose deadline is never (until expires_at or expires_after sets one), bound to the
  // loop of the coroutine that first waits on it; or bound to `loop` now.
  Timer() noexcept = default;
  explicit Timer(asio::io_context& loop, time_point expiry = time_point::max());
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  time_point expiry() const noexcept { return expiry_; }
  // A new deadline; a pending wait ends with operation_aborted. Returns how many waits it ended.
  std::size_t expires_at(time_point expiry);
  std::size_t expires_after(duration after) { return expires_at(clock_type::now() + after); }
  // Ends a pending wait with operation_aborted; returns how many (0 or 1).
  std::size_t cancel();

  struct WaitAwaiter {
    Timer* timer;
    bool await_ready() const noexcept { return false; }
    template <async_detail::AsyncPromise P>
    void await_suspend(std::coroutine_handle<P> self) {
      timer->start_wait(*self.promise().loop, self);
    }
    // A reference to a constant: GCC keeps no copy of it in the frame.
    const asio::error_code& await_resume() const noexcept;
  };
  // `co_await timer.wait()`, from a cbench::Async coroutine.
  WaitAwaiter wait() noexcept { return {this}; }

 private:
  friend class TimerQueue;
  static constexpr std::uint32_t kIdle = ~std::uint32_t{0};  // no wait pending
  static constexpr std::uint32_t kUndated = kIdle - 1;       // waiting, no deadline
  static constexpr std::uint32_t kAborted = kIdle - 2;       // ended early, to be resumed
  static constexpr std::uint32_t kHeapLimit = kIdle - 3;     // heap slots are below

  void start_wait(asio::io_context& loop, std::coroutine_handle<> waiter);

  TimerQueue* queue_ = nullptr;
  time_point expiry_ = time_point::max();
  std::coroutine_handle<> waiter_{};
  // Where the pending wait is: kUndated, a slot of the queue's heap, kAborted (in its ready
  // list); kIdle when none is.
  std::uint32_t state_ = kIdle;
  bool aborted_ = false;  // how the last wait ended
};

// The timers of one io_context (an Asio service: one per loop, made at the first wait).
class TimerQueue : public asio::execution_context::service {
 public:
  using key_type = TimerQueue;
  static inline asio::execution_context::id id;

  explicit TimerQueue(asio::execution_context& context);
  ~TimerQueue() override;

  static TimerQueue& of(asio::io_context& loop);

  // How many timers hold a heap entry, and the heap's capacity (for the memory figures).
  std::size_t dated() const noexcept { return heap_.size(); }
  std::size_t capacity() const noexcept { return heap_.capacity(); }

 private:
  friend class Timer;
  struct Wake;
  struct Drain;

  void shutdown() override;

  void add(Timer& timer);       // a new wait: into the heap, or undated
  void withdraw(Timer& timer);  // a wait that ends unresumed (its timer is destroyed)
  void abort(Timer& timer);     // a wait ended early: resumed from the loop soon
  void push(Timer& timer);
  void erase(std::uint32_t slot);
  void sift_up(std::uint32_t slot);
  void sift_down(std::uint32_t slot);
  void place(std::uint32_t slot, Timer* timer);
  void arm();
  void disarm_if_idle();
  void on_wake(std::uint64_t generation);
  void drain();
  void resume(Timer& timer);
  void unheap(Timer& timer);
  std::coroutine_handle<> end_wait(Timer& timer);

  asio::io_context& loop_;
  std::vector<Timer*> heap_;   // a binary heap by expiry; each timer knows its slot
  std::vector<Timer*> ready_;  // aborted waits, resumed by one posted drain
  asio::basic_waitable_timer<std::chrono::steady_clock,
                             asio::wait_traits<std::chrono::steady_clock>,
                             asio::io_context::executor_type>
      wake_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  Timer::time_point armed_ = Timer::time_point::max();  // what wake_ waits for; max: nothing
  std::uint64_t generation_ = 0;                        // of wake_'s current wait
  std::size_t waiting_ = 0;  // pending waits: while there is one, the loop has work
  bool drain_posted_ = false;
};

}  // namespace cbench
