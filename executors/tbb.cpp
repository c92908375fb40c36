// oneTBB: a tbb::task_group run inside a tbb::task_arena of W slots, under a
// tbb::global_control that lets oneTBB start W workers.
//
// Why W + 1 in global_control: oneTBB counts the thread that calls into it as one of
// max_allowed_parallelism and, by default, caps the total at the number of cores. In run() the
// caller does not take tasks — it waits (asleep) for results to hand them to on_result as they
// complete, like every other executor — so W worker threads need a limit of W + 1. The arena
// reserves no slot for the caller for the same reason; in run_into() (map mode) the caller waits
// inside the arena and may take a free slot, so that at most W threads run tasks either way. A
// fresh arena and control per executor, so a sweep over W never inherits the previous W.
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_group.h>

#include <algorithm>
#include <map>
#include <new>
#include <thread>

#include "executors/completion_queue.hpp"
#include "executors/run_task.hpp"

namespace cbench {
namespace {

class TbbExecutor final : public Executor {
 public:
  explicit TbbExecutor(int workers)
      : workers_(workers),
        control_(tbb::global_control::max_allowed_parallelism,
                 static_cast<std::size_t>(workers) + 1),
        arena_(workers, /*reserved_for_masters=*/0) {
    arena_.initialize();
  }

  std::string_view name() const override { return "tbb"; }
  int workers() const override { return workers_; }
  int peak_parallelism() const override { return in_flight_.peak(); }

  void run(std::span<const Task> tasks, const ResultCallback& on_result) override {
    if (tasks.empty()) return;
    in_flight_.reset();
    CompletionQueue queue(tasks.size());
    const TraceClock clock = TraceClock::start();
    tbb::task_group group;
    arena_.execute([&] {
      for (std::size_t i = 0; i < tasks.size(); ++i) {
        group.run([&, i] {
          in_flight_.enter();
          TaskResult result = run_task(tasks[i], i, worker_number(), clock);
          in_flight_.leave();
          queue.push(std::move(result));
        });
      }
    });
    deliver_all(queue, tasks.size(), on_result, [&] { arena_.execute([&] { group.wait(); }); });
  }

  // Each task leaves its result in place, and the caller waits in the arena, where oneTBB lets it
  // take tasks in a free slot (at most W run at once): no result crosses to the caller.
  void run_into(std::span<const Task> tasks, std::span<TaskResult> results) override {
    if (tasks.empty()) return;
    in_flight_.reset();
    const TraceClock clock = TraceClock::start();
    arena_.execute([&] {
      tbb::task_group group;
      for (std::size_t i = 0; i < tasks.size(); ++i) {
        group.run([&, i] {
          in_flight_.enter();
          // The arena's slot: the caller holds one of the W, so numbering threads as they first
          // run a task could give W + 1 numbers over the executor's life.
          results[i] = run_task(tasks[i], i, tbb::this_task_arena::current_thread_index(), clock);
          in_flight_.leave();
        });
      }
      group.wait();
    });
  }

 private:
  // The worker number of the calling thread: oneTBB's slot indices are not bounded by the
  // arena's concurrency in every state, so threads are numbered 0, 1, ... in the order they
  // first run a task of this executor. A number ≥ W would mean oneTBB used more threads than W
  // over the executor's life, and is reported as it is.
  int worker_number() {
    thread_local std::uint64_t cached_executor = 0;
    thread_local int cached_number = 0;
    if (cached_executor != id_) {
      std::lock_guard lock(numbers_mutex_);
      auto [it, added] =
          numbers_.emplace(std::this_thread::get_id(), static_cast<int>(numbers_.size()));
      cached_executor = id_;
      cached_number = it->second;
    }
    return cached_number;
  }

  static std::uint64_t next_id() {
    static std::atomic<std::uint64_t> ids{0};
    return ++ids;
  }

  const int workers_;
  const std::uint64_t id_ = next_id();
  std::mutex numbers_mutex_;
  std::map<std::thread::id, int> numbers_;
  tbb::global_control control_;
  tbb::task_arena arena_;
  InFlight in_flight_;
};

// oneTBB alone: task_group::run of n empty tasks and one wait, in an arena of W under the same
// global_control as the executor's.
class TbbFloor final : public NativeFloor {
 public:
  explicit TbbFloor(int workers)
      : control_(tbb::global_control::max_allowed_parallelism,
                 static_cast<std::size_t>(workers) + 1),
        arena_(workers, 0),
        counts_(static_cast<std::size_t>(workers) + 1) {
    arena_.initialize();
  }

