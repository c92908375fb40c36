// The asynchronous form of the sleeping counter, for the coro executor: it co_awaits a timer
// instead of blocking its thread, so thousands of counters share one event loop.
#pragma once

#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include "workloads/counter.hpp"

namespace cbench {

inline asio::awaitable<std::vector<long>> count_async(long start, long end,
                                                      std::chrono::nanoseconds interval,
                                                      NumberSink emit = {}) {
  check_count_arguments(start, end, interval);
  // Two statements: GCC 12 mishandles a co_await inside a constructor's arguments.
  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer timer(executor);
  std::vector<long> emitted;
  emitted.reserve(static_cast<std::size_t>(end - start));
  for (long i = start; i < end; ++i) {
    if (emit) emit(i);
    emitted.push_back(i);
    timer.expires_after(interval);
    co_await timer.async_wait(asio::use_awaitable);
  }
  co_return emitted;
}

}  // namespace cbench
