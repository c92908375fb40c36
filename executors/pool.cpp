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

// Nested fork-join on a pool of W threads that help while they wait (docs/design.md, "Nested
// fork-join"): each worker keeps the children it spawns in a deque of its own, takes its newest
// first (depth first: the subtree it is in the middle of) and, when it has none, steals the
// oldest of another's (the largest subtree left), so that a spawn locks a mutex nobody else
// usually wants. A worker that waits for its children runs any task it can take until they have
// ended; only when there is none anywhere does it sleep.
//
// Sleeping without losing a wake-up: a worker about to sleep counts itself idle and looks at
// every deque again under the sleep lock; a spawn pushes first and then looks at the idle
// count, taking the sleep lock before it notifies. Either the sleeper sees the new task or the
// spawner sees the sleeper (both orders go through the deque's mutex, and the counts are
// sequentially consistent). A Join whose last child ends wakes, the same way, the workers asleep
// in a wait and the caller when it is the root's.
class StealingForkJoin final : public ForkJoin, Spawner {
 public:
  explicit StealingForkJoin(int workers) : queues_(static_cast<std::size_t>(workers)) {
    threads_.reserve(static_cast<std::size_t>(workers));
    for (int w = 0; w < workers; ++w) threads_.emplace_back([this, w] { work(w); });
  }

