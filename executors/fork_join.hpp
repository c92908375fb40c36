// Nested fork-join (docs/design.md, "Nested fork-join"): an optional capability of an executor,
// beside the flat runs of executor.hpp. A task may spawn child tasks and wait for them, and each
// child may do the same, so the work is a tree whose shape only the running task knows.
//
//   std::uint64_t fib(Spawner& spawner, int n) {
//     if (n < 2) return n;
//     std::uint64_t a = 0;
//     auto child = [&] { a = fib(spawner, n - 1); };
//     Join join(spawner);
//     join.spawn(child);  // the child may run on another worker, or later on this one
//     const std::uint64_t b = fib(spawner, n - 2);
//     join.wait();        // every child spawned on join has ended
//     return a + b;
//   }
//
// A child is a callable the spawning task keeps alive until wait() returns: it lives in the
// spawning task's frame, as it does in oneTBB's and OpenMP's own fork-join, so spawning
// allocates nothing of cbench's. Each executor that has the capability says how a spawn and a
// wait map onto its runtime (Spawner): oneTBB's task_group::run and wait, OpenMP's task and
// taskwait, the pool's queue with a waiting worker helping, the reference's plain call. The
// coroutine executor runs a kind's asynchronous form instead, which co_awaits its children.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

namespace cbench {

struct Task;
using Bytes = std::string;

// A callable that someone else keeps alive, called through two words: what a spawned child is.
// Trivially copyable, so that a runtime copying a task's captures (OpenMP's firstprivate) copies
// two pointers.
class ChildRef {
 public:
  template <typename F>
  requires(!std::is_same_v<std::remove_cvref_t<F>, ChildRef>) explicit ChildRef(F& f) noexcept
      : object_(std::addressof(f)), call_([](void* o) { (*static_cast<F*>(o))(); }) {}

  void operator()() const { call_(object_); }

 private:
  void* object_;
  void (*call_)(void*);
};

class Join;

// How an executor's runtime spawns and waits: one object per run, handed to the root task and
// from it to every child. Join calls it; a task never calls it directly.
class Spawner {
 public:
  // Called by the Join's constructor and destructor: a runtime whose group is an object of its
  // own (oneTBB's task_group) builds it in Join::state() and destroys it.
  virtual void open(Join&) {}
  virtual void close(Join&) noexcept {}
  // Starts child, which may run at once, later, or on another worker; it runs through
  // Join::run_child, which keeps its exception for wait().
  virtual void spawn(Join& join, ChildRef child) = 0;
  // Returns once every child spawned on join has ended. May throw DeadlockError (a runtime
  // whose waiting workers block, with none left to run the children: pool's blocking variant).
  virtual void wait(Join& join) = 0;

 protected:
  ~Spawner() = default;
};

// A group of children of the calling task: spawn each, then wait() for all of them. wait()
// rethrows the first exception a child threw. A Join left without wait() (an exception between
// spawn and wait) waits in its destructor, so that no child outlives the frame it refers to.
class Join {
 public:
  explicit Join(Spawner& spawner) : spawner_(spawner) { spawner_.open(*this); }
  ~Join() {
    if (!waited_) {
      try {
        spawner_.wait(*this);
      } catch (...) {  // the error of a child nobody will read, or the run's deadlock
      }
    }
    spawner_.close(*this);
  }
  Join(const Join&) = delete;
  Join& operator=(const Join&) = delete;

  // f must stay alive until wait() returns.
  template <typename F>
  void spawn(F& f) {
    spawner_.spawn(*this, ChildRef(f));
  }

  void wait() {
    waited_ = true;
    spawner_.wait(*this);
    if (failed_.load(std::memory_order_acquire)) std::rethrow_exception(error_);
  }

  // For the Spawners: runs a child, keeping the first exception of the group.
  void run_child(ChildRef child) noexcept {
    try {
      child();
    } catch (...) {
      keep_error(std::current_exception());
    }
  }
  void keep_error(std::exception_ptr error) noexcept {
    if (!claimed_.exchange(true, std::memory_order_acq_rel)) {
      error_ = std::move(error);
      failed_.store(true, std::memory_order_release);
    }
  }

