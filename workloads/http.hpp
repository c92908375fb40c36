// HTTP downloads for experiment E2 (most common word of books fetched over HTTP), with libcurl.
//
// One connection policy for every executor, so that executors differ only by their concurrency
// model: by default a new connection per download, as the original did; keep_alive reuses
// connections (per thread for the blocking client, per event loop for the asynchronous one).
// The body is handed to the caller as it streams in — the word count reads it line by line, as
// the original does, never buffered whole first.
#pragma once

#include <chrono>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace cbench {

struct HttpOptions {
  std::chrono::milliseconds connect_timeout{10'000};
  // The whole transfer; a stalled response ends here, never hangs.
  std::chrono::milliseconds total_timeout{60'000};
  bool keep_alive = false;
};

// Why a download failed. The message says what happened in words; kind is for code.
class HttpError : public std::runtime_error {
 public:
  enum class Kind { status, reset, timeout, connect, other };
  HttpError(Kind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  Kind kind() const noexcept { return kind_; }

 private:
  Kind kind_;
};

// Receives the body in pieces as they arrive.
using BodySink = std::function<void(std::string_view piece)>;

// Downloads url with a libcurl easy handle, passing the body to sink as it arrives. Throws
// HttpError for a status other than 200, a reset, a timeout or a failed connection; an exception
// thrown by sink aborts the transfer and propagates.
void http_get(const std::string& url, const HttpOptions& options, const BodySink& sink);

// Passes a byte stream on as whole lines (each ending in '\n', the last one perhaps not), in
// batches: the original's `for line in response` without a copy per line.
class LineBatcher {
 public:
  explicit LineBatcher(std::function<void(std::string_view lines)> on_lines)
      : on_lines_(std::move(on_lines)) {}
  void feed(std::string_view piece);
  void finish();  // the last, unterminated line

 private:
  std::function<void(std::string_view)> on_lines_;
  std::string partial_;
};

// "Metamorphosis" -> "Metamorphosis", "A Tale" -> "A%20Tale": RFC 3986 percent-encoding of
// everything but unreserved characters.
std::string url_encode(std::string_view text);

// The URL template's "{}" replaced by the URL-encoded book name.
std::string book_url(std::string_view url_template, std::string_view book_name);

}  // namespace cbench
