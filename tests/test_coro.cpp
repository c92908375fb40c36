// The coroutine type of the asynchronous forms (coro/async.hpp) and its frame pool
// (coro/frame_pool.hpp): values and exceptions reach the awaiting coroutine, frames and wait
// operations go back to the pool, and the coro executor leaves the pool empty after a run,
// whether its tasks succeed, throw or never wait. No timing is asserted.
#include <gtest/gtest.h>

#include <algorithm>
#include <asio/io_context.hpp>
#include <chrono>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "coro/async.hpp"
#include "coro/frame_pool.hpp"
#include "coro/timer.hpp"
#include "executors/async_task.hpp"
#include "executors/executor.hpp"

namespace cbench {
namespace {

std::size_t blocks_in_use() {
  return FramePool::local().stats().blocks_in_use;
}

// ---- the pool ----------------------------------------------------------------------------

TEST(FramePool, AFreedBlockIsReusedForTheSameSize) {
  FramePool pool;
  void* a = pool.allocate(200);
  void* b = pool.allocate(200);
  EXPECT_NE(a, b);
  EXPECT_EQ(pool.stats().blocks_in_use, 2u);
  EXPECT_EQ(pool.stats().bytes_in_use, 2 * 208u);  // rounded up to 16 bytes
  pool.deallocate(a, 200);
  EXPECT_EQ(pool.allocate(193), a);  // the same size class
  pool.deallocate(a, 193);
  pool.deallocate(b, 200);
  EXPECT_EQ(pool.stats().blocks_in_use, 0u);
  EXPECT_EQ(pool.stats().bytes_in_use, 0u);
}

TEST(FramePool, BlocksAreAlignedLikeOperatorNew) {
  FramePool pool;
  std::vector<void*> blocks;
  for (std::size_t size : {1, 17, 24, 100, 1000, 1024}) {
    void* p = pool.allocate(size);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % __STDCPP_DEFAULT_NEW_ALIGNMENT__, 0u) << size;
    blocks.push_back(p);
  }
  std::size_t i = 0;
  for (std::size_t size : {1, 17, 24, 100, 1000, 1024}) pool.deallocate(blocks[i++], size);
  EXPECT_TRUE(pool.release_unused());
}

TEST(FramePool, SlabsGoBackOnlyWhenNothingIsInUse) {
  FramePool pool;
  std::vector<void*> blocks;
  for (int i = 0; i < 1000; ++i) blocks.push_back(pool.allocate(224));
  EXPECT_GE(pool.stats().slab_bytes, 1000u * 224);
  pool.deallocate(blocks.back(), 224);
  blocks.pop_back();
  EXPECT_FALSE(pool.release_unused());
  EXPECT_GT(pool.stats().slab_bytes, 0u);
  for (void* p : blocks) pool.deallocate(p, 224);
  EXPECT_TRUE(pool.release_unused());
  EXPECT_EQ(pool.stats().slab_bytes, 0u);
  // And it serves again after.
  void* p = pool.allocate(64);
  pool.deallocate(p, 64);
  EXPECT_TRUE(pool.release_unused());
}

#if defined(__SANITIZE_ADDRESS__)
TEST(FramePool, AddressSanitizerSeesAFreedBlockUsed) {
  FramePool pool;
  char* p = static_cast<char*>(pool.allocate(64));
  pool.deallocate(p, 64);
  EXPECT_DEATH(p[8] = 1, "use-after-poison");
  EXPECT_TRUE(pool.release_unused());
}
#endif

TEST(FramePool, LargeBlocksComeFromOperatorNew) {
  FramePool pool;
  void* p = pool.allocate(FramePool::kLargest + 1);
  EXPECT_EQ(pool.stats().blocks_in_use, 1u);
  EXPECT_EQ(pool.stats().slab_bytes, 0u);
  EXPECT_FALSE(pool.release_unused());
  pool.deallocate(p, FramePool::kLargest + 1);
  EXPECT_TRUE(pool.release_unused());
}

// ---- Async ---------------------------------------------------------------------------------

// A root that remembers that it was told.
struct Root final : AsyncOwner {
  AsyncRoot root{this};
  int told = 0;
  void finished(AsyncRoot&) noexcept override { ++told; }
};

Async<int> forty_two() {
  co_return 42;
}

Async<int> failing(std::string why) {
  throw std::runtime_error(why);
  co_return 0;  // a coroutine: the exception is its outcome, not its call's
}

Async<std::string> outer() {
  const int value = co_await forty_two();
  std::string caught;
  try {
    co_await failing("inner failed");
  } catch (const std::runtime_error& e) {
    caught = e.what();
  }
  co_return std::to_string(value) + " " + caught;
}

TEST(Async, ValuesAndExceptionsReachTheAwaitingCoroutine) {
  const std::size_t before = blocks_in_use();
  asio::io_context loop;
  Root root;
  Async<std::string> task = outer();
  EXPECT_EQ(blocks_in_use(), before + 1);  // lazy: the frame only, nothing run yet
  task.start(loop, root.root);
  EXPECT_EQ(root.told, 1);  // it never waited, so it ended inside start()
  ASSERT_TRUE(task.done());
  EXPECT_EQ(task.take(), "42 inner failed");
  task.reset();
  EXPECT_EQ(blocks_in_use(), before);
}

TEST(Async, TheRootTakesAnEscapedException) {
  const std::size_t before = blocks_in_use();
  asio::io_context loop;
  Root root;
  Async<int> task = failing("the root's");
  task.start(loop, root.root);
  ASSERT_EQ(root.told, 1);
  try {
    task.take();
    FAIL() << "take() hid the exception";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "the root's");
  }
  task.reset();
  EXPECT_EQ(blocks_in_use(), before);
}

