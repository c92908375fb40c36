// asyncio: C++20 coroutines on one single-threaded event loop (a standalone Asio io_context run
// by the caller). W is the most tasks in flight at once: W worker coroutines each take the next
// task when theirs ends, like a semaphore of W around asyncio tasks. A task whose kind has an
// asynchronous form co_awaits its waits, so 10,000 waiting tasks cost 10,000 coroutine frames,
// not 10,000 thread stacks; CPU work runs inline, one task at a time.
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>
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

class CoroExecutor final : public Executor {
 public:
  explicit CoroExecutor(int workers) : workers_(workers) {}

  std::string_view name() const override { return "coro"; }
  int workers() const override { return workers_; }
  int peak_parallelism() const override { return in_flight_.peak(); }

  void run(std::span<const Task> tasks, const ResultCallback& on_result) override {
    in_flight_.reset();
    asio::io_context loop(1);  // the hint: one thread runs it, so Asio may skip its locking
    std::size_t next = 0;
    const std::size_t coroutines =
        std::min<std::size_t>(static_cast<std::size_t>(workers_), tasks.size());
    std::exception_ptr callback_error;
    const TraceClock clock = TraceClock::start();
    for (std::size_t w = 0; w < coroutines; ++w) {
      asio::co_spawn(loop,
                     worker(tasks, next, static_cast<int>(w), clock, on_result, callback_error),
                     asio::detached);
    }
    loop.run();
    if (callback_error) std::rethrow_exception(callback_error);
  }

 private:
  asio::awaitable<void> worker(std::span<const Task> tasks, std::size_t& next, int worker,
                               const TraceClock& clock, const ResultCallback& on_result,
                               std::exception_ptr& callback_error) {
    while (next < tasks.size() && !callback_error) {
      const std::size_t index = next++;
      const Task& task = tasks[index];
      in_flight_.enter();
      TaskResult result;
      if (AsyncRun form = async_form(task.kind->name)) {
        result.index = index;
        result.worker = worker;
        result.start = clock.now();
        // The input as a local first: GCC 12 miscompiles a conditional expression inside a
        // co_await's operand (it dereferenced the null input of an input-less task).
        std::string_view input;
        if (task.input) input = *task.input;
        try {
          result.value = co_await form(input);
        } catch (...) {
          result.error = task_error(std::current_exception());
        }
        result.end = clock.now();
        // Interleaved coroutines share one thread: its CPU clock cannot be split between them,
        // and a task that waits uses next to none, so none is reported.
        result.cpu_seconds = 0;
      } else {
        result = run_task(task, index, worker, clock);
      }
      in_flight_.leave();
      try {
        on_result(std::move(result));
      } catch (...) {
        callback_error = std::current_exception();
      }
    }
  }

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
  return it == r.forms.end() ? nullptr : it->second;
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

}  // namespace

CBENCH_REGISTER_EXECUTOR(coro) = {
    .name = "coro",
    .model = "C++20 coroutines on one Asio event loop, W in flight",
    .python = "asyncio",
    .traits = {.workers = WorkerPlace::coroutines},
    .make = [](int workers) -> std::unique_ptr<Executor> {
      return std::make_unique<CoroExecutor>(workers);
    },
    .native_floor = [](int) -> std::unique_ptr<NativeFloor> {
      return std::make_unique<BareCoSpawn>();
    },
    .native_floor_name = "asio-co_spawn",
};

}  // namespace cbench
