// The mpi executor on Open MPI (mpi.hpp). Messages between the controller and an engine:
//   kTagHello   engine -> controller, once: the engine's process id (int64)
//   kTagTask    controller -> engine: a task payload (task_frame.hpp, without the length prefix)
//   kTagResult  engine -> controller: a reply frame (without the length prefix)
//   kTagStop    controller -> engine: no bytes; the engine leaves
//   kTagPing    controller -> engine: no bytes; the engine answers kTagPong at once (no bytes):
//               the ping-pong of the native floor
//   kTagWatch   controller -> mpirun's engines, once: a port, a token and the controller's IPv4
//               addresses; the engine connects to one (the watch, below) and answers
//   kTagWatched engine -> controller: one byte, 1 when its watch connection is up
// The watch: under mpirun, an engine on another host cannot be seen by its process id, so each
// engine holds a TCP connection to the controller for as long as it lives. The kernel closes it
// when the engine dies, however it dies, and a thread of the controller's that waits on these
// connections sees the end of the stream at once and names, on standard error, the task the
// engine held. It must be at once: mpirun ends the whole job when a rank dies, the controller
// included, a moment later. (With recovery enabled, orte_enable_recovery, the controller
// outlives it: the task then also fails, named, as a spawned engine's does.)
// The controller knows which task each engine holds, so a result needs no lookup by index, and an
// engine never holds more than one task.
#include "executors/mpi.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <mpi.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "executors/completion_queue.hpp"
#include "executors/process.hpp"
#include "executors/task_frame.hpp"

