// The host watch (benchmarks/host_watch.hpp): another process's CPU during a case marks it
// disturbed; the case's own processes, however busy, do not. The probe's limit is set out of
// reach here, so that only the other-processes rule can mark a case: what is tested is CPU
// accounting, not a time.
#include "benchmarks/host_watch.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <limits>
#include <string>
#include <thread>
#include <vector>

namespace {

using benchmark::BenchmarkReporter;
using Clock = std::chrono::steady_clock;

void spin_for(std::chrono::milliseconds span) {
  const auto end = Clock::now() + span;
  volatile unsigned sink = 0;
  while (Clock::now() < end) sink = sink + 1;
}

// Keeps a core busy for `span` in a process of this test's tree (a child), or outside it (a
// grandchild left to init when its parent exits at once), and returns when it has finished.
void busy_process(std::chrono::milliseconds span, bool own) {
  int done[2];
  ASSERT_EQ(pipe(done), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(done[0]);
    if (!own && fork() != 0) _exit(0);  // the parent leaves: the grandchild is no longer ours
    spin_for(span);
    _exit(0);  // its end closes the pipe's write side
  }
  close(done[1]);
  if (!own) waitpid(child, nullptr, 0);
  char byte;
  while (read(done[0], &byte, 1) > 0) {
  }
  close(done[0]);
  if (own) waitpid(child, nullptr, 0);
}

std::vector<BenchmarkReporter::Run> case_runs(const std::string& name) {
  std::vector<BenchmarkReporter::Run> runs(1);
  runs[0].run_name.function_name = name;
  runs[0].run_type = BenchmarkReporter::Run::RT_Iteration;
  return runs;
}

TEST(HostWatch, AnotherProcessBusyDuringACaseDisturbsIt) {
  cbench::bench::HostWatch watch(1);
  watch.calibrate(1e9);  // no probe is ever beyond this
  watch.start();
  busy_process(std::chrono::milliseconds(400), /*own=*/false);
  auto runs = case_runs("case/other");
  watch.annotate(runs);
  EXPECT_GE(runs[0].counters["host_others"].value, 0.5);
  EXPECT_EQ(runs[0].counters["host_disturbed"].value, 1);
}

TEST(HostWatch, TheCasesOwnProcessesDoNot) {
  cbench::bench::HostWatch watch(1);
  watch.calibrate(1e9);
  // Other processes may keep this host busy whatever the test does (a fuzzer, a build): then
  // what the case's own process adds cannot be told from theirs, and the test says so.
  watch.start();
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  auto idle = case_runs("case/idle");
  watch.annotate(idle);
  if (idle[0].counters["host_others"].value >= 0.2) {
    GTEST_SKIP() << "other processes kept " << idle[0].counters["host_others"].value
                 << " cores busy while this test did nothing: it needs a quiet host";
  }
  watch.start();
  busy_process(std::chrono::milliseconds(400), /*own=*/true);
  auto runs = case_runs("case/own");
  watch.annotate(runs);
  EXPECT_LT(runs[0].counters["host_others"].value, 0.25);
  EXPECT_EQ(runs[0].counters["host_disturbed"].value, 0);
}

TEST(HostWatch, OffMeansNoCaseIsDisturbed) {
  cbench::bench::HostWatch watch(1);
  watch.calibrate(std::numeric_limits<double>::infinity());  // --cbench_host_limit=off
  watch.start();
  busy_process(std::chrono::milliseconds(300), /*own=*/false);
  auto runs = case_runs("case/off");
  watch.annotate(runs);
  EXPECT_EQ(runs[0].counters["host_disturbed"].value, 0);
}

}  // namespace
