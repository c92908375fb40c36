// The experiments (DESIGN §2): each joins a workload to the task description every executor runs,
// builds its tasks from the corpus and options, and says how a result reads as a line and as
// JSON. This is the glue shared by the CLI and the benchmarks; workloads and executors know
// nothing of it.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "executors/executor.hpp"
#include "fixtures/corpus.hpp"
#include "workloads/http.hpp"

namespace cbench {

// What the ideal schedule assumes (DESIGN §3): CPU work shares min(W, cores) slots, waiting work
// W slots.
enum class WorkKind { cpu, waiting };

struct ExperimentOptions {
  long iterations = 1'000'000;  // pbkdf2: PBKDF2 iterations
  std::optional<long> size;     // eigen: matrix n (1000); double: N (10); count: numbers each (10)
  long bottom = 0, top = 9;     // eigen: entries drawn from [bottom, top)
  long matrices = 8;            // eigen: how many matrices (tasks)
  std::chrono::nanoseconds interval = std::chrono::seconds(1);  // count: sleep after each number
  int chunks = 16;              // wordfreq: pieces the corpus is cut into
  bool echo = false;            // count: print each number as it is counted
  // wordcount-http: where the books are ("{}" becomes the URL-encoded name) and how to fetch.
  std::string books_url;
  HttpOptions http;
  // read: where a generated corpus is written so that it can be read from disk.
  std::filesystem::path scratch;
};

// Which ExperimentOptions an experiment reads, so the CLI can reject a flag that would be
// silently ignored.
enum OptionMask : unsigned {
  kUsesCorpus = 1u << 0,
  kUsesIterations = 1u << 1,
  kUsesSize = 1u << 2,
  kUsesMatrixRange = 1u << 3,
  kUsesInterval = 1u << 4,
  kUsesChunks = 1u << 5,
  kUsesHttp = 1u << 6,
};

struct Experiment {
  std::string_view name;     // the workload's name: "wordcount", "pbkdf2", ...
  std::string_view id;       // E1..E7, as DESIGN §2 numbers them
  std::string_view summary;  // one line for `cbench list`
  WorkKind work = WorkKind::cpu;
  unsigned options = 0;  // OptionMask bits
  long default_size = 0;

  std::vector<Task> (*make_tasks)(const Corpus& corpus, const ExperimentOptions& options) = nullptr;
  // The original's line for one finished task; empty when the task prints as it goes (count).
  std::string (*task_line)(const Task& task, const Bytes& value) = nullptr;
  // The task's result as a JSON value.
  std::string (*task_json)(const Bytes& value) = nullptr;
  // The reduce step of a map-reduce (wordfreq's merge of the chunk tables), given the results
  // in task order; null when the results stand alone. Timed with the run in the benchmarks.
  Bytes (*reduce)(std::span<const Bytes> values) = nullptr;
  // Lines printed after the tasks' lines, from the reduced result; null when there are none.
  std::vector<std::string> (*summary_lines)(const Bytes& reduced) = nullptr;

  bool uses(OptionMask bit) const { return (options & bit) != 0; }
};

// Every experiment, in the order of DESIGN §2. Registers their task kinds on first use.
std::span<const Experiment> experiments();

// Throws std::invalid_argument listing the known names when there is no such experiment.
const Experiment& find_experiment(std::string_view name);

}  // namespace cbench