namespace cbench {
namespace mpi {
namespace {

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
Session& session() {
  static Session s;
  return s;
}

std::string error_text(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  if (MPI_Error_string(code, text, &length) != MPI_SUCCESS)
    return "MPI error " + std::to_string(code);
  return std::string(text, static_cast<std::size_t>(length));
}

void check(int code, const char* what) {
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

// A matching message's envelope.
MPI_Status wait_for(MPI_Comm comm, int source, int tag) {
  MPI_Status status{};
  wait_until([&] {
    int found = 0;
    check(MPI_Iprobe(source, tag, comm, &found, &status), "MPI_Iprobe");
    return found != 0;
  });
  return status;
}

// Waits for a non-blocking send or receive: a large message waits for its peer, and Open MPI's
// blocking calls would spin meanwhile.
void complete(MPI_Request& request) {
  wait_until([&] {
    int done = 0;
    check(MPI_Test(&request, &done, MPI_STATUS_IGNORE), "MPI_Test");
    return done != 0;
  });
}

std::string receive(MPI_Comm comm, const MPI_Status& status) {
  int count = 0;
  check(MPI_Get_count(&status, MPI_BYTE, &count), "MPI_Get_count");
  std::string bytes(static_cast<std::size_t>(count), '\0');
  MPI_Request request = MPI_REQUEST_NULL;
  check(MPI_Irecv(bytes.data(), count, MPI_BYTE, status.MPI_SOURCE, status.MPI_TAG, comm, &request),
        "MPI_Irecv");
  complete(request);
  return bytes;
}

void send(MPI_Comm comm, int rank, int tag, std::string_view bytes) {
  if (bytes.size() > static_cast<std::size_t>(INT_MAX)) {
    throw std::runtime_error("mpi: a message of " + std::to_string(bytes.size()) +
                             " bytes is more than one MPI send carries");
  }
  MPI_Request request = MPI_REQUEST_NULL;
  check(
      MPI_Isend(bytes.data(), static_cast<int>(bytes.size()), MPI_BYTE, rank, tag, comm, &request),
      "MPI_Isend");
  complete(request);
}

// An engine's first message: its process id.
pid_t receive_hello(MPI_Comm comm, int rank) {
  const std::string bytes = receive(comm, wait_for(comm, rank, kTagHello));
  std::int64_t pid = -1;
  if (bytes.size() != sizeof pid)
    throw std::runtime_error("mpi: a malformed hello from rank " + std::to_string(rank));
  std::memcpy(&pid, bytes.data(), sizeof pid);
  return static_cast<pid_t>(pid);
}

std::string without_length(std::string frame) {
  return frame.erase(0, sizeof(std::uint64_t));
}

// The watch (the top of the file). The offer: the port (network order, 2 bytes), a token
// (8 bytes) and the controller's IPv4 addresses (network order, 4 bytes each).
struct WatchOffer {
  std::uint16_t port = 0;
  std::uint64_t token = 0;
  std::vector<std::uint32_t> addresses;
};

std::string encode_offer(const WatchOffer& offer) {
  std::string bytes(sizeof offer.port + sizeof offer.token, '\0');
  std::memcpy(bytes.data(), &offer.port, sizeof offer.port);
  std::memcpy(bytes.data() + sizeof offer.port, &offer.token, sizeof offer.token);
  for (const std::uint32_t a : offer.addresses)
    bytes.append(reinterpret_cast<const char*>(&a), sizeof a);
  return bytes;
}

WatchOffer decode_offer(std::string_view bytes) {
  WatchOffer offer;
  const std::size_t head = sizeof offer.port + sizeof offer.token;
  if (bytes.size() < head || (bytes.size() - head) % sizeof(std::uint32_t) != 0)
    throw std::runtime_error("mpi: a malformed watch offer from the controller");
  std::memcpy(&offer.port, bytes.data(), sizeof offer.port);
  std::memcpy(&offer.token, bytes.data() + sizeof offer.port, sizeof offer.token);
  for (std::size_t at = head; at < bytes.size(); at += sizeof(std::uint32_t)) {
    std::uint32_t a = 0;
    std::memcpy(&a, bytes.data() + at, sizeof a);
    offer.addresses.push_back(a);
  }
  return offer;
}

// What an engine writes on its watch connection: the token, then its rank.
constexpr std::size_t kWatchHello = sizeof(std::uint64_t) + sizeof(std::int32_t);
constexpr int kWatchTimeoutMs = 1000;  // per address: a host may have addresses others cannot reach

// The engine's side: the first of the controller's addresses that takes the connection and
// acknowledges the token. The socket stays open, unread, for as long as the engine lives.
bool connect_watch(const WatchOffer& offer, int rank) {
  for (const std::uint32_t address : offer.addresses) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return false;
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = offer.port;
    to.sin_addr.s_addr = address;
    bool up = false;
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to) == 0 ||
        errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      int error = 0;
      socklen_t length = sizeof error;
      if (::poll(&p, 1, kWatchTimeoutMs) == 1 &&
          ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0 && error == 0) {
        char hello[kWatchHello];
        const std::int32_t r = rank;
        std::memcpy(hello, &offer.token, sizeof offer.token);
        std::memcpy(hello + sizeof offer.token, &r, sizeof r);
        char ack = 0;
        p = {fd, POLLIN, 0};
        up = ::send(fd, hello, sizeof hello, MSG_NOSIGNAL) == static_cast<ssize_t>(sizeof hello) &&
             ::poll(&p, 1, kWatchTimeoutMs) == 1 && ::recv(fd, &ack, 1, 0) == 1 && ack == 1;
      }
    }
    if (up) return true;
    ::close(fd);
  }
  return false;
}

// Whether a watch connection has ended: its engine is gone (it never writes after its hello).
bool watch_ended(int fd) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, 0) != 1) return false;
  char byte = 0;
  const ssize_t r = ::recv(fd, &byte, 1, MSG_DONTWAIT);
  return r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

// This host's IPv4 addresses, loopback last: an engine on this host reaches any of them, one on
// another host one of the first.
std::vector<std::uint32_t> local_addresses() {
  std::vector<std::uint32_t> outside, loopback;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return {htonl(INADDR_LOOPBACK)};
  for (const ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
    if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != AF_INET || !(i->ifa_flags & IFF_UP))
      continue;
    const std::uint32_t a = reinterpret_cast<const sockaddr_in*>(i->ifa_addr)->sin_addr.s_addr;
    ((i->ifa_flags & IFF_LOOPBACK) ? loopback : outside).push_back(a);
  }
  ::freeifaddrs(list);
  outside.insert(outside.end(), loopback.begin(), loopback.end());
  return outside;
}

