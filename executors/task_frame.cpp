#include "executors/task_frame.hpp"

#include <time.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "executors/executor.hpp"
#include "executors/run_task.hpp"
#include "executors/wire.hpp"

namespace cbench::task_frame {
namespace {

// Fills in the u64 length prefix a Writer left as zero.
std::string with_length(std::string frame, std::size_t trailing_bytes = 0) {
  const std::uint64_t payload = frame.size() - sizeof(std::uint64_t) + trailing_bytes;
  std::memcpy(frame.data(), &payload, sizeof payload);
  return frame;
}

}  // namespace

std::int64_t monotonic_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

void append_task_header(std::string& out, std::uint64_t index, std::string_view kind,
                        std::size_t input_size, std::span<const std::string_view> views) {
  // As wire::Writer would write u64 length, u64 index, str kind, u64 input size (the input's
  // bytes follow), straight into `out`.
  std::uint64_t trailing = sizeof(std::uint64_t) * (1 + views.size());
  for (auto v : views) trailing += v.size();
  const std::uint64_t fields[] = {3 * sizeof(std::uint64_t) + kind.size() + input_size + trailing,
                                  index, kind.size()};
  const std::uint64_t size = input_size;
  out.append(reinterpret_cast<const char*>(fields), sizeof fields);
  out.append(kind.data(), kind.size());
  out.append(reinterpret_cast<const char*>(&size), sizeof size);
}

void append_views_table(std::string& out, std::span<const std::string_view> views) {
  const std::uint64_t count = views.size();
  out.append(reinterpret_cast<const char*>(&count), sizeof count);
  for (auto v : views) {
    const std::uint64_t size = v.size();
    out.append(reinterpret_cast<const char*>(&size), sizeof size);
  }
}

std::string whole_task(std::uint64_t index, std::string_view kind, std::string_view input,
                       std::span<const std::string_view> views) {
  std::string out;
  append_task_header(out, index, kind, input.size(), views);
  out.append(input);
  append_views_table(out, views);
  for (auto v : views) out.append(v);
  return out;
}

std::string encode_reply(const Reply& reply) {
  wire::Writer writer;
  writer.u64(0)
      .u64(reply.index)
      .u64(reply.ok ? 1 : 0)
      .str(reply.text)
      .f64(reply.cpu_seconds)
      .i64(reply.start_ns)
      .i64(reply.end_ns);
  return with_length(writer.take());
}

Reply decode_reply(std::string_view payload) {
  wire::Reader reader(payload);
  Reply reply;
  reply.index = reader.u64();
  reply.ok = reader.u64() != 0;
  reply.text = reader.str();
  reply.cpu_seconds = reader.f64();
  reply.start_ns = reader.i64();
  reply.end_ns = reader.i64();
  reader.expect_done();
  return reply;
}

TaskResult to_result(const Reply& reply, std::size_t index, int worker, Clock::time_point start,
                     Clock::time_point end) {
  TaskResult result;
  result.index = index;
  result.worker = worker;
  if (reply.ok) {
    result.value = reply.text;
  } else {
    result.error = reply.text.empty() ? "task failed" : std::string(reply.text);
  }
  result.cpu_seconds = reply.cpu_seconds;
  result.start = start;
  result.end = end;
  return result;
}

std::string run_task_payload(std::string_view payload) {
  double cpu_clock = process_cpu_seconds();
  return run_task_payload(payload, cpu_clock);
}

std::string run_task_payload(std::string_view payload, double& cpu_clock) {
  Reply reply;
  wire::Reader reader(payload);
  reply.index = reader.u64();
  const std::string_view kind_name = reader.str();
  const std::string_view input = reader.str();
  const std::uint64_t count = reader.count(sizeof(std::uint64_t));  // each view's size
  std::vector<std::uint64_t> sizes(count);
  for (auto& size : sizes) size = reader.u64();
  std::vector<std::string_view> views;
  views.reserve(count);
  for (auto size : sizes) views.push_back(reader.raw(size));
  reader.expect_done();

  // The same measurement as run_task, with the process's CPU time: a task may start threads.
  std::string value, error;
  const double cpu_start = cpu_clock;
  reply.start_ns = monotonic_ns();
  try {
    value = task_kind(kind_name)(input, views);
  } catch (...) {
    error = task_error(std::current_exception());
  }
  reply.end_ns = monotonic_ns();
  cpu_clock = process_cpu_seconds();
  reply.cpu_seconds = cpu_clock - cpu_start;
  reply.ok = error.empty();
  reply.text = reply.ok ? std::string_view(value) : std::string_view(error);
  return encode_reply(reply);
}

std::span<char> FrameBuffer::room(std::size_t chunk) {
  if (begin_ == end_) begin_ = end_ = 0;
  std::size_t want = chunk;
  if (buffered() >= sizeof(std::uint64_t)) {
    std::uint64_t size;
    std::memcpy(&size, data_.get() + begin_, sizeof size);
    want = std::max<std::size_t>(
        want, std::min<std::uint64_t>(sizeof size + size - buffered(), reserve_ahead_));
  }
  if (capacity_ - end_ < want && begin_ > 0) {
    std::memmove(data_.get(), data_.get() + begin_, buffered());
    end_ -= begin_;
    begin_ = 0;
  }
  if (capacity_ - end_ < want) {
    const std::size_t capacity = std::max(capacity_ * 2, end_ + want);
    auto data = std::make_unique_for_overwrite<char[]>(capacity);
    if (end_ > 0) std::memcpy(data.get(), data_.get(), end_);
    data_ = std::move(data);
    capacity_ = capacity;
  }
  return {data_.get() + end_, capacity_ - end_};
}

std::optional<std::string_view> FrameBuffer::next(std::uint64_t max_frame) {
  std::uint64_t size;
  if (buffered() < sizeof size) return std::nullopt;
  std::memcpy(&size, data_.get() + begin_, sizeof size);
  if (size > max_frame) {
    throw std::length_error("a frame of " + std::to_string(size) + " bytes");
  }
  if (buffered() - sizeof size < size) return std::nullopt;
  const std::string_view payload(data_.get() + begin_ + sizeof size, size);
  begin_ += sizeof size + size;
  return payload;
}

void FrameBuffer::trim(std::size_t keep) {
  if (buffered() != 0 || capacity_ <= keep) return;
  data_.reset();
  capacity_ = begin_ = end_ = 0;
}

}  // namespace cbench::task_frame
