// cbench::Async<T>: the coroutine type of the asynchronous task forms (workloads' async waits, the
// coro executor's tasks), on an Asio event loop but lighter than asio::awaitable. A task waiting
// on a cbench::Timer (coro/timer.hpp) is one frame, from the thread's FramePool
// (coro/frame_pool.hpp), and nothing else: no co_spawn thread of frames, no frame for the
// initiation of each wait, no wait operation. docs/design.md ("What a waiting coroutine holds")
// has the sizes.
//
//   Async<int> child();
//   Async<Bytes> task(std::string_view input) {
//     asio::io_context& loop = co_await this_loop;  // the loop the task was started on
//     Timer timer;
//     timer.expires_after(std::chrono::milliseconds(10));
//     const asio::error_code& error = co_await timer.wait();
//     const int n = co_await child();  // symmetric transfer: no round trip through the loop
//     co_return ...;
//   }
//
// A coroutine starts when it is awaited, or, at the top, when start() is called: it then runs on
// the caller's stack until its first wait. Its result (or exception) is kept in its frame until
// the awaiter (or the root, through take()) collects it; the Async object owns the frame.
#pragma once

#include <asio/io_context.hpp>
#include <concepts>
#include <coroutine>
#include <cstdint>
#include <exception>
#include <utility>
#include <variant>

#include "coro/frame_pool.hpp"

namespace cbench {

// What a coroutine started with start() reports to when it ends: its owner's finished(root) is
// called on the loop's thread, from the coroutine's final suspension, and may destroy the Async
// (and so the frame) at once. A root is one word, its owner, so that the executor's slot per task
// needs no vtable pointer and back pointer of its own: the owner (the executor's run) tells its
// roots apart by address.
class AsyncRoot;
class AsyncOwner {
 public:
  virtual void finished(AsyncRoot& root) noexcept = 0;

 protected:
  ~AsyncOwner() = default;
};

class AsyncRoot {
 public:
  explicit AsyncRoot(AsyncOwner* owner = nullptr) noexcept : owner_(owner) {}
  void set_owner(AsyncOwner* owner) noexcept { owner_ = owner; }
  void finished() noexcept { owner_->finished(*this); }

 private:
  AsyncOwner* owner_;
};

template <typename T = void>
class Async;

namespace async_detail {

struct PromiseBase {
  asio::io_context* loop = nullptr;  // inherited from the awaiting coroutine, or start()'s

  // Who is told of the end: the awaiting coroutine, or start()'s root (tagged by its low bit;
  // both are at least 8-aligned). One word for the two, as a coroutine has one or the other.
  void set_continuation(std::coroutine_handle<> awaiting) noexcept {
    next_ = reinterpret_cast<std::uintptr_t>(awaiting.address());
  }
  void set_root(AsyncRoot* root) noexcept { next_ = reinterpret_cast<std::uintptr_t>(root) | 1; }

  static void* operator new(std::size_t bytes) { return FramePool::local().allocate(bytes); }
  static void operator delete(void* frame, std::size_t bytes) noexcept {
    FramePool::local().deallocate(frame, bytes);
  }

  struct FinalAwaiter {
    bool await_ready() const noexcept { return false; }
    template <typename Promise>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> self) noexcept {
      const std::uintptr_t next = self.promise().next_;
      if ((next & 1) == 0) {
        if (next != 0) return std::coroutine_handle<>::from_address(reinterpret_cast<void*>(next));
      } else {
        // finished() may destroy this frame, this awaiter with it: nothing of it is read after.
        reinterpret_cast<AsyncRoot*>(next & ~std::uintptr_t{1})->finished();
      }
      return std::noop_coroutine();
    }
    void await_resume() const noexcept {}
  };

  std::suspend_always initial_suspend() const noexcept { return {}; }
  FinalAwaiter final_suspend() const noexcept { return {}; }

 private:
  std::uintptr_t next_ = 0;
};

// One of: nothing yet, the value, the exception. A variant: a frame keeps room for the larger of
// the two only.
template <typename T>
struct Promise : PromiseBase {
  std::variant<std::monostate, T, std::exception_ptr> outcome;

