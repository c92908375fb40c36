// The asynchronous form of a task kind, for the coro executor: a coroutine that co_awaits its
// waits (a timer, a socket) instead of blocking a thread. Kept apart from executor.hpp so that
// only code that uses Asio includes it. A kind with no asynchronous form runs inline on the event
// loop, one at a time, as CPU work does under asyncio.
#pragma once

#include <asio/awaitable.hpp>
#include <string_view>

#include "executors/executor.hpp"

namespace cbench {

using AsyncRun = asio::awaitable<Bytes> (*)(std::string_view input);

// Registers kind_name's asynchronous form (a duplicate is std::logic_error).
void register_async_form(std::string_view kind_name, AsyncRun run);

// kind_name's asynchronous form, or nullptr when it has none.
AsyncRun async_form(std::string_view kind_name);

}  // namespace cbench
