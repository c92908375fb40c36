// The experiments' readers of a task's result (experiments/*.cpp): the value bytes a fork worker
// or an MPI engine sent back, read by the caller to print a task's line and JSON, to reduce a
// map-reduce's results and print its summary, and to count the bytes and nested tasks of a run.
// The input's first byte picks the experiment; the rest, cut at 0xFF bytes, are results. Any
// bytes give text or std::exception (a value of the wrong size or shape is an error, not a read
// past its end).
#include <exception>
#include <string>
#include <vector>

#include "experiments/experiment.hpp"
#include "fuzz/fuzz.hpp"

using namespace cbench;

CBENCH_FUZZ_TARGET {
  const auto all = experiments();
  if (size == 0 || all.empty()) return 0;
  const Experiment& x = *all[data[0] % all.size()];
  std::vector<Bytes> values;
  fuzz::for_each_part(fuzz::bytes(data + 1, size - 1), '\xff',
                      [&](std::string_view part) { values.emplace_back(part); });
  Task task;
  task.name = "fuzzed task";
  task.input = std::make_shared<const Bytes>(values.front());
  for (const Bytes& value : values) {
    try {
      if (x.task_line) x.task_line(task, value);
    } catch (const std::exception&) {
    }
    try {
      if (x.task_json) fuzz::check(!x.task_json(value).empty(), "an empty JSON value");
    } catch (const std::exception&) {
    }
    try {
      if (x.summary_lines) x.summary_lines(value);
    } catch (const std::exception&) {
    }
    try {
      if (x.bytes) x.bytes(task, value);
      if (x.nested_tasks) x.nested_tasks(value);
    } catch (const std::exception&) {
    }
  }
  try {
    if (x.reduce) {
      const Bytes reduced = x.reduce(values);
      if (x.summary_lines) x.summary_lines(reduced);
    }
  } catch (const std::exception&) {
  }
  return 0;
}
