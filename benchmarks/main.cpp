// cbench_bench: the benchmark suite's entry point, run_suite (suite.hpp), which a program of
// its own calls from its main (bench_main.cpp is cbench_bench's, and any program's that links
// cbench::bench_main).
//
//   cbench_bench [--cbench_preset=quick|standard|seed|full] [--cbench_workers=1:16:*2]
//                [--cbench_workloads=a,b] [--cbench_executors=a,b] [--cbench_fixtures=DIR]
//                [--cbench_profile=P] [--cbench_cpus=0,1] [--cbench_trace=FILE]
//                [--cbench_journal=FILE] [--cbench_resume=JOURNAL [--cbench_remeasure=FILE]]
//                [--cbench_scale=1,4,16] [--cbench_smoke] [--cbench_count] [--cbench_plan]
//                [--cbench_host_limit=X|off]
//                [Google Benchmark's flags: --benchmark_filter, --benchmark_out, ...]
//
// Order matters: the fork server is started before anything else (before any thread exists, so
// that its workers never inherit a lock held by a thread that is not there), then our flags are
// read (with --cbench_cpus pinning the process first), then Google Benchmark's; an unknown flag
// of either kind is an error.
#include <malloc.h>

#include <curl/curl.h>
#include <oneapi/tbb/version.h>
#include <openssl/crypto.h>
#include <Eigen/Core>
#include <asio/version.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>
#include <thread>

#include "benchmarks/host_watch.hpp"
#include "benchmarks/journal.hpp"
#include "benchmarks/suite.hpp"
#include "executors/process.hpp"
#include "executors/run_task.hpp"
#include "experiments/build_info.hpp"
#include "fixtures/server_process.hpp"
#include "workloads/eigenvalue.hpp"

namespace cbench::bench {
namespace {

// Google Benchmark's console output, plus a line on standard error after each case: how many
// are done, and an estimate of the time left from the average so far.
class ProgressReporter : public benchmark::ConsoleReporter {
 public:
  explicit ProgressReporter(int total) : total_(total), start_(std::chrono::steady_clock::now()) {}

  void ReportRuns(const std::vector<Run>& reported) override {
    std::vector<Run> reports = reported;
    annotate_runs(reports);  // the host's speed around the case (host_watch.hpp)
    ConsoleReporter::ReportRuns(reports);
    for (const auto& run : reports) {
      if (run.run_type != Run::RT_Iteration || run.repetition_index + 1 < run.repetitions) continue;
      ++done_;
      const double elapsed =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
      const double left = done_ < total_ ? elapsed / done_ * (total_ - done_) : 0;
      std::fprintf(stderr, "[%d/%d] %s — about %.0f s left\n", done_, total_,
                   run.benchmark_name().c_str(), left);
    }
  }

