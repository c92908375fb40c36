#include "coro/timer.hpp"

#include <asio/post.hpp>
#include <stdexcept>
#include <utility>

namespace cbench {
namespace {

const asio::error_code kSucceeded{};
const asio::error_code kCancelled = asio::error::operation_aborted;

}  // namespace

// ---- Timer -------------------------------------------------------------------------------------

Timer::Timer(asio::io_context& loop, time_point expiry)
    : queue_(&TimerQueue::of(loop)), expiry_(expiry) {}

Timer::~Timer() {
  if (state_ != kIdle) queue_->withdraw(*this);
}

std::size_t Timer::expires_at(time_point expiry) {
  const std::size_t ended = cancel();
  expiry_ = expiry;
  return ended;
}

std::size_t Timer::cancel() {
  if (state_ == kIdle || state_ == kAborted) return 0;
  queue_->abort(*this);
  return 1;
}

void Timer::start_wait(asio::io_context& loop, std::coroutine_handle<> waiter) {
  if (queue_ == nullptr) queue_ = &TimerQueue::of(loop);
  if (state_ != kIdle) throw std::logic_error("cbench::Timer: a second wait while one is pending");
  waiter_ = waiter;
  aborted_ = false;
  queue_->add(*this);
}

const asio::error_code& Timer::WaitAwaiter::await_resume() const noexcept {
  return timer->aborted_ ? kCancelled : kSucceeded;
}

// ---- TimerQueue --------------------------------------------------------------------------------

// wake_'s handler: which of its waits it ends (a wait cancelled by a new deadline still runs its
// handler, which must then do nothing). Its operation comes from the frame pool.
struct TimerQueue::Wake {
  TimerQueue* queue;
  std::uint64_t generation;
  using allocator_type = FrameAllocator<void>;
  allocator_type get_allocator() const noexcept { return {}; }
  void operator()(const asio::error_code&) const { queue->on_wake(generation); }
};

struct TimerQueue::Drain {
  TimerQueue* queue;
  using allocator_type = FrameAllocator<void>;
  allocator_type get_allocator() const noexcept { return {}; }
  void operator()() const { queue->drain(); }
};

TimerQueue::TimerQueue(asio::execution_context& context)
    : asio::execution_context::service(context),
      loop_(static_cast<asio::io_context&>(context)),
      wake_(loop_.get_executor()) {}

TimerQueue::~TimerQueue() = default;

TimerQueue& TimerQueue::of(asio::io_context& loop) {
  return asio::use_service<TimerQueue>(loop);
}

void TimerQueue::shutdown() {
  // The loop is going: nothing is resumed any more. Timers still waiting must be destroyed
  // before the loop is (timer.hpp).
  for (Timer* timer : heap_) timer->state_ = Timer::kIdle;
  for (Timer* timer : ready_) {
    if (timer != nullptr) timer->state_ = Timer::kIdle;
  }
  heap_.clear();
  ready_.clear();
  work_.reset();
  wake_.cancel();
}

void TimerQueue::add(Timer& timer) {
  if (waiting_++ == 0) work_.emplace(loop_.get_executor());
  if (timer.expiry_ == Timer::time_point::max()) {
    timer.state_ = Timer::kUndated;  // ends by cancel() only: no heap entry
    return;
  }
  push(timer);
  arm();
}

// Takes a waiting timer's entry out of the heap, if it has one.
void TimerQueue::unheap(Timer& timer) {
  if (timer.state_ >= Timer::kHeapLimit) return;
  erase(timer.state_);
  disarm_if_idle();
}

// A wait is over: the timer is idle, and the loop keeps work only while some wait is pending.
// Returns the coroutine that waited.
std::coroutine_handle<> TimerQueue::end_wait(Timer& timer) {
  timer.state_ = Timer::kIdle;
  if (--waiting_ == 0) work_.reset();  // a coroutine that waits again starts new work first
  return std::exchange(timer.waiter_, {});
}

void TimerQueue::withdraw(Timer& timer) {
  unheap(timer);
  if (timer.state_ == Timer::kAborted) {
    for (Timer*& t : ready_) {
      if (t == &timer) t = nullptr;
    }
  }
  end_wait(timer);
}

void TimerQueue::abort(Timer& timer) {
  unheap(timer);
  timer.state_ = Timer::kAborted;
  timer.aborted_ = true;
  ready_.push_back(&timer);
  if (!drain_posted_) {
    drain_posted_ = true;
    asio::post(loop_, Drain{this});
  }
}

// Resumes a wait that has ended (its state already out of the heap and the ready list). The
// coroutine may destroy the timer, or start another wait on it: nothing of it is read after.
void TimerQueue::resume(Timer& timer) {
  end_wait(timer).resume();
}

void TimerQueue::drain() {
  drain_posted_ = false;
  // By index: a resumed coroutine may abort more waits (appended here) or destroy timers still
  // listed (their entries set to null).
  for (std::size_t i = 0; i < ready_.size(); ++i) {
    if (Timer* timer = std::exchange(ready_[i], nullptr)) resume(*timer);
  }
  ready_.clear();
}

void TimerQueue::on_wake(std::uint64_t generation) {
  if (generation != generation_) return;  // a wait that a newer deadline replaced
  armed_ = Timer::time_point::max();
  const Timer::time_point now = Timer::clock_type::now();
  while (!heap_.empty() && heap_.front()->expiry_ <= now) {
    Timer& timer = *heap_.front();
    erase(0);
    timer.aborted_ = false;
    resume(timer);
  }
  arm();
}

void TimerQueue::arm() {
  if (heap_.empty()) return;
  const Timer::time_point earliest = heap_.front()->expiry_;
  if (earliest >= armed_) return;  // wake_ already wakes in time
  armed_ = earliest;
  wake_.expires_at(earliest);  // ends the previous wait, if any, which then does nothing
  wake_.async_wait(Wake{this, ++generation_});
}

// With no deadline left, wake_ must not keep the loop running until the one it was set for.
void TimerQueue::disarm_if_idle() {
  if (!heap_.empty() || armed_ == Timer::time_point::max()) return;
  armed_ = Timer::time_point::max();
  ++generation_;  // its handler, run with operation_aborted, then does nothing
  wake_.cancel();
}

// ---- the heap ----------------------------------------------------------------------------------

void TimerQueue::place(std::uint32_t slot, Timer* timer) {
  heap_[slot] = timer;
  timer->state_ = slot;
}

void TimerQueue::push(Timer& timer) {
  if (heap_.size() >= Timer::kHeapLimit) throw std::length_error("too many timers on one loop");
  heap_.push_back(&timer);
  timer.state_ = static_cast<std::uint32_t>(heap_.size() - 1);
  sift_up(timer.state_);
}

void TimerQueue::erase(std::uint32_t slot) {
  Timer* last = heap_.back();
  heap_.pop_back();
  if (slot == heap_.size()) return;  // it was the last
  place(slot, last);
  sift_up(slot);
  sift_down(last->state_);
}

void TimerQueue::sift_up(std::uint32_t slot) {
  Timer* timer = heap_[slot];
  while (slot > 0) {
    const std::uint32_t parent = (slot - 1) / 2;
    if (heap_[parent]->expiry_ <= timer->expiry_) break;
    place(slot, heap_[parent]);
    slot = parent;
  }
  place(slot, timer);
}

void TimerQueue::sift_down(std::uint32_t slot) {
  Timer* timer = heap_[slot];
  const std::size_t size = heap_.size();
  for (;;) {
    std::size_t child = 2 * std::size_t{slot} + 1;
    if (child >= size) break;
    if (child + 1 < size && heap_[child + 1]->expiry_ < heap_[child]->expiry_) ++child;
    if (timer->expiry_ <= heap_[child]->expiry_) break;
    place(slot, heap_[child]);
    slot = static_cast<std::uint32_t>(child);
  }
  place(slot, timer);
}

}  // namespace cbench
