// The benchmark suite's shared parts: the options (our --cbench_* flags), the one worker grid
// every executor is swept over, the one body every experiment runs in, and the measurements
// each row reports. Each experiment's file (count.cpp, pbkdf2.cpp, ...) only says which sizes it
// runs at in each preset; nothing else is written per experiment or per executor.
#pragma once

#include <benchmark/benchmark.h>

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "executors/run_task.hpp"  // process_cpu_seconds
#include "experiments/experiment.hpp"

namespace cbench::bench {

enum class Preset { quick, standard, seed, full };
std::string_view to_string(Preset preset);

struct SuiteOptions {
  Preset preset = Preset::standard;
  std::vector<int> workers;                 // the grid (--cbench_workers), per preset by default
  std::vector<std::string> workloads;       // --cbench_workloads (empty: all)
  std::vector<std::string> executors;       // --cbench_executors (empty: all)
  std::optional<std::filesystem::path> fixtures;  // --cbench_fixtures
  std::string http_profile;                 // --cbench_profile
  std::vector<int> cpus;                    // --cbench_cpus (empty: every core)
  std::filesystem::path trace;              // --cbench_trace (empty: beside --benchmark_out)
  bool smoke = false;                       // --cbench_smoke: tiny sizes, for ctest
  int cores = 1;                            // cores this run may use
  double min_time = 0;                      // seconds per case; 0: Google Benchmark's default
  int repetitions = 0;                      // 0: Google Benchmark's default (1)
};

// Parses and removes our flags from argv (Google Benchmark parses its own after). Throws
// std::invalid_argument naming a bad value; unknown --cbench_ flags are errors too.
SuiteOptions parse_suite_flags(int& argc, char** argv);

// The options of this run, once parsed.
const SuiteOptions& suite();
void set_suite(SuiteOptions options);

// "1:16:*2" -> 1 2 4 8 16; "1:4" -> 1 2 3 4; "2,3,8" -> 2 3 8 (oneTBB's range syntax).
std::vector<int> parse_worker_range(std::string_view text);

// What an experiment's file says about it.
struct ExperimentPlan {
  ExperimentOptions options;   // sizes for this preset
  bool bytes_counter = false;  // report bytes/s: the work grows with the input's bytes
  bool cold_cache = false;     // also a row that drops the books from the page cache first
};
using PlanFn = ExperimentPlan (*)(const SuiteOptions&);

// The value for this run's preset: the experiments' files state their sizes with it.
struct PresetValues {
  long smoke, quick, standard, seed, full;
};
inline long by_preset(const SuiteOptions& o, PresetValues v) {
  if (o.smoke) return v.smoke;
  switch (o.preset) {
    case Preset::quick: return v.quick;
    case Preset::standard: return v.standard;
    case Preset::seed: return v.seed;
    case Preset::full: return v.full;
  }
  return v.standard;
}

// The plan of an experiment whose work grows with its input's bytes and that has no size to set
// (wordcount, wordfreq, ...): bytes/s reported, nothing else.
inline ExperimentPlan bytes_plan(const SuiteOptions&) {
  ExperimentPlan p;
  p.bytes_counter = true;
  return p;
}

// Called by each experiment's file during static initialisation.
bool add_experiment(std::string_view workload, PlanFn plan);

// Registers every experiment x executor x mode x worker count that the options select.
// Returns how many cases it registered. books_url is asked for the books' address when the first
// case of a downloading experiment is prepared, and not at all when the filters leave them out.
int register_experiments(const Corpus& corpus, const std::function<std::string()>& books_url);

// Overhead and granularity cases (overhead.cpp, granularity.cpp).
int register_overheads();
int register_granularity();

// Whether --cbench_executors keeps this executor (all are kept when it is not given).
bool wanted_executor(std::string_view name);

// The worker counts an executor runs at in the grid: none when --cbench_executors leaves it out,
// 1 for the sequential reference, and for the mpi executor only under mpirun, up to the engines
// it started (executors/mpi.hpp).
std::vector<int> grid_workers(const ExecutorInfo& info);

// Whether a registered name survives --benchmark_filter, so that nothing is prepared for a case
// that will not run.
bool selected(const std::string& name);

// Context recorded with the run (AddCustomContext) by the cases as they are prepared.
void add_context(const std::string& key, const std::string& value);

// One per-task trace, written beside the JSON at the end (results.trace.json).
struct TraceTask {
  std::string task;
  int worker = 0;
  double start = 0, end = 0;  // seconds from the start of the run
};
void record_trace(const std::string& case_name, std::vector<TraceTask> tasks);
void write_trace(const std::filesystem::path& path);

// /proc/stat: CPU time stolen by the hypervisor, as a share of all CPU time between two reads.
struct CpuTimes {
  unsigned long long steal = 0, total = 0;
};
CpuTimes read_cpu_times();
double steal_fraction(const CpuTimes& before, const CpuTimes& after);

// Proportional set size of a process, from /proc/PID/smaps_rollup (resident size would count a
// copy-on-write page once per process that maps it).
std::size_t pss_bytes(pid_t pid);

}  // namespace cbench::bench
