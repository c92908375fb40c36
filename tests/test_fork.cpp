// The fork executor: worker processes from a fork server, tasks as data over sockets.
//
// The fork server is started by a global test Environment, after static initialisation (so every
// task kind below is registered in it) and before the first test or thread. Nothing here asserts
// on elapsed time: concurrency is proven with a barrier in a file and the workers' pids.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <tbb/task_group.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "executors/fork_pool.hpp"
#include "executors/fork_server.hpp"
#include "executors/process.hpp"
#include "executors/run_task.hpp"
#include "tests/support/oracle.hpp"

namespace cbench {
namespace {

// Set in the child runs of ForkLazy: no server is started up front, to test the lazy start.
bool lazy_run() {
  return std::getenv("CBENCH_TEST_FORK_LAZY") != nullptr;
}

class ForkServerEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    if (!lazy_run()) start_fork_server();
  }
};

[[maybe_unused]] const auto* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new ForkServerEnvironment);

// ---- task kinds, registered before main so that the server and its workers have them ----------

void no_core_dump() {
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  rlimit none{0, 0};
  ::setrlimit(RLIMIT_CORE, &none);
}

std::string pattern(std::size_t size, unsigned seed) {
  std::string s(size, '\0');
  for (std::size_t i = 0; i < size; ++i)
    s[i] = static_cast<char>('a' + (i * 7 + i / 13 + seed) % 26);
  return s;
}

