// The constructor of each executor, one per file in executors/. Internal to the executors
// library: everyone else calls make_executor(name, workers).
#pragma once

#include <memory>

#include "executors/executor.hpp"

namespace cbench {

std::unique_ptr<Executor> make_sequential_executor(int workers);
std::unique_ptr<Executor> make_thread_executor(int workers);
std::unique_ptr<Executor> make_pool_executor(int workers);
std::unique_ptr<Executor> make_tbb_executor(int workers);
std::unique_ptr<Executor> make_coro_executor(int workers);
std::unique_ptr<Executor> make_fork_executor(int workers);
std::unique_ptr<Executor> make_mpi_executor(int workers);

}  // namespace cbench