// The controller's side, once, after the hellos: offers the watch to every engine of mpirun's
// and takes each one's connection. An engine that cannot connect stays unwatched, said once.
void start_watch(Session& s) {
  const std::size_t engines = static_cast<std::size_t>(s.world_size - 1);
  s.watch_fds.assign(engines, -1);
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  sockaddr_in here{};
  here.sin_family = AF_INET;
  here.sin_addr.s_addr = htonl(INADDR_ANY);
  socklen_t length = sizeof here;
  if (listener < 0 ||
      ::bind(listener, reinterpret_cast<const sockaddr*>(&here), sizeof here) != 0 ||
      ::listen(listener, static_cast<int>(std::min<std::size_t>(engines + 16, SOMAXCONN))) != 0 ||
      ::getsockname(listener, reinterpret_cast<sockaddr*>(&here), &length) != 0) {
    std::fprintf(stderr, "cbench: mpi: no watch port (%s): an engine that dies ends the job\n",
                 std::strerror(errno));
    if (listener >= 0) ::close(listener);
    return;
  }
  WatchOffer offer;
  offer.port = here.sin_port;
  offer.token = (static_cast<std::uint64_t>(std::random_device{}()) << 32) ^ std::random_device{}();
  offer.addresses = local_addresses();
  const std::string bytes = encode_offer(offer);
  for (int rank = 1; rank < s.world_size; ++rank) send(MPI_COMM_WORLD, rank, kTagWatch, bytes);
  std::vector<int> unnamed;  // accepted, their hello not read yet
  std::size_t answers = 0;
  wait_until([&] {
    for (int fd; (fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0;)
      unnamed.push_back(fd);
    std::erase_if(unnamed, [&](int fd) {
      char hello[kWatchHello];
      const ssize_t r = ::recv(fd, hello, sizeof hello, MSG_PEEK);
      if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return false;
      if (r > 0 && r < static_cast<ssize_t>(sizeof hello)) return false;  // the rest is coming
      std::uint64_t token = 0;
      std::int32_t rank = 0;
      if (r == static_cast<ssize_t>(sizeof hello) && ::recv(fd, hello, sizeof hello, 0) == r) {
        std::memcpy(&token, hello, sizeof token);
        std::memcpy(&rank, hello + sizeof token, sizeof rank);
      }
      const char ack = 1;
      if (token == offer.token && rank >= 1 && rank < s.world_size &&
          s.watch_fds[static_cast<std::size_t>(rank - 1)] < 0 &&
          ::send(fd, &ack, 1, MSG_NOSIGNAL) == 1) {
        s.watch_fds[static_cast<std::size_t>(rank - 1)] = fd;
      } else {
        ::close(fd);
      }
      return true;
    });
    int found = 0;
    MPI_Status status{};
    check(MPI_Iprobe(MPI_ANY_SOURCE, kTagWatched, MPI_COMM_WORLD, &found, &status), "MPI_Iprobe");
    if (found) {
      receive(MPI_COMM_WORLD, status);
      ++answers;
    }
    return answers == engines;
  });
  for (const int fd : unnamed) ::close(fd);
  ::close(listener);
  for (std::size_t e = 0; e < engines; ++e) {
    if (s.watch_fds[e] < 0) {
      std::fprintf(stderr,
                   "cbench: mpi: engine at rank %zu could not connect to the controller's watch "
                   "port: if it dies, mpirun's own handling ends the job\n",
                   e + 1);
    }
  }
}

// The watch thread: waits on every watch connection and on the pipe that stops it; makes no MPI
// call. An engine's connection that ends is its death, said at once (mpirun may end this
// process a moment later), and marked for the controller's main thread.
void watch_engines(Session& s, int stop) {
  for (;;) {
    std::vector<pollfd> fds{{stop, POLLIN, 0}};
    std::vector<std::size_t> ranks;
    for (std::size_t e = 0; e < s.watch_fds.size(); ++e) {
      if (s.watch_fds[e] >= 0 && !s.ended[e].load()) {
        fds.push_back({s.watch_fds[e], POLLIN, 0});
        ranks.push_back(e);
      }
    }
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[0].revents != 0) return;
    for (std::size_t i = 1; i < fds.size(); ++i) {
      const std::size_t e = ranks[i - 1];
      if (fds[i].revents == 0 || !watch_ended(fds[i].fd)) continue;
      std::string task;
      {
        const std::lock_guard lock(s.held_mutex);
        task = s.held[e];
      }
      s.ended[e].store(true);
      // The same words as the task's error, engines numbered as the executor numbers them.
      if (task.empty()) {
        std::fprintf(stderr, "cbench: mpi: engine %zu (pid %d) died, holding no task\n", e,
                     static_cast<int>(s.world_pids[e]));
      } else {
        std::fprintf(stderr, "cbench: mpi: %s: engine %zu (pid %d) died while running it\n",
                     task.c_str(), e, static_cast<int>(s.world_pids[e]));
      }
      std::fflush(stderr);
    }
  }
}

