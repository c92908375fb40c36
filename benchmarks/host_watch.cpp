#include "benchmarks/host_watch.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <thread>

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
}

void HostWatch::start() {
  previous_ = probe();
}

void HostWatch::annotate(std::vector<benchmark::BenchmarkReporter::Run>& runs) {
  if (runs.empty() || clean_ <= 0) return;
  // The reporters get each case's runs one after the other: the first probes, the others (the
  // same run_name) take its figure.
  const bool iterations = runs.front().run_type == benchmark::BenchmarkReporter::Run::RT_Iteration;
  const std::string& name = runs.front().run_name.str();
  double slowdown;
  if (iterations) {
    if (name != last_name_) {
      const double after = probe();
      last_slowdown_ = std::max(previous_, after) / clean_;
      previous_ = after;
      last_name_ = name;
    }
    slowdown = last_slowdown_;
    slowest_[name] = std::max(slowest_[name], slowdown);
  } else {
    slowdown = slowest_.count(name) ? slowest_[name] : last_slowdown_;
  }
  for (auto& run : runs) {
    run.counters["host_slowdown"] = slowdown;
    run.counters["host_disturbed"] = slowdown > limit_ ? 1 : 0;
  }
}

void set_host_watch(HostWatch* watch) {
  current = watch;
}

void annotate_runs(std::vector<benchmark::BenchmarkReporter::Run>& runs) {
  if (current != nullptr) current->annotate(runs);
}

}  // namespace cbench::bench
