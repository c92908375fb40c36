// Every executor against the sequential reference, for every workload and several W; completion
// order; errors named; W honoured exactly; 1,000 waiting tasks all in flight at once. No test
// here asserts on elapsed time: concurrency is proven with latches and barriers, which can only
// complete when the tasks really run together.
#include <gtest/gtest.h>

#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <algorithm>
#include <atomic>
#include <barrier>
#include <condition_variable>
#include <latch>
#include <mutex>
#include <optional>
#include <semaphore>
#include <thread>

#include "executors/async_task.hpp"
#include "executors/wire.hpp"
#include "experiments/experiment.hpp"
#include "tests/support/fork_environment.hpp"
#include "tests/support/oracle.hpp"
#include "tests/tiny.hpp"

namespace cbench {
namespace {

// This source builds two binaries: test_executors for every executor but oneTBB, and
// test_executors_tbb (CBENCH_TEST_TBB) for oneTBB alone, labelled `tbb` so that the ThreadSanitizer
// run can leave it out: Debian's oneTBB is not built with TSan, which then cannot see its
// hand-offs and reports races that are not there.
#ifdef CBENCH_TEST_TBB
constexpr bool kTbbBinary = true;
#else
constexpr bool kTbbBinary = false;
#endif
bool tested(std::string_view name) { return (name == "tbb") == kTbbBinary; }

// Executors that share the test's memory: the gates and barriers below are in-process objects.
// The fork executor has its own tests for the same properties (tests/test_fork.cpp).
std::vector<std::string> in_process_executors() {
  std::vector<std::string> names;
  for (const char* name : {"thread", "pool", "tbb", "coro"}) {
    if (tested(name)) names.emplace_back(name);
  }
  return names;
}

std::vector<std::string> parallel_executors() {
  std::vector<std::string> names;
  for (const auto& info : executors()) {
    // mpi needs an MPI runtime: tests/test_mpi.cpp runs it under mpirun.
    if (info.name != "sequential" && !info.needs_mpi && tested(info.name)) names.emplace_back(info.name);
  }
  return names;
}

std::vector<Bytes> values_of(const std::vector<TaskResult>& results) {
  std::vector<Bytes> values;
  for (const auto& r : results) values.push_back(r.value);
  return values;
}

// ---- same results as sequential, every workload, every executor, W in {1, 2, 3, 8} --------

ExperimentOptions small_options() {
  ExperimentOptions o;
  o.iterations = testing::sized(2000L, 50L);
  o.size = std::nullopt;
  o.interval = std::chrono::nanoseconds(0);
  return o;
}

Corpus test_corpus() {
  if (auto real = testing::real_fixtures()) return load_corpus_from(*real);
  return generated_corpus(2016);
}

TEST(Executors, EveryWorkloadMatchesSequentialForEveryExecutorAndWorkerCount) {
  const Corpus corpus = test_corpus();
  for (const Experiment& experiment : experiments()) {
    // Downloads need the fixture server: tests/test_wordcount_http.cpp runs them.
    if (experiment.uses(kUsesHttp)) continue;
    ExperimentOptions options = small_options();
    if (experiment.name == "eigen") options.size = testing::sized(40L, 8L);
    if (experiment.name == "count") options.size = 3;
    const std::vector<Task> tasks = experiment.make_tasks(corpus, options);
    auto reference = values_of(map(*make_executor("sequential", 1), tasks));
    for (const std::string& name : parallel_executors()) {
      for (int workers : {1, 2, 3, 8}) {
        auto executor = make_executor(name, workers);
        ASSERT_EQ(executor->workers(), workers);
        auto results = map(*executor, tasks);
        EXPECT_EQ(values_of(results), reference)
            << experiment.name << " on " << name << " with " << workers << " workers";
        EXPECT_LE(executor->peak_parallelism(), workers) << name;
        for (std::size_t i = 0; i < results.size(); ++i) {
          EXPECT_EQ(results[i].index, i);
          EXPECT_GE(results[i].worker, 0);
          EXPECT_LT(results[i].worker, workers) << name;
        }
      }
    }
  }
}

TEST(Executors, AnEmptyTaskListIsNoWork) {
  for (const std::string& name : parallel_executors()) {
    auto executor = make_executor(name, 2);
    EXPECT_TRUE(map(*executor, {}).empty()) << name;
  }
}

TEST(Executors, BadWorkerCountsAndNamesAreErrors) {
  for (const auto& info : executors()) {
    EXPECT_THROW(make_executor(info.name, 0), std::invalid_argument) << info.name;
    EXPECT_THROW(make_executor(info.name, -3), std::invalid_argument) << info.name;
  }
  EXPECT_THROW(make_executor("sequential", 2), std::invalid_argument);
  try {
    make_executor("gpu", 1);
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("pool"), std::string::npos) << "lists the known ones";
  }
}

// ---- test-only task kinds: a gate each task waits on, a barrier, a thrower ---------------

// One gate per task index. A task blocks (thread executors) or suspends (coro) on its gate until
// the test opens it, so the test decides the order in which tasks finish.
class Gates {
 public:
  void reset(std::size_t n) {
    std::lock_guard lock(mutex_);
    opened_.assign(n, false);
    openers_.assign(n, {});
  }
  // The task side: `open` is how the test will wake this task.
  void arm(std::size_t i, std::function<void()> open) {
    std::lock_guard lock(mutex_);
    openers_[i] = std::move(open);
    if (opened_[i]) openers_[i]();
    armed_.notify_all();
  }
  // The test side: waits until every task is waiting, so that all are in flight together.
  void wait_until_all_armed() {
    std::unique_lock lock(mutex_);
    armed_.wait(lock, [&] {
      return std::all_of(openers_.begin(), openers_.end(), [](const auto& f) { return static_cast<bool>(f); });
    });
  }
  // The test side: waits until task i is waiting, then wakes it.
  void open(std::size_t i) {
    std::unique_lock lock(mutex_);
    armed_.wait(lock, [&] { return static_cast<bool>(openers_[i]); });
    opened_[i] = true;
    openers_[i]();
  }