TEST(Async, ADestroyedAsyncThatNeverRanFreesItsFrame) {
  const std::size_t before = blocks_in_use();
  {
    Async<std::string> task = outer();
    EXPECT_EQ(blocks_in_use(), before + 1);
  }
  EXPECT_EQ(blocks_in_use(), before);
}

// n coroutines wait on timers that never expire; the test cancels them once all wait.
Async<void> wait_cancelled(std::vector<Timer*>& timers, int& released) {
  Timer timer;
  timers.push_back(&timer);
  const asio::error_code& error = co_await timer.wait();
  if (error == asio::error::operation_aborted) ++released;
}

TEST(Async, AWaitingCoroutineHoldsItsFrameAloneFromThePool) {
  constexpr int kTasks = 100;
  const std::size_t before = blocks_in_use();
  asio::io_context loop;
  std::vector<Timer*> timers;
  int released = 0;
  std::vector<Root> roots(kTasks);
  std::vector<Async<void>> tasks;
  for (int i = 0; i < kTasks; ++i) {
    tasks.push_back(wait_cancelled(timers, released));
    tasks.back().start(loop, roots[i].root);
  }
  ASSERT_EQ(timers.size(), static_cast<std::size_t>(kTasks));
  EXPECT_EQ(blocks_in_use(), before + kTasks);  // a frame each: the wait allocates nothing
  EXPECT_EQ(TimerQueue::of(loop).dated(), 0u);  // and a timer with no deadline, no heap entry
  for (auto* t : timers) EXPECT_EQ(t->cancel(), 1u);
  EXPECT_EQ(released, 0);  // resumed from the loop, never inside cancel()
  loop.run();
  EXPECT_EQ(released, kTasks);
  for (int i = 0; i < kTasks; ++i) {
    EXPECT_EQ(roots[i].told, 1);
    tasks[i].take();
  }
  EXPECT_EQ(blocks_in_use(), before + kTasks);  // the frames ended, not yet destroyed
  tasks.clear();
  EXPECT_EQ(blocks_in_use(), before);
}

// As the executor's slot does: takes the value and destroys the frame from inside its end.
struct Destroying final : AsyncOwner {
  AsyncRoot root{this};
  Async<std::string>* task = nullptr;
  std::string value;
  void finished(AsyncRoot&) noexcept override {
    value = task->take();
    task->reset();
  }
};

Async<std::string> wait_then_return(std::vector<Timer*>& timers, int& released) {
  co_await wait_cancelled(timers, released);
  co_return std::string("a value longer than the string's own small buffer");
}

TEST(Async, TheRootMayDestroyTheFrameWhenItIsTold) {
  const std::size_t before = blocks_in_use();
  asio::io_context loop;
  std::vector<Timer*> timers;
  int released = 0;
  Destroying root;
  Async<std::string> task = wait_then_return(timers, released);
  root.task = &task;
  task.start(loop, root.root);
  ASSERT_EQ(timers.size(), 1u);
  EXPECT_EQ(blocks_in_use(), before + 2);  // two frames
  timers[0]->cancel();
  loop.run();
  EXPECT_EQ(released, 1);
  EXPECT_EQ(root.value, "a value longer than the string's own small buffer");
  EXPECT_FALSE(task);
  EXPECT_EQ(blocks_in_use(), before);
}

TEST(Async, AnExpiredTimerResumesWithNoError) {
  asio::io_context loop;
  Root root;
  auto task = []() -> Async<bool> {
    Timer timer;
    timer.expires_after(std::chrono::milliseconds(1));
    const asio::error_code& error = co_await timer.wait();
    co_return !error;
  }();
  task.start(loop, root.root);
  EXPECT_EQ(root.told, 0);
  loop.run();
  ASSERT_EQ(root.told, 1);
  EXPECT_TRUE(task.take());
}

// ---- cbench::Timer: the loop's own timers ---------------------------------------------------