 private:
  int total_, done_ = 0;
  std::chrono::steady_clock::time_point start_;
};

// The cbench CLI, whose `serve` subcommand is the fixture server: CBENCH_CLI when set, else the
// one built beside this binary, else the one this library was built with, else the installed one
// (a program of its own, linked against the installed package).
std::filesystem::path cli_path() {
  if (const char* env = std::getenv("CBENCH_CLI"); env != nullptr && *env != '\0') return env;
  auto beside = current_executable().parent_path().parent_path() / "cli" / "cbench";
  if (std::filesystem::exists(beside)) return beside;
  if (std::filesystem::exists(CBENCH_CLI_PATH)) return CBENCH_CLI_PATH;
  return CBENCH_INSTALLED_CLI_PATH;
}

std::string read_first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

void add_machine_context(const SuiteOptions& o, const Corpus& corpus) {
  const auto& b = build_info();
  // The results format's version (docs/results-format.md): 2 added the counted lens's and the
  // structural counters; a run without the key is version 1.
  add_context("cbench_results_format", "2");
  add_context("cbench_version", std::string(b.version));
  add_context("cbench_commit", std::string(b.commit));
  add_context("cbench_compiler", std::string(b.compiler));
  add_context("cbench_flags", std::string(b.flags));
  add_context("cbench_native", b.native ? "true" : "false");
  add_context("cbench_sanitizers", std::string(b.sanitizers));
  add_context("cbench_word_scan_kernel", std::string(word_scan_kernel()));
  add_context("cbench_eigen_solver", eigen_solver());
  add_context("cbench_preset", std::string(to_string(o.preset)));
  add_context("cbench_corpus", std::string(to_string(corpus.kind)));
  add_context("cbench_corpus_origin", corpus.origin);
  add_context("cbench_corpus_checksum", corpus.checksum);
  add_context("cbench_http_profile", o.http_profile);
  add_context("cbench_cores", std::to_string(o.cores));
  std::string workers;
  for (int w : o.workers) workers += (workers.empty() ? "" : ",") + std::to_string(w);
  add_context("cbench_workers", workers);
  const std::string siblings =
      read_first_line("/sys/devices/system/cpu/cpu0/topology/thread_siblings_list");
  const bool smt = siblings.find_first_of(",-") != std::string::npos;
  add_context("cbench_smt", smt ? "on (cpu0 shares its core with " + siblings + ")"
                                : "off (one thread per core)");
  // A loaded machine is flagged: its numbers are not comparable with a quiet one's.
  double load = 0;
  std::ifstream("/proc/loadavg") >> load;
  add_context("cbench_loadavg_before", std::to_string(load));
  add_context("cbench_loaded", load > 0.5 * o.cores ? "true" : "false");
  const auto* curl = curl_version_info(CURLVERSION_NOW);
  add_context("cbench_versions",
              std::string("Google Benchmark ") + CBENCH_BENCHMARK_VERSION + ", oneTBB " +
                  TBB_VERSION_STRING + ", " + OpenSSL_version(OPENSSL_VERSION) + ", libcurl " +
                  curl->version + ", Eigen " + std::to_string(EIGEN_WORLD_VERSION) + "." +
                  std::to_string(EIGEN_MAJOR_VERSION) + "." + std::to_string(EIGEN_MINOR_VERSION) +
                  ", Asio " + std::to_string(ASIO_VERSION / 100000) + "." +
                  std::to_string(ASIO_VERSION / 100 % 1000) + "." +
                  std::to_string(ASIO_VERSION % 100));
  // The registry, for the report to read roles rather than names
  // (scripts/cbench_report/registry.py).
  std::string registered, floors;
  for (const ExecutorInfo* e : executors()) {
    registered += (registered.empty() ? "" : ",") + std::string(e->name) + ":" +
                  std::string(to_string(e->traits.workers));
    if (e->native_floor != nullptr) {
      floors += (floors.empty() ? "" : ",") + std::string(e->native_floor_name) + ":" +
                std::string(e->name);
    }
  }
  add_context("cbench_executors", registered);
  add_context("cbench_native_floors", floors);
  // The executor that needs a launcher (mpi), and whether one started this run.
  const ExecutorInfo* launched = nullptr;
  for (const ExecutorInfo* e : executors()) {
    if (e->traits.needs_launcher && launched == nullptr) launched = e;
  }
  add_context("cbench_mpi",
              launched == nullptr ? "not in this build"
              : launched->offered()
                  ? std::to_string(launched->launcher_workers()) + " engines under mpirun"
                  : "off (not under mpirun: the " + std::string(launched->name) +
                        " executor is not in the grid)");
}

// The journal of a run this one completes: its cases are not run again, and it must have been
// measured by this build, at this preset, on this corpus (what the report compares).
void resume_from(SuiteOptions& o, const Corpus& corpus) {
  const JournalContents journal = read_journal(o.resume);
  const std::pair<const char*, std::string> ours[] = {
      {"cbench_commit", std::string(build_info().commit)},
      {"cbench_preset", std::string(to_string(o.preset))},
      {"cbench_corpus_checksum", corpus.checksum}};
  for (const auto& [key, value] : ours) {
    const auto it = journal.context.find(key);
    if (it == journal.context.end() || it->second != value) {
      throw std::invalid_argument("cannot resume " + o.resume.string() + ": its " + key + " is \"" +
                                  (it == journal.context.end() ? "" : it->second) +
                                  "\", this run's is \"" + value + "\"");
    }
  }
  o.finished = journal.finished;
  // Cases measured while the host was slow, which scripts/bench measures again (host_watch.hpp).
  for (const auto& name : o.remeasure) o.finished.erase(name);
  std::fprintf(stderr, "cbench_bench: resuming %s: %zu of %d cases already measured\n",
               o.resume.c_str(), journal.finished.size(), journal.cases);
}

// Where the run cannot go on: the line it prints after "cbench_bench: " (none when Google
// Benchmark has said why) and the exit status.
struct Stop {
  int status;
  std::string message;
};

// First of all, while the process has one thread: signals as a shell's background job needs
// them, the allocator's thresholds, and what the executors start with the process.
void start_process(int& argc, char**& argv) {
  // A background job of a shell script starts with SIGINT ignored; scripts/bench forwards the
  // user's Ctrl-C to it, which must then end the run (the journal holds every finished case).
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  // Keep freed memory in the heap instead of returning it to the kernel: otherwise each run's
  // result vectors (a megabyte for 10,000 tasks) are mapped, faulted in and trimmed again on
  // every iteration, and the first case measured pays for the allocator, not for its executor.
  // First of all, so that the fork server's workers and the mpi engines inherit or share the same
  // setting: a worker that maps and unmaps each 300 KB matrix would lose to the caller for it.
  mallopt(M_MMAP_THRESHOLD, 256 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
  // What the executors start with the process: the fork server, and under mpirun the engines,
  // which never return from here (executors/executor.hpp, start_processes).
  try {
    start_processes(argc, argv);
  } catch (const std::exception& e) {
    throw Stop{1, std::string("error: ") + e.what()};
  }
}

// What Google Benchmark's own flags say about the output.
struct Output {
  std::string path;     // --benchmark_out
  bool json = true;     // --benchmark_out_format is JSON
  bool console = true;  // the progress lines ride on the console reporter only
};

// Our flags, then Google Benchmark's (which, when given, win over the preset's run length).
SuiteOptions read_flags(int& argc, char** argv, Output& out) {
  SuiteOptions options;
  try {
    options = parse_suite_flags(argc, argv);
  } catch (const std::exception& e) {
    throw Stop{2, std::string("error: ") + e.what()};
  }
  // The process CPU clock counts the threads' work; a per-task thread clock would cost more than
  // the dispatch being measured (executors/run_task.hpp).
  set_task_cpu_timing(false);
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg.starts_with("--benchmark_out=")) out.path = std::string(arg.substr(16));
    if (arg.starts_with("--benchmark_out_format=") && arg != "--benchmark_out_format=json")
      out.json = false;
    if (arg.starts_with("--benchmark_format=") && arg != "--benchmark_format=console")
      out.console = false;
    if (arg.starts_with("--benchmark_min_time=")) options.min_time = 0;
    if (arg.starts_with("--benchmark_repetitions=")) options.repetitions = 0;
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) throw Stop{2, ""};
  if (!options.remeasure.empty() && options.resume.empty()) {
    throw Stop{2,
               "error: --cbench_remeasure needs --cbench_resume (the journal whose cases it "
               "measures again)"};
  }
  return options;
}

// The corpus, the run's context, and the journal this run completes (resume_from).
Corpus prepare_corpus(SuiteOptions& options) {
  Corpus corpus;
  try {
    corpus = load_corpus({options.fixtures, kCorpusSeed});
  } catch (const std::exception& e) {
    throw Stop{1, std::string("error: ") + e.what()};
  }
  std::fprintf(stderr, "cbench_bench: preset %s, corpus %s, %d cores\n",
               std::string(to_string(options.preset)).c_str(), corpus.describe().c_str(),
               options.cores);
  add_machine_context(options, corpus);
  if (!options.resume.empty()) {
    try {
      resume_from(options, corpus);
    } catch (const std::invalid_argument& e) {
      throw Stop{2, std::string("error: ") + e.what()};
    } catch (const std::exception& e) {
      throw Stop{1, std::string("error: ") + e.what()};
    }
  }
  return corpus;
}

// wordcount-http reads from the fixture server, in a process of its own (`cbench serve`),
// started after the fork server so that no worker inherits its pipes, when the first of its
// cases is prepared (never when the filters leave them all out), and stopped at the end.
class FixtureServer {
 public:
  explicit FixtureServer(const SuiteOptions& options) : options_(options) {}

