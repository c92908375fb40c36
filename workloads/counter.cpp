#include "workloads/counter.hpp"

#include <stdexcept>
#include <string>
#include <thread>

namespace cbench {

void check_count_arguments(long start, long end, std::chrono::nanoseconds interval) {
  if (end < start) {
    throw std::invalid_argument("cannot count from " + std::to_string(start) + " up to " +
                                std::to_string(end));
  }
  if (interval < std::chrono::nanoseconds::zero()) {
    throw std::invalid_argument("the counting interval cannot be negative");
  }
}

std::vector<long> count(long start, long end, std::chrono::nanoseconds interval,
                        const NumberSink& emit) {
  check_count_arguments(start, end, interval);
  std::vector<long> emitted;
  emitted.reserve(static_cast<std::size_t>(end - start));
  for (long i = start; i < end; ++i) {
    if (emit) emit(i);
    emitted.push_back(i);
    std::this_thread::sleep_for(interval);
  }
  return emitted;
}

}  // namespace cbench
