// OpenMP tasks (GCC's libgomp): a team of W threads (`#pragma omp parallel num_threads(W)`), one
// of which generates an `omp task` per task (`#pragma omp single`) while the others, and then it
// too, run them; each result is handed to the caller as it completes.
//
// Why a thread of its own leads the team: the caller must stay free to hand results to
// on_result as they complete, on its own thread, like every other executor. Were the caller the
// team's master, it would have to generate the tasks and could be made to run some itself
// (libgomp runs a task at once when too many are queued), so more than W would run at once. One
// leader serves every executor of the process and lives as long as it, so libgomp keeps its
// threads between runs as an OpenMP program's parallel regions do.
#include <omp.h>

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>

#include "executors/completion_queue.hpp"
#include "executors/executor.hpp"
#include "executors/run_task.hpp"

namespace cbench {
namespace {

// The thread that leads every OpenMP team of the process: one parallel region at a time, handed
// to it by the executors' run(). It lives as long as the process (never joined), and so does
// libgomp's pool of threads it leads: an OpenMP program keeps its threads between parallel
// regions, and a thread that is never torn down never leaves what it holds (OpenSSL's per-thread
// state, say, from a download) half freed at exit.
class Leader {
 public:
  static Leader& get() {
    static Leader* leader = new Leader;  // never destroyed: its thread is never joined
    return *leader;
  }

  // Hands a region to the leader once it is free; returns without waiting for the region.
  void start(std::function<void()> region) {
    std::unique_lock lock(mutex_);
    idle_.wait(lock, [&] { return !busy_; });
    region_ = std::move(region);
    busy_ = true;
    wake_.notify_all();
  }

  // Waits until the leader is free again: the region handed to it has ended.
  void wait_until_free() {
    std::unique_lock lock(mutex_);
    idle_.wait(lock, [&] { return !busy_; });
  }

 private:
  Leader() {
    std::thread([this] { lead(); }).detach();
  }

