// The mpi executor's session with Open MPI, shared by its files (internal: mpi.hpp is the
// interface). mpi_session.cpp: MPI's start and end in a process, the messages, an engine's loop;
// mpi_watch.cpp: the liveness watch of mpirun's engines; mpi.cpp: the executor and its floor.
// Messages between the controller and an engine:
//   kTagHello   engine -> controller, once: the engine's process id (int64)
//   kTagTask    controller -> engine: a task payload (task_frame.hpp, without the length prefix)
//   kTagResult  engine -> controller: a reply frame (without the length prefix)
//   kTagStop    controller -> engine: no bytes; the engine leaves
//   kTagPing    controller -> engine: no bytes; the engine answers kTagPong at once (no bytes):
//               the ping-pong of the native floor
//   kTagWatch   controller -> mpirun's engines, once: a port, a token and the controller's IPv4
//               addresses; the engine connects to one (the watch, below) and answers
//   kTagWatched engine -> controller: one byte, 1 when its watch connection is up
#pragma once

#include <mpi.h>
#include <sys/prctl.h>
#include <sys/types.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace cbench::mpi::detail {

constexpr int kTagHello = 1, kTagTask = 2, kTagResult = 3, kTagStop = 4, kTagPing = 5, kTagPong = 6,
              kTagWatch = 7, kTagWatched = 8;
constexpr auto kSpin = std::chrono::microseconds(200);  // then sleeps, doubling
constexpr auto kShortestSleep = std::chrono::microseconds(25);
constexpr auto kLongestSleep = std::chrono::microseconds(1000);
// Set by rank 0 for the programs it starts: they inherit mpirun's variables but are not ranks.
constexpr const char* kDescendant = "CBENCH_MPI_CHILD_OF_RANK0";

class ExecutorImpl;

struct Session {
  bool initialized = false;
  bool finalized = false;
  int world_size = 1;             // > 1: under mpirun, this is rank 0
  std::vector<pid_t> world_pids;  // of ranks 1..N-1
  std::vector<int> watch_fds;     // of ranks 1..N-1: the watch connection, -1 when there is none
  std::vector<bool> world_dead;   // of ranks 1..N-1: seen to have died, sent nothing more
  // Shared with the watch thread: the name of the task each of ranks 1..N-1 holds ("" for none),
  // and whether its watch connection has ended.
  std::mutex held_mutex;
  std::vector<std::string> held;
  std::unique_ptr<std::atomic<bool>[]> ended;
  std::thread watcher;
  int stop_watcher = -1;         // the write end of the pipe that ends the watch thread
  std::set<ExecutorImpl*> live;  // spawned engines still to stop
};
inline Session& session() {
  static Session s;
  return s;
}

inline std::string error_text(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  if (MPI_Error_string(code, text, &length) != MPI_SUCCESS)
    return "MPI error " + std::to_string(code);
  return std::string(text, static_cast<std::size_t>(length));
}

inline void check(int code, const char* what) {
  if (code != MPI_SUCCESS)
    throw std::runtime_error(std::string("mpi: ") + what + " failed: " + error_text(code));
}

// Sleeps as short as asked while it lives: Linux lets a sleep overrun by the thread's timer
// slack, 50 µs by default, and a ping-pong of two ranks that each wake 50 µs late never gets back
// into its spin window (measured: 350 µs a round trip instead of 2 µs).
class PreciseSleeps {
 public:
  PreciseSleeps() : saved_(::prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0)) {
    ::prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
  }
  ~PreciseSleeps() {
    if (saved_ > 0) ::prctl(PR_SET_TIMERSLACK, static_cast<unsigned long>(saved_), 0, 0, 0);
  }
  PreciseSleeps(const PreciseSleeps&) = delete;
  PreciseSleeps& operator=(const PreciseSleeps&) = delete;

 private:
  long saved_;
};

// Polls until done() says so, without spinning for long (mpi.hpp): a spin of kSpin for what
// comes at once, then sleeps that double up to kLongestSleep. Open MPI's own blocking calls
// would spin a core for as long as they wait.
template <typename Done>
void wait_until(Done&& done) {
  const auto start = std::chrono::steady_clock::now();
  do {
    if (done()) return;
  } while (std::chrono::steady_clock::now() < start + kSpin);
  const PreciseSleeps precise;
  std::chrono::microseconds pause = kShortestSleep;
  while (!done()) {
    std::this_thread::sleep_for(pause);
    // A sleep is at most 1/16 of the wait so far (a result is noticed at most ~6% late), at
    // least kShortestSleep (each wake-up costs CPU), and never longer than kLongestSleep (an
    // idle engine still answers within a millisecond).
    const auto waited = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - start);
    pause = std::clamp<std::chrono::microseconds>(std::min(pause * 2, waited / 16), kShortestSleep,
                                                  kLongestSleep);
  }
}

// A matching message's envelope (waiting as wait_until does).
MPI_Status wait_for(MPI_Comm comm, int source, int tag);
// Waits for a non-blocking send or receive.
void complete(MPI_Request& request);
// The message `status` announced: a receive begun into `bytes` (which must outlive it), and
// one waited for.
MPI_Request start_receive(MPI_Comm comm, const MPI_Status& status, std::string& bytes);
std::string receive(MPI_Comm comm, const MPI_Status& status);
// A non-blocking send begun (a message over INT_MAX bytes is std::runtime_error); and one
// waited for.
MPI_Request start_send(MPI_Comm comm, int rank, int tag, std::string_view bytes);
void send(MPI_Comm comm, int rank, int tag, std::string_view bytes);
// An engine's first message: its process id.
pid_t receive_hello(MPI_Comm comm, int rank);
// A frame without its length prefix (an MPI message has its own length).
std::string without_length(std::string frame);

// Ends the process, with `message` on standard error and exit status 1, unless it is destroyed
// within `limit`: for an MPI call that may never return and cannot be cancelled.
class Deadline {
 public:
  Deadline(std::chrono::seconds limit, std::string message);
  ~Deadline();
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;

 private:
  std::mutex mutex_;
  std::condition_variable done_or_late_;
  bool done_ = false;
  std::thread thread_;
};

// MPI_Init_thread once in this process, with errors returned rather than fatal.
void initialize();
// Under mpirun (and not a program rank 0 started).
bool launched_by_mpirun();
// An engine's loop: serves the controller until told to stop, then exits the process.
[[noreturn]] void serve(MPI_Comm controller_comm, bool spawned);
// At exit of the controller: stops the engines (spawned and mpirun's) and ends MPI (mpi.cpp).
void finish();

}  // namespace cbench::mpi::detail
