// The cluster model: Open MPI ranks, a controller and its engines (ipyparallel's controller and
// engines, with its load-balanced view). Rank 0 is the controller: it runs the harness (the CLI,
// the benchmarks, a test) and hands each task to the next engine that is free; the engines run
// tasks and send back results tagged with their task. Tasks travel as data (task_frame.hpp):
// an engine on another host needs no copy of the corpus.
//
// Two ways to start:
//   mpirun -n N prog ...      every rank runs main(); enter() turns ranks 1..N-1 into engines
//                             and returns on rank 0, which then has N-1 engines;
//   prog ... (no mpirun)      the first mpi executor with W workers starts W engines itself with
//                             MPI_Comm_spawn (the same program, with kEngineFlag), and stops them
//                             when it is destroyed — a local cluster of W engines.
//
// Waiting: Open MPI's blocking receive spins a core, which on a small machine is a core taken
// from the engines. Controller and engines wait with a probe that backs off to sleeps of up to
// a millisecond instead, so an idle rank uses next to no CPU; the controller's own CPU time is
// the process CPU time its harness reports, the engines' comes back with each result.
#pragma once

#include <cstdint>
#include <memory>

#include "executors/executor.hpp"

namespace cbench::mpi {

// The argument that tells a program started by MPI_Comm_spawn that it is an engine.
inline constexpr const char* kEngineFlag = "--cbench-mpi-engine";

// Whether this build has the mpi executor (Open MPI was found when it was configured).
bool built();

// Call at the top of main, after start_fork_server() and before reading the arguments. Under
// mpirun it initialises MPI: on ranks other than 0 it serves tasks until the controller ends,
// then exits the process; on rank 0 it returns, and MPI is finalised at exit (the engines are
// told to stop first). In a program started with kEngineFlag it serves its parent, then exits.
// Otherwise it does nothing: MPI starts only when an mpi executor is made. Removes kEngineFlag
// from argv. Throws std::runtime_error when MPI cannot start.
void enter(int& argc, char**& argv);

// Engines mpirun started beside this controller (the world's size - 1); 0 when not under mpirun.
int world_engines();

// The mpi executor with the calls only it has: one task submitted to the next free engine, and a
// wait for that task's result (ipyparallel's apply_async and AsyncResult.get). Submitted tasks
// are queued while every engine is busy. run() may not be called while submitted tasks are
// outstanding (std::logic_error).
class MpiExecutor : public cbench::Executor {
 public:
  using Ticket = std::uint64_t;
  virtual Ticket submit(Task task) = 0;
  // The result of that task (an error names it, as run's do); throws std::invalid_argument for a
  // ticket that was never issued or was already collected.
  virtual TaskResult get(Ticket ticket) = 0;
};

// W engines: the first W of mpirun's (std::invalid_argument when it started fewer), or W spawned.
// Throws std::runtime_error when MPI cannot start or spawn, and when the build has no MPI.
std::unique_ptr<MpiExecutor> make_executor(int workers);

// MPI's own floor with W engines (the executor's): a ping-pong of an empty message with each,
// one in flight per engine, round robin, with Open MPI's blocking send, probe and receive.
std::unique_ptr<NativeFloor> make_native_floor(int workers);

}  // namespace cbench::mpi
