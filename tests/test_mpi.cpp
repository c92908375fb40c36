// The mpi executor (executors/mpi.hpp), run two ways by tests/test_mpi.sh: under
// `mpirun -n 3 --oversubscribe` (rank 0 runs these tests with 2 engines; the other ranks become
// engines in main), and without mpirun, where each executor spawns its own engines.
#include <gtest/gtest.h>
#include <signal.h>

#include <cerrno>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <thread>

#include "executors/mpi.hpp"
#include "executors/mpi_session.hpp"
#include "experiments/experiment.hpp"
#include "fixtures/corpus.hpp"

namespace cbench {
namespace {

Bytes run_sleep(std::string_view input) {
  std::this_thread::sleep_for(std::chrono::milliseconds(std::stoi(std::string(input))));
  return std::string(input);
}

Bytes run_throw(std::string_view input) {
  if (input == "bad") throw std::runtime_error("cannot count a bad book");
  return "counted " + std::string(input);
}

Bytes run_die(std::string_view) {
  ::raise(SIGKILL);
  return {};
}

// In every rank's registry: an engine looks the kind up by name in its own copy.
[[maybe_unused]] const bool kRegistered = [] {
  register_task_kind({"test-mpi-sleep", run_sleep});
  register_task_kind({"test-mpi-throw", run_throw});
  register_task_kind({"test-mpi-die", run_die});
  return true;
}();

std::vector<Task> tasks_of(std::string_view kind, const std::vector<std::string>& inputs) {
  std::vector<Task> tasks;
  for (const auto& input : inputs) {
    tasks.push_back({&task_kind(kind), "book " + input, std::make_shared<const Bytes>(input)});
  }
  return tasks;
}

std::vector<Bytes> values_of(const std::vector<TaskResult>& results) {
  std::vector<Bytes> values;
  for (const auto& r : results) values.push_back(r.value);
  return values;
}

// Under mpirun the engines it started; else 2 spawned.
int engines() {
  return mpi::world_engines() > 0 ? mpi::world_engines() : 2;
}

TEST(Mpi, ResultsAreSequentialsForEigenDoubleWordfreqPbkdf2) {
  const Corpus corpus = generated_corpus(2016);
  auto executor = mpi::make_executor(engines());
  auto sequential = reference_executor().make(1);
  for (const char* name : {"eigen", "double", "wordfreq", "pbkdf2"}) {
    const Experiment& experiment = find_experiment(name);
    Options options = experiment.defaults();
    if (experiment.option("iterations")) options.set("iterations", 2000L);
    if (std::string_view(name) == "eigen") options.set("size", 60L);
    const std::vector<Task> tasks = experiment.make_tasks(corpus, options);
    const auto reference = values_of(map(*sequential, tasks));
    const auto results = map(*executor, tasks);
    EXPECT_EQ(values_of(results), reference) << name;
    if (experiment.reduce != nullptr) {
      EXPECT_EQ(experiment.reduce(values_of(results)), experiment.reduce(reference)) << name;
    }
    for (std::size_t i = 0; i < results.size(); ++i) {
      EXPECT_EQ(results[i].index, i) << name;
      EXPECT_GE(results[i].worker, 0);
      EXPECT_LT(results[i].worker, engines());
    }
    EXPECT_LE(executor->peak_parallelism(), engines());
  }
  EXPECT_GT(executor->worker_cpu_seconds(), 0.0);  // the engines' own CPU, reported back
}

TEST(Mpi, ResultsComeBackAsCompleted) {
  // Two engines: the long task holds one while the other runs the three short ones in turn.
  ASSERT_GE(engines(), 2);
  auto executor = mpi::make_executor(2);
  const auto tasks = tasks_of("test-mpi-sleep", {"600", "20", "20", "20"});
  std::vector<std::size_t> order;
  executor->run(tasks, [&](TaskResult&& r) {
    EXPECT_TRUE(r.ok()) << r.error;
    EXPECT_EQ(r.value, *tasks[r.index].input);
    order.push_back(r.index);
  });
  EXPECT_EQ(order, (std::vector<std::size_t>{1, 2, 3, 0}));
  EXPECT_EQ(executor->peak_parallelism(), 2);
}

TEST(Mpi, SubmitAndGetOneTask) {
  auto executor = mpi::make_executor(engines());
  const auto tasks = tasks_of("test-mpi-throw", {"a", "b", "c", "d", "e"});
  std::vector<mpi::MpiExecutor::Ticket> tickets;
  for (const auto& task : tasks)
    tickets.push_back(executor->submit(task));    // more than engines: queued
  for (std::size_t i = tasks.size(); i-- > 0;) {  // collected in reverse
    const TaskResult r = executor->get(tickets[i]);
    EXPECT_TRUE(r.ok()) << r.error;
    EXPECT_EQ(r.value, "counted " + *tasks[i].input);
  }
  EXPECT_THROW(executor->get(tickets[0]), std::invalid_argument);  // already collected
  EXPECT_THROW(executor->get(999), std::invalid_argument);         // never issued
  // With nothing outstanding, run() works again on the same engines.
  EXPECT_EQ(values_of(map(*executor, tasks)).back(), "counted e");
}

TEST(Mpi, TasksLeftUncollectedDoNotReachTheNextExecutor) {
  {
    auto executor = mpi::make_executor(engines());
    for (const auto& task : tasks_of("test-mpi-sleep", {"50", "50", "50"})) executor->submit(task);
  }  // destroyed with results on their way
  auto executor = mpi::make_executor(engines());
  EXPECT_EQ(values_of(map(*executor, tasks_of("test-mpi-throw", {"p", "q"}))),
            (std::vector<Bytes>{"counted p", "counted q"}));
}

TEST(Mpi, AThrowingTaskIsReportedByName) {
  auto executor = mpi::make_executor(engines());
  const auto tasks = tasks_of("test-mpi-throw", {"a", "bad", "c"});
  std::vector<TaskResult> results(tasks.size());
  executor->run(tasks, [&](TaskResult&& r) { results[r.index] = std::move(r); });
  EXPECT_TRUE(results[0].ok());
  EXPECT_EQ(results[1].error, "cannot count a bad book");
  EXPECT_EQ(results[2].value, "counted c");
  try {
    map(*executor, tasks);
    FAIL() << "map should throw for the bad book";
  } catch (const TaskError& e) {
    EXPECT_EQ(e.task(), "book bad");
    EXPECT_NE(std::string(e.what()).find("cannot count a bad book"), std::string::npos);
  }
}

TEST(Mpi, MoreEnginesThanMpirunStartedIsAnError) {
  if (mpi::world_engines() == 0) GTEST_SKIP() << "under mpirun only";
  EXPECT_THROW(mpi::make_executor(mpi::world_engines() + 1), std::invalid_argument);
}

TEST(Mpi, AnEngineThatDiesFailsItsTaskByNameAndTheRunEnds) {
  if (mpi::world_engines() > 0) GTEST_SKIP() << "under mpirun, a rank that dies ends the whole job";
  {
    auto executor = mpi::make_executor(2);
    auto tasks = tasks_of("test-mpi-throw", {"a", "b", "c"});
    tasks.insert(tasks.begin() + 1, Task{&task_kind("test-mpi-die"), "book doomed", nullptr});
    std::vector<std::optional<TaskResult>> results(tasks.size());
    executor->run(tasks, [&](TaskResult&& r) { results[r.index] = std::move(r); });
    for (std::size_t i = 0; i < results.size(); ++i) {
      ASSERT_TRUE(results[i].has_value()) << "no result for " << tasks[i].name;
      if (!results[i]->ok()) {
        EXPECT_FALSE(results[i]->error.empty());
      }
    }
    // Open MPI may end the other engine of the same spawn too; the doomed task names its death.
    EXPECT_NE(results[1]->error.find("died while running it"), std::string::npos)
        << results[1]->error;
  }
  // A new executor starts new engines.
  auto executor = mpi::make_executor(2);
  EXPECT_EQ(values_of(map(*executor, tasks_of("test-mpi-throw", {"p", "q"}))),
            (std::vector<Bytes>{"counted p", "counted q"}));
}

TEST(Mpi, ALargeTaskForAnEngineThatDiedIdleFailsInsteadOfWaiting) {
  if (mpi::world_engines() > 0) GTEST_SKIP() << "under mpirun, a rank that dies ends the whole job";
  auto executor = mpi::make_executor(1);
  ASSERT_EQ(values_of(map(*executor, tasks_of("test-mpi-throw", {"x"}))),
            std::vector<Bytes>{"counted x"});
  const std::vector<pid_t> pids = executor->worker_pids();
  ASSERT_EQ(pids.size(), 1u);
  ASSERT_EQ(::kill(pids[0], SIGKILL), 0);  // ours: the engine this executor spawned
  bool gone = false;
  for (int i = 0; i < 200 && !gone; ++i) {
    gone = ::kill(pids[0], 0) != 0 && errno == ESRCH;
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(gone) << "engine " << pids[0] << " still there 10 s after SIGKILL";
  // 4 MiB: far above Open MPI's eager limits, so the send waits for a receiver that is gone.
  std::vector<Task> tasks{{&task_kind("test-mpi-throw"), "book large",
                           std::make_shared<const Bytes>(std::string(4 << 20, 'a'))}};
  std::vector<std::optional<TaskResult>> results(1);
  executor->run(tasks, [&](TaskResult&& r) { results[r.index] = std::move(r); });
  ASSERT_TRUE(results[0].has_value());
  EXPECT_NE(results[0]->error.find("died while running it"), std::string::npos)
      << results[0]->error;
}

// The guard of MPI_Comm_spawn, which may hang for ever (executors/mpi.cpp, spawn): a call that
// returns in time goes on; one that does not ends the process with the message, exit status 1.
TEST(MpiDeadline, EndsTheProcessWithItsMessageOnlyWhenLate) {
  if (mpi::world_engines() > 0) GTEST_SKIP() << "a forked rank of mpirun's would end the job";
  { const mpi::detail::Deadline in_time(std::chrono::seconds(5), "never said"); }
  EXPECT_EXIT(
      {
        const mpi::detail::Deadline late(std::chrono::seconds(1), "cbench: mpi: it hung");
        std::this_thread::sleep_for(std::chrono::seconds(30));
      },
      testing::ExitedWithCode(1), "cbench: mpi: it hung");
}

TEST(Mpi, TheNativeFloorRunsEveryTaskOnItsEngines) {
  auto floor = find_executor("mpi")->native_floor(2);
  // Empty: a ping-pong per task; 7 is not a multiple of the 2 engines.
  const FloorCount empty = floor->run(7, {});
  EXPECT_EQ(empty.ran, 7u);
  EXPECT_EQ(empty.wrong, 0u);
  // A task kind's frame, each reply checked against the expected result.
  const FloorCount work = floor->run(5, {&task_kind("test-mpi-throw"), "x", "counted x"});
  EXPECT_EQ(work.ran, 5u);
  EXPECT_EQ(work.wrong, 0u);
  const FloorCount wrong = floor->run(3, {&task_kind("test-mpi-throw"), "y", "counted x"});
  EXPECT_EQ(wrong.ran, 3u);
  EXPECT_EQ(wrong.wrong, 3u);
}

TEST(Mpi, TheNativeFloorNamesAnEngineThatDiesInsteadOfWaiting) {
  if (mpi::world_engines() > 0) GTEST_SKIP() << "under mpirun, a rank that dies ends the whole job";
  auto floor = find_executor("mpi")->native_floor(2);
  try {
    floor->run(4, {&task_kind("test-mpi-die"), "x", ""});
    ADD_FAILURE() << "the round trips ended although an engine died";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("died during the round trips"), std::string::npos)
        << e.what();
  }
}

TEST(Mpi, SpawnedEnginesAreGoneWhenTheExecutorIs) {
  if (mpi::world_engines() > 0) GTEST_SKIP() << "mpirun's engines live as long as the run";
  std::vector<pid_t> pids;
  {
    auto executor = mpi::make_executor(2);
    EXPECT_EQ(values_of(map(*executor, tasks_of("test-mpi-throw", {"x", "y", "z"}))),
              (std::vector<Bytes>{"counted x", "counted y", "counted z"}));
    pids = executor->worker_pids();
  }
  ASSERT_EQ(pids.size(), 2u);
  for (pid_t pid : pids) {
    ASSERT_GT(pid, 0);
    bool gone = false;
    for (int i = 0; i < 200 && !gone; ++i) {
      gone = ::kill(pid, 0) != 0 && errno == ESRCH;
      if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_TRUE(gone) << "engine " << pid << " is still alive 10 s after its executor ended";
  }
}

}  // namespace
}  // namespace cbench

int main(int argc, char** argv) {
  // First: under mpirun, ranks 1 and 2 become engines here and never return.
  cbench::mpi::enter(argc, argv);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
