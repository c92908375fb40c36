// A forked worker's task loop (fork_worker.hpp): the tasks its socket brings, one at a time, the
// replies held back and sent together as the batching rule says.
#include "executors/fork_worker.hpp"

#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "executors/run_task.hpp"

namespace cbench::fork_worker {
namespace {

[[noreturn]] void worker_exit(int code) {
  std::fflush(nullptr);  // what the tasks printed; _exit skips it (and the caller's atexit work)
  ::_exit(code);
}

// Sends every reply waiting, in order, in as few writes as the socket allows. False when the
// caller has gone.
bool send_replies(int fd, std::vector<std::string>& replies) {
  std::size_t first = 0, offset = 0;  // the first reply not wholly sent, and how much of it was
  while (first < replies.size()) {
    iovec iov[kFlushEvery + 1];
    std::size_t count = 0;
    for (std::size_t i = first; i < replies.size() && count < std::size(iov); ++i, ++count) {
      const std::size_t skip = i == first ? offset : 0;
      iov[count] = {replies[i].data() + skip, replies[i].size() - skip};
    }
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = count;
    ssize_t n = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    auto sent = static_cast<std::size_t>(n);
    while (first < replies.size() && sent >= replies[first].size() - offset) {
      sent -= replies[first].size() - offset;
      offset = 0;
      ++first;
    }
    offset += sent;
  }
  replies.clear();
  return true;
}

}  // namespace

[[noreturn]] void worker_main(int fd) {
  task_frame::FrameBuffer in;
  std::vector<std::string> replies;  // run, not yet sent
  std::size_t reply_bytes = 0;
  std::int64_t oldest = 0;  // when the first of them was ready
  double cpu_clock = 0;     // the process's CPU clock at the end of the last task run
  bool after_wait = true;   // the clock must be read afresh: the worker sent or waited since
  for (;;) {
    std::optional<std::string_view> payload;
    try {
      payload = in.next(kMaxTaskFrame);
    } catch (const std::exception&) {
      worker_exit(70);  // a frame this worker cannot read: the caller sees it die (EX_SOFTWARE)
    }
    if (!payload) {
      // No whole task to run: send what is done, then wait for more.
      if (!send_replies(fd, replies)) worker_exit(0);
      reply_bytes = 0;
      in.trim(std::size_t{1} << 20);
      const std::span<char> room = in.room(kWorkerReadChunk);
      ssize_t n;
      do {
        n = ::recv(fd, room.data(), room.size(), 0);
      } while (n < 0 && errno == EINTR);
      if (n <= 0) worker_exit(0);  // the caller closed the socket: the pool is shutting down
      in.received(static_cast<std::size_t>(n));
      after_wait = true;
      continue;
    }

    if (after_wait) cpu_clock = process_cpu_seconds();
    after_wait = false;
    try {
      replies.push_back(task_frame::run_task_payload(*payload, cpu_clock));
    } catch (const std::exception&) {
      worker_exit(70);
    }
    reply_bytes += replies.back().size();
    const std::int64_t now = task_frame::monotonic_ns();
    if (replies.size() == 1) oldest = now;
    if (replies.size() >= kFlushEvery || reply_bytes >= kFlushBytes ||
        now - oldest >= kFlushAfterNs) {
      if (!send_replies(fd, replies)) worker_exit(0);
      reply_bytes = 0;
      after_wait = true;  // the send's own CPU time is not the next task's
    }
  }
}

}  // namespace cbench::fork_worker
