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

// A steady_clock reading and the counter at the same moment: the counter read on both sides of
// the clock's, their midpoint kept, and read again while the two are far apart (an interrupt
// between them would shift every time of a run).
struct Anchor {
  Clock::time_point time{};
  std::uint64_t ticks = 0;
};

Anchor read_anchor(bool usable) {
  Anchor anchor;
#if defined(__x86_64__)
  if (usable) {
    for (int attempt = 0; attempt < 8; ++attempt) {
      const std::uint64_t before = __rdtsc();
      anchor.time = Clock::now();
      const std::uint64_t after = __rdtsc();
      anchor.ticks = before + (after - before) / 2;
      if (after - before < 20'000) break;  // a few µs: no interrupt in between
    }
    return anchor;
  }
#endif
  anchor.time = Clock::now();
  return anchor;
}

struct Calibration {
  bool usable = kernel_uses_tsc();
  Anchor first = read_anchor(usable);
};

constexpr auto kBaseline = std::chrono::milliseconds(5);

}  // namespace

TraceClock TraceClock::start() {
  static const Calibration calibration;
  TraceClock clock;
  const Anchor now = read_anchor(calibration.usable);
  clock.base_ = now.time;
#if defined(__x86_64__)
  if (!calibration.usable) return clock;
  clock.ticks_at_base_ = now.ticks;
  const auto elapsed = clock.base_ - calibration.first.time;
  const auto ticks = static_cast<std::int64_t>(clock.ticks_at_base_ - calibration.first.ticks);
  if (elapsed >= kBaseline && ticks > 0) {
    clock.ns_per_tick_ =
        static_cast<double>(std::chrono::nanoseconds(elapsed).count()) / static_cast<double>(ticks);
  }
#endif
  return clock;
}

}  // namespace cbench