  // For the Spawners: room for a runtime's own group object, and a count of children not yet
  // ended, with a word for a runtime that waits on it.
  static constexpr std::size_t kStateBytes = 160;
  void* state() noexcept { return state_; }
  std::atomic<std::size_t>& pending() noexcept { return pending_; }
  bool& sleeping() noexcept { return sleeping_; }

 private:
  Spawner& spawner_;
  std::atomic<std::size_t> pending_{0};
  bool waited_ = false;
  bool sleeping_ = false;
  std::atomic<bool> claimed_{false}, failed_{false};
  std::exception_ptr error_;
  alignas(16) unsigned char state_[kStateBytes];
};

// What a pool whose waiting workers block (and do not help) reports when every worker waits for
// children that are queued, with no worker left to run them: the run ends with this instead of
// hanging. Its what() starts with "deadlock: ".
class DeadlockError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A runtime's fork-join: built with W workers (outside any timing), it runs one root task at a
// time, whose kind spawns children (TaskKind::run_nested, or its asynchronous form on the
// coroutine executor). Returns the root's result; throws its error (a TaskError naming the root,
// whose message starts "deadlock: " for a blocking pool that would never end).
class ForkJoin {
 public:
  virtual ~ForkJoin() = default;
  virtual Bytes run(const Task& root) = 0;
};

// Runs spawns at once, on the spawning thread: the sequential reference's fork-join, and what a
// nested kind does under an executor without the capability (each task then one sequential tree).
Spawner& inline_spawner();

// Runs a nested kind's root task with a runtime's spawner (std::invalid_argument for a kind that
// is not nested): what every ForkJoin but the coroutine executor's does on one of its workers.
Bytes run_nested_root(const Task& root, Spawner& spawner);

// The native fib floors (ExecutorInfo::native_fib) and the fib experiment share their leaf: the
// plain recursion below the cutoff, which the compiler is kept from turning into a loop or a table.
[[gnu::noinline]] inline std::uint64_t fib_sequential(int n) {
  return n < 2 ? static_cast<std::uint64_t>(n) : fib_sequential(n - 1) + fib_sequential(n - 2);
}

// fib(n) by iteration, the check of every fib result (exact to n = 93 in 64 bits).
constexpr std::uint64_t fib_iterative(int n) {
  std::uint64_t a = 0, b = 1;
  for (int i = 0; i < n; ++i) {
    const std::uint64_t next = a + b;
    a = b;
    b = next;
  }
  return a;
}

// How many tasks a fib(n) with this cutoff runs: every call at or above the cutoff is a task
// that forks one child (n - 1) and runs the other (n - 2) in place; below it, plain recursion.
// The root counts as one, each spawned child as one.
constexpr std::uint64_t fib_tasks(int n, int cutoff) {
  // Calls at or above the cutoff: c(k) = 1 + c(k - 1) + c(k - 2) for k >= cutoff, else 0.
  if (n < cutoff) return 1;              // the root alone, run sequentially
  std::uint64_t below2 = 0, below1 = 0;  // c(k - 2), c(k - 1)
  for (int k = 0; k <= n; ++k) {
    const std::uint64_t c = k < cutoff ? 0 : 1 + below1 + below2;
    below2 = below1;
    below1 = c;
  }
  return below1 + 1;  // the spawned children, and the root
}

// A runtime's own fib, with no cbench code in the loop: oneTBB's task_group, OpenMP's task and
// taskwait, a plain coroutine, a plain call (docs/design.md, "Nested fork-join"). Built outside
// the timing; fib(n, cutoff) returns fib(n), which the benchmark checks.
class NativeFib {
 public:
  virtual ~NativeFib() = default;
  virtual std::uint64_t fib(int n, int cutoff) = 0;
};

}  // namespace cbench
