#include "benchmarks/counts.hpp"

#include <sys/resource.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "executors/counting.hpp"
#include "executors/process.hpp"

namespace cbench::bench {
namespace {

// A worker process's faults (/proc/PID/stat fields 10 and 12) and switches (/proc/PID/status).
// A worker that has gone adds nothing.
void add_process(pid_t pid, Usage& usage) {
  const std::vector<std::string> fields = proc_stat_fields(pid);
  if (fields.size() > 9) {
    usage.minor_faults += std::stod(fields[10 - 3]);
    usage.major_faults += std::stod(fields[12 - 3]);
  }
  std::string line;
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  while (std::getline(status, line)) {
    if (line.starts_with("voluntary_ctxt_switches:")) {
      usage.voluntary_switches += std::stod(line.substr(24));
    } else if (line.starts_with("nonvoluntary_ctxt_switches:")) {
      usage.involuntary_switches += std::stod(line.substr(27));
    }
  }
}

}  // namespace

std::vector<pid_t> worker_pids_of(const Executor* executor) {
  return executor != nullptr ? executor->worker_pids() : std::vector<pid_t>{};
}

void count_begin(const Executor* executor) {
  if (!counting::under_valgrind()) return;
  counting::begin_region(worker_pids_of(executor));
}

void count_end(benchmark::State& state, const Executor* executor, double tasks) {
  if (!counting::under_valgrind()) return;
  static int regions = 0;
  ++regions;
  counting::end_region(std::to_string(regions), worker_pids_of(executor));
  state.counters["count_region"] = regions;
  state.counters["count_tasks"] = tasks;
}

void count_prime() {
  if (!counting::under_valgrind()) return;
  counting::begin_region({});
  counting::end_region("prime", {});
}

Usage usage_now(std::span<const pid_t> workers) {
  Usage usage;
  struct rusage self {};
  if (::getrusage(RUSAGE_SELF, &self) == 0) {
    usage.voluntary_switches = static_cast<double>(self.ru_nvcsw);
    usage.involuntary_switches = static_cast<double>(self.ru_nivcsw);
    usage.minor_faults = static_cast<double>(self.ru_minflt);
    usage.major_faults = static_cast<double>(self.ru_majflt);
  }
  for (pid_t pid : workers) add_process(pid, usage);
  return usage;
}

void set_usage_counters(benchmark::State& state, const Usage& before, const Usage& after,
                        double tasks) {
  if (tasks <= 0) return;
  state.counters["voluntary_switches_per_task"] =
      (after.voluntary_switches - before.voluntary_switches) / tasks;
  state.counters["involuntary_switches_per_task"] =
      (after.involuntary_switches - before.involuntary_switches) / tasks;
  state.counters["page_faults_per_task"] =
      (after.minor_faults + after.major_faults - before.minor_faults - before.major_faults) / tasks;
}

}  // namespace cbench::bench
