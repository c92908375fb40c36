// Every executor against the sequential reference, for every workload and several W; completion
// order; errors named; W honoured exactly; 1,000 waiting tasks all in flight at once. No test
// here asserts on elapsed time: concurrency is proven with latches and barriers, which can only
// complete when the tasks really run together.
//
// Every test is parameterised over the registry of executors (one ctest entry per executor and
// test), so a new executor runs all of them with nothing added here. Which apply is decided by
// the executor's traits, never its name: the gates and barriers below are objects of this
// process, so the tests that use them skip executors whose workers are other processes (those
// have their own tests of the same properties: tests/test_fork.cpp, tests/test_mpi.cpp).
#include <gtest/gtest.h>

#include <algorithm>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <atomic>
#include <barrier>
#include <condition_variable>
#include <latch>
#include <map>
#include <mutex>
#include <optional>
#include <semaphore>
#include <thread>

#include "executors/async_task.hpp"
#include "executors/wire.hpp"
#include "experiments/experiment.hpp"
#include "tests/support/fork_environment.hpp"
#include "tests/support/oracle.hpp"
#include "tests/support/registry_params.hpp"
#include "tests/tiny.hpp"

namespace cbench {
namespace {

using testing::kThreadSanitizer;

// The executor under test, and the reasons a test can have not to run it.
class ExecutorTest : public ::testing::TestWithParam<const ExecutorInfo*> {
 protected:
  const ExecutorInfo& info() const { return *GetParam(); }
  const ExecutorTraits& traits() const { return GetParam()->traits; }
  std::string name() const { return std::string(GetParam()->name); }

