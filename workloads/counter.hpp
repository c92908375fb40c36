// E1: the sleeping counter. A worker counts 1..10 while the main thread counts 11..20, each
// sleeping between numbers; the numbers go to a sink so that the CLI prints them and the
// benchmarks discard them (terminal output is never timed).
#pragma once

#include <chrono>
#include <functional>
#include <vector>

namespace cbench {

using NumberSink = std::function<void(long)>;

// Throws std::invalid_argument when end < start or interval < 0.
void check_count_arguments(long start, long end, std::chrono::nanoseconds interval);

// Emits start, start+1, ..., end-1, sleeping `interval` after each; returns what it emitted.
// end < start is std::invalid_argument; a negative interval too.
std::vector<long> count(long start, long end, std::chrono::nanoseconds interval,
                        const NumberSink& emit = {});

}  // namespace cbench
