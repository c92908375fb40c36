// MPI's start and end in a process, the messages between the controller and an engine, and an
// engine's loop (mpi_session.hpp), with mpi.hpp's built, world_engines and enter.
#include "executors/mpi_session.hpp"

#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "executors/mpi.hpp"
#include "executors/mpi_watch.hpp"
#include "executors/task_frame.hpp"

namespace cbench::mpi {
namespace detail {

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

MPI_Request start_receive(MPI_Comm comm, const MPI_Status& status, std::string& bytes) {
  int count = 0;
  check(MPI_Get_count(&status, MPI_BYTE, &count), "MPI_Get_count");
  bytes.assign(static_cast<std::size_t>(count), '\0');
  MPI_Request request = MPI_REQUEST_NULL;
  check(MPI_Irecv(bytes.data(), count, MPI_BYTE, status.MPI_SOURCE, status.MPI_TAG, comm, &request),
        "MPI_Irecv");
  return request;
}

std::string receive(MPI_Comm comm, const MPI_Status& status) {
  std::string bytes;
  MPI_Request request = start_receive(comm, status, bytes);
  complete(request);
  return bytes;
}

MPI_Request start_send(MPI_Comm comm, int rank, int tag, std::string_view bytes) {
  if (bytes.size() > static_cast<std::size_t>(INT_MAX)) {
    throw std::runtime_error("mpi: a message of " + std::to_string(bytes.size()) +
                             " bytes is more than one MPI send carries");
  }
  MPI_Request request = MPI_REQUEST_NULL;
  check(
      MPI_Isend(bytes.data(), static_cast<int>(bytes.size()), MPI_BYTE, rank, tag, comm, &request),
      "MPI_Isend");
  return request;
}

void send(MPI_Comm comm, int rank, int tag, std::string_view bytes) {
  MPI_Request request = start_send(comm, rank, tag, bytes);
  complete(request);
}

Deadline::Deadline(std::chrono::seconds limit, std::string message)
    : thread_([this, limit, message = std::move(message)] {
        std::unique_lock lock(mutex_);
        if (done_or_late_.wait_for(lock, limit, [&] { return done_; })) return;
        std::fprintf(stderr, "%s\n", message.c_str());
        std::fflush(stderr);
        std::_Exit(1);
      }) {}

Deadline::~Deadline() {
  {
    const std::lock_guard lock(mutex_);
    done_ = true;
  }
  done_or_late_.notify_one();
  thread_.join();
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

}  // namespace detail

using namespace detail;

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

}  // namespace cbench::mpi
