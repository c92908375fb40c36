// The counted lens's hooks (docs/counted.md): under Valgrind's callgrind, a counted run
// (cbench_bench --cbench_count, driven by `scripts/report count`) collects the instructions of
// each case's measured region only. The region's start zeroes this process's counts and asks every
// worker process of the case to zero its own (a signal, whose handler each fork worker installs);
// its end writes this process's counts as a dump named after the case and its worker processes,
// whose own counts are written when they exit. Outside Valgrind, or in a build without Valgrind's
// headers, every call does nothing.
#pragma once

#include <sys/types.h>

#include <span>
#include <string>

namespace cbench::counting {

// Whether this process runs under Valgrind (and the build has its client requests).
bool under_valgrind();

// The start of a measured region: this process's counts zeroed, and each worker asked to zero
// its own (SIGUSR2, before any task of the region reaches it).
void begin_region(std::span<const pid_t> workers);

// The end of one: this process's counts written as a dump labelled
// "cbench-count|REGION|PID,PID" (the case's worker processes); REGION is the label the case
// gives (the benchmark records it as its count_region counter, which ties the dump to its row).
void end_region(const std::string& region, std::span<const pid_t> workers);

// In a worker process: zero its counts when the caller's region begins (a no-op outside Valgrind).
void install_worker_reset();

}  // namespace cbench::counting
