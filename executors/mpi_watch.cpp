// The watch: under mpirun, an engine on another host cannot be seen by its process id, so each
// engine holds a TCP connection to the controller for as long as it lives. The kernel closes it
// when the engine dies, however it dies, and a thread of the controller's that waits on these
// connections sees the end of the stream at once and names, on standard error, the task the
// engine held. It must be at once: mpirun ends the whole job when a rank dies, the controller
// included, a moment later; so mpirun's SIGTERM waits for the line (below). (With recovery
// enabled, orte_enable_recovery, the controller outlives it: the task then also fails, named, as
// a spawned engine's does.)
#include "executors/mpi_watch.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <random>

namespace cbench::mpi::detail {

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

// --- mpirun's SIGTERM waits for the watch's line ---
// When an engine dies, mpirun ends the job: it sends every other rank SIGTERM and, a second later
// (odls_base_sigkill_timeout), SIGKILL. Nothing orders that SIGTERM after the watch thread's line,
// and its default action would end the controller before the line is written. So while the watch
// runs, a SIGTERM first waits, for at most kTermLongestMs, until every watch connection that has
// ended is said; with none ended, it waits kTermNoDeathMs for one (the FIN of an engine on another
// host may come after mpirun's word), then the controller dies of SIGTERM as before. The handler
// makes only async-signal-safe calls (poll, nanosleep, sigaction, raise) and reads atomics.
namespace {

constexpr int kTermStepMs = 5, kTermNoDeathMs = 400, kTermLongestMs = 800;

struct TermWatch {
  std::vector<int> fds;                       // the watch connections, as start_watcher found them
  std::unique_ptr<std::atomic<bool>[]> said;  // each one's death written on standard error
  // The thread inside set_held (it holds held_mutex, which the watch thread needs to say a
  // death); a SIGTERM that lands on it is deferred to the end of set_held.
  std::atomic<pthread_t> holder{};
  std::atomic<bool> deferred{false};
  struct sigaction previous {};
};
TermWatch g_term;
std::atomic<bool> g_term_armed{false};

// Until every ended watch connection is said (see above).
void wait_until_deaths_said() {
  std::size_t said_before = 0;
  for (std::size_t e = 0; e < g_term.fds.size(); ++e) said_before += g_term.said[e].load();
  for (int waited = 0; waited < kTermLongestMs; waited += kTermStepMs) {
    bool unsaid = false;
    std::size_t said = 0;
    for (std::size_t e = 0; e < g_term.fds.size(); ++e) {
      if (g_term.said[e].load()) {
        ++said;
      } else if (g_term.fds[e] >= 0) {
        pollfd p{g_term.fds[e], POLLIN, 0};
        unsaid = unsaid || ::poll(&p, 1, 0) == 1;  // an engine never writes after its hello
      }
    }
    if (!unsaid && (said > said_before || waited >= kTermNoDeathMs)) return;
    const timespec step{0, kTermStepMs * 1'000'000L};
    ::nanosleep(&step, nullptr);
  }
}

// SIGTERM's default action: at once where it is not blocked, else when it is unblocked (in the
// handler, on return).
void raise_default_sigterm() {
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  ::sigaction(SIGTERM, &dfl, nullptr);
  ::raise(SIGTERM);
}

void on_sigterm(int) {
  if (g_term.holder.load() == ::pthread_self()) {
    const int saved = errno;
    g_term.deferred.store(true);
    errno = saved;
    return;
  }
  wait_until_deaths_said();
  raise_default_sigterm();
}

void arm_sigterm(const Session& s) {
  g_term.fds = s.watch_fds;
  g_term.said = std::make_unique<std::atomic<bool>[]>(s.watch_fds.size());
  struct sigaction wait_first {};
  wait_first.sa_handler = on_sigterm;
  sigemptyset(&wait_first.sa_mask);
  wait_first.sa_flags = SA_RESTART;
  if (::sigaction(SIGTERM, &wait_first, &g_term.previous) == 0) g_term_armed.store(true);
}

void disarm_sigterm() {
  if (g_term_armed.exchange(false)) ::sigaction(SIGTERM, &g_term.previous, nullptr);
}

// A line on standard error with one write, no stdio lock and no allocation: the thread that
// holds stderr's lock may be the one a SIGTERM handler stopped.
void say(const char* line, int length) {
  if (length <= 0) return;
  const auto n = static_cast<std::size_t>(std::min(length, 1023));
  for (std::size_t at = 0; at < n;) {
    const ssize_t w = ::write(STDERR_FILENO, line + at, n - at);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    at += static_cast<std::size_t>(w);
  }
}

}  // namespace

void set_held(Session& s, std::size_t at, std::string_view task) {
  g_term.holder.store(::pthread_self());
  {
    const std::lock_guard lock(s.held_mutex);
    s.held[at] = task;
  }
  g_term.holder.store(pthread_t{});
  if (g_term.deferred.exchange(false)) {
    wait_until_deaths_said();
    raise_default_sigterm();
  }
}

// The watch thread: waits on every watch connection and on the pipe that stops it; makes no MPI
// call. An engine's connection that ends is its death, said at once (mpirun may end this
// process a moment later), and marked for the controller's main thread.
void watch_engines(Session& s, int stop) {
  // SIGTERM is for the other threads: its handler waits for this one.
  ::sigset_t term;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  ::pthread_sigmask(SIG_BLOCK, &term, nullptr);
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
      char task[512] = "";
      {
        const std::lock_guard lock(s.held_mutex);
        std::snprintf(task, sizeof task, "%s", s.held[e].c_str());
      }
      s.ended[e].store(true);
      // The same words as the task's error, engines numbered as the executor numbers them.
      char line[1024];
      const int pid = static_cast<int>(s.world_pids[e]);
      const int length =
          task[0] == '\0'
              ? std::snprintf(line, sizeof line,
                              "cbench: mpi: engine %zu (pid %d) died, holding no task\n", e, pid)
              : std::snprintf(line, sizeof line,
                              "cbench: mpi: %s: engine %zu (pid %d) died while running it\n", task,
                              e, pid);
      say(line, length);
      if (g_term.said) g_term.said[e].store(true);
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
  arm_sigterm(s);
  s.watcher = std::thread(watch_engines, std::ref(s), pipe_fds[0]);
}

void stop_watcher(Session& s) {
  if (!s.watcher.joinable()) return;
  disarm_sigterm();
  const char byte = 0;
  if (::write(s.stop_watcher, &byte, 1) == 1)
    s.watcher.join();
  else
    s.watcher.detach();
}

}  // namespace cbench::mpi::detail
