#include "benchmarks/host_watch.hpp"

#include "benchmarks/suite.hpp"
#include "executors/process.hpp"

#include <dirent.h>
#include <unistd.h>
#include <algorithm>
#include <chrono>
#include <cmath>

#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace cbench::bench {
namespace {

// About a millisecond of work on this project's VM: a dependent recurrence the compiler cannot
// shorten, with no memory traffic (the probe measures the cores, not the caches). Known limit: a
// probe this short runs whole within the slice a woken thread is given, so a process that keeps
// one core busy is seen around few of the cases it runs beside; a probe of 5 ms sees it, but also
// the threads of the case just measured winding down, and flagged half of a quiet run's cases.
constexpr std::uint64_t kProbeSteps = 400'000;
constexpr int kCalibrationProbes = 21;
constexpr double kMinLimit = 1.25;
constexpr double kSpreads = 6.0;

// Other processes' CPU: a case that shares the host with a process using more than this share of
// a core, on average over the case, was disturbed, whatever the probes say. The rule needs at
// least kOthersMinTicks clock ticks (10 ms each here) of their time: the host's ticks and the
// processes' times are kept apart and rounded apart, and on a quiet host their difference around
// a case stayed within 3 ticks either way (a short case's few ticks are no disturbance).
constexpr double kOthersLimit = 0.25;
// How long a slow probe waits before it is taken again (the spin of oneTBB's and libgomp's
// idle workers is over well within it).
constexpr std::chrono::milliseconds kSettle{20};
constexpr long long kOthersMinTicks = 5;

// A process's parent and the CPU ticks it and its waited-for children used (-1: gone).
struct ProcTimes {
  long long parent = -1, ticks = -1;
};

ProcTimes proc_times(pid_t pid) {
  const std::vector<std::string> f = proc_stat_fields(pid);
  if (f.size() <= 17 - 3) return {};
  const auto at = [&](int field) {
    return std::atoll(f[static_cast<std::size_t>(field - 3)].c_str());
  };
  // proc(5): field 4 the parent; 14, 15 user and system time; 16, 17 those of waited children.
  return {at(4), at(14) + at(15) + at(16) + at(17)};
}

// The CPU ticks of this process and every process below it (fork workers, the fixture server,
// MPI's launcher and engines), each with the children it has waited for.
long long own_tree_ticks() {
  std::map<long long, ProcTimes> all;
  if (DIR* dir = opendir("/proc")) {
    while (const dirent* entry = readdir(dir)) {
      const std::string name = entry->d_name;
      if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
      const ProcTimes t = proc_times(static_cast<pid_t>(std::atoll(name.c_str())));
      if (t.ticks >= 0) all[std::atoll(name.c_str())] = t;
    }
    closedir(dir);
  }
  std::map<long long, std::vector<long long>> children;
  for (const auto& [pid, t] : all) children[t.parent].push_back(pid);
  long long total = 0;
  std::vector<long long> next{static_cast<long long>(getpid())};
  std::set<long long> seen;
  while (!next.empty()) {
    const long long pid = next.back();
    next.pop_back();
    if (!seen.insert(pid).second) continue;
    if (const auto it = all.find(pid); it != all.end()) total += it->second.ticks;
    for (long long child : children[pid]) next.push_back(child);
  }
  return total;
}

std::uint64_t spin(std::uint64_t seed) {
  std::uint64_t x = seed | 1;
  for (std::uint64_t i = 0; i < kProbeSteps; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
  }
  return x;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

HostWatch* current = nullptr;

}  // namespace

HostWatch::HostWatch(int cores) : cores_(std::max(cores, 1)) {}

double HostWatch::probe() const {
  std::vector<double> seconds(static_cast<std::size_t>(cores_));
  std::vector<std::uint64_t> sink(static_cast<std::size_t>(cores_));
  auto work = [&](int i) {
    const auto start = std::chrono::steady_clock::now();
    sink[i] = spin(static_cast<std::uint64_t>(i) + 1);
    seconds[i] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  std::vector<std::thread> threads;
  for (int i = 1; i < cores_; ++i) threads.emplace_back(work, i);
  work(0);
  for (auto& t : threads) t.join();
  benchmark::DoNotOptimize(sink.data());
  return *std::max_element(seconds.begin(), seconds.end());
}

void HostWatch::calibrate(double limit) {
  std::vector<double> probes;
  for (int i = 0; i < kCalibrationProbes; ++i) probes.push_back(probe());
  clean_ = median(probes);
  std::vector<double> deviations;
  for (double p : probes) deviations.push_back(std::fabs(p - clean_));
  const double spread = 1.4826 * median(deviations);
  limit_ = limit > 0 ? limit : std::max(kMinLimit, (clean_ + kSpreads * spread) / clean_);
  watch_others_ = std::isfinite(limit_);  // --cbench_host_limit=off: no disturbance at all
}

HostWatch::Sample HostWatch::sample() const {
  const CpuTimes host = read_cpu_times();  // total 0: /proc/stat could not be read
  return {std::chrono::steady_clock::now(), host.total > 0 ? static_cast<long long>(host.busy) : -1,
          own_tree_ticks()};
}

void HostWatch::start() {
  previous_ = probe();
  last_sample_ = sample();
}

double HostWatch::others_since_last(long long& ticks) {
  const Sample now = sample();
  const double wall = std::chrono::duration<double>(now.when - last_sample_.when).count();
  ticks = now.busy < 0 || last_sample_.busy < 0
              ? 0
              : (now.busy - last_sample_.busy) - (now.own - last_sample_.own);
  last_sample_ = now;
  static const double per_second = static_cast<double>(sysconf(_SC_CLK_TCK));
  return wall > 0 && ticks > 0 ? static_cast<double>(ticks) / per_second / wall : 0.0;
}

void HostWatch::annotate(std::vector<benchmark::BenchmarkReporter::Run>& runs) {
  if (runs.empty() || clean_ <= 0) return;
  // The reporters get each case's runs one after the other: the first probes, the others (the
  // same run_name) take its figure.
  const bool iterations = runs.front().run_type == benchmark::BenchmarkReporter::Run::RT_Iteration;
  const std::string& name = runs.front().run_name.str();
  Seen seen;
  if (iterations) {
    if (name != last_name_) {
      // Other processes' share first: the probe is this process's own work.
      long long ticks = 0;
      const double others = others_since_last(ticks);
      double after = probe();
      // A slow probe right after a case can be the case's own threads winding down (a runtime's
      // workers spin a while before they sleep) rather than the host: probe once more after
      // they have had time to sleep, and keep the faster.
      if (after / clean_ > limit_) {
        std::this_thread::sleep_for(kSettle);
        after = std::min(after, probe());
      }
      last_ = {std::max(previous_, after) / clean_, others,
               watch_others_ && others >= kOthersLimit && ticks >= kOthersMinTicks};
      previous_ = after;
      last_name_ = name;
    }
    seen = last_;
    Seen& worst = worst_[name];
    worst = {std::max(worst.slowdown, seen.slowdown), std::max(worst.others, seen.others),
             worst.busy_others || seen.busy_others};
  } else {
    seen = worst_.count(name) ? worst_[name] : last_;
  }
  for (auto& run : runs) {
    run.counters["host_slowdown"] = seen.slowdown;
    run.counters["host_others"] = seen.others;
    run.counters["host_disturbed"] = seen.slowdown > limit_ || seen.busy_others ? 1 : 0;
  }
}

void set_host_watch(HostWatch* watch) {
  current = watch;
}

void annotate_runs(std::vector<benchmark::BenchmarkReporter::Run>& runs) {
  if (current != nullptr) current->annotate(runs);
}

}  // namespace cbench::bench
