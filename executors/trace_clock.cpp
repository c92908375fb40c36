#include "executors/trace_clock.hpp"

#include <atomic>
#include <fstream>
#include <string>

namespace cbench {
namespace {

// The kernel keeps CLOCK_MONOTONIC with the counter only when it found it invariant and in step
// across CPUs; otherwise this clock must not use it either.
bool kernel_uses_tsc() {
#if defined(__x86_64__)
  std::ifstream in("/sys/devices/system/clocksource/clocksource0/current_clocksource");
  std::string source;
  return in >> source && source == "tsc";
#else
  return false;
#endif
}

struct Calibration {
  bool usable = kernel_uses_tsc();
  Clock::time_point first = Clock::now();
#if defined(__x86_64__)
  std::uint64_t first_ticks = usable ? __rdtsc() : 0;
#else
  std::uint64_t first_ticks = 0;
#endif
};

constexpr auto kBaseline = std::chrono::milliseconds(5);

}  // namespace

TraceClock TraceClock::start() {
  static const Calibration calibration;
  TraceClock clock;
  clock.base_ = Clock::now();
#if defined(__x86_64__)
  if (!calibration.usable) return clock;
  clock.ticks_at_base_ = __rdtsc();
  const auto elapsed = clock.base_ - calibration.first;
  const auto ticks = static_cast<std::int64_t>(clock.ticks_at_base_ - calibration.first_ticks);
  if (elapsed >= kBaseline && ticks > 0) {
    clock.ns_per_tick_ =
        static_cast<double>(std::chrono::nanoseconds(elapsed).count()) / static_cast<double>(ticks);
  }
#endif
  return clock;
}

}  // namespace cbench
