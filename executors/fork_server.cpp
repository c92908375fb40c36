// The fork server (a single-threaded process forked at the top of main), the worker loop it forks
// into, and the caller's side of the control socket. See fork_server.hpp for the why.
//
// Control protocol, caller -> server, one fixed-size Request at a time (the caller serialises
// requests with a mutex, so a reply always belongs to the last request):
//   Spawn n      -> n messages of one i64 each: a worker's pid with its socket attached
//                   (SCM_RIGHTS), or -errno without one when fork failed.
//   Reap pid ms  -> one ReapReply: the worker's wait status, once it has ended; the server kills
//                   it with SIGKILL if it is still alive after ms milliseconds.
// End of file on the control socket (the caller closed it or exited): the server kills and reaps
// every worker still alive and exits.
//
// Worker protocol, over each worker's own socket: the caller sends task frames (task_frame.hpp),
// as many at once as it likes; the worker answers each with a reply frame, in the order the
// tasks came, running one task at a time. It reads whatever has arrived in one read and holds
// its replies back to send several in one write (see fork_worker.hpp), so that short tasks cost no
// system call of their own. It exits when its socket closes.
#include "executors/fork_server.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <system_error>
#include <vector>

#include "executors/counting.hpp"
#include "executors/fork_worker.hpp"
#include "executors/process.hpp"
#include "executors/run_task.hpp"
#include "executors/task_frame.hpp"
#include "executors/wire.hpp"

