// asyncio: C++20 coroutines on one single-threaded event loop (a standalone Asio io_context run
// by the caller). W is the most tasks in flight at once, like a semaphore of W around asyncio
// tasks: W slots, each taking the next task when its own ends. A task whose kind has an
// asynchronous form co_awaits its waits, so 10,000 waiting tasks cost 10,000 coroutine frames,
// not 10,000 thread stacks; CPU work runs inline, one task at a time.
//
// A form that is a cbench::Async (coro/async.hpp) is started on its slot directly: the slot is
// told when it ends, and no coroutine of the executor's own stands around it, so a waiting task
// holds its frame, its timer's wait operation (both from the thread's FramePool) and its slot
// (docs/design.md, "What a waiting coroutine holds"). A form that is an asio::awaitable is
// co_spawned, with a completion handler in place of the slot's notice.
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <map>
#include <mutex>

#include "executors/async_task.hpp"
#include "executors/completion_queue.hpp"
#include "executors/run_task.hpp"

namespace cbench {
namespace {

struct AsyncRegistry {
  std::mutex mutex;
  std::map<std::string, AsyncRun, std::less<>> forms;
};

AsyncRegistry& async_registry() {
  static AsyncRegistry r;
  return r;
}

// One run(): the loop, the slots and the tasks still to start. Everything happens on the caller's
// thread, inside loop.run().
class CoroRun final : AsyncOwner {
 public:
  CoroRun(std::span<const Task> tasks, int workers, const ResultCallback& on_result,
          InFlight& in_flight)
      : tasks_(tasks),
        on_result_(on_result),
        in_flight_(in_flight),
        slots_(std::min<std::size_t>(static_cast<std::size_t>(workers), tasks.size())),
        clock_(TraceClock::start()) {
    // Every worker idle, worker 0 first: it takes task 0.
    for (std::size_t w = 0; w < slots_.size(); ++w) {
      slots_[w].set_owner(this);
      slots_[w].index = w + 1 < slots_.size() ? w + 1 : kNoWorker;
    }
    idle_ = slots_.empty() ? kNoWorker : 0;
  }

  void go() {
    asio::post(loop_, [this] { fill(); });
    loop_.run();
    if (callback_error_) std::rethrow_exception(callback_error_);
  }

 private:
  // A worker: the task it runs, and what its result will say of it. Four words: with W = N,
  // one per waiting task.
  struct Slot : AsyncRoot {
    Async<Bytes> task;      // a light form's coroutine, while it runs
    std::size_t index = 0;  // the task's; while the worker is idle, the next idle worker
    Clock::time_point start{};
  };

  // Starts tasks on the idle workers while there are both. A task that ends while this runs
  // (inline work, a coroutine that never waits) calls it again from inside: that call returns at
  // once and this loop starts the next, so that a long run of them does not deepen the stack.
  void fill() {
    if (filling_) return;
    filling_ = true;
    while (idle_ != kNoWorker && next_ < tasks_.size() && !callback_error_) {
      const std::size_t worker = idle_;
      idle_ = slots_[worker].index;
      start(worker, next_++);
    }
    filling_ = false;
  }

  void start(std::size_t worker, std::size_t index) {
    const Task& task = tasks_[index];
    in_flight_.enter();
    const AsyncRun form = form_of(*task.kind);
    if (!form) {
      deliver(worker, run_task(task, index, static_cast<int>(worker), clock_));
      return;
    }
    Slot& slot = slots_[worker];
    slot.index = index;
    slot.start = clock_.now();
    std::string_view input;
    if (task.input) input = *task.input;
    try {
      if (const AsyncRun::Light light = form.light()) {
        slot.task = light(input);
        slot.task.start(loop_, slot);  // may have ended, and the slot moved on, on return
      } else {
        asio::co_spawn(loop_, form.awaitable()(input),
                       [this, worker](std::exception_ptr error, Bytes value) {
                         finish(worker, std::move(value), error);
                       });
      }
    } catch (...) {  // the form could not start: its frame, say, could not be allocated
      finish(worker, {}, std::current_exception());
    }
  }

  void finished(AsyncRoot& root) noexcept override {
    Slot& slot = static_cast<Slot&>(root);
    Bytes value;
    std::exception_ptr error;
    try {
      value = slot.task.take();
    } catch (...) {
      error = std::current_exception();
    }
    slot.task.reset();
    finish(static_cast<std::size_t>(&slot - slots_.data()), std::move(value), error);
  }

  void finish(std::size_t worker, Bytes value, std::exception_ptr error) {
    const Slot& slot = slots_[worker];
    TaskResult result;
    result.index = slot.index;
    result.worker = static_cast<int>(worker);
    result.start = slot.start;
    result.end = clock_.now();
    if (error) {
      result.error = task_error(error);
    } else {
      result.value = std::move(value);
    }
    // Interleaved coroutines share one thread: its CPU clock cannot be split between them, and a
    // task that waits uses next to none, so none is reported.
    result.cpu_seconds = 0;
    deliver(worker, std::move(result));
  }

  void deliver(std::size_t worker, TaskResult&& result) {
    in_flight_.leave();
    try {
      on_result_(std::move(result));
    } catch (...) {
      callback_error_ = std::current_exception();
    }
    slots_[worker].index = idle_;  // the worker that ends takes the next task
    idle_ = worker;
    fill();
  }

  // The registry's lookup, remembered for the last kind: a run is mostly of one.
  AsyncRun form_of(const TaskKind& kind) {
    if (&kind != last_kind_) {
      last_form_ = async_form(kind.name);
      last_kind_ = &kind;
    }
    return last_form_;
  }

