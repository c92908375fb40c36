// The "fork" executor (fork_pool.hpp): W worker processes from the fork server (fork_server.hpp),
// tasks handed out dynamically, results over each worker's socket (ProcessPoolExecutor). The bytes
// to and from one worker go through its channel (fork_channel.hpp).
//
// The caller's side is one poll() loop over every worker's socket, non-blocking, so that a large
// input still being written to one worker never stops a large result being read from another.
//
// Short tasks travel in batches, so that a task costs no system call and no wake-up of its own.
// Each worker holds up to `depth` tasks: frames sent but whose results have not come back. Every
// worker starts a run at depth 1; each result of a task that ran for less than kShortTaskNs (by
// the worker's own clock) raises its depth by one, up to kMaxDepth, and a longer one brings it
// back to 1, so coarse tasks are handed out one per worker exactly as they would be without
// batching, and load balance for them is untouched. A worker is never given more than a share
// of the tasks still to hand out (1 / 4W of them), so that the last ones still spread over every
// worker. When results come back the caller tops the worker up again, many frames in one
// sendmsg (small inputs copied beside their headers, large ones sent from the Task's own bytes);
// the worker runs them one at a time in the order sent and sends its replies together
// (fork_server.cpp), and the caller reads as many as have arrived in one recv.
//
// A worker's socket reaching end of file while it holds tasks means the worker died: every task
// it held fails — the one that killed it, those queued behind it, and those it had run whose
// replies were still waiting to be sent — each naming the worker, its pid and how it ended (the
// server reaped it and reports its wait status), and the server forks a replacement so W stays
// honoured. Replies that reached the socket before it closed still count.
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <deque>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>

#include "executors/fork_channel.hpp"
#include "executors/fork_pool.hpp"
#include "executors/fork_server.hpp"
#include "executors/fork_worker.hpp"
#include "executors/task_frame.hpp"

namespace cbench {
namespace {

using fork_worker::Depth;  // how many tasks a worker may hold: the batching rule
using fork_worker::kGrace;
using fork_worker::kMaxFrame;

constexpr std::size_t kKeepBuffer = std::size_t{1} << 20;  // a larger one is given back when empty

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
  using Held = fork_channel::Held;
  using Read = fork_channel::Read;
  using Slot = fork_channel::Slot;

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
        reap_worker(slot.pid, slot.held.empty() ? kGrace : std::chrono::milliseconds(0));
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
  // than failing the task it would be handed next. Every worker starts the run at depth 1.
  void check_idle_workers() {
    for (auto& slot : slots) {
      if (!alive(slot)) {
        replace(slot);
        continue;
      }
      slot.depth = Depth{};
      pollfd fd{slot.fd, POLLIN, 0};
      // An idle worker has nothing to say: end of file means it ended, anything else that it is
      // broken, and it is killed.
      if (::poll(&fd, 1, 0) > 0) {
        bury(slot, std::chrono::milliseconds(0));
        replace(slot);
      }
    }
  }
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

// One run() over the workers: the tasks it hands out and the results it hands on. Each worker's
// socket is polled; what poll() says of it is served (serve): replies taken (take_replies), more
// tasks sent (give_more), and a worker that ended or broke the protocol lost (lose_worker), its
// tasks failed, named, and a new worker in its place.
class ForkPool::Run {
 public:
  Run(State& s, std::span<const Task> tasks, const ResultCallback& on_result)
      : s_(s), tasks_(tasks), on_result_(on_result), workers_(s.slots.size()) {
    spans_.reserve(tasks.size());
  }

  void go() {
    try {
      for (std::size_t w = 0; w < workers_; ++w) {
        if (s_.alive(s_.slots[w])) serve(s_.slots[w], static_cast<int>(w), POLLOUT);
      }
      while (done_ < tasks_.size() && poll_once()) {
      }
    } catch (...) {
      // on_result threw (or poll failed): workers still busy with tasks of this run would answer
      // the next one, so they are killed and replaced.
      for (auto& slot : s_.slots) {
        if (s_.alive(slot) && !slot.held.empty()) {
          s_.bury(slot, std::chrono::milliseconds(0));
          s_.replace(slot);
        }
      }
      s_.peak = peak_overlap(spans_);
      throw;
    }
    s_.peak = peak_overlap(spans_);
  }

 private:
  using Slot = State::Slot;

  // One poll() of every live worker and the serving of what it says; false when no worker is
  // left to run what remains (every remaining task then failed, named).
  bool poll_once() {
    fds_.clear();
    owners_.clear();
    for (std::size_t w = 0; w < workers_; ++w) {
      const Slot& slot = s_.slots[w];
      if (!s_.alive(slot)) continue;
      fds_.push_back({slot.fd, static_cast<short>(POLLIN | (slot.writing() ? POLLOUT : 0)), 0});
      owners_.push_back(w);
    }
    if (std::none_of(s_.slots.begin(), s_.slots.end(),
                     [](const Slot& x) { return !x.held.empty(); })) {
      while (next_ < tasks_.size()) {
        TaskResult result;
        result.index = next_++;
        result.error = "no fork worker left to run it: " + s_.lost;
        result.start = result.end = Clock::now();
        finish(std::move(result));
      }
      return false;
    }
    if (::poll(fds_.data(), fds_.size(), -1) < 0) {
      if (errno == EINTR) return true;
      throw std::system_error(errno, std::generic_category(), "fork pool: poll");
    }
    for (std::size_t i = 0; i < fds_.size(); ++i) {
      Slot& slot = s_.slots[owners_[i]];
      if (fds_[i].revents == 0 || slot.fd != fds_[i].fd) continue;
      serve(slot, static_cast<int>(owners_[i]), fds_[i].revents);
    }
    return true;
  }

