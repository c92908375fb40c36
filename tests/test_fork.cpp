// The fork executor: worker processes from a fork server, tasks as data over sockets; the
// results, their order and the channel (the faults: test_fork_faults.cpp). Nothing here asserts on
// elapsed time: concurrency is proven with a barrier in a file and the workers' pids.
#include "tests/support/fork_test.hpp"

namespace cbench {
namespace {

using namespace fork_test;

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

}  // namespace
}  // namespace cbench