  const std::span<const Task> tasks_;
  const ResultCallback& on_result_;
  InFlight& in_flight_;
  // Before the slots: a coroutine still waiting when the run is torn down (an exception out of
  // the loop) is destroyed first, and its timer with it, while the loop it refers to still is.
  asio::io_context loop_{1};  // the hint: one thread runs it, so Asio may skip its locking
  std::vector<Slot> slots_;
  // The idle workers, a list through their slots: the first here, the next in its slot's index.
  static constexpr std::size_t kNoWorker = ~std::size_t{0};
  std::size_t idle_ = kNoWorker;
  const TraceClock clock_;
  std::size_t next_ = 0;
  bool filling_ = false;
  std::exception_ptr callback_error_;
  const TaskKind* last_kind_ = nullptr;
  AsyncRun last_form_;
};

class CoroExecutor final : public Executor {
 public:
  explicit CoroExecutor(int workers) : workers_(workers) {}

  std::string_view name() const override { return "coro"; }
  int workers() const override { return workers_; }
  int peak_parallelism() const override { return in_flight_.peak(); }

  void run(std::span<const Task> tasks, const ResultCallback& on_result) override {
    in_flight_.reset();
    // Once the run is gone, so is every frame it made: the pool's slabs go back to malloc.
    try {
      CoroRun run(tasks, workers_, on_result, in_flight_);
      run.go();
    } catch (...) {
      FramePool::local().release_unused();
      throw;
    }
    FramePool::local().release_unused();
  }

 private:
  const int workers_;
  InFlight in_flight_;
};

}  // namespace

void register_async_form(std::string_view kind_name, AsyncRun run) {
  auto& r = async_registry();
  std::lock_guard lock(r.mutex);
  if (!r.forms.emplace(std::string(kind_name), run).second) {
    throw std::logic_error("asynchronous form of \"" + std::string(kind_name) +
                           "\" registered twice");
  }
}

AsyncRun async_form(std::string_view kind_name) {
  auto& r = async_registry();
  std::lock_guard lock(r.mutex);
  auto it = r.forms.find(kind_name);
  return it == r.forms.end() ? AsyncRun() : it->second;
}

namespace {

asio::awaitable<void> floor_coroutine(WorkerCount& count, const FloorTask& task) {
  count.run(task);
  co_return;
}

// Asio alone: n empty coroutines spawned on a fresh loop and run to the end (one loop whatever W,
// as asyncio has one).
class BareCoSpawn final : public NativeFloor {
 public:
  FloorCount run(std::size_t tasks, const FloorTask& task) override {
    WorkerCount count;
    asio::io_context loop(1);
    for (std::size_t i = 0; i < tasks; ++i) {
      asio::co_spawn(loop, floor_coroutine(count, task), asio::detached);
    }
    loop.run();
    return take_total({&count, 1});
  }
};

// Nested fork-join on one event loop: the root's asynchronous form (a cbench::Async) co_awaits
// its children, each a coroutine of its own started by symmetric transfer on the same loop; CPU
// work runs inline, so W changes nothing here, as one asyncio loop runs one task at a time. A
// nested kind without an asynchronous form runs inline on the caller, as CPU work does.
class CoroForkJoin final : public ForkJoin, AsyncOwner {
 public:
  Bytes run(const Task& root) override {
    try {
      Bytes value = run_root(root);
      FramePool::local().release_unused();
      return value;
    } catch (...) {
      FramePool::local().release_unused();
      throw TaskError(root.name, task_error(std::current_exception()));
    }
  }

 private:
  Bytes run_root(const Task& root) {
    const AsyncRun form = root.kind != nullptr ? async_form(root.kind->name) : AsyncRun();
    if (!form.light()) return run_nested_root(root, inline_spawner());
    asio::io_context loop(1);
    AsyncRoot done(this);
    Async<Bytes> task = form.light()(root.input ? std::string_view(*root.input) : "");
    task.start(loop, done);
    loop.run();
    if (!task.done()) throw std::logic_error("the root coroutine never ended");
    return task.take();
  }

  void finished(AsyncRoot&) noexcept override {}
};

// Asio's own fib: an asio::awaitable per call at or above the cutoff, both halves co_awaited,
// co_spawned on a fresh loop (one loop whatever W).
asio::awaitable<std::uint64_t> asio_fib(int n, int cutoff) {
  if (n < cutoff) co_return fib_sequential(n);
  const std::uint64_t a = co_await asio_fib(n - 1, cutoff);
  const std::uint64_t b = n - 2 < cutoff ? fib_sequential(n - 2) : co_await asio_fib(n - 2, cutoff);
  co_return a + b;
}

class AsioFib final : public NativeFib {
 public:
  std::uint64_t fib(int n, int cutoff) override {
    std::uint64_t value = 0;
    asio::io_context loop(1);
    asio::co_spawn(loop, asio_fib(n, std::max(cutoff, 2)),
                   [&value](std::exception_ptr error, std::uint64_t v) {
                     if (error) std::rethrow_exception(error);
                     value = v;
                   });
    loop.run();
    return value;
  }
};

}  // namespace

CBENCH_REGISTER_EXECUTOR(coro) = {
    .name = "coro",
    .model = "C++20 coroutines on one Asio event loop, W in flight",
    .python = "asyncio",
    .traits = {.workers = WorkerPlace::coroutines},
    .make = build<Executor, CoroExecutor>,
    .native_floor = build<NativeFloor, BareCoSpawn>,
    .native_floor_name = "asio-co_spawn",
    .fork_join = build<ForkJoin, CoroForkJoin>,
    .native_fib = build<NativeFib, AsioFib>,
};

}  // namespace cbench
