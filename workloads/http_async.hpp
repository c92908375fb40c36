// The asynchronous HTTP client for the coro executor: libcurl's multi interface driven by the
// Asio event loop (libcurl says which sockets to watch and when to time out; Asio waits for
// them), and each download a coroutine that co_awaits its own completion. Thousands of downloads
// share one thread; none blocks it.
#pragma once

#include <string>

#include "coro/async.hpp"
#include "workloads/http.hpp"

namespace cbench {

// Downloads url on the calling coroutine's event loop, passing the body to sink as it arrives.
// Same errors as http_get. With keep_alive, downloads on one event loop share its connections.
Async<void> http_get_async(std::string url, HttpOptions options, BodySink sink);

}  // namespace cbench
