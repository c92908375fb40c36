// Nested fork-join (executors/fork_join.hpp): fib and uts give the same results under every
// executor that has the capability, at several W including 1; a child's error reaches the root;
// the pool whose waiting workers block reports a tree deeper than W as a deadlock, and then runs
// the next tree; the executors without the capability are listed as not supported in the grid.
//
// Parameterised over the registry, like tests/test_executors.cpp: a new executor with a
// fork-join runs all of these. No test waits on time: a deadlock is found by the pool itself,
// from its count of sleeping workers, so a broken detector hangs the test until ctest's timeout
// rather than passing by luck.
#include <gtest/gtest.h>

#include <stdexcept>

#include "executors/wire.hpp"
#include "experiments/experiment.hpp"
#include "tests/support/registry_params.hpp"
#include "tests/tiny.hpp"
#include "workloads/splitmix64.hpp"

namespace cbench {
namespace {

using testing::kThreadSanitizer;
using testing::sized;

// A chain of `depth` tasks: each spawns the next and waits for it, so `depth - 1` waits are
// pending at once while the last task runs. A pool whose waiting workers block needs `depth`
// workers for it; one fewer deadlocks.
void chain(Spawner& spawner, long depth) {
  if (depth <= 1) return;
  auto child = [&] { chain(spawner, depth - 1); };
  Join join(spawner);
  join.spawn(child);
  join.wait();
}

Bytes run_chain(std::string_view input, Spawner& spawner) {
  wire::Reader in(input);
  const long depth = in.i64();
  in.expect_done();
  chain(spawner, depth);
  return wire::Writer().i64(depth).take();
}

// A tree of two levels whose one leaf throws: the error reaches the root's caller.
Bytes run_failing(std::string_view, Spawner& spawner) {
  int done = 0;
  auto fine = [&] { ++done; };
  auto fails = [] { throw std::runtime_error("leaf 3 failed"); };
  Join join(spawner);
  join.spawn(fine);
  join.spawn(fails);
  join.wait();
  return "unreachable";
}

[[maybe_unused]] const bool kKinds = register_task_kinds({
    {.name = "test-chain", .run_nested = run_chain},
    {.name = "test-nested-throw", .run_nested = run_failing},
});

Task chain_task(long depth) {
  return make_task("test-chain", "chain of " + std::to_string(depth),
                   wire::Writer().i64(depth).take());
}

class ForkJoinTest : public ::testing::TestWithParam<const ExecutorInfo*> {
 protected:
  const ExecutorInfo& info() const { return *GetParam(); }

