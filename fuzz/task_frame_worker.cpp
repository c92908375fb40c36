// A fork worker (or an MPI engine) reading task frames (executors/task_frame.hpp): bytes arrive
// in reads of any size (the first input byte picks them), whole frames are taken one at a time
// and each is decoded and run as the worker runs it. What may come out: a reply frame, or
// std::runtime_error for a payload that cannot be read, or std::length_error for a frame longer
// than a worker takes — never a crash, and never more memory than the bytes that arrived.
#include <cstring>
#include <stdexcept>

#include "executors/fork_worker.hpp"
#include "executors/task_frame.hpp"
#include "fuzz/frames.hpp"

using namespace cbench;

namespace {

// The kind the frames name (any other name is an error reply): its input and views joined.
Bytes echo(std::string_view input, std::span<const std::string_view> views) {
  Bytes out(input);
  for (auto view : views) out.append(view);
  return out;
}
const bool kRegistered = [] {
  register_task_kind({.name = "fuzz-echo", .run_views = echo});
  return true;
}();

}  // namespace

CBENCH_FUZZ_TARGET {
  fuzz::feed_frames(data, size, fork_worker::kMaxTaskFrame, [](std::string_view payload) {
    try {
      const std::string reply = task_frame::run_task_payload(payload);
      std::uint64_t length = 0;
      fuzz::check(reply.size() >= sizeof length, "a reply shorter than its length");
      std::memcpy(&length, reply.data(), sizeof length);
      fuzz::check(length == reply.size() - sizeof length, "a reply's length is not its size");
      task_frame::decode_reply(std::string_view(reply).substr(sizeof length));
    } catch (const std::runtime_error&) {
      // A payload that cannot be read: the worker exits, the caller names it.
    }
  });
  return 0;
}