void start_watcher(Session& s) {
  const std::size_t engines = s.watch_fds.size();
  s.held.assign(engines, std::string());
  s.ended = std::make_unique<std::atomic<bool>[]>(engines);
  int pipe_fds[2];
  if (engines == 0 || ::pipe2(pipe_fds, O_CLOEXEC) != 0) return;
  s.stop_watcher = pipe_fds[1];
  s.watcher = std::thread(watch_engines, std::ref(s), pipe_fds[0]);
}

void stop_watcher(Session& s) {
  if (!s.watcher.joinable()) return;
  const char byte = 0;
  if (::write(s.stop_watcher, &byte, 1) == 1)
    s.watcher.join();
  else
    s.watcher.detach();
}

void initialize() {
  Session& s = session();
  if (s.initialized) return;
  int provided = 0;
  const int code = MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided);
  if (code != MPI_SUCCESS) throw std::runtime_error("mpi: MPI_Init failed: " + error_text(code));
  s.initialized = true;
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN);
  MPI_Comm_size(MPI_COMM_WORLD, &s.world_size);
}

[[noreturn]] void serve(MPI_Comm controller_comm, bool spawned) {
  const std::int64_t pid = ::getpid();
  try {
    send(controller_comm, 0, kTagHello,
         std::string_view(reinterpret_cast<const char*>(&pid), sizeof pid));
    for (;;) {
      const MPI_Status status = wait_for(controller_comm, 0, MPI_ANY_TAG);
      const std::string payload = receive(controller_comm, status);
      if (status.MPI_TAG == kTagStop) break;
      if (status.MPI_TAG == kTagPing) {
        check(MPI_Send(nullptr, 0, MPI_BYTE, 0, kTagPong, controller_comm), "MPI_Send");
        continue;
      }
      if (status.MPI_TAG == kTagWatch) {
        int rank = 0;
        MPI_Comm_rank(controller_comm, &rank);
        const char up = connect_watch(decode_offer(payload), rank) ? 1 : 0;
        send(controller_comm, 0, kTagWatched, std::string_view(&up, 1));
        continue;
      }
      std::string reply;
      try {
        reply = task_frame::run_task_payload(payload);
      } catch (const std::exception& e) {
        const std::string why = std::string("the engine could not read the task: ") + e.what();
        task_frame::Reply error;
        error.text = why;
        reply = task_frame::encode_reply(error);
      }
      send(controller_comm, 0, kTagResult, without_length(std::move(reply)));
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cbench mpi engine %lld: %s\n", static_cast<long long>(pid), e.what());
    std::exit(1);
  }
  if (spawned) MPI_Comm_disconnect(&controller_comm);
  MPI_Finalize();
  std::fflush(nullptr);
  std::exit(0);
}

bool launched_by_mpirun() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK"}) {
    if (std::getenv(name) != nullptr) return true;
  }
  return false;
}

void finish();

class ExecutorImpl final : public MpiExecutor {
 public:
  explicit ExecutorImpl(int workers) : workers_(workers) {
    Session& s = session();
    if (!s.initialized) {
      // A small machine has fewer slots than engines are asked for; Open MPI refuses to spawn
      // past its slots unless told it may (an explicit setting of the user's wins).
      ::setenv("OMPI_MCA_rmaps_base_oversubscribe", "1", 0);
      initialize();
      std::atexit(finish);
    }
    if (s.world_size > 1) {
      if (workers > s.world_size - 1) {
        throw std::invalid_argument(
            "mpi: " + std::to_string(workers) + " engines asked for, but mpirun started " +
            std::to_string(s.world_size - 1) + " beside the controller (mpirun -n " +
            std::to_string(workers + 1) + " for " + std::to_string(workers) + ")");
      }
      comm_ = MPI_COMM_WORLD;
      for (int e = 0; e < workers; ++e) {
        ranks_.push_back(e + 1);
        pids_.push_back(s.world_pids[static_cast<std::size_t>(e)]);
        // An engine an earlier executor saw die is handed nothing: a send to it would fail.
        dead_.push_back(s.world_dead[static_cast<std::size_t>(e)]);
      }
    } else {
      spawn();
      dead_.assign(static_cast<std::size_t>(workers), false);
    }
    holding_.assign(static_cast<std::size_t>(workers), std::nullopt);
  }

