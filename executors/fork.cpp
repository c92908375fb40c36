// The "fork" executor (fork_pool.hpp): W worker processes from the fork server (fork_server.hpp),
// one task in flight per worker, results over each worker's socket (ProcessPoolExecutor).
//
// The caller's side is one poll() loop over every worker's socket, non-blocking, so that a large
// input still being written to one worker never stops a large result being read from another. A
// worker's socket reaching end of file while it runs a task means the worker died: the task's
// result names how (the server reaped it and reports its wait status), and the server forks a
// replacement so W stays honoured.
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <system_error>
#include <utility>

#include "executors/fork_pool.hpp"
#include "executors/fork_server.hpp"
#include "executors/task_frame.hpp"

namespace cbench {
namespace {

// How long a worker whose socket closed may take to finish dying, or an idle worker to exit on
// shutdown, before the server kills it. Generous: only a worker stuck in a task ever waits it out.
constexpr std::chrono::milliseconds kGrace{5000};

// A result frame larger than this is a broken worker, not a result.
constexpr std::uint64_t kMaxFrame = std::uint64_t{1} << 36;

Clock::time_point from_ns(std::int64_t ns) {
  return Clock::time_point(
      std::chrono::duration_cast<Clock::duration>(std::chrono::nanoseconds(ns)));
}

void set_nonblocking(int fd) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
    throw std::system_error(errno, std::generic_category(), "fork pool: fcntl");
  }
}

// The most intervals [start, end) that overlap at one instant.
int peak_overlap(std::vector<std::pair<Clock::time_point, Clock::time_point>>& spans) {
  std::vector<std::pair<Clock::time_point, int>> events;
  events.reserve(spans.size() * 2);
  for (auto [start, end] : spans) {
    end = std::max(end, start + Clock::duration(1));  // a task took at least a tick
    events.emplace_back(start, +1);
    events.emplace_back(end, -1);
  }
  std::sort(events.begin(), events.end());  // at the same instant, an end before a start
  int now = 0, peak = 0;
  for (const auto& [time, delta] : events) peak = std::max(peak, now += delta);
  return peak;
}

}  // namespace

struct ForkPool::State {
  struct Slot {
    pid_t pid = -1;
    int fd = -1;                      // -1: no worker (it died and no replacement could be had)
    std::optional<std::size_t> task;  // in flight
    Clock::time_point dispatched{};
    // Outgoing task frame: the header, then the input bytes, shared with the caller's Task.
    std::string out_header;
    std::shared_ptr<const Bytes> out_body;
    std::size_t out_sent = 0;
    std::string in;  // incoming bytes of the reply

    std::size_t out_size() const { return out_header.size() + (out_body ? out_body->size() : 0); }
    bool writing() const { return out_sent < out_size(); }
  };

  std::vector<Slot> slots;
  int peak = 0;
  double worker_cpu = 0;
  std::string lost;  // why a worker could not be replaced, for the tasks that then cannot run

  explicit State(int workers) : slots(static_cast<std::size_t>(workers)) {
    auto forked = fork_workers(workers);
    for (std::size_t w = 0; w < slots.size(); ++w) {
      slots[w].pid = forked[w].pid;
      slots[w].fd = forked[w].fd;
    }
    for (auto& slot : slots) set_nonblocking(slot.fd);
  }

  ~State() {
    // Closing every socket first lets the workers exit together; then the server reaps each.
    for (auto& slot : slots) {
      if (slot.fd >= 0) ::close(slot.fd);
    }
    for (auto& slot : slots) {
      if (slot.fd < 0) continue;
      try {
        reap_worker(slot.pid, slot.task ? std::chrono::milliseconds(0) : kGrace);
      } catch (...) {  // the server is gone: it took its workers with it
      }
    }
  }

  bool alive(const Slot& slot) const { return slot.fd >= 0; }

  // Forks a replacement for a slot without a worker; false (and `lost` says why) when it cannot.
  bool replace(Slot& slot) {
    try {
      auto forked = fork_workers(1);
      set_nonblocking(forked[0].fd);
      slot = Slot{};
      slot.pid = forked[0].pid;
      slot.fd = forked[0].fd;
      return true;
    } catch (const std::exception& e) {
      lost = e.what();
      return false;
    }
  }

