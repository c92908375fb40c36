// uts: an unbalanced tree search in the manner of UTS (Olivier et al., 2006), a binomial tree:
// the root has N children, and every other node has 8 children with probability 0.12 and none
// otherwise, so a subtree holds 25 nodes on average but its size varies wildly, and no split of
// the work made in advance balances it. Each node is a task that spawns its children and waits
// for them (executors/fork_join.hpp); a node's children come from a splitmix64 stream seeded with
// the node's own state, so the tree is the same on every run and every executor. The result is
// the node count and the depth, checked against the sequential count.
#include <array>
#include <stdexcept>

#include "executors/wire.hpp"
#include "experiments/experiment.hpp"
#include "workloads/splitmix64.hpp"

namespace cbench {
namespace {

constexpr std::uint64_t kRootState = 42;
constexpr int kBranching = 8;
constexpr double kProbability = 0.12;  // 0.12 x 8 = 0.96 children per node: a finite tree

struct Count {
  std::uint64_t nodes = 0;
  std::uint64_t depth = 0;

  void add(const Count& child) {
    nodes += child.nodes;
    depth = std::max(depth, child.depth);
  }
};

// A node's children's states, none or kBranching of them.
int children_of(std::uint64_t state, std::array<std::uint64_t, kBranching>& children) {
  SplitMix64 draws(state);
  if (draws.next_unit() >= kProbability) return 0;
  for (auto& child : children) child = draws.next();
  return kBranching;
}

Count uts_node(Spawner& spawner, std::uint64_t state, std::uint64_t depth);

// A child task: it writes its subtree's count where its parent reads it after the wait.
struct Child {
  Spawner* spawner;
  std::uint64_t state, depth;
  Count* out;
  void operator()() const { *out = uts_node(*spawner, state, depth); }
};

Count uts_node(Spawner& spawner, std::uint64_t state, std::uint64_t depth) {
  std::array<std::uint64_t, kBranching> states{};
  const int n = children_of(state, states);
  Count count{1, depth};
  if (n == 0) return count;
  std::array<Count, kBranching> counts{};
  std::array<Child, kBranching> children{};
  Join join(spawner);
  for (int i = 0; i < n; ++i) {
    children[i] = {&spawner, states[i], depth + 1, &counts[i]};
    join.spawn(children[i]);
  }
  join.wait();
  for (int i = 0; i < n; ++i) count.add(counts[i]);
  return count;
}

// The coroutine executor's form: each child a coroutine co_awaited on the same loop.
Async<Count> uts_async(std::uint64_t state, std::uint64_t depth) {
  std::array<std::uint64_t, kBranching> states{};
  const int n = children_of(state, states);
  Count count{1, depth};
  for (int i = 0; i < n; ++i) count.add(co_await uts_async(states[i], depth + 1));
  co_return count;
}

long decode_input(std::string_view input) {
  wire::Reader in(input);
  const long roots = in.i64();
  in.expect_done();
  return roots;
}

// The root's children: the first `roots` draws of the root's stream.
std::vector<std::uint64_t> root_children(long roots) {
  SplitMix64 draws(kRootState);
  std::vector<std::uint64_t> states(static_cast<std::size_t>(roots));
  for (auto& s : states) s = draws.next();
  return states;
}

Bytes encode(const Count& count) {
  return wire::Writer().u64(count.nodes).u64(count.depth).take();
}

Bytes run_uts(std::string_view input, Spawner& spawner) {
  const std::vector<std::uint64_t> states = root_children(decode_input(input));
  std::vector<Count> counts(states.size());
  std::vector<Child> children(states.size());
  Count count{1, 0};
  {
    Join join(spawner);
    for (std::size_t i = 0; i < states.size(); ++i) {
      children[i] = {&spawner, states[i], 1, &counts[i]};
      join.spawn(children[i]);
    }
    join.wait();
  }
  for (const auto& c : counts) count.add(c);
  return encode(count);
}

Async<Bytes> run_uts_async(std::string_view input) {
  const std::vector<std::uint64_t> states = root_children(decode_input(input));
  Count count{1, 0};
  for (auto s : states) count.add(co_await uts_async(s, 1));
  co_return encode(count);
}

[[maybe_unused]] const bool kKinds =
    register_task_kinds({{.name = "uts", .run_nested = run_uts}}, {{"uts", run_uts_async}});

Count decode(const Bytes& value) {
  wire::Reader in(value);
  Count c;
  c.nodes = in.u64();
  c.depth = in.u64();
  in.expect_done();
  return c;
}

std::vector<Task> uts_tasks(const Corpus&, const Options& o) {
  const long roots = o.integer("size");
  return {make_task("uts", "tree of " + std::to_string(roots) + " roots",
                    wire::Writer().i64(roots).take())};
}

std::string uts_line(const Task& task, const Bytes& value) {
  const Count c = decode(value);
  return "The " + task.name + " has " + std::to_string(c.nodes) + " nodes, " +
         std::to_string(c.depth) + " levels deep";
}

std::string uts_json(const Bytes& value) {
  const Count c = decode(value);
  return "{\"nodes\":" + std::to_string(c.nodes) + ",\"depth\":" + std::to_string(c.depth) + "}";
}

std::uint64_t uts_tree_tasks(const Bytes& value) {
  return decode(value).nodes;
}

constexpr OptionSpec kOptions[] = {
    // 4,000 children of the root make 62,897 nodes, 94 levels deep.
    {.name = "size",
     .placeholder = "N",
     .help = "children of the root; every other node has 8 children with probability 0.12",
     .fallback = 4000,
     .min = 1,
     .max = 10'000'000,
     .bench =
         PresetValues{.smoke = 50, .quick = 2000, .standard = 4000, .seed = 20000, .full = 20000}},
};

}  // namespace

CBENCH_REGISTER_EXPERIMENT(uts) = {
    .name = "uts",
    .summary = "unbalanced tree search (UTS-like binomial tree): nested fork-join, ns per task",
    .work = WorkKind::cpu,
    .options = kOptions,
    .make_tasks = uts_tasks,
    .task_line = uts_line,
    .task_json = uts_json,
    .nested_tasks = uts_tree_tasks,
};

}  // namespace cbench
