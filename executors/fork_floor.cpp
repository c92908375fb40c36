// The fork executor's native floor (fork_pool.hpp, make_fork_floor): forked workers alone, fed
// task frames by the executor's batching rule, with none of its polling or completion order.
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "executors/fork_pool.hpp"
#include "executors/fork_server.hpp"
#include "executors/fork_worker.hpp"
#include "executors/task_frame.hpp"

namespace cbench {

namespace {

using fork_worker::Depth;
using fork_worker::kGrace;
using fork_worker::kMaxFrame;
using fork_worker::kReadChunk;

// The task the fork floor's workers run: nothing.
Bytes run_nothing(std::string_view) {
  return {};
}
[[maybe_unused]] const bool kFloorKind = [] {
  register_task_kind({"fork-floor-empty", run_nothing});
  return true;
}();

void write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::system_error(errno, std::generic_category(), "fork floor: send");
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

// Forked workers alone: W workers of the fork server, each sent task frames (many per write) and
// holding as many as the executor's rule allows (Depth); the caller reads one worker's replies
// (blocking, many per read), tops it up again and moves to the next, round robin — the
// executor's channel, without its polling, completion order or results.
class ForkFloor final : public NativeFloor {
 public:
  explicit ForkFloor(int workers)
      : workers_(fork_workers(workers)), in_(static_cast<std::size_t>(workers)) {}
  ~ForkFloor() override {
    for (const auto& w : workers_) ::close(w.fd);
    for (const auto& w : workers_) {
      try {
        reap_worker(w.pid, kGrace);
      } catch (...) {  // the server is gone: it took its workers with it
      }
    }
  }

  FloorCount run(std::size_t tasks, const FloorTask& task) override {
    const std::string frame = task_frame::whole_task(
        0, task.kind == nullptr ? "fork-floor-empty" : task.kind->name, task.input);
    const std::size_t count = workers_.size();
    std::vector<std::size_t> held(count, 0);
    std::vector<Depth> depth(count);
    std::size_t sent = 0, replies = 0;
    FloorCount result;
    auto top_up = [&](std::size_t w) {
      const std::size_t target = depth[w].allowed(tasks - sent, count);
      if (held[w] >= target || sent >= tasks) return;
      const std::size_t n = std::min(target - held[w], tasks - sent);
      batch_.clear();
      for (std::size_t i = 0; i < n; ++i) batch_ += frame;
      write_all(workers_[w].fd, batch_);
      held[w] += n;
      sent += n;
    };
    for (std::size_t w = 0; w < count; ++w) top_up(w);
    for (std::size_t w = 0; replies < sent; w = (w + 1) % count) {
      if (held[w] == 0) continue;
      task_frame::FrameBuffer& in = in_[w];
      std::size_t got = 0;
      for (;;) {
        while (const auto payload = in.next(kMaxFrame)) {
          ++got;
          const auto reply = task_frame::decode_reply(*payload);
          depth[w].after(reply);
          if (reply.ok) ++result.ran;
          if (reply.ok && task.kind != nullptr && reply.text != task.expected) ++result.wrong;
        }
        if (got > 0) break;
        const std::span<char> room = in.room(kReadChunk);
        const ssize_t n = ::recv(workers_[w].fd, room.data(), room.size(), 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) throw std::runtime_error("fork floor: a worker closed its socket");
        in.received(static_cast<std::size_t>(n));
      }
      held[w] -= got;
      replies += got;
      top_up(w);
    }
    return result;
  }

 private:
  std::vector<ForkedWorker> workers_;
  std::vector<task_frame::FrameBuffer> in_;
  std::string batch_;
};

}  // namespace

std::unique_ptr<NativeFloor> make_fork_floor(int workers) {
  return std::make_unique<ForkFloor>(workers);
}

}  // namespace cbench
