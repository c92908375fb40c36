#include "workloads/http.hpp"

#include <curl/curl.h>

#include <exception>
#include <memory>
#include <mutex>

#include "workloads/http_detail.hpp"

namespace cbench {

namespace http_detail {

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
      throw std::runtime_error("libcurl failed to initialise");
    }
  });
}

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const std::size_t n = size * count;
  transfer->received += n;
  try {
    transfer->sink(std::string_view(data, n));
  } catch (...) {
    transfer->sink_error = std::current_exception();
    return CURL_WRITEFUNC_ERROR;  // aborts the transfer; the error is rethrown after
  }
  return n;
}

void configure(CURL* easy, const std::string& url, const HttpOptions& options, Transfer& transfer) {
  curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, transfer.error_buffer);
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options.connect_timeout.count()));
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(options.total_timeout.count()));
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);  // no SIGALRM: threads and timeouts coexist
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(easy, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(easy, CURLOPT_USERAGENT, "cbench");
  // A new connection per book unless asked to reuse one: the same policy for every executor.
  curl_easy_setopt(easy, CURLOPT_FRESH_CONNECT, options.keep_alive ? 0L : 1L);
  curl_easy_setopt(easy, CURLOPT_FORBID_REUSE, options.keep_alive ? 0L : 1L);
  transfer.error_buffer[0] = '\0';
}

void check(CURL* easy, CURLcode code, const std::string& url, const Transfer& transfer) {
  if (transfer.sink_error) std::rethrow_exception(transfer.sink_error);
  const std::string received = std::to_string(transfer.received) + " bytes received";
  const std::string detail =
      transfer.error_buffer[0] != '\0' ? transfer.error_buffer : curl_easy_strerror(code);
  switch (code) {
    case CURLE_OK:
      break;
    case CURLE_OPERATION_TIMEDOUT:
      throw HttpError(HttpError::Kind::timeout,
                      "timed out fetching " + url + " (" + received + "): " + detail);
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
      throw HttpError(HttpError::Kind::connect, "cannot connect to " + url + ": " + detail);
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_ERROR:
      throw HttpError(HttpError::Kind::reset,
                      "connection reset fetching " + url + " (" + received + "): " + detail);
    default:
      throw HttpError(HttpError::Kind::other, "cannot fetch " + url + ": " + detail);
  }
  long status = 0;
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
  if (status != 200) {
    throw HttpError(HttpError::Kind::status,
                    "HTTP status " + std::to_string(status) + " for " + url);
  }
}

}  // namespace http_detail

namespace {

struct EasyDeleter {
  void operator()(CURL* easy) const { curl_easy_cleanup(easy); }
};
using EasyHandle = std::unique_ptr<CURL, EasyDeleter>;

// With keep-alive, a thread keeps its handle (and so its connection cache) between downloads.
CURL* thread_handle() {
  thread_local EasyHandle handle(curl_easy_init());
  return handle.get();
}

}  // namespace

void http_get(const std::string& url, const HttpOptions& options, const BodySink& sink) {
  http_detail::global_init();
  EasyHandle own;
  CURL* easy = nullptr;
  if (options.keep_alive) {
    easy = thread_handle();
    curl_easy_reset(easy);  // keeps the connection cache, drops the previous options
  } else {
    own.reset(curl_easy_init());
    easy = own.get();
  }
  if (easy == nullptr) throw std::runtime_error("libcurl could not create a handle");
  http_detail::Transfer transfer;
  transfer.sink = sink;
  http_detail::configure(easy, url, options, transfer);
  const CURLcode code = curl_easy_perform(easy);
  http_detail::check(easy, code, url, transfer);
}

void LineBatcher::feed(std::string_view piece) {
  const auto last_newline = piece.rfind('\n');
  if (last_newline == std::string_view::npos) {
    partial_.append(piece);
    return;
  }
  if (partial_.empty()) {
    on_lines_(piece.substr(0, last_newline + 1));
  } else {
    partial_.append(piece.substr(0, last_newline + 1));
    on_lines_(partial_);
    partial_.clear();
  }
  partial_.append(piece.substr(last_newline + 1));
}

void LineBatcher::finish() {
  if (!partial_.empty()) on_lines_(partial_);
  partial_.clear();
}

std::string url_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string book_url(std::string_view url_template, std::string_view book_name) {
  const auto at = url_template.find("{}");
  if (at == std::string_view::npos) {
    throw std::invalid_argument("the books URL template has no {} for the book's name: " +
                                std::string(url_template));
  }
  return std::string(url_template.substr(0, at)) + url_encode(book_name) +
         std::string(url_template.substr(at + 2));
}

}  // namespace cbench