  // Closes a worker's socket, has the server reap it, and says how it ended.
  std::string bury(Slot& slot, std::chrono::milliseconds grace) {
    ::close(slot.fd);
    slot.fd = -1;
    try {
      WorkerExit exit = reap_worker(slot.pid, grace);
      std::string how = describe_wait_status(exit.status);
      if (exit.killed_by_server) how = "stopped responding and was " + how;
      return how;
    } catch (const std::exception& e) {
      return std::string("how is unknown: ") + e.what();
    }
  }

  // Before a run: a worker that died while idle (killed from outside) is replaced now, rather
  // than failing the task it would be handed next.
  void check_idle_workers() {
    for (auto& slot : slots) {
      if (!alive(slot)) {
        replace(slot);
        continue;
      }
      pollfd fd{slot.fd, POLLIN, 0};
      // An idle worker has nothing to say: end of file means it ended, anything else that it is
      // broken, and it is killed.
      if (::poll(&fd, 1, 0) > 0) {
        bury(slot, std::chrono::milliseconds(0));
        replace(slot);
      }
    }
  }

  void dispatch(Slot& slot, std::size_t index, const Task& task) {
    slot.task = index;
    slot.dispatched = Clock::now();
    slot.in.clear();
    slot.out_body = task.input;
    slot.out_header =
        task_frame::task_header(index, task.kind ? task.kind->name : std::string_view{},
                                task.input ? task.input->size() : 0);
    slot.out_sent = 0;
  }

  // Sends what the socket takes now. False when the worker is gone.
  bool flush(Slot& slot) {
    while (slot.writing()) {
      iovec iov[2];
      int count = 0;
      const std::size_t head = slot.out_header.size();
      if (slot.out_sent < head) {
        iov[count++] = {slot.out_header.data() + slot.out_sent, head - slot.out_sent};
      }
      if (slot.out_body && !slot.out_body->empty()) {
        std::size_t from = slot.out_sent > head ? slot.out_sent - head : 0;
        iov[count++] = {const_cast<char*>(slot.out_body->data()) + from,
                        slot.out_body->size() - from};
      }
      msghdr msg{};
      msg.msg_iov = iov;
      msg.msg_iovlen = static_cast<std::size_t>(count);
      ssize_t n = ::sendmsg(slot.fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
        return false;  // EPIPE, ECONNRESET: the worker is gone
      }
      slot.out_sent += static_cast<std::size_t>(n);
    }
    slot.out_body.reset();
    slot.out_header.clear();
    slot.out_header.shrink_to_fit();
    slot.out_sent = 0;
    return true;
  }

  enum class Read { kMore, kFrame, kEnded, kBroken };

  // Reads what has arrived; kFrame once a whole reply is in slot.in (after its length prefix).
  // A worker sends nothing after its reply until it is given another task, so reading ahead is
  // safe, and a small reply takes one recv.
  Read receive(Slot& slot) {
    for (;;) {
      std::size_t want = scratch.size();
      if (slot.in.size() >= sizeof(std::uint64_t)) {
        std::uint64_t size;
        std::memcpy(&size, slot.in.data(), sizeof size);
        if (size > kMaxFrame) return Read::kBroken;
        const std::size_t total = sizeof size + static_cast<std::size_t>(size);
        if (slot.in.size() >= total) return slot.in.size() == total ? Read::kFrame : Read::kBroken;
        if (slot.in.capacity() < total) slot.in.reserve(total);
        want = std::min(want, total - slot.in.size());
      }
      ssize_t n = ::recv(slot.fd, scratch.data(), want, MSG_DONTWAIT);
      if (n > 0) {
        slot.in.append(scratch.data(), static_cast<std::size_t>(n));
        continue;
      }
      if (n == 0) return Read::kEnded;
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return Read::kMore;
      return Read::kEnded;  // ECONNRESET
    }
  }

  std::vector<char> scratch = std::vector<char>(256 * 1024);
};