  void SetUp() override {
    // ThreadSanitizer cannot see the hand-offs of a runtime built without it (Debian's oneTBB)
    // and reports races that are not there.
    if (kThreadSanitizer && !traits().tsan_visible) GTEST_SKIP() << "not visible to TSan";
    // Ranks need a launcher: tests/test_mpi.cpp runs them under mpirun.
    if (traits().needs_launcher) GTEST_SKIP() << "runs under mpirun only (tests/test_mpi.cpp)";
  }
  // Why a test of parallel executors does not apply (the reference has no workers to give);
  // empty when it does.
  std::string not_parallel() const {
    return traits().is_reference() ? "the reference runs every task on the caller" : "";
  }
  // Why a test whose tasks meet at objects of this process (gates, barriers) does not apply.
  std::string not_in_process() const {
    if (auto why = not_parallel(); !why.empty()) return why;
    return traits().shares_memory() ? "" : "its workers are other processes: tested there";
  }
};

// Skips the test, saying why, when `reason` is not empty.
#define SKIP_IF(reason) \
  if (const std::string why_ = (reason); !why_.empty()) GTEST_SKIP() << why_

std::vector<Bytes> values_of(const std::vector<TaskResult>& results) {
  std::vector<Bytes> values;
  for (const auto& r : results) values.push_back(r.value);
  return values;
}

// ---- same results as sequential, every workload, every executor, W in {1, 2, 3, 8} --------

// Each experiment at the size it declares for ctest's tiny benchmark run (the smoke preset): a
// new experiment brings its own.
Options small_options(const Experiment& experiment) {
  return experiment.defaults(&PresetValues::smoke);
}

Corpus test_corpus() {
  if (auto real = testing::real_fixtures()) return load_corpus_from(*real);
  return generated_corpus(2016);
}

TEST_P(ExecutorTest, EveryWorkloadMatchesSequentialForEveryWorkerCount) {
  SKIP_IF(not_parallel());
  const std::string name = this->name();
  const Corpus corpus = test_corpus();
  for (const Experiment* e : experiments()) {
    const Experiment& experiment = *e;
    // Downloads need the fixture server: tests/test_wordcount_http.cpp runs them.
    if (!experiment.server_url_option.empty()) continue;
    const Options options = small_options(experiment);
    const std::vector<Task> tasks = experiment.make_tasks(corpus, options);
    auto reference = values_of(map(*reference_executor().make(1), tasks));
    {
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

TEST_P(ExecutorTest, AnEmptyTaskListIsNoWork) {
  SKIP_IF(not_parallel());
  auto executor = make_executor(name(), 2);
  EXPECT_TRUE(map(*executor, {}).empty()) << name();
}

TEST_P(ExecutorTest, BadWorkerCountsAreErrors) {
  EXPECT_THROW(make_executor(name(), 0), std::invalid_argument) << name();
  EXPECT_THROW(make_executor(name(), -3), std::invalid_argument) << name();
  // An executor with a cap on its workers refuses more than the cap.
  if (traits().worker_cap == 1) {
    EXPECT_THROW(make_executor(name(), 2), std::invalid_argument);
  }
}

// wordfreq's chunks are views of the books, never copies: cut where split_at_whitespace cuts the
// books joined by newlines (an empty book adds none before the first), each chunk's words are
// that piece's, and the views, in order, are every book's bytes exactly once.
TEST(Wordfreq, ChunksAreViewsOfTheJoinedBooksCutAtWhiteSpace) {
  Corpus corpus;
  corpus.books = {{"Empty", ""},
                  {"A", "alpha beta\ngamma"},
                  {"B", "delta"},
                  {"C", ""},
                  {"D", "epsilon zeta eta theta"}};
  std::string joined;
  for (const auto& book : corpus.books) {
    if (!joined.empty()) joined += '\n';
    joined += book.text;
  }
  auto book_of = [&](std::string_view view) -> const Book* {
    for (const auto& book : corpus.books) {
      const char* begin = book.text.data();
      if (view.data() >= begin && view.data() + view.size() <= begin + book.text.size())
        return &book;
    }
    return nullptr;
  };
  const Experiment& wordfreq = find_experiment("wordfreq");
  for (long chunks : {1L, 2L, 3L, 7L, 40L}) {
    Options options = wordfreq.defaults();
    options.set("chunks", chunks);
    const auto tasks = wordfreq.make_tasks(corpus, options);
    const auto expected = split_at_whitespace(joined, static_cast<int>(chunks));
    ASSERT_EQ(tasks.size(), expected.size()) << chunks;
    std::map<const Book*, std::string> rebuilt;
    for (std::size_t i = 0; i < tasks.size(); ++i) {
      EXPECT_TRUE(tasks[i].input->empty());
      for (const auto view : tasks[i].views.views) {
        const Book* book = book_of(view);
        ASSERT_NE(book, nullptr) << "a view of a book, not of a copy";
        rebuilt[book] += view;
      }
      EXPECT_EQ(word_frequencies(tasks[i].views.views), word_frequencies(expected[i]))
          << "chunks " << chunks << ", chunk " << i;
    }
    for (const auto& book : corpus.books) {
      if (!book.text.empty()) {
        EXPECT_EQ(rebuilt[&book], book.text) << book.name;
      }
    }
  }
}

TEST(Executors, UnknownNamesAreErrorsListingTheKnownOnes) {
  try {
    make_executor("gpu", 1);
    FAIL();
  } catch (const std::invalid_argument& e) {
    for (const ExecutorInfo* info : executors()) {
      EXPECT_NE(std::string(e.what()).find(info->name), std::string::npos)
          << "lists the known ones";
    }
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
      return std::all_of(openers_.begin(), openers_.end(),
                         [](const auto& f) { return static_cast<bool>(f); });
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

TEST_P(ExecutorTest, AsCompletedYieldsTasksInTheOrderTheyFinish) {
  SKIP_IF(not_in_process());
  const std::string name = this->name();
  const std::vector<std::size_t> release_order = {3, 0, 5, 1, 4, 2};
  const auto tasks = tasks_of("test-gate", release_order.size());
  {
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

TEST_P(ExecutorTest, MapYieldsTaskOrderWhateverTheCompletionOrder) {
  SKIP_IF(not_in_process());
  const std::string name = this->name();
  const auto tasks = tasks_of("test-gate", 5);
  {
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

TEST_P(ExecutorTest, HonoursTheWorkerCountExactly) {
  SKIP_IF(not_in_process());
  const std::string name = this->name();
  {
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

TEST_P(ExecutorTest, AThousandWaitingTasksAreAllInFlightAtOnce) {
  SKIP_IF(not_in_process());
  const std::string name = this->name();
  const int n = testing::sized(1000, 200);
  if (traits().worker_cap != 0 && traits().worker_cap < n) {
    GTEST_SKIP() << "runs at most " << traits().worker_cap << " workers";
  }
  {
    meeting.reset(n);
    auto executor = make_executor(name, n);
    auto results = map(*executor, tasks_of("test-meet", static_cast<std::size_t>(n)));
    EXPECT_EQ(results.size(), static_cast<std::size_t>(n));
    EXPECT_EQ(meeting.most.load(), n) << name;
    EXPECT_EQ(executor->peak_parallelism(), n) << name;
  }
}

// ---- errors ------------------------------------------------------------------------------

TEST_P(ExecutorTest, AThrowingTaskIsNamedAndTheOthersFinish) {
  const ExecutorInfo& info = this->info();
  std::vector<Task> tasks;
  for (const char* input : {"a", "b", "bad", "d", "e"}) {
    tasks.push_back({&task_kind("test-throw"), std::string("book ") + input,
                     std::make_shared<const Bytes>(input)});
  }
  {
    const int workers = info.traits.worker_cap == 1 ? 1 : 2;
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

TEST_P(ExecutorTest, IsReusableAcrossRuns) {
  const std::string name = this->name();
  {
    auto executor = make_executor(name, traits().worker_cap == 1 ? 1 : 3);
    for (int run = 0; run < 20; ++run) {
      auto results = map(*executor, tasks_of("test-throw", static_cast<std::size_t>(run % 7)));
      EXPECT_EQ(results.size(), static_cast<std::size_t>(run % 7)) << name;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Registry, ExecutorTest, ::testing::ValuesIn(executors()),
                         testing::executor_param_name);

}  // namespace
}  // namespace cbench