 private:
  std::mutex mutex_;
  std::condition_variable armed_;
  std::vector<bool> opened_;
  std::vector<std::function<void()>> openers_;
};
Gates gates;

Bytes run_gate(std::string_view input) {
  wire::Reader in(input);
  const auto i = in.u64();
  std::binary_semaphore released(0);
  gates.arm(i, [&] { released.release(); });
  released.acquire();
  return wire::Writer().u64(i).take();
}

asio::awaitable<Bytes> run_gate_async(std::string_view input) {
  wire::Reader in(input);
  const auto i = in.u64();
  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer timer(executor, asio::steady_timer::time_point::max());
  gates.arm(i, [&timer, executor] { asio::post(executor, [&timer] { timer.cancel(); }); });
  try {
    co_await timer.async_wait(asio::use_awaitable);
  } catch (const std::system_error&) {  // cancelled: the gate opened
  }
  co_return wire::Writer().u64(i).take();
}

// All tasks of a phase must be in flight together for any to finish: a barrier of `parties`.
// `running` counts tasks inside, `most` the most seen at once, so that the test checks W with a
// counter of its own, not only the executor's report.
struct Meeting {
  std::atomic<int> running{0}, most{0};
  std::optional<std::barrier<>> barrier;  // thread executors
  // coro: one thread, so plain counters; the last to arrive wakes the others.
  int parties = 0, arrived = 0;
  std::vector<asio::steady_timer*> waiting;

