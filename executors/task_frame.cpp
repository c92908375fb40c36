#include "executors/task_frame.hpp"

#include <time.h>

#include <cstring>

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

std::string task_header(std::uint64_t index, std::string_view kind, std::size_t input_size) {
  wire::Writer writer;
  writer.u64(0).u64(index).str(kind).u64(input_size);  // the input's bytes follow
  return with_length(writer.take(), input_size);
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
  Reply reply;
  wire::Reader reader(payload);
  reply.index = reader.u64();
  const std::string_view kind_name = reader.str();
  const std::string_view input = reader.str();
  reader.expect_done();

  // The same measurement as run_task, with the process's CPU time: a task may start threads.
  std::string value, error;
  const double cpu_start = process_cpu_seconds();
  reply.start_ns = monotonic_ns();
  try {
    value = task_kind(kind_name).run(input);
  } catch (...) {
    error = task_error(std::current_exception());
  }
  reply.end_ns = monotonic_ns();
  reply.cpu_seconds = process_cpu_seconds() - cpu_start;
  reply.ok = error.empty();
  reply.text = reply.ok ? std::string_view(value) : std::string_view(error);
  return encode_reply(reply);
}

}  // namespace cbench::task_frame
