// The caller reading a worker's replies (executors/task_frame.hpp, as fork_channel.cpp and
// fork.cpp do): bytes arrive in reads of any size (the first input byte picks them), whole frames
// are taken one at a time and decoded. A reply that decodes encodes to one that decodes the same;
// a payload that cannot be read is std::runtime_error, a frame too long std::length_error.
#include <cstring>
#include <stdexcept>

#include "executors/fork_worker.hpp"
#include "executors/task_frame.hpp"
#include "fuzz/frames.hpp"

using namespace cbench;

CBENCH_FUZZ_TARGET {
  fuzz::feed_frames(data, size, fork_worker::kMaxFrame, [](std::string_view payload) {
    try {
      const task_frame::Reply reply = task_frame::decode_reply(payload);
      const std::string frame = task_frame::encode_reply(reply);
      const task_frame::Reply again =
          task_frame::decode_reply(std::string_view(frame).substr(sizeof(std::uint64_t)));
      fuzz::check(
          again.index == reply.index && again.ok == reply.ok && again.text == reply.text &&
              again.start_ns == reply.start_ns && again.end_ns == reply.end_ns &&
              std::memcmp(&again.cpu_seconds, &reply.cpu_seconds, sizeof reply.cpu_seconds) == 0,
          "a decoded reply, encoded, decodes otherwise");
    } catch (const std::runtime_error&) {
      // The caller loses the worker, naming a malformed reply.
    }
  });
  return 0;
}