  ~ExecutorImpl() override {
    // Results still on their way (tasks submitted and never collected) are taken and dropped:
    // left in flight, they would reach the next executor on mpirun's engines, or hold up the
    // disconnect of spawned ones.
    try {
      while (!session().finalized && any_holding()) collect();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "cbench: mpi: %s\n", e.what());
    }
    shutdown();
  }

  std::string_view name() const override { return "mpi"; }
  int workers() const override { return workers_; }
  int peak_parallelism() const override { return in_flight_.peak(); }
  double worker_cpu_seconds() const override { return worker_cpu_; }
  std::vector<pid_t> worker_pids() const override { return pids_; }

  void run(std::span<const Task> tasks, const ResultCallback& on_result) override {
    if (!submitted_.empty() || !queued_.empty()) {
      throw std::logic_error("mpi: run() while submitted tasks are still outstanding");
    }
    in_flight_.reset();
    worker_cpu_ = 0;
    std::size_t next = 0, busy = 0;
    std::exception_ptr callback_error;
    auto deliver = [&](TaskResult&& result) {
      try {
        on_result(std::move(result));
      } catch (...) {
        if (!callback_error) callback_error = std::current_exception();
      }
    };
    auto hand_out = [&] {  // to every engine that is idle and alive
      for (std::size_t e = 0; e < holding_.size() && next < tasks.size() && !callback_error; ++e) {
        if (holding_[e] || !alive(e)) continue;
        dispatch(e, tasks[next], next);
        ++next;
        ++busy;
      }
    };
    hand_out();
    while (busy > 0) {
      auto [engine, result] = collect();
      --busy;
      hand_out();  // first: the engines work while the callback runs
      deliver(std::move(result));
    }
    for (; next < tasks.size() && !callback_error; ++next)
      deliver(not_run(next));  // every engine died
    if (callback_error) std::rethrow_exception(callback_error);
  }

  Ticket submit(Task task) override {
    const Ticket ticket = next_ticket_++;
    submitted_.emplace(ticket, std::move(task));
    queued_.push_back(ticket);
    dispatch_queued();
    return ticket;
  }

  TaskResult get(Ticket ticket) override {
    if (!submitted_.contains(ticket)) {
      throw std::invalid_argument("mpi: no task was submitted as ticket " + std::to_string(ticket) +
                                  ", or its result was already collected");
    }
    for (;;) {
      if (auto it = finished_.find(ticket); it != finished_.end()) {
        TaskResult result = std::move(it->second);
        finished_.erase(it);
        submitted_.erase(ticket);
        return result;
      }
      if (!any_holding()) {  // queued, and no engine left to run it
        std::erase(queued_, ticket);
        submitted_.erase(ticket);
        return not_run(static_cast<std::size_t>(ticket));
      }
      TaskResult result = collect().second;
      finished_.emplace(static_cast<Ticket>(result.index), std::move(result));
      dispatch_queued();
    }
  }

  // The native floor on this executor's engines: n round trips, one in flight per engine, round
  // robin, with Open MPI's own blocking calls — an empty message answered at once (kTagPing) for
  // the empty task, else the task's frame, run by the engine as the executor's are.
  FloorCount round_trips(std::size_t tasks, const FloorTask& task) {
    std::string frame;
    if (task.kind != nullptr) {
      frame = without_length(task_frame::whole_task(0, task.kind->name, task.input));
    }
    const int tag = task.kind != nullptr ? kTagTask : kTagPing;
    const int reply_tag = task.kind != nullptr ? kTagResult : kTagPong;
    auto post = [&](std::size_t e) {
      check(MPI_Send(frame.data(), static_cast<int>(frame.size()), MPI_BYTE, ranks_[e], tag, comm_),
            "MPI_Send");
    };
    FloorCount count;
    std::size_t sent = 0, replies = 0;
    std::vector<bool> busy(ranks_.size(), false);
    for (std::size_t e = 0; e < ranks_.size() && sent < tasks; ++e, ++sent) {
      post(e);
      busy[e] = true;
    }
    std::string reply;
    for (std::size_t e = 0; replies < sent; e = (e + 1) % ranks_.size()) {
      if (!busy[e]) continue;
      MPI_Status status{};
      check(MPI_Probe(ranks_[e], reply_tag, comm_, &status), "MPI_Probe");
      int size = 0;
      check(MPI_Get_count(&status, MPI_BYTE, &size), "MPI_Get_count");
      reply.resize(static_cast<std::size_t>(size));
      check(MPI_Recv(reply.data(), size, MPI_BYTE, ranks_[e], reply_tag, comm_, MPI_STATUS_IGNORE),
            "MPI_Recv");
      ++replies;
      if (task.kind == nullptr) {
        ++count.ran;
      } else if (const auto r = task_frame::decode_reply(reply); r.ok) {
        ++count.ran;
        if (r.text != task.expected) ++count.wrong;
      }
      busy[e] = sent < tasks;
      if (busy[e]) {
        post(e);
        ++sent;
      }
    }
    return count;
  }

  // Stops spawned engines and lets go of them; mpirun's engines stay for the next executor.
  void shutdown() {
    Session& s = session();
    if (!spawned_ || s.finalized) return;
    spawned_ = false;
    s.live.erase(this);
    for (std::size_t e = 0; e < ranks_.size(); ++e) {
      if (alive(e)) MPI_Send(nullptr, 0, MPI_BYTE, ranks_[e], kTagStop, comm_);
    }
    // A disconnect waits for every peer; with one gone it would wait for ever.
    if (!any_dead()) MPI_Comm_disconnect(&comm_);
  }

 private:
  void spawn() {
    const std::string program = current_executable().string();
    std::vector<char> flag(kEngineFlag, kEngineFlag + std::strlen(kEngineFlag) + 1);
    char* argv[] = {flag.data(), nullptr};
    std::vector<int> codes(static_cast<std::size_t>(workers_), MPI_SUCCESS);
    const int code = MPI_Comm_spawn(program.c_str(), argv, workers_, MPI_INFO_NULL, 0,
                                    MPI_COMM_SELF, &comm_, codes.data());
    if (code != MPI_SUCCESS) {
      throw std::runtime_error("mpi: could not start " + std::to_string(workers_) +
                               " engines with MPI_Comm_spawn: " + error_text(code));
    }
    MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
    spawned_ = true;
    session().live.insert(this);
    for (int e = 0; e < workers_; ++e) ranks_.push_back(e);
    pids_.assign(static_cast<std::size_t>(workers_), -1);
    for (int e = 0; e < workers_; ++e) {
      pids_[static_cast<std::size_t>(e)] = receive_hello(comm_, e);
    }
  }

  void dispatch(std::size_t engine, const Task& task, std::size_t index) {
    const std::string_view input = task.input ? std::string_view(*task.input) : std::string_view{};
    // One buffer per message: the task's views are copied into it as it leaves.
    const std::string payload = without_length(task_frame::whole_task(
        index, task.kind ? task.kind->name : std::string_view{}, input, task.views.views));
    held_by(engine, task.name);
    send(comm_, ranks_[engine], kTagTask, payload);
    holding_[engine] = index;
    in_flight_.enter();
  }

  // Queued submissions, in order, to every engine that is idle and alive.
  void dispatch_queued() {
    for (std::size_t e = 0; e < holding_.size() && !queued_.empty(); ++e) {
      if (holding_[e] || !alive(e)) continue;
      const Ticket ticket = queued_.front();
      queued_.pop_front();
      dispatch(e, submitted_.at(ticket), static_cast<std::size_t>(ticket));
    }
  }

  // The next result from any engine, as the engine's index and the result of the task it held.
  std::pair<std::size_t, TaskResult> collect() {
    // An engine that died (killed, crashed) fails the task it held instead of leaving the
    // controller waiting for ever: a spawned one, on this host, is seen by its process id, one
    // of mpirun's, maybe on another host, by the end of its watch connection. (Under mpirun
    // without recovery enabled, mpirun ends the whole job first.)
    std::optional<MPI_Status> arrived;
    std::optional<std::size_t> died;
    auto last_check = std::chrono::steady_clock::now();
    wait_until([&] {
      int found = 0;
      MPI_Status status{};
      check(MPI_Iprobe(MPI_ANY_SOURCE, kTagResult, comm_, &found, &status), "MPI_Iprobe");
      if (found) {
        arrived = status;
        return true;
      }
      if (std::chrono::steady_clock::now() - last_check > std::chrono::milliseconds(100)) {
        last_check = std::chrono::steady_clock::now();
        died = dead_engine();
      }
      return died.has_value();
    });
    if (!arrived) return {*died, engine_died(*died)};
    const MPI_Status status = *arrived;
    const std::string payload = receive(comm_, status);
    const auto received = Clock::now();
    const auto found = std::find(ranks_.begin(), ranks_.end(), status.MPI_SOURCE);
    if (found == ranks_.end() || !holding_[static_cast<std::size_t>(found - ranks_.begin())]) {
      throw std::logic_error("mpi: a result from rank " + std::to_string(status.MPI_SOURCE) +
                             ", which holds no task of this executor");
    }
    const auto engine = static_cast<std::size_t>(found - ranks_.begin());
    const std::size_t held = *holding_[engine];
    holding_[engine].reset();
    held_by(engine, {});
    in_flight_.leave();
    TaskResult result;
    try {
      const task_frame::Reply reply = task_frame::decode_reply(payload);
      // The engine's clock may be another host's: its span, ending when the result arrived.
      const auto span =
          std::chrono::nanoseconds(std::max<std::int64_t>(0, reply.end_ns - reply.start_ns));
      result =
          task_frame::to_result(reply, held, static_cast<int>(engine), received - span, received);
      worker_cpu_ += reply.cpu_seconds;
    } catch (const std::exception& e) {
      result.index = held;
      result.worker = static_cast<int>(engine);
      result.start = result.end = received;
      result.error =
          std::string("unreadable result from engine ") + std::to_string(engine) + ": " + e.what();
    }
    return {engine, std::move(result)};
  }

  // An engine holding a task whose process is gone.
  std::optional<std::size_t> dead_engine() const {
    for (std::size_t e = 0; e < holding_.size(); ++e) {
      if (!holding_[e] || dead_[e]) continue;
      if (spawned_ ? ::kill(pids_[e], 0) != 0 && errno == ESRCH : watch_said_ended(e)) return e;
    }
    return std::nullopt;
  }

  // Whether the watch thread saw the connection of one of mpirun's engines end.
  bool watch_said_ended(std::size_t engine) const {
    const Session& s = session();
    const auto at = static_cast<std::size_t>(ranks_[engine] - 1);
    return s.ended && at < s.watch_fds.size() && s.ended[at].load();
  }

  // What the watch thread names when one of mpirun's engines dies: the task it holds.
  void held_by(std::size_t engine, std::string_view task) {
    if (spawned_) return;
    Session& s = session();
    if (s.held.empty()) return;
    const std::lock_guard lock(s.held_mutex);
    s.held[static_cast<std::size_t>(ranks_[engine] - 1)] = task;
  }

  TaskResult engine_died(std::size_t engine) {
    dead_[engine] = true;
    if (!spawned_) session().world_dead[static_cast<std::size_t>(ranks_[engine] - 1)] = true;
    TaskResult result;
    result.index = *holding_[engine];
    result.worker = static_cast<int>(engine);
    result.start = result.end = Clock::now();
    result.error = "engine " + std::to_string(engine) + " (pid " + std::to_string(pids_[engine]) +
                   ") died while running it";
    holding_[engine].reset();
    in_flight_.leave();
    return result;
  }

  static TaskResult not_run(std::size_t index) {
    TaskResult result;
    result.index = index;
    result.error = "not run: every engine of the mpi executor died";
    return result;
  }

  bool alive(std::size_t engine) const { return !dead_[engine]; }
  bool any_holding() const {
    return std::any_of(holding_.begin(), holding_.end(),
                       [](const auto& h) { return h.has_value(); });
  }
  bool any_dead() const { return std::find(dead_.begin(), dead_.end(), true) != dead_.end(); }

  const int workers_;
  MPI_Comm comm_ = MPI_COMM_NULL;
  bool spawned_ = false;
  std::vector<int> ranks_;  // each engine's rank in comm_
  std::vector<pid_t> pids_;
  std::vector<std::optional<std::size_t>> holding_;  // the index of the task each engine holds
  std::vector<bool> dead_;  // engines seen to have died: handed nothing more
  InFlight in_flight_;
  double worker_cpu_ = 0;
  Ticket next_ticket_ = 0;
  std::map<Ticket, Task> submitted_;
  std::deque<Ticket> queued_;
  std::map<Ticket, TaskResult> finished_;
};

