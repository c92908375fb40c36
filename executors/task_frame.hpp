// The frames a task and its result travel in between processes: to a fork worker over its socket
// and to an MPI engine, on this host or another. Encoded with wire.hpp; a frame is a u64 payload
// length followed by the payload. Internal to the executors library.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "executors/executor.hpp"

namespace cbench::task_frame {

// caller -> worker: u64 index, str kind name, str input, u64 view count, a u64 length per view,
// then the views' bytes one after another. append_task_header appends the length prefix and
// everything before the input's bytes to `out` (several frames sent in one write); the caller
// sends the input straight after (a socket: without copying it), then views_table(views), then
// each view's bytes (without copying them either).
void append_task_header(std::string& out, std::uint64_t index, std::string_view kind,
                        std::size_t input_size, std::span<const std::string_view> views = {});
// What comes between the input and the views' bytes.
void append_views_table(std::string& out, std::span<const std::string_view> views);
// A whole frame in one string, with its length prefix: for a transport that sends one buffer.
std::string whole_task(std::uint64_t index, std::string_view kind, std::string_view input,
                       std::span<const std::string_view> views = {});

// worker -> caller
struct Reply {
  std::uint64_t index = 0;
  bool ok = false;
  std::string_view text;                  // the value when ok, else the error
  double cpu_seconds = 0;                 // the worker process's CPU time during the task
  std::int64_t start_ns = 0, end_ns = 0;  // CLOCK_MONOTONIC of the worker's host
};
std::string encode_reply(const Reply& reply);  // with its length prefix
Reply decode_reply(std::string_view payload);  // without it; views into payload

// The result a reply stands for: the task at `index`, run by `worker`, its value or error (an
// empty error text becomes "task failed") and its CPU time. The span is the caller's to place on
// its own clock: the worker's clock is this host's (fork), or maybe another's (mpi).
TaskResult to_result(const Reply& reply, std::size_t index, int worker, Clock::time_point start,
                     Clock::time_point end);

// What a worker does with a task's payload (without its length prefix): decodes it, runs the
// task with the kind of that name from this process's registry, and returns the reply frame
// (with its length prefix). An exception from the task becomes an error reply naming it; a
// payload that cannot be read throws std::runtime_error.
std::string run_task_payload(std::string_view payload);

// The same, reading the process's CPU clock (a system call) once instead of twice: `cpu_clock`
// holds its reading just before the task — for a task run straight after another, the reading
// taken at the other's end — and is left holding the reading at this task's end.
std::string run_task_payload(std::string_view payload, double& cpu_clock);

// Bytes received from a stream socket, and the whole frames among them, taken one at a time: a
// read may bring many frames, or part of one.
class FrameBuffer {
 public:
  // How far room() reserves ahead of the bytes received for a frame whose length has arrived:
  // the whole of any frame up to this (one allocation, no copy as it arrives), a larger one grown
  // as its bytes come, so that a broken sender's length does not cost its size in memory.
  static constexpr std::uint64_t kReserveAhead = std::uint64_t{64} << 20;

  FrameBuffer() = default;
  explicit FrameBuffer(std::uint64_t reserve_ahead) : reserve_ahead_(reserve_ahead) {}

  // Where the next bytes received go: at least `chunk` bytes, and room for the rest of a frame
  // whose length has arrived, up to reserve_ahead bytes ahead of its bytes (call it after next()
  // found no whole frame, which checked that length).
  std::span<char> room(std::size_t chunk);
  void received(std::size_t n) { end_ += n; }
  // The next whole frame's payload (without its length prefix), or nothing until it has all
  // arrived. The view is valid until the next room(). A length over `max_frame` is
  // std::length_error: the sender is broken.
  std::optional<std::string_view> next(std::uint64_t max_frame);
  std::size_t buffered() const { return end_ - begin_; }
  // Gives back a buffer grown past `keep` bytes (by a large frame) once nothing is buffered.
  void trim(std::size_t keep);

 private:
  std::unique_ptr<char[]> data_;
  std::size_t capacity_ = 0, begin_ = 0, end_ = 0;
  std::uint64_t reserve_ahead_ = kReserveAhead;
};

std::int64_t monotonic_ns();

}  // namespace cbench::task_frame
