// The asynchronous form of the sleeping counter, for the coro executor: it co_awaits a timer
// instead of blocking its thread, so thousands of counters share one event loop.
#pragma once

#include <asio/system_error.hpp>

#include "coro/async.hpp"
#include "coro/timer.hpp"
#include "workloads/counter.hpp"

namespace cbench {

inline Async<std::vector<long>> count_async(long start, long end, std::chrono::nanoseconds interval,
                                            NumberSink emit = {}) {
  check_count_arguments(start, end, interval);
  Timer timer;
  std::vector<long> emitted;
  emitted.reserve(static_cast<std::size_t>(end - start));
  for (long i = start; i < end; ++i) {
    if (emit) emit(i);
    emitted.push_back(i);
    timer.expires_after(interval);
    const asio::error_code& error = co_await timer.wait();
    if (error) throw asio::system_error(error);
  }
  co_return emitted;
}

}  // namespace cbench