void finish() {
  Session& s = session();
  if (!s.initialized || s.finalized) return;
  for (ExecutorImpl* e : std::vector<ExecutorImpl*>(s.live.begin(), s.live.end())) e->shutdown();
  bool lost = false;
  for (int rank = 1; rank < s.world_size; ++rank) {
    if (s.world_dead[static_cast<std::size_t>(rank - 1)]) {
      lost = true;
      continue;
    }
    MPI_Send(nullptr, 0, MPI_BYTE, rank, kTagStop, MPI_COMM_WORLD);
  }
  s.finalized = true;
  stop_watcher(s);
  // MPI_Finalize would wait for the engine that died, for ever; a controller that exits without
  // it makes mpirun end the job, with a non-zero status.
  if (!lost) MPI_Finalize();
}

}  // namespace

bool built() {
  return true;
}

int world_engines() {
  const Session& s = session();
  return s.initialized && !s.finalized ? s.world_size - 1 : 0;
}

void enter(int& argc, char**& argv) {
  bool engine = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], kEngineFlag) == 0) {
      engine = true;
      std::copy(argv + i + 1, argv + argc + 1, argv + i);  // with argv[argc], the null
      --argc;
      --i;
    }
  }
  // A program rank 0 starts (the fixture server, say) inherits mpirun's variables, but is no rank.
  if (!engine && (!launched_by_mpirun() || std::getenv(kDescendant) != nullptr)) return;
  initialize();
  Session& s = session();
  if (engine) {
    MPI_Comm parent = MPI_COMM_NULL;
    MPI_Comm_get_parent(&parent);
    if (parent == MPI_COMM_NULL) {
      throw std::runtime_error(std::string("mpi: ") + kEngineFlag +
                               " is for programs started by an mpi executor (MPI_Comm_spawn)");
    }
    MPI_Comm_set_errhandler(parent, MPI_ERRORS_RETURN);
    serve(parent, true);
  }
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (rank != 0) serve(MPI_COMM_WORLD, false);
  ::setenv(kDescendant, "1", 1);
  s.world_pids.assign(static_cast<std::size_t>(s.world_size - 1), -1);
  for (int e = 1; e < s.world_size; ++e) {
    s.world_pids[static_cast<std::size_t>(e - 1)] = receive_hello(MPI_COMM_WORLD, e);
  }
  s.world_dead.assign(static_cast<std::size_t>(s.world_size - 1), false);
  start_watch(s);
  start_watcher(s);
  std::atexit(finish);
}

