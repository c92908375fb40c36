// The fork executor's channel to one worker (fork_channel.hpp): frames queued, sent and read.
#include "executors/fork_channel.hpp"

#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstring>

namespace cbench::fork_channel {

namespace {

// An input up to this size is copied beside its task's header, so that many small frames go out
// as one buffer; a larger one is sent from the caller's Task, without copying.
constexpr std::size_t kCopyInput = 4096;
constexpr std::size_t kMaxIov = 64;  // buffers per sendmsg

}  // namespace

void Slot::dispatch(std::size_t index, const Task& task, Clock::time_point now) {
  const std::string_view input = task.input ? std::string_view(*task.input) : std::string_view{};
  const auto& views = task.views.views;
  const std::size_t before = queued;
  std::string& header = open_piece().bytes;
  const std::size_t header_at = header.size();
  task_frame::append_task_header(header, index, task.kind ? task.kind->name : std::string_view{},
                                 input.size(), views);
  std::uint64_t payload;
  std::memcpy(&payload, header.data() + header_at, sizeof payload);
  queue(input, task.input);
  task_frame::append_views_table(open_piece().bytes, views);
  for (const auto view : views) queue(view, task.views.owner);
  queued = before + sizeof payload + payload;
  held.push_back({index, now, queued});
}

// The piece whose copied bytes may still grow.
Piece& Slot::open_piece() {
  if (out.empty() || !out.back().body.empty()) out.emplace_back();
  return out.back();
}

// Bytes of a frame, copied when small, else sent from where they are.
void Slot::queue(std::string_view bytes, std::shared_ptr<const void> owner) {
  Piece& piece = open_piece();
  if (bytes.size() <= kCopyInput) {
    piece.bytes.append(bytes);
  } else {
    piece.body = bytes;
    piece.owner = std::move(owner);
  }
}

bool Slot::flush() {
  while (writing()) {
    iovec iov[kMaxIov];
    std::size_t count = 0;
    std::size_t skip = out_at;
    for (const Piece& piece : out) {
      if (count + 2 > kMaxIov) break;
      if (skip < piece.bytes.size()) {
        iov[count++] = {const_cast<char*>(piece.bytes.data()) + skip, piece.bytes.size() - skip};
        skip = 0;
      } else {
        skip -= piece.bytes.size();
      }
      if (skip < piece.body.size()) {
        iov[count++] = {const_cast<char*>(piece.body.data()) + skip, piece.body.size() - skip};
      }
      skip = 0;
    }
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = count;
    ssize_t n = ::sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
      return false;  // EPIPE, ECONNRESET: the worker is gone
    }
    sent += static_cast<std::uint64_t>(n);
    std::size_t done = out_at + static_cast<std::size_t>(n);
    while (!out.empty()) {
      const Piece& piece = out.front();
      const std::size_t size = piece.bytes.size() + piece.body.size();
      if (done < size) break;
      done -= size;
      out.pop_front();
    }
    out_at = done;
  }
  return true;
}

// Reads what has arrived into in, until the socket has no more for now (kOpen) or the
// worker has closed it (kEnded: what it sent before is in in all the same).
Read Slot::receive() {
  for (;;) {
    const std::span<char> room = in.room(fork_worker::kReadChunk);
    ssize_t n = ::recv(fd, room.data(), room.size(), MSG_DONTWAIT);
    if (n > 0) {
      in.received(static_cast<std::size_t>(n));
      if (static_cast<std::size_t>(n) < room.size()) return Read::kOpen;  // drained for now
      continue;
    }
    if (n == 0) return Read::kEnded;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return Read::kOpen;
    return Read::kEnded;  // ECONNRESET
  }
}

}  // namespace cbench::fork_channel