ForkPool::ForkPool(int workers) {
  state_ = std::make_unique<State>(checked_workers(workers));
}

ForkPool::~ForkPool() = default;

int ForkPool::workers() const {
  return static_cast<int>(state_->slots.size());
}
int ForkPool::peak_parallelism() const {
  return state_->peak;
}
double ForkPool::worker_cpu_seconds() const {
  return state_->worker_cpu;
}

std::vector<pid_t> ForkPool::worker_pids() const {
  std::vector<pid_t> pids;
  for (const auto& slot : state_->slots) {
    if (state_->alive(slot)) pids.push_back(slot.pid);
  }
  return pids;
}

void ForkPool::run(std::span<const Task> tasks, const ResultCallback& on_result) {
  State& s = *state_;
  using Slot = State::Slot;
  s.peak = 0;
  s.worker_cpu = 0;
  s.check_idle_workers();

  std::vector<std::pair<Clock::time_point, Clock::time_point>> spans;
  spans.reserve(tasks.size());
  std::size_t next = 0, done = 0;

  // Hands the next task, if any, to an idle live worker and starts sending it.
  auto give_next = [&](Slot& slot) {
    if (next >= tasks.size() || !s.alive(slot) || slot.task) return;
    s.dispatch(slot, next, tasks[next]);
    ++next;
  };
  auto finish = [&](TaskResult&& result) {
    spans.emplace_back(result.start, result.end);
    ++done;
    on_result(std::move(result));
  };
  // The worker in `slot` ended (or broke the protocol): fail its task, replace it, carry on.
  auto lose_worker = [&](Slot& slot, int number, std::chrono::milliseconds grace,
                         const std::string& what) {
    const pid_t pid = slot.pid;
    std::optional<std::size_t> task = slot.task;
    const Clock::time_point dispatched = slot.dispatched;
    std::string how = s.bury(slot, grace);
    s.replace(slot);
    give_next(slot);
    if (task) {
      TaskResult result;
      result.index = *task;
      result.worker = number;
      result.error = "worker " + std::to_string(number) + " (pid " + std::to_string(pid) + ") " +
                     what + ": " + how;
      result.start = dispatched;  // as far as the caller knows
      result.end = Clock::now();
      finish(std::move(result));
    }
  };

  try {
    for (auto& slot : s.slots) give_next(slot);

    std::vector<pollfd> fds;
    std::vector<std::size_t> owners;
    while (done < tasks.size()) {
      fds.clear();
      owners.clear();
      for (std::size_t w = 0; w < s.slots.size(); ++w) {
        const Slot& slot = s.slots[w];
        if (!s.alive(slot)) continue;
        fds.push_back({slot.fd, static_cast<short>(POLLIN | (slot.writing() ? POLLOUT : 0)), 0});
        owners.push_back(w);
      }
      if (std::none_of(s.slots.begin(), s.slots.end(),
                       [](const Slot& x) { return x.task.has_value(); })) {
        // No worker left to run what remains: every remaining task fails, named.
        while (next < tasks.size()) {
          TaskResult result;
          result.index = next++;
          result.error = "no fork worker left to run it: " + s.lost;
          result.start = result.end = Clock::now();
          finish(std::move(result));
        }
        break;
      }
      if (::poll(fds.data(), fds.size(), -1) < 0) {
        if (errno == EINTR) continue;
        throw std::system_error(errno, std::generic_category(), "fork pool: poll");
      }
      for (std::size_t i = 0; i < fds.size(); ++i) {
        const int w = static_cast<int>(owners[i]);
        Slot& slot = s.slots[owners[i]];
        if (fds[i].revents == 0 || slot.fd != fds[i].fd) continue;
        if ((fds[i].revents & POLLOUT) != 0 && !s.flush(slot)) {
          lose_worker(slot, w, kGrace, "died");
          continue;
        }
        if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
        State::Read read = s.receive(slot);
        if (read == State::Read::kMore) continue;
        if (read == State::Read::kEnded) {
          lose_worker(slot, w, kGrace, "died");
          continue;
        }
        std::optional<task_frame::Reply> reply;
        if (read == State::Read::kFrame && slot.task && !slot.writing()) {
          try {
            reply =
                task_frame::decode_reply(std::string_view(slot.in).substr(sizeof(std::uint64_t)));
          } catch (const std::exception&) {
          }
        }
        if (!reply || reply->index != *slot.task) {
          lose_worker(slot, w, std::chrono::milliseconds(0), "sent a malformed reply");
          continue;
        }
        TaskResult result = task_frame::to_result(*reply, reply->index, w, from_ns(reply->start_ns),
                                                  from_ns(reply->end_ns));
        s.worker_cpu += reply->cpu_seconds;
        slot.task.reset();
        slot.in.clear();
        if (slot.in.capacity() > (1 << 20)) slot.in.shrink_to_fit();
        give_next(slot);  // the worker starts its next task while the caller takes this result
        if (slot.writing() && !s.flush(slot)) {
          finish(std::move(result));
          lose_worker(slot, w, kGrace, "died");
          continue;
        }
        finish(std::move(result));
      }
    }
  } catch (...) {
    // on_result threw (or poll failed): workers still busy with tasks of this run would answer
    // the next one, so they are killed and replaced.
    for (auto& slot : s.slots) {
      if (s.alive(slot) && slot.task) {
        s.bury(slot, std::chrono::milliseconds(0));
        s.replace(slot);
      }
    }
    s.peak = peak_overlap(spans);
    throw;
  }
  s.peak = peak_overlap(spans);
}