namespace cbench {
namespace {

[[noreturn]] void throw_errno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

// Blocking I/O on a socket. MSG_NOSIGNAL: a peer that went away is an error, not SIGPIPE.
bool send_all(int fd, const void* data, std::size_t size) {
  auto* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = ::send(fd, p, size, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

// 1: read all of it; 0: end of file before the first byte; -1: error or end of file midway.
int recv_all(int fd, void* data, std::size_t size) {
  auto* p = static_cast<char*>(data);
  std::size_t got = 0;
  while (got < size) {
    ssize_t n = ::recv(fd, p + got, size - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (n == 0) return got == 0 ? 0 : -1;
    got += static_cast<std::size_t>(n);
  }
  return 1;
}

enum class Op : std::uint64_t { kSpawn = 1, kReap = 2 };

struct Request {
  Op op;
  std::int64_t a;  // Spawn: how many; Reap: pid
  std::int64_t b;  // Reap: grace in milliseconds
};

struct ReapReply {
  std::int64_t status;  // wait status, or -1 for a pid the server does not know
  std::int64_t killed_by_server;
};

// ---------------------------------------------------------------------------------------------
// Server.

class Server {
 public:
  Server(int control, const sigset_t& caller_mask, const struct sigaction& caller_sigint)
      : control_(control), caller_mask_(caller_mask), caller_sigint_(caller_sigint) {}

  [[noreturn]] void serve() {
    ::prctl(PR_SET_NAME, "cbench-forksrv", 0, 0, 0);
    // Ctrl-C reaches the whole process group: the caller decides, and the server ends when the
    // caller does.
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    ::sigaction(SIGINT, &ignore, nullptr);
    // SIGCHLD is read from a signalfd, so the server reaps workers as they end.
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    ::sigprocmask(SIG_BLOCK, &chld, nullptr);
    signals_ = ::signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
    if (signals_ < 0) shutdown(71);

    for (;;) {
      pollfd fds[2] = {{control_, POLLIN, 0}, {signals_, POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        shutdown(71);
      }
      if (fds[1].revents != 0) reap_ended();
      if (fds[0].revents == 0) continue;
      Request request{};
      int got = recv_all(control_, &request, sizeof request);
      if (got == 0) shutdown(0);  // the caller closed the control socket or exited
      if (got < 0) shutdown(71);
      bool sent = false;
      switch (request.op) {
        case Op::kSpawn:
          sent = spawn(request.a);
          break;
        case Op::kReap:
          sent = reap(static_cast<pid_t>(request.a), request.b);
          break;
      }
      if (!sent) shutdown(71);
    }
  }

 private:
  bool spawn(std::int64_t count) {
    for (std::int64_t i = 0; i < count; ++i) {
      int pair[2];
      std::int64_t pid = -1;
      if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
        pid = -errno;
        if (!send_pid(pid, -1)) return false;
        continue;
      }
      pid_t child = ::fork();
      if (child == 0) {
        // The worker keeps its own end of its own socket and nothing else of the server's.
        ::close(pair[0]);
        ::close(control_);
        ::close(signals_);
        ::sigprocmask(SIG_SETMASK, &caller_mask_, nullptr);
        ::sigaction(SIGINT, &caller_sigint_, nullptr);
        ::prctl(PR_SET_NAME, "cbench-worker", 0, 0, 0);
        counting::install_worker_reset();
        fork_worker::worker_main(pair[1]);
      }
      ::close(pair[1]);
      if (child < 0) {
        pid = -errno;
        ::close(pair[0]);
        if (!send_pid(pid, -1)) return false;
        continue;
      }
      alive_.insert(child);
      bool sent = send_pid(child, pair[0]);
      ::close(pair[0]);  // the caller has it now; the server must not keep the socket open
      if (!sent) return false;
    }
    return true;
  }

  bool send_pid(std::int64_t pid, int fd) {
    iovec iov{&pid, sizeof pid};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    if (fd >= 0) {
      msg.msg_control = control;
      msg.msg_controllen = sizeof control;
      cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
      cmsg->cmsg_level = SOL_SOCKET;
      cmsg->cmsg_type = SCM_RIGHTS;
      cmsg->cmsg_len = CMSG_LEN(sizeof(int));
      std::memcpy(CMSG_DATA(cmsg), &fd, sizeof fd);
    }
    for (;;) {
      ssize_t n = ::sendmsg(control_, &msg, MSG_NOSIGNAL);
      if (n == static_cast<ssize_t>(sizeof pid)) return true;
      if (n < 0 && errno == EINTR) continue;
      return false;  // 8 bytes on a stream socket are sent whole or not at all
    }
  }

  // Reaps every worker that has ended, keeping its status for the caller.
  void reap_ended() {
    signalfd_siginfo info;
    while (::read(signals_, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
    }
    for (;;) {
      int status = 0;
      pid_t pid = ::waitpid(-1, &status, WNOHANG);
      if (pid <= 0) break;
      if (alive_.erase(pid) != 0) ended_[pid] = status;
    }
  }

  bool reap(pid_t pid, std::int64_t grace_ms) {
    ReapReply reply{-1, 0};
    reap_ended();
    if (alive_.count(pid) != 0) {
      const std::int64_t deadline = task_frame::monotonic_ns() + grace_ms * 1'000'000;
      bool killed = false;
      while (alive_.count(pid) != 0) {
        int timeout = -1;
        if (!killed) {
          std::int64_t left_ms = (deadline - task_frame::monotonic_ns() + 999'999) / 1'000'000;
          if (left_ms <= 0) {
            ::kill(pid, SIGKILL);  // safe: not reaped yet, so the pid cannot have been reused
            killed = true;
          } else {
            timeout = static_cast<int>(std::min<std::int64_t>(left_ms, 60'000));
          }
        }
        pollfd fd{signals_, POLLIN, 0};
        if (::poll(&fd, 1, timeout) < 0 && errno != EINTR) return false;
        reap_ended();
      }
      reply.killed_by_server = killed ? 1 : 0;
    }
    if (auto it = ended_.find(pid); it != ended_.end()) {
      reply.status = it->second;
      ended_.erase(it);
    }
    return send_all(control_, &reply, sizeof reply);
  }

  [[noreturn]] void shutdown(int code) {
    for (pid_t pid : alive_) ::kill(pid, SIGKILL);
    for (pid_t pid : alive_) {
      int status = 0;
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
    }
    ::_exit(code);
  }

  int control_;
  int signals_ = -1;
  sigset_t caller_mask_;
  struct sigaction caller_sigint_;
  std::set<pid_t> alive_;       // forked and not yet reaped
  std::map<pid_t, int> ended_;  // reaped; status not yet asked for
};

// ---------------------------------------------------------------------------------------------
// The caller's side.

struct Client {
  std::mutex mutex;  // one request and its reply at a time
  int control = -1;
  pid_t pid = -1;
  pid_t owner = -1;  // the process that started the server: a fork of it shares the socket
};

Client& client() {
  // Never destroyed: the kernel closes the control socket when the process exits, which is what
  // ends the server, and a pool destroyed during static destruction can still reach it.
  static Client* c = new Client;
  return *c;
}

// Expects client().mutex held.
void start_locked(Client& c) {
  if (c.control >= 0) {
    if (::getpid() != c.owner) {
      throw std::logic_error(
          "this process is a fork of the one that started the fork server, and cannot use it");
    }
    return;
  }
  // A thread just joined may linger in /proc/self/task for a moment while the kernel finishes
  // its exit; one that is still there after a few milliseconds is really running.
  int threads = count_threads();
  for (int retry = 0; threads != 1 && retry < 20; ++retry) {
    ::usleep(1000);
    threads = count_threads();
  }
  if (threads != 1) {
    throw std::logic_error(
        "the fork server must be started while the process has a single thread, but it has " +
        std::to_string(threads) +
        ": call cbench::start_fork_server() at the top of main(), before any thread starts "
        "(a GoogleTest binary: from a global test Environment's SetUp); threads there already "
        "at the top of main were started by a library as it loaded, as a threaded OpenBLAS "
        "behind liblapack.so.3 does (choose a serial LAPACK with update-alternatives, or set "
        "OPENBLAS_NUM_THREADS=1)");
  }
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
    throw_errno("fork server: socketpair");
  }
  sigset_t mask;
  ::sigprocmask(SIG_SETMASK, nullptr, &mask);
  struct sigaction sigint {};
  ::sigaction(SIGINT, nullptr, &sigint);
  std::fflush(nullptr);  // or the server and every worker would flush a copy of the buffers
  pid_t pid = ::fork();
  if (pid < 0) {
    int saved = errno;
    ::close(pair[0]);
    ::close(pair[1]);
    errno = saved;
    throw_errno("fork server: fork");
  }
  if (pid == 0) {
    ::close(pair[0]);
    // Keep only stdio and the control socket: an inherited pipe held open by the server and its
    // workers would keep whoever reads it from ever seeing end of file.
    int control = pair[1];
    if (control != 3) {
      if (::dup3(control, 3, O_CLOEXEC) < 0) ::_exit(71);
      control = 3;
    }
    ::close_range(4, ~0U, 0);
    Server(control, mask, sigint).serve();
  }
  ::close(pair[1]);
  c.control = pair[0];
  c.pid = pid;
  c.owner = ::getpid();
}

void send_request(Client& c, const Request& request) {
  if (c.control < 0) throw std::logic_error("fork server: not started");
  if (::getpid() != c.owner) {
    throw std::logic_error(
        "this process is a fork of the one that started the fork server, and cannot use it");
  }
  if (!send_all(c.control, &request, sizeof request)) {
    throw std::runtime_error("the fork server (pid " + std::to_string(c.pid) +
                             ") is gone: " + std::strerror(errno));
  }
}

[[noreturn]] void server_gone(const Client& c) {
  throw std::runtime_error("the fork server (pid " + std::to_string(c.pid) +
                           ") closed the control socket");
}

// One Spawn reply: a pid and, when fork succeeded, the worker's socket.
ForkedWorker receive_worker(Client& c) {
  std::int64_t pid = 0;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  iovec iov{&pid, sizeof pid};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do {
    n = ::recvmsg(c.control, &msg, MSG_CMSG_CLOEXEC | MSG_WAITALL);
  } while (n < 0 && errno == EINTR);
  int fd = -1;
  for (cmsghdr* cmsg = CMSG_FIRSTHDR(&msg); cmsg != nullptr; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
    if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS) {
      std::memcpy(&fd, CMSG_DATA(cmsg), sizeof fd);
    }
  }
  if (n != static_cast<ssize_t>(sizeof pid) || (msg.msg_flags & MSG_CTRUNC) != 0) {
    if (fd >= 0) ::close(fd);
    server_gone(c);
  }
  if (pid < 0) {
    if (fd >= 0) ::close(fd);
    return {static_cast<pid_t>(pid), -1};
  }
  if (fd < 0) server_gone(c);
  return {static_cast<pid_t>(pid), fd};
}

WorkerExit reap_locked(Client& c, pid_t pid, std::chrono::milliseconds grace) {
  send_request(c, {Op::kReap, pid, static_cast<std::int64_t>(grace.count())});
  ReapReply reply{};
  if (recv_all(c.control, &reply, sizeof reply) != 1) server_gone(c);
  if (reply.status < 0) {
    throw std::logic_error("the fork server has no worker with pid " + std::to_string(pid));
  }
  return {static_cast<int>(reply.status), reply.killed_by_server != 0};
}

}  // namespace

// ---------------------------------------------------------------------------------------------

void start_fork_server() {
  auto& c = client();
  std::lock_guard lock(c.mutex);
  start_locked(c);
}

pid_t fork_server_pid() {
  auto& c = client();
  std::lock_guard lock(c.mutex);
  return c.pid;
}

std::vector<ForkedWorker> fork_workers(int n) {
  if (n < 0) throw std::invalid_argument("fork_workers: negative count");
  auto& c = client();
  std::lock_guard lock(c.mutex);
  start_locked(c);
  send_request(c, {Op::kSpawn, n, 0});
  std::vector<ForkedWorker> workers;
  int error = 0;
  for (int i = 0; i < n; ++i) {
    ForkedWorker worker;
    try {
      worker = receive_worker(c);
    } catch (...) {
      for (auto& w : workers) ::close(w.fd);
      throw;
    }
    if (worker.pid < 0) {
      error = static_cast<int>(-worker.pid);
    } else {
      workers.push_back(worker);
    }
  }
  if (error != 0) {
    // All or nothing: close what was forked, let it exit, and reap it.
    for (auto& w : workers) ::close(w.fd);
    for (auto& w : workers) {
      try {
        reap_locked(c, w.pid, std::chrono::seconds(5));
      } catch (...) {
      }
    }
    throw std::system_error(error, std::generic_category(),
                            "fork server: could not fork " + std::to_string(n) + " workers");
  }
  return workers;
}

WorkerExit reap_worker(pid_t pid, std::chrono::milliseconds grace) {
  auto& c = client();
  std::lock_guard lock(c.mutex);
  if (c.control < 0) throw std::logic_error("reap_worker: no fork server was started");
  return reap_locked(c, pid, grace);
}

std::string describe_wait_status(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    const char* abbrev = ::sigabbrev_np(sig);
    std::string name = abbrev != nullptr ? std::string("SIG") + abbrev : "unknown signal";
    std::string text = sig == SIGABRT
                           ? "aborted (" + name + ")"
                           : "killed by signal " + std::to_string(sig) + " (" + name + ")";
    if (WCOREDUMP(status)) text += ", core dumped";
    return text;
  }
  return "ended with wait status " + std::to_string(status);
}

}  // namespace cbench
