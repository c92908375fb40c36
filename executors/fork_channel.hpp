// The fork executor's channel to one worker (internal to fork.cpp): the worker's process and
// socket, the tasks it holds, the bytes queued for it and the replies read from it.
//
// Task frames are queued as pieces: headers and small inputs copied together, a large input or a
// view sent from the caller's Task without copying; flush() sends what the socket takes now,
// many frames in one sendmsg, and receive() reads what has arrived in one recv, never blocking.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>

#include "executors/executor.hpp"
#include "executors/fork_worker.hpp"
#include "executors/task_frame.hpp"

namespace cbench::fork_channel {

// A task sent to a worker (or being sent) whose result has not come back.
struct Held {
  std::size_t index;
  Clock::time_point sent;
  std::uint64_t end;  // where its frame ends in the bytes queued for the worker
};

// Bytes queued for a worker: task headers and small inputs copied together, then maybe a body
// sent from where it is (a large input or a view), shared with the caller's Task, not copied.
struct Piece {
  std::string bytes;
  std::string_view body;
  std::shared_ptr<const void> owner;  // keeps the body alive, when it is not the corpus's
};

enum class Read { kOpen, kEnded };

struct Slot {
  pid_t pid = -1;
  int fd = -1;                   // -1: no worker (it died and no replacement could be had)
  std::deque<Held> held;         // in the order sent, which is the order the worker runs them
  fork_worker::Depth depth;      // how many tasks it may hold: the batching rule
  Clock::time_point last_end{};  // when the last task it returned ended
  std::deque<Piece> out;         // not yet sent; the first maybe in part (out_at bytes of it)
  std::size_t out_at = 0;
  std::uint64_t queued = 0;  // bytes ever queued for it, and sent
  std::uint64_t sent = 0;
  task_frame::FrameBuffer in;  // its replies

  bool writing() const { return sent < queued; }

  // Queues a task's frame; flush() sends it.
  void dispatch(std::size_t index, const Task& task, Clock::time_point now);
  // Sends what the socket takes now, in one sendmsg for many frames. False when the worker is
  // gone.
  bool flush();
  // Reads what has arrived into `in`, until the socket has no more for now (kOpen) or the worker
  // has closed it (kEnded: what it sent before is in `in` all the same).
  Read receive();

 private:
  Piece& open_piece();
  void queue(std::string_view bytes, std::shared_ptr<const void> owner);
};

}  // namespace cbench::fork_channel
