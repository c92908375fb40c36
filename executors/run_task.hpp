// Runs one task where the caller stands and records what every executor reports about it: the
// value or the error, the worker, CPU time and wall-clock span. Shared by every executor so that
// all of them measure a task the same way.
#pragma once

#include "executors/executor.hpp"

namespace cbench {

// CPU time of the calling thread, in seconds.
double thread_cpu_seconds();

// CPU time of the whole process (every thread of it), in seconds.
double process_cpu_seconds();

// Whether run_task reads the thread's CPU clock around each task (on by default). That clock is a
// system call (about 1.3 µs here, twice per task), more than a whole dispatch should cost, so the
// benchmarks turn it off: for threads of this process the process CPU clock already counts the
// work. Worker processes (fork) always measure theirs.
void set_task_cpu_timing(bool on);
bool task_cpu_timing();

// Never throws: an exception from the task becomes the result's error. cpu_seconds is 0 when
// per-task CPU timing is off.
TaskResult run_task(const Task& task, std::size_t index, int worker);

}  // namespace cbench
