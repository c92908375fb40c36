// The fork executor's two sides of one channel: the batching rule the caller follows when it
// hands tasks to a worker (Depth), and the loop a forked worker runs, with the rule it follows
// when it sends its replies back (fork_worker.cpp). Internal to fork.cpp, fork_floor.cpp and
// fork_server.cpp, which forks the workers.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>

#include "executors/task_frame.hpp"

namespace cbench::fork_worker {

// The caller's side.
// How long a worker whose socket closed may take to finish dying, or an idle worker to exit on
// shutdown, before the server kills it. Generous: only a worker stuck in a task ever waits it out.
constexpr std::chrono::milliseconds kGrace{5000};

// A result frame larger than this is a broken worker, not a result.
constexpr std::uint64_t kMaxFrame = std::uint64_t{1} << 36;

// What the caller reads from a worker's socket at once.
constexpr std::size_t kReadChunk = 256 * 1024;

// A task that ran for less than this (by the worker's own clock) counts as short: each short
// result lets its worker hold one task more, up to kMaxDepth; a longer one brings it back to one.
constexpr std::int64_t kShortTaskNs = 50'000;
constexpr std::size_t kMaxDepth = 64;

// How many tasks one worker may hold: the executor's rule and its floor's.
struct Depth {
  std::size_t depth = 1;

  // After each of the worker's replies: one more after a short task, back to one after a long.
  void after(const task_frame::Reply& reply) {
    depth = reply.end_ns - reply.start_ns < kShortTaskNs ? std::min(depth + 1, kMaxDepth) : 1;
  }
  // Its depth, but never more than a share of the tasks still to hand out, so that the last ones
  // still spread over every worker.
  std::size_t allowed(std::size_t remaining, std::size_t workers) const {
    return std::min(depth, std::max<std::size_t>(1, remaining / (4 * workers)));
  }
};

// The worker's side.
// Worker: runs the tasks its socket brings, one at a time and in the order they came, until the
// socket closes. The caller may send several task frames at once; the worker reads whatever has
// arrived in one read, runs the whole frames among it, and holds their replies back to send them
// together, in one sendmsg: when it has no whole task left to run (it then blocks in the next
// read), or once kFlushEvery replies or kFlushBytes of them are waiting (so the caller can top it
// up while it still has tasks to run), or once the oldest has waited kFlushAfterNs. That last
// check comes after each task, so a reply waits at most that long plus one task: the caller
// batches only tasks that have been short, but the next one may not be.
//
// Each task's CPU time is measured from the process's CPU clock (a system call), read once per
// task: a task run straight after another starts from the reading taken at the other's end.
constexpr std::size_t kFlushEvery = 16;
constexpr std::size_t kFlushBytes = 256 * 1024;
constexpr std::int64_t kFlushAfterNs = 50'000;
constexpr std::size_t kWorkerReadChunk = 64 * 1024;
constexpr std::uint64_t kMaxTaskFrame = std::uint64_t{1} << 36;  // more is a broken caller

// A forked worker's life: it runs the tasks its socket `fd` brings until the socket closes, then
// exits the process.
[[noreturn]] void worker_main(int fd);

}  // namespace cbench::fork_worker