  void lead() {
    std::unique_lock lock(mutex_);
    while (true) {
      wake_.wait(lock, [&] { return region_ != nullptr; });
      auto region = std::move(region_);
      region_ = nullptr;
      lock.unlock();
      region();
      lock.lock();
      busy_ = false;
      idle_.notify_all();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_, idle_;
  std::function<void()> region_;
  bool busy_ = false;
};

class OmpExecutor final : public Executor {
 public:
  explicit OmpExecutor(int workers) : workers_(workers) {}

  std::string_view name() const override { return "omp"; }
  int workers() const override { return workers_; }
  int peak_parallelism() const override { return in_flight_.peak(); }

  void run(std::span<const Task> tasks, const ResultCallback& on_result) override {
    if (tasks.empty()) return;
    in_flight_.reset();
    CompletionQueue queue(tasks.size());
    start_region(tasks,
                 [&queue](std::size_t, TaskResult&& result) { queue.push(std::move(result)); });
    // Whatever on_result does, the team finishes the run before its task list and queue go away.
    deliver_all(queue, tasks.size(), on_result, [] { Leader::get().wait_until_free(); });
  }

  // Each task leaves its result in place; the caller sleeps until the team has finished.
  void run_into(std::span<const Task> tasks, std::span<TaskResult> results) override {
    if (tasks.empty()) return;
    start_region(tasks,
                 [results](std::size_t i, TaskResult&& result) { results[i] = std::move(result); });
    Leader::get().wait_until_free();
  }

 private:
  // One parallel region of W threads for the run, on the leader; one of them generates a task
  // per task, and each task's result goes to keep(index, result), on the thread that ran it.
  // The region's barrier waits for every task; Leader::wait_until_free() waits for the region.
  template <typename Keep>
  void start_region(std::span<const Task> tasks, Keep keep) {
    in_flight_.reset();
    Leader::get().start([this, tasks, keep, clock = TraceClock::start()] {
#pragma omp parallel num_threads(workers_)
      {
#pragma omp single
        for (std::size_t i = 0; i < tasks.size(); ++i) {
#pragma omp task firstprivate(i)
          {
            in_flight_.enter();
            TaskResult result = run_task(tasks[i], i, omp_get_thread_num(), clock);
            in_flight_.leave();
            keep(i, std::move(result));
          }
        }
      }
    });
  }

  const int workers_;
  InFlight in_flight_;
};

// OpenMP alone: a parallel region of W threads, one generating n empty tasks.
class OmpFloor final : public NativeFloor {
 public:
  explicit OmpFloor(int workers) : workers_(workers), counts_(static_cast<std::size_t>(workers)) {}

  FloorCount run(std::size_t tasks, const FloorTask& task) override {
#pragma omp parallel num_threads(workers_)
    {
#pragma omp single
      for (std::size_t i = 0; i < tasks; ++i) {
#pragma omp task
        counts_[static_cast<std::size_t>(omp_get_thread_num())].run(task);
      }
    }
    return take_total(counts_);
  }

 private:
  const int workers_;
  std::vector<WorkerCount> counts_;
};

// Nested fork-join on OpenMP: a spawn is an `omp task` (a child of the task that spawns it), a
// wait is `omp taskwait`, a scheduling point where the waiting thread may run other tasks. The
// child is two words, copied into the task (firstprivate); its exception stays in the Join,
// since none may leave an OpenMP task.
class OmpSpawner final : public Spawner {
 public:
  void spawn(Join& join, ChildRef child) override {
    Join* group = &join;
#pragma omp task firstprivate(group, child)
    group->run_child(child);
  }
  void wait(Join&) override {
#pragma omp taskwait
  }
};

// A parallel region of W threads on the caller, one of which runs the root (`omp single`); the
// others, and then it too, run the tree's tasks at the region's barrier.
class OmpForkJoin final : public ForkJoin {
 public:
  explicit OmpForkJoin(int workers) : workers_(workers) {}

  Bytes run(const Task& root) override {
    return run_root_on(root, spawner_, [&](auto&& body) {
#pragma omp parallel num_threads(workers_)
      {
#pragma omp single
        body();
      }
    });
  }

 private:
  const int workers_;
  OmpSpawner spawner_;
};

// OpenMP's own fib: an `omp task` per call at or above the cutoff, one child, the other called.
std::uint64_t omp_fib(int n, int cutoff) {
  if (n < cutoff) return fib_sequential(n);
  std::uint64_t a = 0;
#pragma omp task shared(a) firstprivate(n, cutoff)
  a = omp_fib(n - 1, cutoff);
  const std::uint64_t b = omp_fib(n - 2, cutoff);
#pragma omp taskwait
  return a + b;
}

class OmpFib final : public NativeFib {
 public:
  explicit OmpFib(int workers) : workers_(workers) {}
  std::uint64_t fib(int n, int cutoff) override {
    std::uint64_t value = 0;
#pragma omp parallel num_threads(workers_)
    {
#pragma omp single
      value = omp_fib(n, std::max(cutoff, 2));
    }
    return value;
  }

 private:
  const int workers_;
};

}  // namespace

CBENCH_REGISTER_EXECUTOR(omp) = {
    .name = "omp",
    .model = "OpenMP tasks: a team of W threads, one generating an omp task per task",
    // libgomp is not built with ThreadSanitizer, which cannot see its hand-offs. A team of 10,000
    // threads proves nothing 1,000 do not.
    .traits = {.workers = WorkerPlace::threads,
               .cold_mode = true,
               .worker_cap = 1000,
               .tsan_visible = false},
    .make = build<Executor, OmpExecutor>,
    .native_floor = build<NativeFloor, OmpFloor>,
    .fork_join = build<ForkJoin, OmpForkJoin>,
    .native_fib = build<NativeFib, OmpFib>,
};

}  // namespace cbench