std::unique_ptr<MpiExecutor> make_executor(int workers) {
  return std::make_unique<ExecutorImpl>(checked_workers(workers));
}

namespace {

// MPI alone: a ping-pong with each of W engines (ExecutorImpl::round_trips).
class MpiFloor final : public NativeFloor {
 public:
  explicit MpiFloor(int workers) : engines_(checked_workers(workers)) {}
  FloorCount run(std::size_t tasks, const FloorTask& task) override {
    return engines_.round_trips(tasks, task);
  }

 private:
  ExecutorImpl engines_;
};

}  // namespace

std::unique_ptr<NativeFloor> make_native_floor(int workers) {
  return std::make_unique<MpiFloor>(workers);
}

}  // namespace mpi

CBENCH_REGISTER_EXECUTOR(mpi) = {
    .name = "mpi",
    .model = "Open MPI: rank 0 hands each task to the next free engine, on this host or others",
    .python = "ipyparallel's load-balanced view",
    .traits = {.workers = WorkerPlace::ranks,
               .needs_launcher = true,
               .launcher_slots = mpi::world_engines},
    .make = [](int workers) -> std::unique_ptr<Executor> { return mpi::make_executor(workers); },
    .native_floor = mpi::make_native_floor,
    // Under mpirun, ranks other than 0 become engines here; a spawned engine serves its parent.
    .process_start = mpi::enter,
};

}  // namespace cbench