  void SetUp() override {
    if (kThreadSanitizer && !info().traits.tsan_visible) GTEST_SKIP() << "not visible to TSan";
  }
  // W = 1, 2 and 3, or 1 alone for the reference.
  std::vector<int> worker_counts() const {
    if (info().traits.is_reference()) return {1};
    return {1, 2, 3};
  }
};

Bytes reference_of(const Task& task) {
  return map(*reference_executor().make(1), {&task, 1}).front().value;
}

TEST_P(ForkJoinTest, FibIsTheIteratedValueAtEveryWorkerCount) {
  const Experiment& fib = find_experiment("fib");
  for (const int n : {sized(22, 16), 2, 9}) {
    Options options = fib.defaults();
    options.set("size", static_cast<long>(n)).set("cutoff", 3L);
    const std::vector<Task> tasks = fib.make_tasks({}, options);
    ASSERT_EQ(tasks.size(), 1u);
    const Bytes expected = wire::Writer().u64(fib_iterative(n)).u64(fib_tasks(n, 3)).take();
    ASSERT_EQ(reference_of(tasks[0]), expected) << "fib(" << n << ")";
    for (const int w : worker_counts()) {
      auto fork_join = info().fork_join(w);
      // Twice: a fork-join runs one tree after another.
      for (int run = 0; run < 2; ++run) {
        EXPECT_EQ(fork_join->run(tasks[0]), expected)
            << "fib(" << n << ") on " << info().name << " with " << w << " workers";
      }
      EXPECT_EQ(fib.nested_tasks(expected), fib_tasks(n, 3));
    }
  }
}

// The tree counted again here, from its definition (experiments/uts.cpp), with a stack instead of
// tasks: every node's 8 children with probability 0.12, the root's N, from splitmix64 streams.
std::pair<std::uint64_t, std::uint64_t> count_tree(long roots) {
  std::vector<std::pair<std::uint64_t, std::uint64_t>> stack;
  SplitMix64 root(42);
  for (long i = 0; i < roots; ++i) stack.emplace_back(root.next(), 1);
  std::uint64_t nodes = 1, depth = 0;
  while (!stack.empty()) {
    const auto [state, level] = stack.back();
    stack.pop_back();
    ++nodes;
    depth = std::max(depth, level);
    SplitMix64 draws(state);
    if (draws.next_unit() < 0.12) {
      for (int c = 0; c < 8; ++c) stack.emplace_back(draws.next(), level + 1);
    }
  }
  return {nodes, depth};
}

TEST_P(ForkJoinTest, UtsCountsTheSameTreeAtEveryWorkerCount) {
  const Experiment& uts = find_experiment("uts");
  Options options = uts.defaults();
  const long roots = sized(500L, 50L);
  options.set("size", roots);
  const std::vector<Task> tasks = uts.make_tasks({}, options);
  const auto [nodes, depth] = count_tree(roots);
  const Bytes expected = wire::Writer().u64(nodes).u64(depth).take();
  ASSERT_EQ(reference_of(tasks[0]), expected);
  EXPECT_EQ(uts.nested_tasks(expected), nodes);
  for (const int w : worker_counts()) {
    auto fork_join = info().fork_join(w);
    EXPECT_EQ(fork_join->run(tasks[0]), expected) << info().name << " with " << w << " workers";
  }
}

TEST_P(ForkJoinTest, AChildsErrorReachesTheRootNamed) {
  const Task task = make_task("test-nested-throw", "failing tree", "");
  for (const int w : worker_counts()) {
    auto fork_join = info().fork_join(w);
    try {
      fork_join->run(task);
      ADD_FAILURE() << info().name << ": no error";
    } catch (const TaskError& e) {
      EXPECT_EQ(e.task(), "failing tree");
      EXPECT_NE(std::string(e.what()).find("leaf 3 failed"), std::string::npos) << e.what();
    }
    // And the next tree runs.
    EXPECT_EQ(fork_join->run(chain_task(3)), wire::Writer().i64(3).take()) << info().name;
  }
}

TEST_P(ForkJoinTest, AChainDeeperThanWorkersEnds) {
  // Helping (and every native runtime) runs a chain far deeper than W.
  for (const int w : worker_counts()) {
    auto fork_join = info().fork_join(w);
    EXPECT_EQ(fork_join->run(chain_task(64)), wire::Writer().i64(64).take()) << info().name;
  }
}

TEST_P(ForkJoinTest, BlockingWaitsDeadlockDeeperThanWorkersAndSaySo) {
  if (info().fork_join_blocking == nullptr) GTEST_SKIP() << "no blocking variant";
  for (const int w : {1, 2, 3}) {
    auto blocking = info().fork_join_blocking(w);
    // As deep as W: W - 1 waits asleep, the last task on the last worker.
    EXPECT_EQ(blocking->run(chain_task(w)), wire::Writer().i64(w).take());
    // One deeper: every worker asleep in a wait, the last task queued.
    try {
      blocking->run(chain_task(w + 1));
      ADD_FAILURE() << "a chain of " << w + 1 << " on " << w << " blocking workers ended";
    } catch (const TaskError& e) {
      const std::string what = e.what();
      EXPECT_EQ(e.task(), "chain of " + std::to_string(w + 1));
      EXPECT_NE(what.find("deadlock: all " + std::to_string(w) + " worker"), std::string::npos)
          << what;
    }
    // The pool is whole again: the next tree runs, and a deeper one deadlocks again.
    EXPECT_EQ(blocking->run(chain_task(w)), wire::Writer().i64(w).take());
    EXPECT_THROW(blocking->run(chain_task(w + 5)), TaskError);
    // On one worker, the first wait of any tree sleeps with its child queued: fib(12) too. (With
    // more workers whether a given fib tree deadlocks depends on who takes which child first.)
    if (w != 1) continue;
    const Experiment& fib = find_experiment("fib");
    Options options = fib.defaults();
    options.set("size", 12L).set("cutoff", 2L);
    const Task tree = fib.make_tasks({}, options).front();
    try {
      blocking->run(tree);
      ADD_FAILURE() << "fib(12) ended on " << w << " blocking workers";
    } catch (const TaskError& e) {
      EXPECT_NE(std::string(e.what()).find("deadlock: "), std::string::npos) << e.what();
    }
  }
}

// The executors that have the capability; ForkJoinRegistry below checks which those are.
std::vector<const ExecutorInfo*> with_fork_join() {
  std::vector<const ExecutorInfo*> found;
  for (const ExecutorInfo* info : executors()) {
    if (info->has_fork_join()) found.push_back(info);
  }
  return found;
}

INSTANTIATE_TEST_SUITE_P(Registry, ForkJoinTest, ::testing::ValuesIn(with_fork_join()),
                         testing::executor_param_name);

// Which executors have nested fork-join is a trait; those without it are listed so, in the grid
// (tests/test_bench_grid.py checks its rows) and by `cbench list --json`.
TEST(ForkJoinRegistry, TheRuntimesWithForkJoinHaveItAndTheOthersDoNot) {
  for (const ExecutorInfo* info : executors()) {
    const std::string name(info->name);
    const bool expected =
        name == "sequential" || name == "pool" || name == "tbb" || name == "omp" || name == "coro";
    EXPECT_EQ(info->has_fork_join(), expected) << name;
    EXPECT_EQ(info->fork_join_blocking != nullptr, name == "pool") << name;
  }
}

}  // namespace
}  // namespace cbench