  std::string books_url() {
    if (!server_) {
      try {
        start_fixture_server(server_, cli_path(),
                             {.profile = options_.http_profile, .fixtures = options_.fixtures});
      } catch (const std::exception& e) {
        throw std::runtime_error(std::string("cannot start the fixture server: ") + e.what());
      }
      std::fprintf(stderr, "cbench_bench: %s\n", server_->ready_line().c_str());
    }
    return server_->books_url();
  }

  void stop() {
    if (!server_) return;
    std::fprintf(stderr,
                 "cbench_bench: the fixture server used %.2f s of CPU (not in any case's time)\n",
                 server_->cpu_seconds());
    server_->stop();
  }

 private:
  const SuiteOptions& options_;
  std::optional<ServerProcess> server_;
};

// Every family of the run; how many cases.
int register_cases(const SuiteOptions& options, const Corpus& corpus, FixtureServer& server) {
  try {
    return register_experiments(options, corpus, [&] { return server.books_url(); }) +
           register_overheads(options) + register_granularity(options) +
           register_native_fib(options);
  } catch (const std::exception& e) {
    throw Stop{1, std::string("error while preparing the cases: ") + e.what()};
  }
}

// Every finished case goes to the journal as it finishes (journal.hpp), beside the JSON; none
// without a JSON file.
void open_journal(std::optional<JournalingJsonReporter>& journal, const SuiteOptions& options,
                  const Output& out, int cases) {
  std::filesystem::path path = options.journal;
  if (path.empty() && !out.path.empty() && out.json) {
    path = std::filesystem::path(out.path).replace_extension(".journal.jsonl");
  }
  if (path.empty()) return;
  if (out.path.empty() || !out.json) {
    throw Stop{2, "error: --cbench_journal needs --benchmark_out in JSON"};
  }
  try {
    // A resumed run adds its part to the journal it resumes; any other starts it afresh.
    const bool append =
        !options.resume.empty() && std::filesystem::weakly_canonical(path) ==
                                       std::filesystem::weakly_canonical(options.resume);
    journal.emplace(path, cases, append, out.path);
  } catch (const std::exception& e) {
    throw Stop{1, std::string("error: ") + e.what()};
  }
}

// The host's speed around each case (host_watch.hpp); not in a counted run, whose counts do not
// depend on it.
void watch_host(std::optional<HostWatch>& watch, const SuiteOptions& options) {
  if (options.count) return;
  watch.emplace(options.cores);
  watch->calibrate(options.host_limit);
  std::fprintf(stderr,
               "cbench_bench: host probe %.2f ms on %d cores; a case is measured again "
               "when a probe around it takes over %.2fx that\n",
               watch->clean_seconds() * 1e3, options.cores, watch->limit());
  set_host_watch(&*watch);
  watch->start();
}

int run_steps(int argc, char** argv) {
  start_process(argc, argv);
  Output out;
  SuiteOptions options = read_flags(argc, argv, out);
  const Corpus corpus = prepare_corpus(options);
  FixtureServer server(options);
  const int total = register_cases(options, corpus, server);
  if (options.plan) {
    print_plan_notes();
    return 0;
  }
  if (total == 0) {
    if (options.resume.empty()) throw Stop{1, "error: no case matches the filters"};
    std::fprintf(stderr, "cbench_bench: nothing left to run: %s holds every case\n",
                 options.resume.c_str());
    return 0;
  }
  std::optional<JournalingJsonReporter> journal;
  open_journal(journal, options, out, total);
  ProgressReporter progress(total);
  std::optional<HostWatch> watch;
  watch_host(watch, options);
  // A counted run's first region would also carry what the process's first counted instructions
  // cost once (measured: 2.5 million, whatever the case): an empty region takes it.
  if (options.count) count_prime();
  benchmark::RunSpecifiedBenchmarks(out.console ? &progress : nullptr,
                                    journal ? &*journal : nullptr);
  benchmark::Shutdown();
  set_host_watch(nullptr);
  server.stop();
  std::filesystem::path trace = options.trace;
  if (trace.empty() && !out.path.empty()) {
    trace = std::filesystem::path(out.path).replace_extension(".trace.json");
  }
  if (!trace.empty()) write_trace(trace);
  return 0;
}

}  // namespace

int run_suite(int argc, char** argv) {
  try {
    return run_steps(argc, argv);
  } catch (const Stop& stop) {
    if (!stop.message.empty()) std::fprintf(stderr, "cbench_bench: %s\n", stop.message.c_str());
    return stop.status;
  }
}

}  // namespace cbench::bench
