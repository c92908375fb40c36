// The benchmark suite's shared parts: the options (our --cbench_* flags), the one worker grid
// every executor is swept over, the one body every experiment runs in, and the measurements
// each row reports. Nothing is written here per experiment or per executor: the grid is built
// from the registries (experiments/experiment.hpp, executors/executor.hpp), their sizes per
// preset from each experiment's options, its rows from each executor's traits. The options of a
// run are a value, passed from main to every case.
#pragma once

#include <benchmark/benchmark.h>

#include <filesystem>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "benchmarks/counts.hpp"
#include "executors/run_task.hpp"  // process_cpu_seconds
#include "experiments/experiment.hpp"
#include "workloads/enum_names.hpp"

namespace cbench::bench {

// The whole suite, as cbench_bench runs it: call from main, first thing (it starts the fork server
// and, under mpirun, turns ranks other than 0 into engines). A program of its own with experiments
// or task kinds registered during static initialisation gets them in the grid, verified against
// the sequential reference, in the same JSON (docs/design.md, "cbench as a package"). Returns the
// exit status: 0, 1 when the set-up failed, 2 for a mistake on the command line.
int run_suite(int argc, char** argv);

enum class Preset { quick, standard, seed, full };
inline constexpr EnumNames<Preset, 4> kPresetNames{{{Preset::quick, "quick"},
                                                    {Preset::standard, "standard"},
                                                    {Preset::seed, "seed"},
                                                    {Preset::full, "full"}}};

// The seed of the generated corpus, for the run and for its scaled copies (--cbench_scale).
inline constexpr std::uint64_t kCorpusSeed = 2016;
std::string_view to_string(Preset preset);

struct SuiteOptions {
  Preset preset = Preset::standard;
  std::vector<int> workers;            // the grid (--cbench_workers), per preset by default
  std::vector<std::string> workloads;  // --cbench_workloads (empty: all)
  std::vector<std::string> executors;  // --cbench_executors (empty: all)
  std::optional<std::filesystem::path> fixtures;  // --cbench_fixtures
  std::string http_profile;                       // --cbench_profile
  std::vector<int> cpus;                          // --cbench_cpus (empty: every core)
  std::filesystem::path trace;                    // --cbench_trace (empty: beside --benchmark_out)
  std::filesystem::path journal;    // --cbench_journal (empty: beside --benchmark_out, journal.hpp)
  std::filesystem::path resume;     // --cbench_resume: the journal of the run this one completes
  std::set<std::string> finished;   // the cases that journal already holds: not registered again
  std::set<std::string> remeasure;  // --cbench_remeasure FILE: cases it holds, measured again
  double host_limit = 0;    // --cbench_host_limit: a disturbed case's probe ratio (0: calibrated)
  std::vector<int> scales;  // --cbench_scale: the cost-against-work sweep's scales (empty: none)
  bool smoke = false;       // --cbench_smoke: tiny sizes, for ctest
  bool count = false;       // --cbench_count: one measured run per case, for callgrind (counted.md)
  bool plan = false;        // --cbench_plan: print what the plan of a run needs, run nothing
  int cores = 1;            // cores this run may use
  double min_time = 0;      // seconds per case; 0: Google Benchmark's default
  int repetitions = 0;      // 0: Google Benchmark's default (1)
};

// Parses and removes our flags from argv (Google Benchmark parses its own after). Throws
// std::invalid_argument naming a bad value; unknown --cbench_ flags are errors too.
SuiteOptions parse_suite_flags(int& argc, char** argv);

// "1:16:*2" -> 1 2 4 8 16; "1:4" -> 1 2 3 4; "2,3,8" -> 2 3 8 (oneTBB's range syntax).
std::vector<int> parse_worker_range(std::string_view text);
// first, first+step, ... (or first, first*step, ... when `multiply`) up to last: the range the
// text names, and the full preset's 1..4·cores doubling, as numbers from start to end.
std::vector<int> worker_range(int first, int last, int step, bool multiply);

// The member of PresetValues for this run's preset: the experiments state their benchmark sizes
// per preset in their options (OptionSpec::bench).
double PresetValues::*preset_member(const SuiteOptions& o);

// Registers every experiment x executor x mode x worker count that the options select.
// Returns how many cases it registered. books_url is asked for the books' address when the first
// case of a downloading experiment is prepared, and not at all when the filters leave them out.
int register_experiments(const SuiteOptions& o, const Corpus& corpus,
                         const std::function<std::string()>& books_url);

// Overhead and granularity cases (overhead.cpp, granularity.cpp).
int register_overheads(const SuiteOptions& o);
int register_granularity(const SuiteOptions& o);
// The runtimes' own fib beside the fib experiment (native_fib.cpp).
int register_native_fib(const SuiteOptions& o);

// How long a case runs: one measured run in a counted run (--cbench_count); otherwise the preset's
// minimum time and, with `repeat`, its repetitions (Google Benchmark's flags win over both).
void set_run_length(benchmark::internal::Benchmark* b, const SuiteOptions& o, bool repeat);

// What the plan of a run (scripts/report plan) needs to know of a family that its rows' times
// do not show: the time each iteration spends outside the timing (overhead:wake sleeps 2 ms before
// each run). --cbench_plan prints one line per family noted, `unmeasured FAMILY SECONDS`.
void note_unmeasured(const std::string& family, double seconds_per_iteration);
void print_plan_notes();

// Whether --cbench_executors keeps this executor (all are kept when it is not given).
bool wanted_executor(const SuiteOptions& o, std::string_view name);

// The worker counts an executor runs at in the grid: none when --cbench_executors leaves it out,
// else those the worker count's rule offers it here (executors/executor.hpp, offered_workers).
std::vector<int> grid_workers(const SuiteOptions& o, const ExecutorInfo& info);

// Whether a case survives --benchmark_filter and is not one the resumed run already finished
// (--cbench_resume), so that nothing is prepared for a case that will not run.
bool selected(const SuiteOptions& o, const std::string& name);

// A family of cases: one Google Benchmark benchmark whose argument takes several values, each
// value a case `NAME/ARG:VALUE`.
struct Family {
  std::string name;  // pbkdf2/executor:pool/mode:map
  const char* arg = "workers";
  std::vector<int> values;  // the grid's, before --benchmark_filter and --cbench_resume
  benchmark::TimeUnit unit = benchmark::kMillisecond;
  bool repeat = true;  // the preset's repetitions apply (set_run_length)
  int iterations = 0;  // a fixed count (not in a counted run), or 0: the preset's time
};
using CaseBody = std::function<void(benchmark::State&)>;

// The one way every family is registered: the values selected() keeps, and when any is, the
// benchmark `body()` returns (called only then, so that nothing is prepared for a family that
// will not run), timed as wall time with the whole process's CPU time, run as long as the preset
// says. Returns how many cases it registered.
int register_family(const SuiteOptions& o, const Family& family,
                    const std::function<CaseBody()>& body);

// Whether a native floor's run ran every task with the expected result; otherwise the case is
// skipped with an error saying how many did not.
bool check_floor_run(benchmark::State& state, const FloorCount& count, std::size_t tasks);

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

// The host's CPU clock ticks (/proc/stat): stolen, all, and busy (user, nice, system and stolen:
// the work of processes and of the hypervisor; interrupts left out, since a case's own network
// and disk work is counted there and not in its processes' times).
struct CpuTimes {
  unsigned long long steal = 0, total = 0, busy = 0;
};
CpuTimes read_cpu_times();
// CPU time stolen by the hypervisor, as a share of all CPU time between two reads.
double steal_fraction(const CpuTimes& before, const CpuTimes& after);

// Proportional set size of a process, from /proc/PID/smaps_rollup (resident size would count a
// copy-on-write page once per process that maps it).
std::size_t pss_bytes(pid_t pid);

}  // namespace cbench::bench
