// The fork executor's faults: workers that die or are killed, callbacks that throw, no zombie or
// descriptor left, a pool after threads exist, and the fork server's lazy start.
#include "tests/support/fork_test.hpp"

namespace cbench {
namespace {

using namespace fork_test;

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

// One run of `tasks`, in which task `fatal` ends its worker, checked whole; `held` is how many
// tasks the worker held when it died.
void run_with_one_death(ForkPool& pool, const std::vector<Task>& tasks, std::size_t fatal,
                        std::size_t& held) {
  const std::size_t n = tasks.size();
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
  held = failed.size();
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
    std::size_t held = 0;
    ASSERT_NO_FATAL_FAILURE(run_with_one_death(pool, tasks, fatal, held));
    most_held = std::max(most_held, held);
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
