// The host's speed around each case (docs/design.md, "A disturbed case"). A laptop, a cloud VM or
// a CI runner can be slow for seconds because of something else; a case measured then is slow for
// a reason that has nothing to do with its model. This host has no instruction counter a case
// could read, so the suite times a fixed probe of known work instead: about a millisecond of a
// dependent integer recurrence on each of the run's cores at once, the slowest thread's time.
// Calibrated at the start (its median and spread over 21 probes), probed before the first case
// and after every case: a case whose probe before or after took longer than the limit was
// measured while the host was slow. A probe this short can run whole within one time slice and
// miss a process that keeps one core busy, so the watch also reads what the host's CPU did
// meanwhile (/proc/stat) against what this process and everything it started did (/proc/PID/stat):
// other processes (or the hypervisor's stolen time) using a quarter of a core or more over the
// case disturb it too. Its rows carry the counters host_slowdown (the slower of the two probes
// over the calibrated median), host_others (the cores other processes kept busy, on average) and
// host_disturbed (1 when either is beyond its limit); scripts/bench measures such a case again at
// the end of the run, at most twice (--cbench_remeasure).
#pragma once

#include <benchmark/benchmark.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace cbench::bench {

class HostWatch {
 public:
  explicit HostWatch(int cores);

  // The clean probe's time: the median of 21 probes; the limit: the larger of 1.25 times it and
  // the median plus 6 robust spreads (1.4826 x MAD), or `limit` when above 0
  // (--cbench_host_limit). Call once, before the cases.
  void calibrate(double limit = 0);
  // The probe before the first case.
  void start();
  // After a case's runs reach a reporter: the first reporter to see them probes, every reporter
  // gets the same counters added (a case's aggregates: the slowest of its repetitions).
  void annotate(std::vector<benchmark::BenchmarkReporter::Run>& runs);

  double clean_seconds() const { return clean_; }
  double limit() const { return limit_; }

 private:
  struct Sample {
    std::chrono::steady_clock::time_point when;
    long long busy = -1;  // the host's busy clock ticks (/proc/stat)
    long long own = 0;    // this process tree's clock ticks (/proc/PID/stat)
  };
  struct Seen {
    double slowdown = 0;       // the slower probe over the calibrated one
    double others = 0;         // cores other processes kept busy, on average
    bool busy_others = false;  // beyond kOthersLimit
  };

  double probe() const;  // seconds: the slowest of the cores' threads
  Sample sample() const;
  // Other processes' CPU since the last sample, in cores (their ticks in `ticks`).
  double others_since_last(long long& ticks);

  int cores_;
  double clean_ = 0, limit_ = 0;
  bool watch_others_ = true;
  double previous_ = 0;    // the probe before the case being reported
  Sample last_sample_;     // the host's and this tree's CPU before the case being reported
  std::string last_name_;  // the case the last probe was for
  Seen last_;
  std::map<std::string, Seen> worst_;  // per run_name, over its repetitions
};

// The watch every reporter of this run annotates with (null: none, as in a counted run).
void set_host_watch(HostWatch* watch);
void annotate_runs(std::vector<benchmark::BenchmarkReporter::Run>& runs);

}  // namespace cbench::bench
