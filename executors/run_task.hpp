// Runs one task where the caller stands and records what every executor reports about it: the
// value or the error, the worker, CPU time and wall-clock span. Shared by every executor so that
// all of them measure a task the same way.
#pragma once

#include <exception>
#include <string>

#include "executors/executor.hpp"
#include "executors/trace_clock.hpp"

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

// What an exception from a task (not null) becomes as the task's error: its what(), or "task
// failed" when that is empty, or "task threw a non-standard exception" for anything not derived
// from std::exception. Every executor, in process or not, words a failure this way.
std::string task_error(std::exception_ptr error);

// A ForkJoin::run on a runtime's threads (executors/fork_join.hpp): `start` calls the body it is
// given once, on one of them, and returns when the tree has ended; the body runs the root with
// `spawner`. An exception from the tree is caught there and thrown here, on the caller, as the
// root's TaskError.
template <typename Start>
Bytes run_root_on(const Task& root, Spawner& spawner, Start&& start) {
  Bytes result;
  std::exception_ptr error;
  start([&] {
    try {
      result = run_nested_root(root, spawner);
    } catch (...) {
      error = std::current_exception();
    }
  });
  if (error) throw TaskError(root.name, task_error(error));
  return result;
}

// Never throws: an exception from the task becomes the result's error (task_error). cpu_seconds is
// 0 when per-task CPU timing is off. The task's span is timed with the run's clock: it starts at
// `start`, a time the caller has just read (the end of the task before it on the same worker, when
// nothing ran in between, so that back-to-back tasks cost one clock read each), and ends when the
// clock is read after it.
TaskResult run_task(const Task& task, std::size_t index, int worker, const TraceClock& clock,
                    Clock::time_point start);

inline TaskResult run_task(const Task& task, std::size_t index, int worker,
                           const TraceClock& clock) {
  return run_task(task, index, worker, clock, clock.now());
}

// With a clock of its own: for a task run on its own, outside any executor's run.
inline TaskResult run_task(const Task& task, std::size_t index, int worker) {
  return run_task(task, index, worker, TraceClock::start());
}

}  // namespace cbench
