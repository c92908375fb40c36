// What a case counts besides its time (docs/counted.md):
//   - the counted lens: under Valgrind's callgrind (scripts/report count), the instructions of each
//     case's measured run, marked by count_begin and count_end;
//   - the structural counts of every row of the main grid: context switches and page faults per
//     task, from getrusage for this process and /proc for its worker processes.
#pragma once

#include <benchmark/benchmark.h>
#include <sys/types.h>

#include <span>
#include <vector>

#include "executors/executor.hpp"

namespace cbench::bench {

// The executor's worker processes (none for a null executor, or one without processes).
std::vector<pid_t> worker_pids_of(const Executor* executor);

// The measured region of one run in a counted run (executors/counting.hpp): count_begin before
// the run, count_end after it, with the executor whose worker processes take part (null: none, or
// none yet) and the tasks the run ran. Outside Valgrind both do nothing; under it, count_end
// numbers the region and records the number and the tasks as the row's count_region and
// count_tasks counters, which scripts/report count replaces with the instructions.
void count_begin(const Executor* executor);
void count_end(benchmark::State& state, const Executor* executor, double tasks);
// An empty region before the first case, whose dump the counts leave out.
void count_prime();

// Context switches and page faults of this process (every thread, getrusage) and of the given
// worker processes (/proc/PID/stat and status; a worker process runs one thread).
struct Usage {
  double voluntary_switches = 0, involuntary_switches = 0, minor_faults = 0, major_faults = 0;
};
Usage usage_now(std::span<const pid_t> workers);

// The counters voluntary_switches_per_task, involuntary_switches_per_task and
// page_faults_per_task (minor and major) between two readings, over `tasks` tasks.
void set_usage_counters(benchmark::State& state, const Usage& before, const Usage& after,
                        double tasks);

}  // namespace cbench::bench