namespace {

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

void read_all(int fd, char* out, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::recv(fd, out, size, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::runtime_error("fork floor: a worker closed its socket");
    out += n;
    size -= static_cast<std::size_t>(n);
  }
}

// Forked workers alone: W workers of the fork server, each sent an empty task frame over its
// socket and its reply read back, round robin with one task in flight per worker — the channel
// the fork executor uses, without its polling, completion order or results.
class ForkFloor final : public NativeFloor {
 public:
  explicit ForkFloor(int workers) : workers_(fork_workers(workers)) {}
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
    const std::string frame = task.kind == nullptr
                                  ? task_frame::task_header(0, "fork-floor-empty", 0)
                                  : task_frame::task_header(0, task.kind->name, task.input.size()) +
                                        std::string(task.input);
    std::vector<bool> busy(workers_.size(), false);
    std::size_t sent = 0, replies = 0;
    FloorCount count;
    for (std::size_t w = 0; w < workers_.size() && sent < tasks; ++w, ++sent) {
      write_all(workers_[w].fd, frame);
      busy[w] = true;
    }
    for (std::size_t w = 0; replies < sent; w = (w + 1) % workers_.size()) {
      if (!busy[w]) continue;
      std::uint64_t length = 0;
      read_all(workers_[w].fd, reinterpret_cast<char*>(&length), sizeof length);
      reply_.resize(length);
      read_all(workers_[w].fd, reply_.data(), length);
      ++replies;
      const auto reply = task_frame::decode_reply(reply_);
      if (reply.ok) ++count.ran;
      if (reply.ok && task.kind != nullptr && reply.text != task.expected) ++count.wrong;
      busy[w] = sent < tasks;
      if (busy[w]) {
        write_all(workers_[w].fd, frame);
        ++sent;
      }
    }
    return count;
  }

 private:
  std::vector<ForkedWorker> workers_;
  std::string reply_;
};

}  // namespace

CBENCH_REGISTER_EXECUTOR(fork) = {
    .name = "fork",
    .model =
        "W worker processes from a fork server; tasks handed out dynamically, results over "
        "sockets",
    .python = "ProcessPoolExecutor",
    // 10,000 processes would exhaust a small machine, and prove nothing 1,000 do not.
    .traits = {.workers = WorkerPlace::processes, .cold_mode = true, .worker_cap = 1000},
    .make = [](int workers) -> std::unique_ptr<Executor> {
      return std::make_unique<ForkPool>(workers);
    },
    .native_floor = [](int workers) -> std::unique_ptr<NativeFloor> {
      return std::make_unique<ForkFloor>(workers);
    },
};

}  // namespace cbench