  void reset(int n) {
    running = 0;
    most = 0;
    barrier.emplace(n);
    parties = n;
    arrived = 0;
    waiting.clear();
  }
  void enter() {
    int now = ++running;
    int seen = most.load();
    while (now > seen && !most.compare_exchange_weak(seen, now)) {
    }
  }
};
Meeting meeting;

Bytes run_meet(std::string_view) {
  meeting.enter();
  meeting.barrier->arrive_and_wait();
  --meeting.running;
  return "met";
}

asio::awaitable<Bytes> run_meet_async(std::string_view) {
  meeting.enter();
  auto executor = co_await asio::this_coro::executor;  // not inside the constructor call: GCC 12
  asio::steady_timer timer(executor, asio::steady_timer::time_point::max());
  if (++meeting.arrived == meeting.parties) {
    for (auto* t : meeting.waiting) t->cancel();
    meeting.waiting.clear();
    meeting.arrived = 0;
  } else {
    meeting.waiting.push_back(&timer);
    try {
      co_await timer.async_wait(asio::use_awaitable);
    } catch (const std::system_error&) {
    }
  }
  --meeting.running;
  co_return "met";
}

Bytes run_throw(std::string_view input) {
  if (input == "bad") throw std::runtime_error("this task was told to fail");
  return std::string(input);
}

[[maybe_unused]] const bool kRegistered = [] {
  register_task_kind({"test-gate", run_gate});
  register_async_form("test-gate", run_gate_async);
  register_task_kind({"test-meet", run_meet});
  register_async_form("test-meet", run_meet_async);
  register_task_kind({"test-throw", run_throw});
  return true;
}();

std::vector<Task> tasks_of(std::string_view kind, std::size_t n) {
  std::vector<Task> tasks;
  for (std::size_t i = 0; i < n; ++i) {
    tasks.push_back({&task_kind(kind), "task " + std::to_string(i),
                     std::make_shared<const Bytes>(wire::Writer().u64(i).take())});
  }
  return tasks;
}

// ---- completion order ----------------------------------------------------------------------

TEST(Executors, AsCompletedYieldsTasksInTheOrderTheyFinish) {
  const std::vector<std::size_t> release_order = {3, 0, 5, 1, 4, 2};
  const auto tasks = tasks_of("test-gate", release_order.size());
  for (const std::string& name : in_process_executors()) {
    auto executor = make_executor(name, static_cast<int>(tasks.size()));
    gates.reset(tasks.size());
    std::mutex mutex;
    std::condition_variable delivered_cv;
    std::vector<std::size_t> delivered;
    // The test releases one task, waits until its result is delivered, then the next.
    std::thread releaser([&] {
      gates.wait_until_all_armed();
      for (std::size_t k = 0; k < release_order.size(); ++k) {
        gates.open(release_order[k]);
        std::unique_lock lock(mutex);
        delivered_cv.wait(lock, [&] { return delivered.size() > k; });
      }
    });
    executor->run(tasks, [&](TaskResult&& r) {
      ASSERT_TRUE(r.ok()) << r.error;
      std::lock_guard lock(mutex);
      delivered.push_back(r.index);
      delivered_cv.notify_all();
    });
    releaser.join();
    EXPECT_EQ(delivered, release_order) << name;
    EXPECT_EQ(executor->peak_parallelism(), static_cast<int>(tasks.size())) << name;
  }
}

TEST(Executors, MapYieldsTaskOrderWhateverTheCompletionOrder) {
  const auto tasks = tasks_of("test-gate", 5);
  for (const std::string& name : in_process_executors()) {
    auto executor = make_executor(name, 5);
    gates.reset(tasks.size());
    std::thread releaser([&] {
      for (std::size_t i : {4, 2, 0, 3, 1}) gates.open(i);
    });
    auto results = map(*executor, tasks);
    releaser.join();
    for (std::size_t i = 0; i < results.size(); ++i) {
      EXPECT_EQ(results[i].value, wire::Writer().u64(i).take()) << name;
    }
  }
}

// ---- W honoured exactly ----------------------------------------------------------------

TEST(Executors, HonourTheWorkerCountExactly) {
  for (const std::string& name : in_process_executors()) {
    for (int workers : {1, 2, 3, 8}) {
      // 3W tasks meeting W at a time: they can only finish if W run together, and the counter
      // shows no more than W ever did.
      meeting.reset(workers);
      auto executor = make_executor(name, workers);
      auto results = map(*executor, tasks_of("test-meet", 3 * static_cast<std::size_t>(workers)));
      EXPECT_EQ(results.size(), 3u * workers);
      EXPECT_EQ(meeting.most.load(), workers) << name << " ran more or fewer than W at once";
      EXPECT_EQ(executor->peak_parallelism(), workers) << name;
    }
  }
}

TEST(Executors, AThousandWaitingTasksAreAllInFlightAtOnce) {
  if (kTbbBinary) GTEST_SKIP() << "thread and coro only";
  const int n = testing::sized(1000, 200);
  for (std::string name : {"thread", "coro"}) {
    if (!tested(name)) continue;
    meeting.reset(n);
    auto executor = make_executor(name, n);
    auto results = map(*executor, tasks_of("test-meet", static_cast<std::size_t>(n)));
    EXPECT_EQ(results.size(), static_cast<std::size_t>(n));
    EXPECT_EQ(meeting.most.load(), n) << name;
    EXPECT_EQ(executor->peak_parallelism(), n) << name;
  }
}

// ---- errors ------------------------------------------------------------------------------

TEST(Executors, AThrowingTaskIsNamedAndTheOthersFinish) {
  std::vector<Task> tasks;
  for (const char* input : {"a", "b", "bad", "d", "e"}) {
    tasks.push_back({&task_kind("test-throw"), std::string("book ") + input,
                     std::make_shared<const Bytes>(input)});
  }
  for (const auto& info : executors()) {
    if (!tested(info.name) || info.needs_mpi) continue;
    const int workers = info.name == "sequential" ? 1 : 2;
    auto executor = make_executor(info.name, workers);
    std::vector<TaskResult> results;
    executor->run(tasks, [&](TaskResult&& r) { results.push_back(std::move(r)); });
    ASSERT_EQ(results.size(), tasks.size()) << info.name;
    for (const auto& r : results) {
      if (tasks[r.index].name == "book bad") {
        EXPECT_EQ(r.error, "this task was told to fail") << info.name;
      } else {
        EXPECT_TRUE(r.ok()) << info.name << ": " << r.error;
        EXPECT_EQ(r.value, *tasks[r.index].input);
      }
    }
    try {
      map(*executor, tasks);
      FAIL() << info.name << ": map hid the failure";
    } catch (const TaskError& e) {
      EXPECT_EQ(e.task(), "book bad");
      EXPECT_STREQ(e.what(), "book bad: this task was told to fail");
    }
  }
}

TEST(Executors, AnExecutorIsReusableAcrossRuns) {
  for (const std::string& name : parallel_executors()) {
    auto executor = make_executor(name, 3);
    for (int run = 0; run < 20; ++run) {
      auto results = map(*executor, tasks_of("test-throw", static_cast<std::size_t>(run % 7)));
      EXPECT_EQ(results.size(), static_cast<std::size_t>(run % 7)) << name;
    }
  }
}

}  // namespace
}  // namespace cbench
