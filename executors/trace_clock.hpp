// The clock of the per-task trace (TaskResult::start and end): a Clock::time_point read from the
// CPU's time-stamp counter where the kernel keeps its own time with that counter, instead of a
// clock_gettime call. On this project's machines a steady_clock::now() costs about 30 ns and a
// counter read about 12 ns; two of them per task were half of what the sequential executor spent
// per empty task (docs/design.md, "What the interface costs").
//
// A run anchors a clock at its start (one steady_clock read and one counter read) and every task
// of the run is timed from that anchor, so a task's times are steady_clock times of the run, off
// by at most the rate's error times the run's length. The rate is measured, not assumed: it is
// the ticks and the steady_clock time elapsed since the process's first anchor, refined at every
// anchor; until 5 ms have passed, and wherever the kernel does not use the counter (the
// clocksource is not "tsc", or the CPU is not x86-64), the clock is steady_clock itself.
// Internal to the executors library.
#pragma once

#include <cstdint>

#include "executors/executor.hpp"

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

namespace cbench {

class TraceClock {
 public:
  // A clock anchored now.
  static TraceClock start();

  Clock::time_point now() const {
#if defined(__x86_64__)
    if (ns_per_tick_ > 0) {
      const auto ticks = static_cast<std::int64_t>(__rdtsc() - ticks_at_base_);
      return base_ + std::chrono::nanoseconds(
                         static_cast<std::int64_t>(static_cast<double>(ticks) * ns_per_tick_));
    }
#endif
    return Clock::now();
  }

  // Whether this clock reads the counter (false: steady_clock).
  bool counts_ticks() const {
    return ns_per_tick_ > 0;
  }

 private:
  Clock::time_point base_{};
  std::uint64_t ticks_at_base_ = 0;
  double ns_per_tick_ = 0;
};

}  // namespace cbench
