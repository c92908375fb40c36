#include "workloads/http_async.hpp"

#include <asio/execution_context.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/steady_timer.hpp>
#include <map>
#include <memory>
#include <optional>

#include "coro/timer.hpp"
#include "workloads/http_detail.hpp"

namespace cbench {
namespace {

// One libcurl multi handle per event loop, living and dying with it (an Asio service).
class CurlMultiService : public asio::execution_context::service {
 public:
  using key_type = CurlMultiService;
  static inline asio::execution_context::id id;

  explicit CurlMultiService(asio::execution_context& context)
      : asio::execution_context::service(context) {}

  ~CurlMultiService() override {
    if (multi_ != nullptr) curl_multi_cleanup(multi_);
  }

  // One transfer waiting for its end.
  struct Pending {
    CURLcode code = CURLE_OK;
    bool done = false;
    Timer* signal = nullptr;  // cancelled when done
  };

  Async<void> get(asio::io_context& loop, const std::string& url, const HttpOptions& options,
                  BodySink sink) {
    init(loop.get_executor());
    http_detail::Transfer transfer;
    transfer.sink = std::move(sink);
    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> easy(curl_easy_init(), curl_easy_cleanup);
    if (!easy) throw std::runtime_error("libcurl could not create a handle");
    http_detail::configure(easy.get(), url, options, transfer);
    Timer signal(loop);
    Pending pending;
    pending.signal = &signal;
    pending_[easy.get()] = &pending;
    curl_multi_add_handle(multi_, easy.get());
    // libcurl starts the transfer from its timer callback; wait until it reports the end.
    while (!pending.done) co_await signal.wait();
    pending_.erase(easy.get());
    curl_multi_remove_handle(multi_, easy.get());
    http_detail::check(easy.get(), pending.code, url, transfer);
  }

 private:
  // A socket libcurl asked us to watch. The descriptor is libcurl's: released, never closed.
  struct Watch {
    explicit Watch(const asio::any_io_executor& executor, curl_socket_t fd)
        : descriptor(executor, fd) {}
    ~Watch() {
      if (descriptor.is_open()) descriptor.release();
    }
    asio::posix::stream_descriptor descriptor;
    int interest = 0;  // CURL_POLL_IN, _OUT or _INOUT
    bool reading = false, writing = false;
  };

  void shutdown() override {
    watches_.clear();
    timer_.reset();
  }

  void init(const asio::any_io_executor& executor) {
    if (multi_ != nullptr) return;
    http_detail::global_init();
    executor_ = executor;
    timer_.emplace(executor);
    multi_ = curl_multi_init();
    if (multi_ == nullptr) throw std::runtime_error("libcurl could not create a multi handle");
    curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &CurlMultiService::on_socket);
    curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &CurlMultiService::on_timer);
    curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
  }

  static int on_socket(CURL*, curl_socket_t fd, int what, void* self_ptr, void*) {
    auto* self = static_cast<CurlMultiService*>(self_ptr);
    if (what == CURL_POLL_REMOVE) {
      // Deregister now, before libcurl closes the descriptor and the number is reused.
      if (auto it = self->watches_.find(fd); it != self->watches_.end()) {
        it->second->descriptor.release();
        self->watches_.erase(it);
      }
      return 0;
    }
    auto& watch = self->watches_[fd];
    if (!watch) watch = std::make_shared<Watch>(self->executor_, fd);
    watch->interest = what;
    self->arm(fd, watch);
    return 0;
  }

  static int on_timer(CURLM*, long timeout_ms, void* self_ptr) {
    auto* self = static_cast<CurlMultiService*>(self_ptr);
    self->timer_->cancel();
    if (timeout_ms < 0) return 0;
    self->timer_->expires_after(std::chrono::milliseconds(timeout_ms));
    self->timer_->async_wait([self](const asio::error_code& error) {
      if (!error) self->action(CURL_SOCKET_TIMEOUT, 0);
    });
    return 0;
  }

  // Starts the waits the socket's interest asks for and that are not already pending.
  void arm(curl_socket_t fd, const std::shared_ptr<Watch>& watch) {
    if ((watch->interest & CURL_POLL_IN) != 0 && !watch->reading) {
      watch->reading = true;
      watch->descriptor.async_wait(asio::posix::stream_descriptor::wait_read,
                                   [this, fd, watch](const asio::error_code& error) {
                                     watch->reading = false;
                                     if (!error) ready(fd, watch, CURL_CSELECT_IN);
                                   });
    }
    if ((watch->interest & CURL_POLL_OUT) != 0 && !watch->writing) {
      watch->writing = true;
      watch->descriptor.async_wait(asio::posix::stream_descriptor::wait_write,
                                   [this, fd, watch](const asio::error_code& error) {
                                     watch->writing = false;
                                     if (!error) ready(fd, watch, CURL_CSELECT_OUT);
                                   });
    }
  }

  void ready(curl_socket_t fd, const std::shared_ptr<Watch>& watch, int flags) {
    action(fd, flags);
    // Still watched (libcurl did not remove it during the action): wait again.
    auto it = watches_.find(fd);
    if (it != watches_.end() && it->second == watch) arm(fd, watch);
  }

  void action(curl_socket_t fd, int flags) {
    int running = 0;
    curl_multi_socket_action(multi_, fd, flags, &running);
    int left = 0;
    while (CURLMsg* message = curl_multi_info_read(multi_, &left)) {
      if (message->msg != CURLMSG_DONE) continue;
      auto it = pending_.find(message->easy_handle);
      if (it == pending_.end()) continue;
      it->second->code = message->data.result;
      it->second->done = true;
      it->second->signal->cancel();
    }
  }

  CURLM* multi_ = nullptr;
  asio::any_io_executor executor_;
  std::optional<asio::steady_timer> timer_;
  std::map<curl_socket_t, std::shared_ptr<Watch>> watches_;
  std::map<CURL*, Pending*> pending_;
};

}  // namespace

Async<void> http_get_async(std::string url, HttpOptions options, BodySink sink) {
  asio::io_context& loop = co_await this_loop;
  auto& service = asio::use_service<CurlMultiService>(loop);
  co_await service.get(loop, url, options, std::move(sink));
}

}  // namespace cbench
