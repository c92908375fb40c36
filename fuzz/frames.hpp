// Feeding frames as a socket brings them (the frame targets' shared part): the input's first
// byte picks how many bytes each read brings (1 to 64), the rest arrive read by read into a
// FrameBuffer, and each whole frame is handed on. A frame longer than `max_frame` ends the feed
// (std::length_error: the reader drops the connection). The buffer reserves at most 4 KiB ahead.
#pragma once

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "executors/task_frame.hpp"
#include "fuzz/fuzz.hpp"

namespace cbench::fuzz {

template <typename F>
void feed_frames(const std::uint8_t* data, std::size_t size, std::uint64_t max_frame,
                 F&& on_payload) {
  if (size == 0) return;
  const std::size_t chunk = 1 + data[0] % 64;
  std::string_view in = bytes(data + 1, size - 1);
  // The reader's code with a small reserve, so that a claimed length costs the fuzzer little and
  // large frames take the growing path.
  task_frame::FrameBuffer frames(4096);
  try {
    while (!in.empty()) {
      const std::span<char> room = frames.room(chunk);
      check(room.size() >= chunk, "room() gave less than asked");
      const std::size_t n = std::min({room.size(), chunk, in.size()});
      std::memcpy(room.data(), in.data(), n);
      frames.received(n);
      in.remove_prefix(n);
      while (const auto payload = frames.next(max_frame)) on_payload(*payload);
    }
  } catch (const std::length_error&) {
  }
}

}  // namespace cbench::fuzz