double process_cpu() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Appends a byte to the file named on the first line, then waits until the file has as many bytes
// as the second line says: the tasks that pass it were all running at once.
Bytes barrier(std::string_view input) {
  auto newline = input.find('\n');
  const std::string path(input.substr(0, newline));
  const auto needed = std::stoul(std::string(input.substr(newline + 1)));
  { std::ofstream(path, std::ios::app | std::ios::binary) << 'x'; }
  // A guard against a hang when W is not honoured, not a timing assertion.
  for (int i = 0; i < 120'000; ++i) {
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && static_cast<unsigned long>(st.st_size) >= needed) {
      return std::to_string(::getpid());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  throw std::runtime_error("barrier: fewer than " + std::to_string(needed) + " tasks arrived");
}

[[maybe_unused]] const bool kRegistered = [] {
  register_task_kind({"test-echo", [](std::string_view in) { return Bytes(in); }});
  // The input, then each view, each after a '|'.
  register_task_kind(
      {.name = "test-echo-views",
       .run_views = [](std::string_view in, std::span<const std::string_view> views) {
         Bytes out(in);
         for (const auto view : views) out.append("|").append(view);
         return out;
       }});
  register_task_kind({"test-throw", [](std::string_view in) -> Bytes {
                        throw std::runtime_error("boom: " + std::string(in));
                      }});
  register_task_kind({"test-abort", [](std::string_view) -> Bytes {
                        no_core_dump();
                        std::abort();
                      }});
  register_task_kind({"test-sigkill", [](std::string_view) -> Bytes {
                        ::raise(SIGKILL);
                        return {};
                      }});
  register_task_kind({"test-segv", [](std::string_view) -> Bytes {
                        no_core_dump();
                        ::raise(SIGSEGV);
                        return {};
                      }});
  register_task_kind(
      {"test-exit", [](std::string_view in) -> Bytes { ::_exit(std::stoi(std::string(in))); }});
  register_task_kind(
      {"test-big", [](std::string_view in) { return pattern(std::stoul(std::string(in)), 3); }});
  register_task_kind({"test-sleep-ms", [](std::string_view in) {
                        std::this_thread::sleep_for(
                            std::chrono::milliseconds(std::stoi(std::string(in))));
                        return Bytes(in);
                      }});
  register_task_kind({"test-pid", [](std::string_view) { return std::to_string(::getpid()); }});
  // "<pid> <input>", or the worker exits with status 3 when the input is "exit".
  register_task_kind({"test-pid-or-exit", [](std::string_view in) -> Bytes {
                        if (in == "exit") ::_exit(3);
                        return std::to_string(::getpid()) + " " + std::string(in);
                      }});
  register_task_kind({"test-barrier", barrier});
  register_task_kind({"test-spin-cpu", [](std::string_view in) {
                        // Burns at least this much CPU time, so the worker's report has a floor.
                        const double until = process_cpu() + std::stod(std::string(in));
                        volatile unsigned x = 0;
                        while (process_cpu() < until) {
                          for (int i = 0; i < 1000; ++i) x = x + static_cast<unsigned>(i);
                        }
                        return Bytes("spun");
                      }});
  return true;
}();

// ---- helpers -----------------------------------------------------------------------------------

Task make_task(std::string_view kind, std::string input, std::string name = {}) {
  if (name.empty()) name = std::string(kind) + " " + input.substr(0, 20);
  return {&task_kind(kind), std::move(name), std::make_shared<const Bytes>(std::move(input))};
}

// Every result of one run(), by index; fails the test if one came twice or not at all.
std::vector<TaskResult> run_all(Executor& executor, std::span<const Task> tasks) {
  std::vector<std::optional<TaskResult>> slots(tasks.size());
  executor.run(tasks, [&](TaskResult&& r) {
    EXPECT_LT(r.index, tasks.size());
    if (r.index >= tasks.size()) return;
    EXPECT_FALSE(slots[r.index]) << "task " << r.index << " reported twice";
    slots[r.index] = std::move(r);
  });
  std::vector<TaskResult> results;
  for (std::size_t i = 0; i < slots.size(); ++i) {
    EXPECT_TRUE(slots[i]) << "task " << i << " never reported";
    results.push_back(slots[i] ? std::move(*slots[i]) : TaskResult{});
  }
  return results;
}

int count_fds() {
  int n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd"))
    ++n;
  return n;
}

struct ProcStat {
  pid_t pid = 0, ppid = 0;
  char state = '?';
};

std::optional<ProcStat> proc_stat(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return std::nullopt;
  auto close = line.rfind(')');  // the command name may hold spaces and parentheses
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(line.substr(close + 1));
  ProcStat st;
  st.pid = pid;
  rest >> st.state >> st.ppid;
  return st;
}

// Processes whose parent is `parent` and which are zombies.
std::vector<pid_t> zombie_children(pid_t parent) {
  std::vector<pid_t> zombies;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const auto name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    auto st = proc_stat(static_cast<pid_t>(std::stol(name)));
    if (st && st->ppid == parent && st->state == 'Z') zombies.push_back(st->pid);
  }
  return zombies;
}

void expect_no_zombies() {
  EXPECT_EQ(zombie_children(::getpid()), std::vector<pid_t>{}) << "zombies among our children";
  EXPECT_EQ(zombie_children(fork_server_pid()), std::vector<pid_t>{})
      << "zombies among the fork server's children";
}

