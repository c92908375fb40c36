// Runs one task where the caller stands and records what every executor reports about it: the
// value or the error, the worker, CPU time and wall-clock span. Shared by every executor so that
// all of them measure a task the same way.
#pragma once

#include "executors/executor.hpp"

namespace cbench {

// CPU time of the calling thread, in seconds.
double thread_cpu_seconds();

// Never throws: an exception from the task becomes the result's error.
TaskResult run_task(const Task& task, std::size_t index, int worker);

}  // namespace cbench
