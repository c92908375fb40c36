// E6 double: the trivial map x -> 2x over 0..N-1: nothing but dispatch, so every executor's fixed
// costs show.
#include <stdexcept>

#include "executors/wire.hpp"
#include "experiments/experiment.hpp"
#include "workloads/trivial.hpp"

namespace cbench {
namespace {

Bytes run_double(std::string_view input) {
  wire::Reader in(input);
  const long x = in.i64();
  in.expect_done();
  return wire::Writer().i64(double_it(x)).take();
}

[[maybe_unused]] const bool kKinds = register_task_kinds({{"double", run_double}});

long decode_long(const Bytes& value) {
  wire::Reader in(value);
  const long v = in.i64();
  in.expect_done();
  return v;
}

std::vector<Task> double_tasks(const Corpus&, const Options& o) {
  const long n = o.integer("size");
  if (n < 1) throw std::invalid_argument("--size must be at least 1, got " + std::to_string(n));
  std::vector<Task> tasks;
  tasks.reserve(static_cast<std::size_t>(n));
  for (long x = 0; x < n; ++x) {
    tasks.push_back(make_task("double", "x=" + std::to_string(x), wire::Writer().i64(x).take()));
  }
  return tasks;
}

std::string double_line(const Task& task, const Bytes& value) {
  return "2 * " + task.name.substr(2) + " = " + std::to_string(decode_long(value));
}

std::string double_json(const Bytes& value) {
  return std::to_string(decode_long(value));
}

constexpr OptionSpec kOptions[] = {
    {.name = "size",
     .placeholder = "N",
     .help = "N numbers",
     .fallback = 10,
     .min = 1,
     .max = 100'000'000,
     .scale_power = 1},
};

}  // namespace

CBENCH_REGISTER_EXPERIMENT(double) = {
    .name = "double",
    .id = "E6",
    .summary = "trivial map x -> 2x over 0..N-1 (dispatch overhead)",
    .work = WorkKind::cpu,
    .options = kOptions,
    .make_tasks = double_tasks,
    .task_line = double_line,
    .task_json = double_json,
};

}  // namespace cbench
