// ThreadPoolExecutor: W long-lived std::thread workers built with the executor (outside any timed
// region), each claiming the run's tasks one at a time, each result delivered as it completes
// (completion_queue.hpp).
//
// There is no queue of tasks: a run publishes its task list and an atomic counter over it, and a
// worker claims the next task with one fetch_add, so handing out a task costs no lock and no
// allocation (a locked queue of closures would cost both, per task). The work still balances: a
// worker that finishes early claims more. Workers sleep on a condition variable between runs.
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "executors/completion_queue.hpp"
#include "executors/pool_fork_join.hpp"
#include "executors/run_task.hpp"

namespace cbench {
namespace {

class PoolExecutor final : public Executor {
 public:
  explicit PoolExecutor(int workers) : workers_(workers) {
    threads_.reserve(static_cast<std::size_t>(workers));
    for (int w = 0; w < workers; ++w) threads_.emplace_back([this, w] { work(w); });
  }

  ~PoolExecutor() override {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (auto& t : threads_) t.join();
  }

  std::string_view name() const override { return "pool"; }
  int workers() const override { return workers_; }
  int peak_parallelism() const override { return in_flight_.peak(); }

  void run(std::span<const Task> tasks, const ResultCallback& on_result) override {
    if (tasks.empty()) return;
    CompletionQueue queue(tasks.size());
    start(tasks, &queue, {});
    // Whatever on_result does, the workers leave the run before the queue goes away.
    deliver_all(queue, tasks.size(), on_result, [&] { finish(); });
  }

  // Each worker leaves its results in place; the caller sleeps until the last has checked out.
  void run_into(std::span<const Task> tasks, std::span<TaskResult> results) override {
    if (tasks.empty()) return;
    start(tasks, nullptr, results);
    finish();
  }

 private:
  // Publishes a run: its results go to the queue, or in place when there is none.
  void start(std::span<const Task> tasks, CompletionQueue* queue, std::span<TaskResult> results) {
    in_flight_.reset();
    {
      std::lock_guard lock(mutex_);
      tasks_ = tasks;
      queue_ = queue;
      results_ = results;
      clock_ = TraceClock::start();
      next_.store(0, std::memory_order_relaxed);
      ++generation_;
      // Every worker checks in and out of every run, so none can arrive late and claim a task
      // index of the next run with the task list of this one.
      busy_ = workers_;
    }
    wake_.notify_all();
  }

  void work(int worker) {
    std::uint64_t seen = 0;
    while (true) {
      std::span<const Task> tasks;
      CompletionQueue* queue = nullptr;
      std::span<TaskResult> results;
      TraceClock clock;
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
        if (stopping_) return;
        seen = generation_;
        tasks = tasks_;
        queue = queue_;
        results = results_;
        clock = clock_;
      }
      for (std::size_t i; (i = next_.fetch_add(1, std::memory_order_relaxed)) < tasks.size();) {
        in_flight_.enter();
        if (queue == nullptr) {
          results[i] = run_task(tasks[i], i, worker, clock);
          in_flight_.leave();
          continue;
        }
        TaskResult result = run_task(tasks[i], i, worker, clock);
        in_flight_.leave();
        queue->push(std::move(result));
      }
      {
        std::lock_guard lock(mutex_);
        if (--busy_ == 0) idle_.notify_all();
      }
    }
  }

  // Every worker has checked out of the run: the caller may free its task list and queue.
  void finish() {
    std::unique_lock lock(mutex_);
    idle_.wait(lock, [&] { return busy_ == 0; });
    tasks_ = {};
    queue_ = nullptr;
    results_ = {};
  }

  const int workers_;
  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::condition_variable wake_, idle_;
  std::uint64_t generation_ = 0;
  int busy_ = 0;
  bool stopping_ = false;
  std::span<const Task> tasks_;
  CompletionQueue* queue_ = nullptr;
  std::span<TaskResult> results_;
  TraceClock clock_;
  std::atomic<std::size_t> next_{0};
  InFlight in_flight_;
};

// A thread pool as it is usually written: W threads, a queue of callables behind a mutex and a
// condition variable, one notify per task; the caller waits until the last task is done.
class CvPoolFloor final : public NativeFloor {
 public:
  explicit CvPoolFloor(int workers) : counts_(static_cast<std::size_t>(workers)) {
    for (int w = 0; w < workers; ++w) threads_.emplace_back([this, w] { work(w); });
  }
  ~CvPoolFloor() override {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    ready_.notify_all();
    for (auto& t : threads_) t.join();
  }

  FloorCount run(std::size_t tasks, const FloorTask& task) override {
    {
      std::lock_guard lock(mutex_);
      done_ = 0;
      target_ = tasks;
    }
    for (std::size_t i = 0; i < tasks; ++i) {
      {
        std::lock_guard lock(mutex_);
        queue_.emplace_back(
            [this, &task](int w) { counts_[static_cast<std::size_t>(w)].run(task); });
      }
      ready_.notify_one();
    }
    std::unique_lock lock(mutex_);
    finished_.wait(lock, [&] { return done_ == target_; });
    return take_total(counts_);
  }

 private:
  void work(int w) {
    std::unique_lock lock(mutex_);
    while (true) {
      ready_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      auto task = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      task(w);
      lock.lock();
      if (++done_ == target_) finished_.notify_one();
    }
  }

  std::mutex mutex_;
  std::condition_variable ready_, finished_;
  std::deque<std::function<void(int)>> queue_;
  std::size_t done_ = 0, target_ = 0;
  bool stopping_ = false;
  std::vector<WorkerCount> counts_;
  std::vector<std::thread> threads_;  // last: started once everything they use is built
};

}  // namespace

CBENCH_REGISTER_EXECUTOR(pool) = {
    .name = "pool",
    .model = "W long-lived threads claiming tasks from the run's list, results as completed",
    .python = "ThreadPoolExecutor",
    // Its threads are all started with it: 10,000 of them prove nothing 1,000 do not.
    .traits = {.workers = WorkerPlace::threads, .cold_mode = true, .worker_cap = 1000},
    .make = build<Executor, PoolExecutor>,
    .native_floor = build<NativeFloor, CvPoolFloor>,
    .fork_join = make_pool_fork_join,
    .fork_join_blocking = make_pool_fork_join_blocking,
};

}  // namespace cbench
