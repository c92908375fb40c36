// The "fork" executor (ProcessPoolExecutor), on the fork server's workers (fork_server.hpp);
// defined in fork.cpp. make_executor("fork", W) builds one; this header is for code that needs
// the class itself.
#pragma once

#include <sys/types.h>

#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "executors/executor.hpp"

namespace cbench {

// W worker processes forked by the fork server, for the executor's lifetime. Tasks are handed out
// dynamically; each worker runs one at a time (so W is honoured), and holds one at a time too
// while its tasks take 50 µs or more (so coarse tasks balance), several when they are shorter
// (so short tasks travel in batches). Inputs and results travel over each worker's socket in
// length-prefixed frames (wire.hpp). A task that throws fails alone; a worker that dies fails the
// tasks it held ("worker 1 (pid 1234) died: killed by signal 9 (SIGKILL)", and when it held
// several, how many) and is replaced by a new one from the server, so the other tasks still run.
class ForkPool final : public Executor {
 public:
  explicit ForkPool(int workers);  // W < 1 is std::invalid_argument
  ~ForkPool() override;
  ForkPool(const ForkPool&) = delete;
  ForkPool& operator=(const ForkPool&) = delete;

  std::string_view name() const override { return "fork"; }
  int workers() const override;
  // From the workers' own CLOCK_MONOTONIC stamps: the most tasks whose spans overlapped.
  int peak_parallelism() const override;
  void run(std::span<const Task> tasks, const ResultCallback& on_result) override;

  // CPU time the workers reported for the tasks of the last run (each measures its own process).
  double worker_cpu_seconds() const override;
  // The live workers, by worker number (a replaced worker has a new pid).
  std::vector<pid_t> worker_pids() const override;

 private:
  struct State;
  class Run;  // one run() over the workers: what it handed out, what came back (fork.cpp)
  std::unique_ptr<State> state_;
};

// The fork executor's native floor with W workers (fork_floor.cpp): forked workers alone, fed by
// the same batching rule, read round robin.
std::unique_ptr<NativeFloor> make_fork_floor(int workers);

}  // namespace cbench