// Waits until `after`, then records its number and whether the deadline had passed.
struct Woken {
  int number;
  Timer::time_point expiry;
  bool late_enough;
  bool aborted;
};
Async<void> sleep_then_record(std::chrono::microseconds after, int number,
                              std::vector<Woken>& woken, std::vector<Timer*>* timers = nullptr) {
  Timer timer;
  timer.expires_after(after);
  if (timers != nullptr) timers->push_back(&timer);
  const asio::error_code& error = co_await timer.wait();
  woken.push_back({number, timer.expiry(), Timer::clock_type::now() >= timer.expiry(),
                   error == asio::error::operation_aborted});
}

// 300 timers with deadlines in a random order, a third of them cancelled at random: the others
// wake in the order of their deadlines, none before its own; the cancelled ones first, aborted.
TEST(Timer, WakesInTheOrderOfItsDeadlinesAndCancelsAnyOfThem) {
  constexpr int kTimers = 300;
  std::mt19937 random(2026);
  std::vector<int> order(kTimers);
  for (int i = 0; i < kTimers; ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), random);
  asio::io_context loop;
  std::vector<Woken> woken;
  std::vector<Timer*> timers;
  std::vector<Root> roots(kTimers);
  std::vector<Async<void>> tasks;
  for (int i = 0; i < kTimers; ++i) {  // task i sleeps order[i] * 50 µs
    tasks.push_back(sleep_then_record(std::chrono::microseconds(order[i] * 50), i, woken, &timers));
    tasks.back().start(loop, roots[i].root);
  }
  EXPECT_EQ(TimerQueue::of(loop).dated(), static_cast<std::size_t>(kTimers));
  std::vector<bool> cancelled(kTimers, false);
  for (int i = 0; i < kTimers; ++i) {
    if (random() % 3 == 0) {
      cancelled[i] = true;
      EXPECT_EQ(timers[i]->cancel(), 1u);
      EXPECT_EQ(timers[i]->cancel(), 0u);  // already ending
    }
  }
  loop.run();
  ASSERT_EQ(woken.size(), static_cast<std::size_t>(kTimers));
  std::size_t i = 0;
  for (; i < woken.size() && woken[i].aborted; ++i) EXPECT_TRUE(cancelled[woken[i].number]);
  Timer::time_point last_deadline = Timer::time_point::min();
  for (; i < woken.size(); ++i) {
    const Woken& w = woken[i];
    EXPECT_FALSE(w.aborted);
    EXPECT_FALSE(cancelled[w.number]) << "task " << w.number << " woke though cancelled";
    EXPECT_TRUE(w.late_enough) << "task " << w.number << " woke before its deadline";
    EXPECT_GE(w.expiry, last_deadline) << "task " << w.number << " woke out of order";
    last_deadline = w.expiry;
  }
  EXPECT_EQ(TimerQueue::of(loop).dated(), 0u);
}

// A new deadline ends the pending wait (operation_aborted), as Asio's timers do; the timer can
// then be waited on again. (A function, not a lambda with captures: those would die with the
// lambda, before the coroutine reads them.)
Async<int> wait_twice(Timer*& shared) {
  Timer timer;
  shared = &timer;
  timer.expires_after(std::chrono::hours(1));
  const bool first_aborted = (co_await timer.wait()) == asio::error::operation_aborted;
  timer.expires_after(std::chrono::microseconds(10));
  const bool second_expired = !(co_await timer.wait());
  co_return (first_aborted ? 1 : 0) + (second_expired ? 2 : 0);
}

TEST(Timer, ANewDeadlineEndsThePendingWaitAndTheTimerWaitsAgain) {
  asio::io_context loop;
  Root root;
  Timer* shared = nullptr;
  Async<int> task = wait_twice(shared);
  task.start(loop, root.root);
  ASSERT_NE(shared, nullptr);
  EXPECT_EQ(shared->expires_after(std::chrono::hours(2)), 1u);
  loop.run();
  ASSERT_EQ(root.told, 1);
  EXPECT_EQ(task.take(), 3);
}

// A waiting coroutine destroyed with its frame withdraws its timer: the loop then has nothing
// left to do and returns, and resumes nothing.
TEST(Timer, ATimerDestroyedWhileWaitingWithdrawsItsWait) {
  const std::size_t before = blocks_in_use();
  asio::io_context loop;
  std::vector<Woken> woken;
  {
    Root dated_root, undated_root;
    Async<void> dated = sleep_then_record(std::chrono::hours(1), 1, woken);
    dated.start(loop, dated_root.root);
    std::vector<Timer*> timers;
    int released = 0;
    Async<void> undated = wait_cancelled(timers, released);
    undated.start(loop, undated_root.root);
    EXPECT_EQ(TimerQueue::of(loop).dated(), 1u);
  }
  EXPECT_EQ(TimerQueue::of(loop).dated(), 0u);
  loop.run();  // returns at once: no wait keeps it (the loop's own wake is cancelled)
  EXPECT_TRUE(woken.empty());
  EXPECT_EQ(blocks_in_use(), before);  // the frames, and the loop's wake operation
}

