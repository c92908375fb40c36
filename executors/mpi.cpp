// The mpi executor on Open MPI (mpi.hpp): the controller's side. It hands each task to the next
// free engine, knows which task each engine holds (so a result needs no lookup by index; an
// engine never holds more than one task), and fails an engine's task, named, when the engine
// dies. The session (MPI's start, the messages, an engine's loop) is in mpi_session.cpp; the
// liveness watch of mpirun's engines in mpi_watch.cpp.
#include "executors/mpi.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <optional>

#include "executors/completion_queue.hpp"
#include "executors/mpi_session.hpp"
#include "executors/mpi_watch.hpp"
#include "executors/process.hpp"
#include "executors/task_frame.hpp"

namespace cbench {
namespace mpi {
namespace detail {

constexpr std::chrono::seconds kSpawnLimit{60};  // see spawn()

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
      // Not MPI_Probe: Open MPI may never report a spawned engine's death to a blocking probe.
      const std::optional<MPI_Status> arrived =
          probe_until(ranks_[e], reply_tag, [&] { return engine_gone(e); });
      if (!arrived) {
        mark_dead(e);
        throw std::runtime_error("mpi floor: engine " + std::to_string(e) + " (pid " +
                                 std::to_string(pids_[e]) + ") died during the round trips");
      }
      MPI_Status status = *arrived;
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
    s.live.erase(this);
    for (std::size_t e = 0; e < ranks_.size(); ++e) {
      if (!alive(e)) continue;
      bool sent = false;
      try {
        sent = send_to(e, kTagStop, {});
      } catch (const std::runtime_error&) {  // MPI_Isend refused: the engine is past reaching
      }
      if (!sent) mark_dead(e);
    }
    spawned_ = false;  // after the stops: engine_gone() tells a spawned engine by its pid
    // A disconnect waits for every peer; with one gone it would wait for ever.
    if (!any_dead()) MPI_Comm_disconnect(&comm_);
  }

 private:
  void spawn() {
    const std::string program = current_executable().string();
    std::vector<char> flag(kEngineFlag, kEngineFlag + std::strlen(kEngineFlag) + 1);
    char* argv[] = {flag.data(), nullptr};
    std::vector<int> codes(static_cast<std::size_t>(workers_), MPI_SUCCESS);
    int code = MPI_SUCCESS;
    {
      // Debian 12's Open MPI 4.1.4 over PMIx 4.2 hangs in MPI_Comm_spawn now and then, alone
      // or under load (about one spawn in 300 here, in its connect/accept; openpmix issue 2735),
      // and nothing cancels it: a spawn that has not returned in kSpawnLimit ends the process,
      // saying so, instead of waiting for ever.
      const Deadline deadline(
          kSpawnLimit, "cbench: mpi: MPI_Comm_spawn of " + std::to_string(workers_) +
                           " engines did not return in " + std::to_string(kSpawnLimit.count()) +
                           " s: Open MPI's spawn hung (a known intermittent hang of Open MPI 4.1 "
                           "with PMIx 4); run it again, or under mpirun -n " +
                           std::to_string(workers_ + 1) + ", which does not spawn");
      code = MPI_Comm_spawn(program.c_str(), argv, workers_, MPI_INFO_NULL, 0, MPI_COMM_SELF,
                            &comm_, codes.data());
    }
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
    holding_[engine] = index;
    in_flight_.enter();
    // Given up when the engine died first: collect() then fails the task it holds, named.
    send_to(engine, kTagTask, payload);
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
    std::optional<std::size_t> died;
    const std::optional<MPI_Status> arrived = probe_until(MPI_ANY_SOURCE, kTagResult, [&] {
      died = dead_engine();
      return died.has_value();
    });
    if (!arrived) return {*died, engine_died(*died)};
    const MPI_Status status = *arrived;
    const auto found = std::find(ranks_.begin(), ranks_.end(), status.MPI_SOURCE);
    if (found == ranks_.end() || !holding_[static_cast<std::size_t>(found - ranks_.begin())]) {
      throw std::logic_error("mpi: a result from rank " + std::to_string(status.MPI_SOURCE) +
                             ", which holds no task of this executor");
    }
    const auto engine = static_cast<std::size_t>(found - ranks_.begin());
    // A large result comes in pieces: an engine that dies while sending it never finishes it.
    std::string payload;
    MPI_Request receiving = start_receive(comm_, status, payload);
    if (!finished_or_gone(engine, receiving)) return {engine, engine_died(engine)};
    const auto received = Clock::now();
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
      if (holding_[e] && engine_gone(e)) return e;
    }
    return std::nullopt;
  }

  // Whether an engine not yet known dead has ended: a spawned one by its process id, one of
  // mpirun's by the end of its watch connection.
  bool engine_gone(std::size_t e) const {
    if (dead_[e]) return false;
    return spawned_ ? ::kill(pids_[e], 0) != 0 && errno == ESRCH : watch_said_ended(e);
  }

  // Waits as collect() does until `ready()`; every 100 ms asks `gone()` whether an engine it
  // waits on has died, and gives up (false) when it says so.
  template <typename Ready, typename Gone>
  static bool wait_or_gone(Ready&& ready, Gone&& gone) {
    bool given_up = false;
    auto last_check = std::chrono::steady_clock::now();
    wait_until([&] {
      if (ready()) return true;
      if (std::chrono::steady_clock::now() - last_check > std::chrono::milliseconds(100)) {
        last_check = std::chrono::steady_clock::now();
        given_up = gone();
      }
      return given_up;
    });
    return !given_up;
  }

  // A message from `source` with `tag`, or nothing when `gone()` said an engine died first.
  template <typename Gone>
  std::optional<MPI_Status> probe_until(int source, int tag, Gone&& gone) {
    std::optional<MPI_Status> arrived;
    wait_or_gone(
        [&] {
          int found = 0;
          MPI_Status status{};
          check(MPI_Iprobe(source, tag, comm_, &found, &status), "MPI_Iprobe");
          if (found) arrived = status;
          return found != 0;
        },
        gone);
    return arrived;
  }

  // Sends to an engine as send() does, but gives up (false) when it died first: a message larger
  // than Open MPI's eager limit waits for its receiver, and a dead engine never receives it (an
  // MPI_Send to one would wait for ever). MPI_Isend's own failure is std::runtime_error.
  bool send_to(std::size_t e, int tag, std::string_view bytes) {
    MPI_Request request = start_send(comm_, ranks_[e], tag, bytes);
    return finished_or_gone(e, request);
  }

  // Waits for a send to or a receive from engine e; false, the request cancelled, when the
  // engine died first.
  bool finished_or_gone(std::size_t e, MPI_Request& request) {
    const bool finished = wait_or_gone(
        [&] {
          int done = 0;
          return MPI_Test(&request, &done, MPI_STATUS_IGNORE) != MPI_SUCCESS || done != 0;
        },
        [&] { return engine_gone(e); });
    if (!finished) {
      MPI_Cancel(&request);
      MPI_Request_free(&request);
    }
    return finished;
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
    set_held(s, static_cast<std::size_t>(ranks_[engine] - 1), task);
  }

  void mark_dead(std::size_t engine) {
    dead_[engine] = true;
    if (!spawned_) session().world_dead[static_cast<std::size_t>(ranks_[engine] - 1)] = true;
  }

  TaskResult engine_died(std::size_t engine) {
    mark_dead(engine);
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

}  // namespace detail

using namespace detail;

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
