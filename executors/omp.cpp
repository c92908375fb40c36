// OpenMP tasks (GCC's libgomp): a team of W threads (`#pragma omp parallel num_threads(W)`), one
// of which generates an `omp task` per task (`#pragma omp single`) while the others, and then it
// too, run them; each result is handed to the caller as it completes.
//
// Why a thread of its own leads the team: the caller must stay free to hand results to
// on_result as they complete, on its own thread, like every other executor. Were the caller the
// team's master, it would have to generate the tasks and could be made to run some itself
// (libgomp runs a task at once when too many are queued), so more than W would run at once. The
// leader is built with the executor and reused for every run, so libgomp keeps its team of
// threads between runs as an OpenMP program's parallel regions do.
#include <omp.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "executors/completion_queue.hpp"
#include "executors/executor.hpp"
#include "executors/run_task.hpp"

namespace cbench {
namespace {

class OmpExecutor final : public Executor {
 public:
  explicit OmpExecutor(int workers) : workers_(workers), leader_([this] { lead(); }) {}

  ~OmpExecutor() override {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    leader_.join();
  }

  std::string_view name() const override { return "omp"; }
  int workers() const override { return workers_; }
  int peak_parallelism() const override { return in_flight_.peak(); }

  void run(std::span<const Task> tasks, const ResultCallback& on_result) override {
    if (tasks.empty()) return;
    in_flight_.reset();
    CompletionQueue queue;
    {
      std::lock_guard lock(mutex_);
      tasks_ = tasks;
      queue_ = &queue;
      running_ = true;
    }
    wake_.notify_all();
    // Whatever on_result does, the team finishes the run before its task list and queue go away.
    deliver_all(queue, tasks.size(), on_result, [&] { wait_until_done(); });
  }

 private:
  // The team's leader: one parallel region per run.
  void lead() {
    std::unique_lock lock(mutex_);
    while (true) {
      wake_.wait(lock, [&] { return stopping_ || running_; });
      if (stopping_) return;
      const std::span<const Task> tasks = tasks_;
      CompletionQueue* queue = queue_;
      lock.unlock();
#pragma omp parallel num_threads(workers_)
      {
#pragma omp single
        for (std::size_t i = 0; i < tasks.size(); ++i) {
#pragma omp task firstprivate(i)
          {
            in_flight_.enter();
            TaskResult result = run_task(tasks[i], i, omp_get_thread_num());
            in_flight_.leave();
            queue->push(std::move(result));
          }
        }
      }  // every task has ended: the region's barrier waits for them
      lock.lock();
      running_ = false;
      done_.notify_all();
    }
  }

  void wait_until_done() {
    std::unique_lock lock(mutex_);
    done_.wait(lock, [&] { return !running_; });
    tasks_ = {};
    queue_ = nullptr;
  }

  const int workers_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  bool running_ = false, stopping_ = false;
  std::span<const Task> tasks_;
  CompletionQueue* queue_ = nullptr;
  InFlight in_flight_;
  std::thread leader_;  // last: it starts once everything it reads is built
};

// OpenMP alone: a parallel region of W threads, one generating n empty tasks.
class OmpFloor final : public NativeFloor {
 public:
  explicit OmpFloor(int workers) : workers_(workers), counts_(static_cast<std::size_t>(workers)) {}

  std::size_t run(std::size_t tasks) override {
    for (auto& c : counts_) c.n = 0;
#pragma omp parallel num_threads(workers_)
    {
#pragma omp single
      for (std::size_t i = 0; i < tasks; ++i) {
#pragma omp task
        ++counts_[static_cast<std::size_t>(omp_get_thread_num())].n;
      }
    }
    std::size_t ran = 0;
    for (const auto& c : counts_) ran += c.n;
    return ran;
  }

 private:
  const int workers_;
  std::vector<WorkerCount> counts_;
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
    .make = [](int workers) -> std::unique_ptr<Executor> {
      return std::make_unique<OmpExecutor>(workers);
    },
    .native_floor = [](int workers) -> std::unique_ptr<NativeFloor> {
      return std::make_unique<OmpFloor>(workers);
    },
};

}  // namespace cbench
