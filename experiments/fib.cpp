// fib: recursive Fibonacci, the classic of nested fork-join (oneTBB's and libfork's first
// example): every call at or above a cutoff spawns a child for fib(n - 1), computes fib(n - 2)
// itself, and waits for the child; below the cutoff it is plain recursion. A tree of tasks that
// only the running task knows, run through each executor's fork-join (executors/fork_join.hpp);
// its result is checked against fib by iteration where it is made, and its task count is known
// in advance, so the benchmarks report tasks per second and ns per task.
#include <stdexcept>

#include "executors/wire.hpp"
#include "experiments/experiment.hpp"

namespace cbench {
namespace {

std::uint64_t fib_tree(Spawner& spawner, int n, int cutoff) {
  if (n < cutoff) return fib_sequential(n);
  std::uint64_t a = 0;
  auto child = [&] { a = fib_tree(spawner, n - 1, cutoff); };
  Join join(spawner);
  join.spawn(child);
  const std::uint64_t b = fib_tree(spawner, n - 2, cutoff);
  join.wait();
  return a + b;
}

// The coroutine executor's form: the child is co_awaited, on the same loop. The other half is a
// coroutine too when it forks, so that the tree has as many frames as the threads' form has tasks.
Async<std::uint64_t> fib_async(int n, int cutoff) {
  if (n < cutoff) co_return fib_sequential(n);
  const std::uint64_t a = co_await fib_async(n - 1, cutoff);
  const std::uint64_t b =
      n - 2 < cutoff ? fib_sequential(n - 2) : co_await fib_async(n - 2, cutoff);
  co_return a + b;
}

struct FibInput {
  int n, cutoff;
};

FibInput decode_input(std::string_view input) {
  wire::Reader in(input);
  const FibInput fib{static_cast<int>(in.i64()), static_cast<int>(in.i64())};
  in.expect_done();
  return fib;
}

// The value, checked against the iteration, and the tree's task count.
Bytes fib_result(const FibInput& fib, std::uint64_t value) {
  if (value != fib_iterative(fib.n)) {
    throw std::runtime_error("fib(" + std::to_string(fib.n) + ") came out as " +
                             std::to_string(value) + ", not " +
                             std::to_string(fib_iterative(fib.n)));
  }
  return wire::Writer().u64(value).u64(fib_tasks(fib.n, fib.cutoff)).take();
}

Bytes run_fib(std::string_view input, Spawner& spawner) {
  const FibInput fib = decode_input(input);
  return fib_result(fib, fib_tree(spawner, fib.n, fib.cutoff));
}

Async<Bytes> run_fib_async(std::string_view input) {
  const FibInput fib = decode_input(input);
  co_return fib_result(fib, co_await fib_async(fib.n, fib.cutoff));
}

[[maybe_unused]] const bool kKinds =
    register_task_kinds({{.name = "fib", .run_nested = run_fib}}, {{"fib", run_fib_async}});

std::pair<std::uint64_t, std::uint64_t> decode(const Bytes& value) {
  wire::Reader in(value);
  const std::pair<std::uint64_t, std::uint64_t> v{in.u64(), in.u64()};
  in.expect_done();
  return v;
}

std::vector<Task> fib_tasks_of(const Corpus&, const Options& o) {
  const long n = o.integer("size"), cutoff = o.integer("cutoff");
  wire::Writer in;
  in.i64(n).i64(cutoff);
  return {make_task("fib", "fib(" + std::to_string(n) + ")", in.take())};
}

std::string fib_line(const Task& task, const Bytes& value) {
  const auto [fib, tasks] = decode(value);
  return task.name + " = " + std::to_string(fib) + " (" + std::to_string(tasks) + " tasks)";
}

std::string fib_json(const Bytes& value) {
  const auto [fib, tasks] = decode(value);
  return "{\"value\":" + std::to_string(fib) + ",\"tasks\":" + std::to_string(tasks) + "}";
}

std::uint64_t fib_tree_tasks(const Bytes& value) {
  return decode(value).second;
}

constexpr OptionSpec kOptions[] = {
    // fib(30) with the cutoff at 8 is 75,025 tasks of about 60 ns of work each: the figure is
    // the fork-join's own cost per task, as libfork reports it.
    {.name = "size",
     .placeholder = "N",
     .help = "fib(N): at most 93, the largest that fits in 64 bits",
     .fallback = 30,
     .min = 1,
     .max = 93,
     .bench = PresetValues{.smoke = 16, .quick = 27, .standard = 30, .seed = 32, .full = 32}},
    {.name = "cutoff",
     .placeholder = "C",
     .help = "calls of fib below C are plain recursion, not tasks (at least 2)",
     .fallback = 8,
     .min = 2,
     .max = 93},
};

}  // namespace

CBENCH_REGISTER_EXPERIMENT(fib) = {
    .name = "fib",
    .summary = "recursive Fibonacci with a cutoff: nested fork-join, ns per task",
    .work = WorkKind::cpu,
    .options = kOptions,
    .make_tasks = fib_tasks_of,
    .task_line = fib_line,
    .task_json = fib_json,
    .nested_tasks = fib_tree_tasks,
};

}  // namespace cbench
