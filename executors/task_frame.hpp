// The frames a task and its result travel in between processes: to a fork worker over its socket
// and to an MPI engine, on this host or another. Encoded with wire.hpp; a frame is a u64 payload
// length followed by the payload. Internal to the executors library.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "executors/executor.hpp"

namespace cbench::task_frame {

// caller -> worker: u64 index, str kind name, str input. Returns the length prefix and everything
// but the input bytes, which the caller sends straight after (a socket: without copying them).
std::string task_header(std::uint64_t index, std::string_view kind, std::size_t input_size);

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

std::int64_t monotonic_ns();

}  // namespace cbench::task_frame