  ~StealingForkJoin() override {
    {
      std::lock_guard lock(sleep_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (auto& t : threads_) t.join();
  }

  Bytes run(const Task& root) override {
    return run_root_on(root, *this, [&](auto&& body) {
      Join join(*this);
      join.spawn(body);  // from the caller: into worker 0's deque
      join.wait();       // on the caller: outside the pool, it only sleeps
    });
  }

 private:
  struct Job {
    ChildRef child;
    Join* join;
  };
  struct alignas(64) Queue {
    std::mutex mutex;
    std::deque<Job> jobs;
  };

  void spawn(Join& join, ChildRef child) override {
    join.pending().fetch_add(1, std::memory_order_relaxed);
    const int me = current_worker();
    Queue& queue = queues_[static_cast<std::size_t>(me < 0 ? 0 : me)];
    {
      std::lock_guard lock(queue.mutex);
      queue.jobs.push_back({child, &join});
    }
    if (idle_.load() > 0) {
      { std::lock_guard lock(sleep_); }
      wake_.notify_one();
    }
  }

  void wait(Join& join) override {
    const int me = current_worker();
    if (me < 0) {  // the caller, waiting for the root
      std::unique_lock lock(sleep_);
      caller_waits_for_.store(&join);
      done_.wait(lock, [&] { return join.pending().load() == 0; });
      caller_waits_for_.store(nullptr);
      return;
    }
    while (join.pending().load() != 0) {
      if (const std::optional<Job> job = take(me)) {
        execute(*job);
        continue;
      }
      waiters_.fetch_add(1);
      sleep([&] { return join.pending().load() == 0; });
      waiters_.fetch_sub(1);
    }
  }

  // The newest of this worker's own, else the oldest of another's.
  std::optional<Job> take(int me) {
    const auto n = queues_.size();
    for (std::size_t k = 0; k < n; ++k) {
      Queue& queue = queues_[(static_cast<std::size_t>(me) + k) % n];
      std::lock_guard lock(queue.mutex);
      if (queue.jobs.empty()) continue;
      const Job job = k == 0 ? queue.jobs.back() : queue.jobs.front();
      if (k == 0) {
        queue.jobs.pop_back();
      } else {
        queue.jobs.pop_front();
      }
      return job;
    }
    return std::nullopt;
  }

  bool any_queued() {
    for (Queue& queue : queues_) {
      std::lock_guard lock(queue.mutex);
      if (!queue.jobs.empty()) return true;
    }
    return false;
  }

  // Sleeps until a task is queued anywhere, done() holds, or the pool stops.
  template <typename Done>
  void sleep(Done done) {
    std::unique_lock lock(sleep_);
    idle_.fetch_add(1);
    while (!stopping_ && !done() && !any_queued()) wake_.wait(lock);
    idle_.fetch_sub(1);
  }

  void execute(const Job& job) {
    job.join->run_child(job.child);
    // The waiter may return (and its Join go) the moment the count is 0: only the pool's own
    // lock and condition variables are touched after it.
    // Only a worker asleep in a wait, or the caller waiting for this very Join, wants to know.
    if (job.join->pending().fetch_sub(1) != 1) return;
    const bool waiters = waiters_.load() > 0, caller = caller_waits_for_.load() == job.join;
    if (!waiters && !caller) return;
    { std::lock_guard lock(sleep_); }
    if (waiters) wake_.notify_all();
    if (caller) done_.notify_all();
  }

  void work(int me) {
    worker_number() = me;
    current_pool() = this;
    while (true) {
      if (const std::optional<Job> job = take(me)) {
        execute(*job);
        continue;
      }
      sleep([] { return false; });
      std::lock_guard lock(sleep_);
      if (stopping_) return;
    }
  }

  // This thread's number in this pool, or -1 (the caller, or a thread of another pool).
  int current_worker() const { return current_pool() == this ? worker_number() : -1; }
  static int& worker_number() {
    thread_local int number = -1;
    return number;
  }
  static const StealingForkJoin*& current_pool() {
    thread_local const StealingForkJoin* pool = nullptr;
    return pool;
  }

  std::vector<Queue> queues_;
  std::mutex sleep_;
  std::condition_variable wake_, done_;
  std::atomic<int> idle_{0};     // asleep, in a wait or between runs
  std::atomic<int> waiters_{0};  // asleep in a wait: its Join's end wakes them
  std::atomic<const Join*> caller_waits_for_{nullptr};
  bool stopping_ = false;
  std::vector<std::thread> threads_;  // last: started once everything they use is built
};

// The same pool's fork-join without helping, to show what helping avoids (docs/design.md, "Nested
// fork-join"): one queue of spawned children behind a mutex, taken newest first, and a worker
// that waits for its children sleeps until they have ended. Each wait takes a worker out of the
// run, so a tree deeper than W leaves every worker asleep with children still queued: a
// deadlock. Every sleep is counted under the queue's lock, so the wait that would put the last
// worker to sleep sees it, discards the queue and ends the run with a DeadlockError instead of
// hanging; the tree then unwinds, each wait returning once the children it still had (running on
// other workers, unwinding too) are gone.
//
// The root is spawned by the caller, who is not one of the W and waits outside the pool.
class BlockingForkJoin final : public ForkJoin, Spawner {
 public:
  explicit BlockingForkJoin(int workers) : workers_(workers) {
    threads_.reserve(static_cast<std::size_t>(workers));
    for (int w = 0; w < workers; ++w) threads_.emplace_back([this] { work(); });
  }

  ~BlockingForkJoin() override {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    work_.notify_all();
    for (auto& t : threads_) t.join();
  }

  Bytes run(const Task& root) override {
    return run_root_on(root, *this, [&](auto&& body) {
      {
        Join join(*this);
        join.spawn(body);
        join.wait();  // on the caller: outside the pool, it only sleeps
      }
      std::string deadlock;
      {
        std::lock_guard lock(mutex_);
        if (aborted_) deadlock = std::exchange(deadlock_, {});
        aborted_ = false;
      }
      // Before the tree's own error: the abort is what ended it.
      if (!deadlock.empty()) throw TaskError(root.name, deadlock);
    });
  }

 private:
  struct Job {
    ChildRef child;
    Join* join;
  };

  void spawn(Join& join, ChildRef child) override {
    {
      std::lock_guard lock(mutex_);
      if (aborted_) {  // the run is over: nothing more is queued
        join.keep_error(std::make_exception_ptr(DeadlockError(deadlock_)));
        return;
      }
      join.pending().fetch_add(1, std::memory_order_relaxed);
      queue_.push_back({child, &join});
    }
    work_.notify_one();
  }

  void wait(Join& join) override {
    if (current_pool() != this) {
      std::unique_lock lock(mutex_);
      done_.wait(lock, [&] { return join.pending().load(std::memory_order_acquire) == 0; });
      return;
    }
    std::unique_lock lock(mutex_);
    if (join.pending().load(std::memory_order_relaxed) == 0) return;
    if (!aborted_) {
      join.sleeping() = true;
      if (++blocked_ == workers_) abort_locked();
    }
    // After a deadlock too: children still running elsewhere refer to this frame.
    done_.wait(lock, [&] { return join.pending().load(std::memory_order_relaxed) == 0; });
    if (join.sleeping()) {
      join.sleeping() = false;
      --blocked_;
    }
    if (aborted_) throw DeadlockError(deadlock_);
  }

  // Every worker sleeps in a wait: the queued children will never run. They are discarded, each
  // failing its Join, and every waiter is woken to unwind.
  void abort_locked() {
    aborted_ = true;
    deadlock_ = "deadlock: all " + std::to_string(workers_) +
                (workers_ == 1 ? " worker waits" : " workers wait") + " for children, and the " +
                std::to_string(queue_.size()) +
                (queue_.size() == 1 ? " queued task has no worker left to run it"
                                    : " queued tasks have no worker left to run them") +
                " (a pool whose waiting workers help would run them)";
    for (const Job& job : queue_) {
      job.join->keep_error(std::make_exception_ptr(DeadlockError(deadlock_)));
      finish_locked(*job.join);
    }
    queue_.clear();
    done_.notify_all();
  }

  Job take_locked() {
    const Job job = queue_.back();
    queue_.pop_back();
    return job;
  }

  void execute(const Job& job) {
    job.join->run_child(job.child);
    std::lock_guard lock(mutex_);
    finish_locked(*job.join);
  }

  // A count changes under the lock, so that the waits and the count of blocked workers always
  // agree: a worker is counted as blocked exactly while its children are pending.
  void finish_locked(Join& join) {
    if (join.pending().fetch_sub(1, std::memory_order_acq_rel) != 1) return;
    if (join.sleeping()) {
      join.sleeping() = false;
      --blocked_;
    }
    done_.notify_all();
  }

  void work() {
    current_pool() = this;
    std::unique_lock lock(mutex_);
    while (true) {
      work_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      const Job job = take_locked();
      lock.unlock();
      execute(job);
      lock.lock();
    }
  }

  static BlockingForkJoin*& current_pool() {
    thread_local BlockingForkJoin* pool = nullptr;
    return pool;
  }

  const int workers_;
  std::mutex mutex_;
  std::condition_variable work_, done_;
  std::vector<Job> queue_;
  int blocked_ = 0;
  bool aborted_ = false;
  bool stopping_ = false;
  std::string deadlock_;
  std::vector<std::thread> threads_;  // last: started once everything they use is built
};

}  // namespace

CBENCH_REGISTER_EXECUTOR(pool) = {
    .name = "pool",
    .model = "W long-lived threads claiming tasks from the run's list, results as completed",
    .python = "ThreadPoolExecutor",
    // Its threads are all started with it: 10,000 of them prove nothing 1,000 do not.
    .traits = {.workers = WorkerPlace::threads, .cold_mode = true, .worker_cap = 1000},
    .make = [](int workers) -> std::unique_ptr<Executor> {
      return std::make_unique<PoolExecutor>(workers);
    },
    .native_floor = [](int workers) -> std::unique_ptr<NativeFloor> {
      return std::make_unique<CvPoolFloor>(workers);
    },
    .fork_join = [](int workers) -> std::unique_ptr<ForkJoin> {
      return std::make_unique<StealingForkJoin>(workers);
    },
    .fork_join_blocking = [](int workers) -> std::unique_ptr<ForkJoin> {
      return std::make_unique<BlockingForkJoin>(workers);
    },
};

}  // namespace cbench
