// The pool executor's nested fork-joins (pool_fork_join.hpp).
#include "executors/pool_fork_join.hpp"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "executors/executor.hpp"
#include "executors/run_task.hpp"

namespace cbench {
namespace {

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

std::unique_ptr<ForkJoin> make_pool_fork_join(int workers) {
  return std::make_unique<StealingForkJoin>(workers);
}

std::unique_ptr<ForkJoin> make_pool_fork_join_blocking(int workers) {
  return std::make_unique<BlockingForkJoin>(workers);
}

}  // namespace cbench