  Async<T> get_return_object() noexcept;
  void unhandled_exception() noexcept { outcome.template emplace<2>(std::current_exception()); }
  template <typename U>
  void return_value(U&& value) {
    outcome.template emplace<1>(std::forward<U>(value));
  }
  T take() {
    if (outcome.index() == 2) std::rethrow_exception(std::get<2>(outcome));
    return std::move(std::get<1>(outcome));
  }
};

template <>
struct Promise<void> : PromiseBase {
  std::exception_ptr error;

  Async<void> get_return_object() noexcept;
  void unhandled_exception() noexcept { error = std::current_exception(); }
  void return_void() const noexcept {}
  void take() const {
    if (error) std::rethrow_exception(error);
  }
};

template <typename P>
concept AsyncPromise = std::derived_from<P, PromiseBase>;

}  // namespace async_detail

template <typename T>
class [[nodiscard]] Async {
 public:
  using promise_type = async_detail::Promise<T>;
  using Handle = std::coroutine_handle<promise_type>;

  Async() noexcept = default;
  Async(Async&& other) noexcept : frame_(std::exchange(other.frame_, nullptr)) {}
  Async& operator=(Async&& other) noexcept {
    if (this != &other) {
      reset();
      frame_ = std::exchange(other.frame_, nullptr);
    }
    return *this;
  }
  ~Async() { reset(); }

  explicit operator bool() const noexcept { return static_cast<bool>(frame_); }

  // Runs a coroutine nothing awaits on loop, on the caller's stack until its first wait; root is
  // told when it has ended (perhaps before start returns). Call on loop's thread, once.
  void start(asio::io_context& loop, AsyncRoot& root) {
    promise_type& promise = frame_.promise();
    promise.loop = &loop;
    promise.set_root(&root);
    frame_.resume();  // may end in root.finished(), which may destroy *this: nothing after it
  }

  bool done() const noexcept { return frame_ && frame_.done(); }

  // The ended coroutine's value, or its exception rethrown.
  T take() { return frame_.promise().take(); }

  // Destroys the frame (and what its locals hold); a coroutine still waiting must not be woken
  // afterwards, so only one that has ended, or whose waits are gone with their loop, is reset.
  void reset() noexcept {
    if (frame_) std::exchange(frame_, nullptr).destroy();
  }

  // co_await: starts the coroutine at once (symmetric transfer) on the awaiting one's loop, and
  // resumes the awaiting one when it ends, with its value or its exception.
  struct Awaiter {
    Handle child;
    bool await_ready() const noexcept { return false; }
    template <async_detail::AsyncPromise P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> parent) noexcept {
      child.promise().set_continuation(parent);
      child.promise().loop = parent.promise().loop;
      return child;
    }
    T await_resume() { return child.promise().take(); }
  };
  Awaiter operator co_await() && noexcept { return Awaiter{frame_}; }

 private:
  friend promise_type;
  explicit Async(Handle frame) noexcept : frame_(frame) {}

  Handle frame_;
};

namespace async_detail {

template <typename T>
Async<T> Promise<T>::get_return_object() noexcept {
  return Async<T>(Async<T>::Handle::from_promise(*this));
}

inline Async<void> Promise<void>::get_return_object() noexcept {
  return Async<void>(Async<void>::Handle::from_promise(*this));
}

// Reads the awaiting coroutine's loop without suspending it.
struct ThisLoopAwaiter {
  asio::io_context* loop = nullptr;
  bool await_ready() const noexcept { return false; }
  template <AsyncPromise P>
  bool await_suspend(std::coroutine_handle<P> self) noexcept {
    loop = self.promise().loop;
    return false;  // go on at once
  }
  asio::io_context& await_resume() const noexcept { return *loop; }
};

}  // namespace async_detail

// `co_await this_loop`: the io_context the coroutine runs on.
inline constexpr struct ThisLoop {
  friend async_detail::ThisLoopAwaiter operator co_await(ThisLoop) noexcept { return {}; }
} this_loop{};

}  // namespace cbench