  FloorCount run(std::size_t tasks, const FloorTask& task) override {
    arena_.execute([&] {
      tbb::task_group group;
      for (std::size_t i = 0; i < tasks; ++i) {
        group.run([this, &task] {
          const int slot = tbb::this_task_arena::current_thread_index();
          counts_[static_cast<std::size_t>(slot) % counts_.size()].run(task);
        });
      }
      group.wait();
    });
    return take_total(counts_);
  }

 private:
  tbb::global_control control_;
  tbb::task_arena arena_;
  std::vector<WorkerCount> counts_;
};

// Nested fork-join on oneTBB: a task_group per Join, built in the Join's own room, run and waited
// as oneTBB's own fork-join is; a thread that waits in task_group::wait takes other tasks.
class TbbSpawner final : public Spawner {
 public:
  static_assert(sizeof(tbb::task_group) <= Join::kStateBytes);

  void open(Join& join) override { new (join.state()) tbb::task_group; }
  void close(Join& join) noexcept override { group(join).~task_group(); }
  void spawn(Join& join, ChildRef child) override {
    group(join).run([&join, child] { join.run_child(child); });
  }
  void wait(Join& join) override { group(join).wait(); }

 private:
  static tbb::task_group& group(Join& join) {
    return *std::launder(static_cast<tbb::task_group*>(join.state()));
  }
};

// The root runs on the caller, inside an arena of W whose one reserved slot it takes: W threads
// in all run the tree, the caller among them (it waits for the root anyway).
class TbbForkJoin final : public ForkJoin {
 public:
  explicit TbbForkJoin(int workers)
      : control_(tbb::global_control::max_allowed_parallelism,
                 static_cast<std::size_t>(workers) + 1),
        arena_(workers, /*reserved_for_masters=*/1) {
    arena_.initialize();
  }

  Bytes run(const Task& root) override {
    return run_root_on(root, spawner_, [&](auto&& body) { arena_.execute(body); });
  }

 private:
  tbb::global_control control_;
  tbb::task_arena arena_;
  TbbSpawner spawner_;
};

// oneTBB's own fib: a task_group per call at or above the cutoff, one child run, the other called.
std::uint64_t tbb_fib(int n, int cutoff) {
  if (n < cutoff) return fib_sequential(n);
  std::uint64_t a = 0;
  tbb::task_group group;
  group.run([&] { a = tbb_fib(n - 1, cutoff); });
  const std::uint64_t b = tbb_fib(n - 2, cutoff);
  group.wait();
  return a + b;
}

class TbbFib final : public NativeFib {
 public:
  explicit TbbFib(int workers)
      : control_(tbb::global_control::max_allowed_parallelism,
                 static_cast<std::size_t>(workers) + 1),
        arena_(workers, 1) {
    arena_.initialize();
  }
  std::uint64_t fib(int n, int cutoff) override {
    std::uint64_t value = 0;
    arena_.execute([&] { value = tbb_fib(n, std::max(cutoff, 2)); });
    return value;
  }

 private:
  tbb::global_control control_;
  tbb::task_arena arena_;
};

}  // namespace

CBENCH_REGISTER_EXECUTOR(tbb) = {
    .name = "tbb",
    .model = "oneTBB task_group in a task_arena of W under global_control",
    // Debian's oneTBB is not built with ThreadSanitizer, which cannot see its hand-offs. oneTBB's
    // pool of worker threads has a hard cap (256, or 4 per core when that is more), whatever
    // global_control asks for: past it, W tasks could never run at once (1,000 blocked tasks
    // would wait forever for the rest to start). 255 workers and the caller stay within it on
    // any machine, and the worker count's rule (executor.hpp) refuses more.
    .traits = {.workers = WorkerPlace::threads, .worker_cap = 255, .tsan_visible = false},
    .make = build<Executor, TbbExecutor>,
    .native_floor = build<NativeFloor, TbbFloor>,
    .fork_join = build<ForkJoin, TbbForkJoin>,
    .native_fib = build<NativeFib, TbbFib>,
};

}  // namespace cbench