  // Tops a live worker up to as many tasks as it may hold.
  void give_more(Slot& slot) {
    if (next_ >= tasks_.size() || !s_.alive(slot)) return;
    const std::size_t target = slot.depth.allowed(tasks_.size() - next_, workers_);
    if (slot.held.size() >= target) return;
    const Clock::time_point now = Clock::now();
    while (slot.held.size() < target && next_ < tasks_.size()) {
      slot.dispatch(next_, tasks_[next_], now);
      ++next_;
    }
  }

  void finish(TaskResult&& result) {
    spans_.emplace_back(result.start, result.end);
    ++done_;
    on_result_(std::move(result));
  }

  // The worker in `slot` ended (or broke the protocol): fail every task it held, each named,
  // replace it, carry on.
  void lose_worker(Slot& slot, int number, std::chrono::milliseconds grace,
                   const std::string& what) {
    const pid_t pid = slot.pid;
    const Clock::time_point last_end = slot.last_end;
    std::deque<State::Held> held = std::move(slot.held);
    std::string how = s_.bury(slot, grace);
    s_.replace(slot);
    give_more(slot);
    std::string error = "worker " + std::to_string(number) + " (pid " + std::to_string(pid) + ") " +
                        what + ": " + how;
    if (held.size() > 1) {
      error +=
          ", holding " + std::to_string(held.size()) + " tasks whose results had not come back";
    }
    // Their spans, as far as the caller knows: the worker was busy with the first from when it
    // could have started it (sent, and the worker's last result done) until it was found gone;
    // the others had not begun (an empty span, then), one task at a time as ever.
    const Clock::time_point now = Clock::now();
    bool first = true;
    for (const State::Held& task : held) {
      TaskResult result;
      result.index = task.index;
      result.worker = number;
      result.error = error;
      result.start = first ? std::min(std::max(task.sent, last_end), now) : now;
      result.end = now;
      if (first) {
        finish(std::move(result));
      } else {
        ++done_;  // an empty span is no task running: peak_parallelism does not count it
        on_result_(std::move(result));
      }
      first = false;
    }
  }

  // Hands on the replies that have arrived whole, in order. False when one is not the reply to
  // the task the worker was running (the worker has then been lost).
  bool take_replies(Slot& slot, int number) {
    for (;;) {
      std::optional<task_frame::Reply> reply;
      try {
        const std::optional<std::string_view> payload = slot.in.next(kMaxFrame);
        if (!payload) return true;
        // A reply can only follow the whole of its task's frame.
        if (!slot.held.empty() && slot.sent >= slot.held.front().end) {
          reply = task_frame::decode_reply(*payload);
        }
      } catch (const std::exception&) {
      }
      if (!reply || reply->index != slot.held.front().index) {
        lose_worker(slot, number, std::chrono::milliseconds(0), "sent a malformed reply");
        return false;
      }
      slot.held.pop_front();
      slot.depth.after(*reply);
      s_.worker_cpu += reply->cpu_seconds;
      slot.last_end = from_ns(reply->end_ns);
      finish(task_frame::to_result(*reply, reply->index, number, from_ns(reply->start_ns),
                                   from_ns(reply->end_ns)));
    }
  }

  // What poll() said of one worker's socket: send, receive, hand on results, send more.
  void serve(Slot& slot, int number, short revents) {
    bool ended = (revents & POLLOUT) != 0 && !slot.flush();
    if (ended || (revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      // A worker that is gone still has its last replies in the socket: they count.
      if (slot.receive() == State::Read::kEnded) ended = true;
      if (!take_replies(slot, number)) return;
    }
    if (!ended) {
      slot.in.trim(kKeepBuffer);
      give_more(slot);  // the worker carries on with what it holds while the caller sends more
      if (!slot.flush()) {
        slot.receive();
        if (!take_replies(slot, number)) return;
        ended = true;
      }
    }
    if (ended) lose_worker(slot, number, kGrace, "died");
  }

  State& s_;
  std::span<const Task> tasks_;
  const ResultCallback& on_result_;
  const std::size_t workers_;
  std::vector<std::pair<Clock::time_point, Clock::time_point>> spans_;
  std::size_t next_ = 0, done_ = 0;
  std::vector<pollfd> fds_;
  std::vector<std::size_t> owners_;
};

void ForkPool::run(std::span<const Task> tasks, const ResultCallback& on_result) {
  State& s = *state_;
  s.peak = 0;
  s.worker_cpu = 0;
  s.check_idle_workers();
  Run(s, tasks, on_result).go();
}

CBENCH_REGISTER_EXECUTOR(fork) = {
    .name = "fork",
    .model =
        "W worker processes from a fork server; tasks handed out dynamically, short ones in "
        "batches; results over sockets",
    .python = "ProcessPoolExecutor",
    // 10,000 processes would exhaust a small machine, and prove nothing 1,000 do not.
    .traits = {.workers = WorkerPlace::processes, .cold_mode = true, .worker_cap = 1000},
    .make = build<Executor, ForkPool>,
    .native_floor = make_fork_floor,
    // The fork server, while the process has one thread (fork_server.hpp).
    .process_start =
        [](int&, char**&) {
          try {
            start_fork_server();
          } catch (const std::exception& e) {
            throw std::runtime_error(std::string("cannot start the fork server: ") + e.what());
          }
        },
};

}  // namespace cbench