// A mix: a shared 0.8 MB input, multi-MB results, small and empty inputs.
std::vector<Task> mixed_tasks(std::size_t n) {
  auto book = std::make_shared<const Bytes>(pattern(800'000, 1));
  std::vector<Task> tasks;
  for (std::size_t i = 0; i < n; ++i) {
    switch (i % 4) {
      case 0:
        tasks.push_back({&task_kind("test-echo"), "book " + std::to_string(i), book});
        break;
      case 1:
        tasks.push_back(make_task("test-big", std::to_string(3'000'000 + i)));
        break;
      case 2:
        tasks.push_back(make_task("test-echo", "task " + std::to_string(i)));
        break;
      default:
        tasks.push_back({&task_kind("test-echo"), "no input " + std::to_string(i), nullptr});
    }
  }
  return tasks;
}

// ---- tests -------------------------------------------------------------------------------------

TEST(Fork, MapInTaskOrderEqualsRunningInProcess) {
  for (int workers : {1, 2, 3, 8}) {
    ForkPool pool(workers);
    ASSERT_EQ(pool.workers(), workers);
    ASSERT_EQ(pool.worker_pids().size(), static_cast<std::size_t>(workers));
    for (std::size_t n : {0, 1, 2, 7, 13}) {
      SCOPED_TRACE("W=" + std::to_string(workers) + " tasks=" + std::to_string(n));
      const auto tasks = mixed_tasks(n);
      const auto results = map(pool, tasks);
      ASSERT_EQ(results.size(), n);
      for (std::size_t i = 0; i < n; ++i) {
        const auto expected = run_task(tasks[i], i, 0);
        EXPECT_EQ(results[i].index, i);
        EXPECT_TRUE(results[i].ok()) << results[i].error;
        EXPECT_EQ(results[i].value, expected.value) << "task " << i;
        EXPECT_GE(results[i].worker, 0);
        EXPECT_LT(results[i].worker, workers);
      }
      EXPECT_LE(pool.peak_parallelism(), workers);
      EXPECT_EQ(pool.peak_parallelism() == 0, n == 0);
    }
  }
}

TEST(Fork, AsCompletedReportsEveryTaskOnceOnTheCallersThread) {
  ForkPool pool(3);
  const int sleeps[] = {40, 1, 25, 0, 10, 5, 30, 2, 0, 15, 1};
  std::vector<Task> tasks;
  for (int ms : sleeps) tasks.push_back(make_task("test-sleep-ms", std::to_string(ms)));
  std::multiset<std::size_t> seen;
  const auto caller = std::this_thread::get_id();
  pool.run(tasks, [&](TaskResult&& r) {
    EXPECT_EQ(std::this_thread::get_id(), caller);
    EXPECT_TRUE(r.ok()) << r.error;
    EXPECT_EQ(r.value, *tasks.at(r.index).input);
    seen.insert(r.index);
  });
  std::multiset<std::size_t> expected;
  for (std::size_t i = 0; i < tasks.size(); ++i) expected.insert(i);
  EXPECT_EQ(seen, expected);
}

TEST(Fork, PeakParallelismIsMinOfWorkersAndTasksForTasksThatWaitForEachOther) {
  const std::pair<int, std::size_t> cases[] = {{1, 3}, {2, 1}, {2, 2}, {2, 5},
                                               {3, 2}, {3, 7}, {8, 8}};
  for (auto [workers, n] : cases) {
    SCOPED_TRACE("W=" + std::to_string(workers) + " tasks=" + std::to_string(n));
    testing::TempDir dir;
    const auto needed = std::min<std::size_t>(static_cast<std::size_t>(workers), n);
    const auto input = (dir.path() / "arrivals").string() + "\n" + std::to_string(needed);
    std::vector<Task> tasks;
    for (std::size_t i = 0; i < n; ++i) tasks.push_back(make_task("test-barrier", input));
    ForkPool pool(workers);
    const auto pids = pool.worker_pids();
    const std::set<std::string> worker_pids = [&] {
      std::set<std::string> s;
      for (pid_t p : pids) s.insert(std::to_string(p));
      return s;
    }();
    const auto results = map(pool, tasks);
    std::set<std::string> ran_on;
    for (const auto& r : results) {
      EXPECT_TRUE(worker_pids.count(r.value)) << "a task ran outside the pool, in pid " << r.value;
      ran_on.insert(r.value);
    }
    // `needed` tasks passed the barrier together, so as many distinct workers ran at once.
    EXPECT_EQ(ran_on.size(), needed);
    EXPECT_EQ(pool.peak_parallelism(), static_cast<int>(needed));
    EXPECT_LE(pool.peak_parallelism(), workers);
  }
}

TEST(Fork, WorkersBelowOneAreRejected) {
  EXPECT_THROW(ForkPool(0), std::invalid_argument);
  EXPECT_THROW(ForkPool(-2), std::invalid_argument);
  EXPECT_THROW(make_executor("fork", 0), std::invalid_argument);
}

TEST(Fork, IsRegisteredByName) {
  auto executor = make_executor("fork", 2);
  EXPECT_EQ(executor->name(), "fork");
  EXPECT_EQ(executor->workers(), 2);
  ASSERT_NE(dynamic_cast<ForkPool*>(executor.get()), nullptr);
  const std::vector<Task> tasks = {make_task("test-echo", "a"), make_task("test-echo", "b")};
  const auto results = map(*executor, tasks);
  EXPECT_EQ(results[1].value, "b");
}

TEST(Fork, WorkersAreChildrenOfTheServerAndRunTheTasks) {
  ASSERT_GT(fork_server_pid(), 0);
  ForkPool pool(3);
  const auto pids = pool.worker_pids();
  for (pid_t pid : pids) {
    EXPECT_NE(pid, ::getpid());
    auto st = proc_stat(pid);
    ASSERT_TRUE(st);
    EXPECT_EQ(st->ppid, fork_server_pid()) << "worker " << pid << " was not forked by the server";
  }
  std::vector<Task> tasks(9, make_task("test-pid", ""));
  for (const auto& r : map(pool, tasks)) {
    EXPECT_EQ(std::to_string(pids.at(static_cast<std::size_t>(r.worker))), r.value)
        << "TaskResult.worker names the worker that ran it";
  }
  // No failure, so the same processes serve the next run.
  map(pool, tasks);
  EXPECT_EQ(pool.worker_pids(), pids);
}

TEST(Fork, ReportsWorkerCpuTimeAndSpansOnTheSharedMonotonicClock) {
  ForkPool pool(2);
  std::vector<Task> tasks(4, make_task("test-spin-cpu", "0.02"));
  const auto before = Clock::now();
  double sum = 0;
  pool.run(tasks, [&](TaskResult&& r) {
    EXPECT_TRUE(r.ok()) << r.error;
    EXPECT_GE(r.cpu_seconds, 0.02);
    EXPECT_LE(before, r.start);
    EXPECT_LE(r.start, r.end);
    EXPECT_LE(r.end, Clock::now());
    sum += r.cpu_seconds;
  });
  EXPECT_DOUBLE_EQ(pool.worker_cpu_seconds(), sum);
  EXPECT_GE(pool.worker_cpu_seconds(), 0.08);
}

TEST(Fork, AThrowingTaskFailsAloneAndTheWorkerLivesOn) {
  ForkPool pool(1);
  const auto pids = pool.worker_pids();
  const std::vector<Task> tasks = {make_task("test-throw", "x", "bad task"),
                                   make_task("test-pid", "")};
  const auto results = run_all(pool, tasks);
  EXPECT_EQ(results[0].error, "boom: x");
  EXPECT_TRUE(results[1].ok());
  EXPECT_EQ(results[1].value, std::to_string(pids.at(0)));
  EXPECT_EQ(pool.worker_pids(), pids);
  try {
    map(pool, tasks);
    FAIL() << "map did not throw";
  } catch (const TaskError& e) {
    EXPECT_EQ(e.task(), "bad task");
    EXPECT_STREQ(e.what(), "bad task: boom: x");
  }
}

TEST(Fork, DeadWorkersAreNamedReplacedAndReaped) {
  const int fds_before = count_fds();
  {
    ForkPool pool(2);
    const auto first_pids = pool.worker_pids();
    std::vector<Task> tasks = {make_task("test-echo", "a"), make_task("test-throw", "t"),
                               make_task("test-echo", "b"), make_task("test-abort", ""),
                               make_task("test-echo", "c"), make_task("test-sigkill", ""),
                               make_task("test-echo", "d"), make_task("test-exit", "7"),
                               make_task("test-segv", ""),  make_task("test-big", "5000000"),
                               make_task("test-echo", "e")};
    const auto results = run_all(pool, tasks);
    for (std::size_t i : {0, 2, 4, 6, 10}) {
      EXPECT_TRUE(results[i].ok()) << i << ": " << results[i].error;
      EXPECT_EQ(results[i].value, *tasks[i].input);
    }
    EXPECT_EQ(results[9].value, pattern(5'000'000, 3));
    EXPECT_EQ(results[1].error, "boom: t");
    auto expect_died = [&](std::size_t i, const std::string& how) {
      const auto& error = results[i].error;
      EXPECT_NE(error.find("worker " + std::to_string(results[i].worker) + " (pid "),
                std::string::npos)
          << error;
      EXPECT_NE(error.find(") died: " + how), std::string::npos) << error;
    };
    expect_died(3, "aborted (SIGABRT)");
    expect_died(5, "killed by signal 9 (SIGKILL)");
    expect_died(7, "exited with status 7");
    expect_died(8, "");  // SIGSEGV, or the sanitizer's exit status when it catches the fault
    EXPECT_EQ(pool.workers(), 2);
    const auto pids = pool.worker_pids();
    EXPECT_EQ(pids.size(), 2u) << "dead workers are replaced";
    EXPECT_NE(pids, first_pids);
    expect_no_zombies();
    // The replacements work.
    const auto again = map(pool, mixed_tasks(6));
    EXPECT_EQ(again.size(), 6u);
  }
  expect_no_zombies();
  EXPECT_EQ(count_fds(), fds_before) << "a file descriptor leaked";
}

TEST(Fork, AWorkerThatDiesHoldingSeveralTasksFailsExactlyThoseWhoseResultsHadNotComeBack) {
  // Many short tasks, so that each worker is handed several at a time; one of them ends its
  // worker. Whether a worker holds several when it dies depends on how fast the tasks ran, so
  // the run is repeated until one did (the first, nearly always); every run is checked whole.
  const std::size_t n = 4000, fatal = 2000;
  std::vector<Task> tasks;
  for (std::size_t i = 0; i < n; ++i) {
    tasks.push_back(make_task("test-pid-or-exit", i == fatal ? "exit" : std::to_string(i),
                              "task " + std::to_string(i)));
  }
  ForkPool pool(2);
  std::size_t most_held = 0;
  for (int round = 0; round < 10 && most_held < 2; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const auto pids = pool.worker_pids();
    ASSERT_EQ(pids.size(), 2u);
    const auto results = run_all(pool, tasks);
    const int dead = results[fatal].worker;
    ASSERT_TRUE(dead == 0 || dead == 1) << results[fatal].error;
    const auto after = pool.worker_pids();
    ASSERT_EQ(after.size(), 2u);
    const std::string dead_pid = std::to_string(pids[static_cast<std::size_t>(dead)]);
    const std::string replacement_pid = std::to_string(after[static_cast<std::size_t>(dead)]);

    std::vector<std::size_t> failed, by_dead, by_replacement;
    for (std::size_t i = 0; i < n; ++i) {
      const auto& r = results[i];
      if (!r.ok()) {
        failed.push_back(i);
        continue;
      }
      const auto space = r.value.find(' ');
      ASSERT_NE(space, std::string::npos) << r.value;
      const std::string pid = r.value.substr(0, space);
      EXPECT_EQ(r.value.substr(space + 1), *tasks[i].input) << "task " << i;
      if (r.worker == dead && pid == dead_pid) {
        by_dead.push_back(i);
      } else if (r.worker == dead && pid == replacement_pid) {
        by_replacement.push_back(i);
      } else {
        EXPECT_EQ(pid, std::to_string(pids.at(static_cast<std::size_t>(r.worker))))
            << "task " << i << " ran on the worker its result names";
      }
    }
    ASSERT_FALSE(failed.empty());
    EXPECT_NE(std::find(failed.begin(), failed.end(), fatal), failed.end());
    // Every failed task was held by the worker that died, and says so, with how many it held.
    std::string expected =
        "worker " + std::to_string(dead) + " (pid " + dead_pid + ") died: exited with status 3";
    if (failed.size() > 1) {
      expected +=
          ", holding " + std::to_string(failed.size()) + " tasks whose results had not come back";
    }
    for (std::size_t i : failed) {
      EXPECT_EQ(results[i].error, expected) << tasks[i].name;
      EXPECT_EQ(results[i].worker, dead) << tasks[i].name;
    }
    // A worker runs its tasks in the order they were sent and returns their results in that
    // order, and tasks are sent in task order: whatever the dead worker returned came before
    // everything it held, and its replacement was sent only tasks after those.
    if (!by_dead.empty()) {
      EXPECT_LT(by_dead.back(), failed.front());
    }
    if (!by_replacement.empty()) {
      EXPECT_GT(by_replacement.front(), failed.back());
    }
    // It was replaced; the other worker lives on.
    EXPECT_NE(after[static_cast<std::size_t>(dead)], pids[static_cast<std::size_t>(dead)]);
    EXPECT_EQ(after[static_cast<std::size_t>(1 - dead)], pids[static_cast<std::size_t>(1 - dead)]);
    EXPECT_LE(pool.peak_parallelism(), 2);
    most_held = std::max(most_held, failed.size());
  }
  EXPECT_GE(most_held, 2u) << "no worker held more than one task when it died, in ten runs";
  expect_no_zombies();
  // map names the first task that failed.
  try {
    map(pool, tasks);
    FAIL() << "map did not throw";
  } catch (const TaskError& e) {
    EXPECT_NE(e.task(), "");
    EXPECT_NE(std::string(e.what()).find(") died: exited with status 3"), std::string::npos)
        << e.what();
  }
}

TEST(Fork, ShortTasksWithInputsAndResultsLargerThanTheSocketsBuffers) {
  // Many short tasks held at once, their frames larger together than a socket holds: sending to
  // one worker never stops the caller reading another's results, in either direction.
  const auto large = std::make_shared<const Bytes>(pattern(64 * 1024, 5));
  const auto larger = std::make_shared<const Bytes>(pattern(1'000'000, 6));
  std::vector<Task> tasks;
  for (std::size_t i = 0; i < 600; ++i) {
    if (i % 100 == 99) {
      tasks.push_back({&task_kind("test-echo"), "larger " + std::to_string(i), larger});
    } else if (i % 2 == 0) {
      tasks.push_back({&task_kind("test-echo"), "large " + std::to_string(i), large});
    } else {
      tasks.push_back(make_task("test-echo", std::to_string(i)));
    }
  }
  for (int workers : {1, 3}) {
    SCOPED_TRACE("W=" + std::to_string(workers));
    ForkPool pool(workers);
    const auto results = map(pool, tasks);
    for (std::size_t i = 0; i < tasks.size(); ++i) {
      ASSERT_TRUE(results[i].ok()) << results[i].error;
      EXPECT_EQ(results[i].value, *tasks[i].input) << "task " << i;
    }
    EXPECT_LE(pool.peak_parallelism(), workers);
  }
}

// A task's views reach the worker as bytes, each where it was: small ones copied into the frame,
// large ones sent from the caller's memory, none, one or many, among frames sent together.
TEST(Fork, ViewsReachTheWorkerAsBytesInTheirOrder) {
  const std::string corpus = pattern(300'000, 7);
  const std::string_view all(corpus);
  std::vector<Task> tasks;
  std::vector<std::string> expected;
  for (std::size_t i = 0; i < 200; ++i) {
    std::vector<std::string_view> views;
    for (std::size_t v = 0; v < i % 4; ++v) {
      const std::size_t size = (i + v) % 3 == 0 ? 100'000 : (i * 37 + v) % 5000;
      views.push_back(all.substr((i * 997 + v * 13) % 100'000, size));
    }
    const std::string input = i % 5 == 0 ? std::string() : "task " + std::to_string(i);
    std::string want = input;
    for (const auto view : views) want.append("|").append(view);
    expected.push_back(std::move(want));
    tasks.push_back({&task_kind("test-echo-views"),
                     std::to_string(i),
                     std::make_shared<const Bytes>(input),
                     {std::move(views)}});
  }
  for (int workers : {1, 2}) {
    SCOPED_TRACE("W=" + std::to_string(workers));
    ForkPool pool(workers);
    const auto results = map(pool, tasks);
    for (std::size_t i = 0; i < tasks.size(); ++i) {
      ASSERT_TRUE(results[i].ok()) << results[i].error;
      EXPECT_EQ(results[i].value, expected[i]) << "task " << i;
    }
  }
}

// A kind that reads no views fails a task that has some, by name; registering a kind with neither
// function, or both, is an error.
TEST(TaskKinds, ViewsGivenToAKindThatReadsNoneAreAnError) {
  Task task = make_task("test-echo", "x", "with views");
  task.views.views = {std::string_view("v")};
  ForkPool pool(1);
  const auto results = run_all(pool, std::span<const Task>(&task, 1));
  ASSERT_EQ(results.size(), 1u);
  EXPECT_NE(results[0].error.find("reads no views"), std::string::npos) << results[0].error;
  EXPECT_THROW(register_task_kind({.name = "test-neither"}), std::logic_error);
  EXPECT_THROW(
      register_task_kind({.name = "test-both",
                          .run = [](std::string_view) { return Bytes(); },
                          .run_views = [](std::string_view,
                                          std::span<const std::string_view>) { return Bytes(); }}),
      std::logic_error);
}

TEST(Fork, AWorkerKilledWhileIdleIsReplacedBeforeTheNextRun) {
  ForkPool pool(2);
  const auto pids = pool.worker_pids();
  ::kill(pids[0], SIGKILL);
  while (::kill(pids[0], 0) == 0) {  // until the server has reaped it
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  const std::vector<Task> tasks(6, make_task("test-pid", ""));
  for (const auto& r : map(pool, tasks)) EXPECT_NE(r.value, std::to_string(pids[0]));
  EXPECT_EQ(pool.worker_pids().size(), 2u);
  EXPECT_EQ(pool.worker_pids()[1], pids[1]);
  expect_no_zombies();
}

TEST(Fork, ACallbackThatThrowsLeavesThePoolUsable) {
  const int fds_before = count_fds();
  {
    ForkPool pool(2);
    std::vector<Task> slow(6, make_task("test-sleep-ms", "20"));
    EXPECT_THROW(pool.run(slow, [](TaskResult&&) { throw std::runtime_error("caller gave up"); }),
                 std::runtime_error);
    EXPECT_EQ(pool.worker_pids().size(), 2u);
    // No stale reply from the abandoned run reaches this one.
    const auto tasks = mixed_tasks(8);
    const auto results = map(pool, tasks);
    for (std::size_t i = 0; i < tasks.size(); ++i) {
      EXPECT_EQ(results[i].value, run_task(tasks[i], i, 0).value);
    }
  }
  expect_no_zombies();
  EXPECT_EQ(count_fds(), fds_before);
}

TEST(Fork, ManyPoolsLeaveNoZombieAndNoDescriptor) {
  const int fds_before = count_fds();
  for (int round = 0; round < 5; ++round) {
    ForkPool pool(3);
    map(pool, std::vector<Task>(5, make_task("test-echo", "x")));
  }
  expect_no_zombies();
  EXPECT_EQ(count_fds(), fds_before);
}

TEST(Fork, WorksAfterThreadsAndTbbWorkersStarted) {
  // Threads that stay alive while the pool is built: forking this process directly is the hazard.
  std::mutex mutex;
  std::condition_variable cv;
  bool stop = false;
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) {
    threads.emplace_back([&] {
      std::unique_lock lock(mutex);
      cv.wait(lock, [&] { return stop; });
    });
  }
#ifndef __SANITIZE_THREAD__  // Debian's oneTBB is not built with TSan, which then reports races
  tbb::task_group group;
  std::atomic<long> sum{0};
  for (int i = 0; i < 1000; ++i) group.run([&sum, i] { sum += i; });
  group.wait();
  EXPECT_EQ(sum.load(), 499500);
#endif
  EXPECT_GT(count_threads(), 1);

  {
    ForkPool pool(2);
    const auto tasks = mixed_tasks(10);
    const auto results = map(pool, tasks);
    for (std::size_t i = 0; i < tasks.size(); ++i) {
      EXPECT_EQ(results[i].value, run_task(tasks[i], i, 0).value);
    }
    for (pid_t pid : pool.worker_pids()) EXPECT_EQ(proc_stat(pid)->ppid, fork_server_pid());
  }
  {
    std::lock_guard lock(mutex);
    stop = true;
  }
  cv.notify_all();
  for (auto& t : threads) t.join();
  expect_no_zombies();
}

TEST(Fork, AForkedCopyOfTheCallerCannotUseItsServer) {
  // The copy would share the control socket with its parent and mix up their replies.
  std::fflush(nullptr);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    try {
      ForkPool pool(1);
    } catch (const std::logic_error&) {
      ::_exit(0);
    } catch (...) {
    }
    ::_exit(1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << describe_wait_status(status);
  // The parent's own use is untouched.
  ForkPool pool(1);
  EXPECT_EQ(map(pool, std::vector<Task>(2, make_task("test-echo", "z")))[1].value, "z");
}

// Without a server started up front, the first pool starts one when the process has a single
// thread and refuses when it has more. Each case runs in a fresh copy of this binary.
TEST(ForkLazy, StartsTheServerWhenSingleThreaded) {
  if (!lazy_run()) GTEST_SKIP() << "runs in a child (Fork.LazyStart)";
  ASSERT_EQ(fork_server_pid(), -1);
  ASSERT_EQ(count_threads(), 1);
  ForkPool pool(2);
  EXPECT_GT(fork_server_pid(), 0);
  EXPECT_EQ(map(pool, std::vector<Task>(3, make_task("test-echo", "y")))[2].value, "y");
}

TEST(ForkLazy, RefusesWhenThreadsRun) {
  if (!lazy_run()) GTEST_SKIP() << "runs in a child (Fork.LazyStart)";
  ASSERT_EQ(fork_server_pid(), -1);
  std::atomic<bool> stop{false};
  std::thread thread([&] {
    while (!stop) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  });
  try {
    ForkPool pool(1);
    ADD_FAILURE() << "built a pool by forking a process with threads";
  } catch (const std::logic_error& e) {
    EXPECT_NE(std::string(e.what()).find("start_fork_server()"), std::string::npos) << e.what();
  }
  EXPECT_EQ(fork_server_pid(), -1);
  stop = true;
  thread.join();
}

TEST(Fork, LazyStart) {
  for (const char* test :
       {"ForkLazy.StartsTheServerWhenSingleThreaded", "ForkLazy.RefusesWhenThreadsRun"}) {
    const auto result = testing::run_command(
        {"/proc/self/exe", std::string("--gtest_filter=") + test}, {"CBENCH_TEST_FORK_LAZY=1"});
    EXPECT_EQ(result.exit_code, 0) << test << "\n" << result.out << result.err;
    EXPECT_NE(result.out.find("[  PASSED  ] 1 test"), std::string::npos) << result.out;
  }
}

}  // namespace
}  // namespace cbench