// ---- the coro executor ----------------------------------------------------------------------

Async<Bytes> run_wait_then_throw(std::string_view input) {
  Timer timer;
  timer.expires_after(std::chrono::microseconds(100));
  co_await timer.wait();
  if (input == "bad") throw std::runtime_error("this coroutine was told to fail");
  co_return std::string(input);
}

Async<Bytes> run_no_wait(std::string_view input) {
  co_return std::string(input);
}

Bytes run_sync(std::string_view input) {
  return std::string(input);
}

[[maybe_unused]] const bool kRegistered = [] {
  register_task_kind({"test-coro-throw", run_sync});
  register_async_form("test-coro-throw", run_wait_then_throw);
  register_task_kind({"test-coro-no-wait", run_sync});
  register_async_form("test-coro-no-wait", run_no_wait);
  return true;
}();

std::vector<Task> tasks_of(std::string_view kind, const std::vector<std::string>& inputs) {
  std::vector<Task> tasks;
  for (const auto& input : inputs) {
    tasks.push_back({&task_kind(kind), "task " + input, std::make_shared<const Bytes>(input)});
  }
  return tasks;
}

TEST(CoroExecutor, AThrowingCoroutineGetsItsErrorAndThePoolEndsEmpty) {
  const auto tasks = tasks_of("test-coro-throw", {"a", "b", "bad", "d", "e"});
  for (int workers : {1, 2, 5}) {
    auto executor = make_executor("coro", workers);
    std::vector<TaskResult> results;
    executor->run(tasks, [&](TaskResult&& r) { results.push_back(std::move(r)); });
    ASSERT_EQ(results.size(), tasks.size());
    for (const auto& r : results) {
      EXPECT_LT(r.worker, workers);
      if (tasks[r.index].name == "task bad") {
        EXPECT_EQ(r.error, "this coroutine was told to fail");
      } else {
        EXPECT_TRUE(r.ok()) << r.error;
        EXPECT_EQ(r.value, *tasks[r.index].input);
      }
      EXPECT_LE(r.start, r.end);
    }
    EXPECT_EQ(executor->peak_parallelism(), workers);
    EXPECT_EQ(blocks_in_use(), 0u);
    EXPECT_EQ(FramePool::local().stats().slab_bytes, 0u);
    try {
      map(*executor, tasks);
      FAIL() << "map hid the failure";
    } catch (const TaskError& e) {
      EXPECT_EQ(e.task(), "task bad");
    }
    EXPECT_EQ(FramePool::local().stats().slab_bytes, 0u);
  }
}

TEST(CoroExecutor, ManyCoroutinesThatNeverWaitRunOneAfterAnother) {
  // Each ends inside its own start: the executor starts the next from its loop, not from inside
  // the one that ended, so the stack does not grow with the number of tasks.
  std::vector<std::string> inputs;
  for (int i = 0; i < 20000; ++i) inputs.push_back(std::to_string(i));
  const auto tasks = tasks_of("test-coro-no-wait", inputs);
  for (int workers : {1, 3}) {
    auto executor = make_executor("coro", workers);
    std::vector<std::size_t> order;
    executor->run(tasks, [&](TaskResult&& r) {
      ASSERT_TRUE(r.ok()) << r.error;
      EXPECT_EQ(r.value, *tasks[r.index].input);
      order.push_back(r.index);
    });
    ASSERT_EQ(order.size(), tasks.size());
    for (std::size_t i = 0; i < order.size(); ++i) EXPECT_EQ(order[i], i);
    EXPECT_EQ(executor->peak_parallelism(), 1);  // each ends before the next starts
    EXPECT_EQ(blocks_in_use(), 0u);
  }
}

TEST(CoroExecutor, ACallbackThatThrowsEndsTheRunAfterTheTasksInFlight) {
  const auto tasks = tasks_of("test-coro-throw", {"a", "b", "c", "d", "e", "f"});
  auto executor = make_executor("coro", 3);
  int delivered = 0;
  try {
    executor->run(tasks, [&](TaskResult&&) {
      ++delivered;
      throw std::logic_error("the caller gave up");
    });
    FAIL() << "run() hid the callback's exception";
  } catch (const std::logic_error& e) {
    EXPECT_STREQ(e.what(), "the caller gave up");
  }
  // The three in flight were delivered; none was started after the first failure.
  EXPECT_EQ(delivered, 3);
  EXPECT_EQ(blocks_in_use(), 0u);
  EXPECT_EQ(FramePool::local().stats().slab_bytes, 0u);
}

}  // namespace
}  // namespace cbench
