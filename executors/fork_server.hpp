// Worker processes that do not inherit the caller's threads: a fork server, as Python's
// multiprocessing "forkserver" start method. The pool of worker processes built on it
// (ProcessPoolExecutor) is ForkPool, in fork_pool.hpp.
//
// Why a server: fork() copies only the calling thread. A process that already runs threads
// (oneTBB's workers, a pool from an earlier benchmark, libcurl's resolver) may be forked while one
// of them holds the allocator's or stdio's lock, and the child then deadlocks on its first
// malloc. So a small single-threaded process is forked once, at the top of main before any thread
// exists, and every worker is forked from it instead of from the caller:
//
//   caller ──control socket── fork server ──fork──> worker 0, worker 1, ...
//      └──────────── one socket per worker, passed back over the control socket (SCM_RIGHTS)
//
// Starting it:
//   - programs call cbench::start_fork_server() first thing in main() — after static
//     initialisation, so that the server (and every worker forked from it) has every task kind
//     registered, and before any thread is started;
//   - GoogleTest binaries (linked with gtest_main) register a global test Environment whose
//     SetUp() calls it (tests/test_fork.cpp does this), which runs after static initialisation
//     and before the first test. A static initialiser is *not* a good place: it may run before
//     the task kinds of other translation units are registered;
//   - otherwise the first ForkPool starts the server itself when the process has exactly one
//     thread, and throws std::logic_error when it has more.
//
// Lifetime: the server exits when the caller closes its end of the control socket, which the
// kernel does when the caller exits however it exits, so no server outlives its caller; before
// exiting it kills and reaps any worker still alive. It reaps every worker it forks, and keeps
// each one's wait status until the caller asks for it (reap_worker), so that an error can say
// "killed by signal 9 (SIGKILL)". Workers exit when their socket closes.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace cbench {

// Forks the fork server. Call once at the top of main, before any thread exists; later calls do
// nothing. Throws std::logic_error when the process already runs more than one thread (the very
// hazard the server avoids), std::system_error when fork fails.
void start_fork_server();

// The server's process id, or -1 when none was started.
pid_t fork_server_pid();

// A worker process forked by the server, and the caller's end of its socket (close-on-exec,
// blocking; the caller owns it and closing it tells the worker to exit).
struct ForkedWorker {
  pid_t pid = -1;
  int fd = -1;
};

// Asks the server for n new workers, starting the server first if none runs (see above).
std::vector<ForkedWorker> fork_workers(int n);

struct WorkerExit {
  int status = 0;                 // as from waitpid
  bool killed_by_server = false;  // still alive after the grace period: the server killed it
};

// Waits for a worker to end — up to `grace`, after which the server kills it with SIGKILL — and
// returns how it ended. Every worker must be reaped this way once its socket is closed (or it
// died); the server reaps the process itself as soon as it ends, whatever the caller does.
WorkerExit reap_worker(pid_t pid, std::chrono::milliseconds grace);

// "exited with status 3", "killed by signal 9 (SIGKILL)", "aborted (SIGABRT)".
std::string describe_wait_status(int status);

}  // namespace cbench
