// The asynchronous form of a task kind, for the coro executor: a coroutine that co_awaits its
// waits (a timer, a socket) instead of blocking a thread. Kept apart from executor.hpp so that
// only code that uses Asio includes it. A kind with no asynchronous form runs inline on the event
// loop, one at a time, as CPU work does under asyncio.
//
// A form is a cbench::Async (coro/async.hpp), a frame and a wait operation from the loop's pool
// per waiting task, or an asio::awaitable, which the executor co_spawns: heavier (Asio's thread of
// frames, a frame per wait's initiation), for a form written against Asio's own coroutines.
#pragma once

#include <asio/awaitable.hpp>
#include <cstddef>
#include <string_view>

#include "coro/async.hpp"
#include "executors/executor.hpp"

namespace cbench {

class AsyncRun {
 public:
  using Light = Async<Bytes> (*)(std::string_view input);
  using Awaitable = asio::awaitable<Bytes> (*)(std::string_view input);

  constexpr AsyncRun() noexcept = default;
  constexpr AsyncRun(std::nullptr_t) noexcept {}                   // NOLINT: none
  constexpr AsyncRun(Light run) noexcept : light_(run) {}          // NOLINT: as a function
  constexpr AsyncRun(Awaitable run) noexcept : awaitable_(run) {}  // NOLINT: as a function

  explicit operator bool() const noexcept { return light_ != nullptr || awaitable_ != nullptr; }
  // One of the two is set, or neither.
  Light light() const noexcept { return light_; }
  Awaitable awaitable() const noexcept { return awaitable_; }

 private:
  Light light_ = nullptr;
  Awaitable awaitable_ = nullptr;
};

// Registers kind_name's asynchronous form (a duplicate is std::logic_error).
void register_async_form(std::string_view kind_name, AsyncRun run);

// kind_name's asynchronous form, or an empty one when it has none.
AsyncRun async_form(std::string_view kind_name);

}  // namespace cbench
