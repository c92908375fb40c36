// The experiments (docs/design.md, "Workload semantics"): each joins a workload to the task
// description every executor runs, builds its tasks from the corpus and its options, and says how
// a result reads as a line and as JSON. Each is one file in experiments/ that describes itself
// (CBENCH_REGISTER_EXPERIMENT) — its options with their defaults, ranges and help, its work kind,
// what the benchmarks count — so the CLI builds its flags and the benchmarks their grid from the
// registry, never from a name (docs/design.md, "Experiments describe themselves"). This is the
// glue shared by the CLI and the benchmarks; workloads and executors know nothing of it.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "executors/async_task.hpp"
#include "executors/executor.hpp"
#include "fixtures/corpus.hpp"

namespace cbench {

// What the ideal schedule assumes (docs/design.md, "The ideal curve"): CPU work shares
// min(W, cores) slots, waiting work W slots.
enum class WorkKind { cpu, waiting };

enum class OptionKind {
  integer,  // a whole number in [min, max]
  seconds,  // a non-negative number of seconds, in [min, max]
  text,
  flag,  // a switch: given or not
};

// A value for each of the benchmarks' presets (smoke: ctest's tiny run).
struct PresetValues {
  double smoke, quick, standard, seed, full;
};

// One option an experiment reads. The CLI offers it as --NAME; a flag no experiment of the run
// declares is an error naming the experiment.
struct OptionSpec {
  std::string_view name;  // the flag, without its dashes
  OptionKind kind = OptionKind::integer;
  std::string_view placeholder;    // "N", "SECONDS"; empty for a flag
  std::string_view help;           // one phrase, without the default (added from `fallback`)
  double fallback = 0;             // the default of an integer or seconds option
  std::string_view fallback_text;  // the default of a text option
  double min = 0, max = 0;         // the accepted range of an integer or seconds option
  // The benchmarks' value in each preset, when it is not the default.
  std::optional<PresetValues> bench{};
  // How the option grows in the benchmarks' cost-against-work sweep (--cbench_scale S): its
  // value times S^scale_power, so that the work grows S times (0: it does not grow).
  double scale_power = 0;

  // "1000", "1", "0.05": the default as the help shows it.
  std::string default_text() const;
};

// "1000", "0.05": a number as the help and the messages about options write it.
std::string number_text(double value);

// The values of an experiment's options, by name. Reading an option that was never set is
// std::logic_error naming it: Experiment::defaults() sets every declared one.
class Options {
 public:
  using Value = std::variant<long, double, std::string, bool>;

  long integer(std::string_view name) const;
  double seconds(std::string_view name) const;
  std::chrono::nanoseconds duration(std::string_view name) const;
  const std::string& text(std::string_view name) const;
  bool flag(std::string_view name) const;
  bool has(std::string_view name) const { return values_.find(name) != values_.end(); }

  Options& set(std::string_view name, Value value);

  // Set by the harness, not by an option: print each result as it is produced (count's numbers),
  // and where a generated corpus is written to be read from disk (read).
  bool echo = false;
  std::filesystem::path scratch;

 private:
  const Value& value(std::string_view name) const;
  std::map<std::string, Value, std::less<>> values_;
};

struct Experiment {
  std::string_view name;     // the workload's name: "wordcount", "pbkdf2", ...
  std::string_view id;       // E1..E7, as the original numbers them; empty for a new one
  std::string_view summary;  // one line for `cbench list`
  WorkKind work = WorkKind::cpu;
  bool uses_corpus = false;  // reads the books: the CLI offers --fixtures and --seed
  // The text option that says where to download from. When it is empty, the CLI and the
  // benchmarks start the fixture server (`cbench serve`) and set it to the server's address.
  std::string_view server_url_option;
  std::span<const OptionSpec> options;

  std::vector<Task> (*make_tasks)(const Corpus& corpus, const Options& options) = nullptr;
  // The original's line for one finished task; null when the task prints as it goes (count).
  std::string (*task_line)(const Task& task, const Bytes& value) = nullptr;
  // The task's result as a JSON value.
  std::string (*task_json)(const Bytes& value) = nullptr;
  // The reduce step of a map-reduce (wordfreq's merge of the chunk tables), given the results
  // in task order; null when the results stand alone. Timed with the run in the benchmarks.
  Bytes (*reduce)(std::span<const Bytes> values) = nullptr;
  // Lines printed after the tasks' lines, from the reduced result; null when there are none.
  std::vector<std::string> (*summary_lines)(const Bytes& reduced) = nullptr;

  // For the benchmarks: the bytes a task's work moves, given its result, for the run's bytes/s
  // (null: none is reported, the work does not grow with bytes); and for an experiment that
  // reads files, the file a task reads (its `cold-cache` rows drop them from the page cache).
  std::uint64_t (*bytes)(const Task& task, const Bytes& result) = nullptr;
  std::string (*file_of)(const Task& task) = nullptr;

  // A nested experiment (executors/fork_join.hpp): each task is the root of a tree whose kind
  // spawns children and waits for them. The benchmarks run it through every executor's fork-join
  // (ExecutorInfo::fork_join), sweeping W, and list the executors without one as not supported;
  // this gives how many tasks a root's tree ran, from its result, for tasks/s and ns per task.
  std::uint64_t (*nested_tasks)(const Bytes& result) = nullptr;

  bool nested() const { return nested_tasks != nullptr; }

  const OptionSpec* option(std::string_view name) const;
  // Every declared option at its default; with `preset`, at the benchmarks' value for it.
  Options defaults() const;
  Options defaults(double PresetValues::*preset) const;
};

// Every experiment, in the build's order (experiments/CMakeLists.txt), then any registered at
// run time.
std::span<const Experiment* const> experiments();

// Throws std::invalid_argument listing the known names when there is no such experiment.
const Experiment& find_experiment(std::string_view name);

// Adds an experiment defined outside this library (a user's own); a name already taken is
// std::logic_error. Its task kinds must be registered before main (register_task_kinds).
void register_experiment(const Experiment& experiment);

// An asynchronous form of a task kind, for the coro executor (executors/async_task.hpp).
struct AsyncForm {
  std::string_view kind;
  AsyncRun run;
};

// Registers task kinds (and their asynchronous forms) during static initialisation, before
// main: a fork-server worker forked at the top of main, or an MPI engine starting the same
// binary, then knows every kind before it runs one. Returns true, for a static initialiser:
//   [[maybe_unused]] const bool kKinds = register_task_kinds({{"count", run_count}});
bool register_task_kinds(std::initializer_list<TaskKind> kinds,
                         std::initializer_list<AsyncForm> async_forms = {});

// Experiment::bytes for work that grows with the task's input (a book) or with its result (the
// file a read returns).
std::uint64_t input_bytes(const Task& task, const Bytes& result);
std::uint64_t result_bytes(const Task& task, const Bytes& result);

// A task of a registered kind, its input shared by every executor that runs it.
Task make_task(std::string_view kind, std::string name, Bytes input);
// The same, reading views too: of the corpus the tasks are made from (which must outlive them),
// or of memory `views.owner` keeps alive.
Task make_task(std::string_view kind, std::string name, Bytes input, TaskViews views);

// Registers an experiment from its own file, inside namespace cbench, where STEM is the file's
// name without .cpp (the build's generated list refers to it by that name):
//
//   CBENCH_REGISTER_EXPERIMENT(eigen) = {.name = "eigen", .id = "E5", ...};
#define CBENCH_REGISTER_EXPERIMENT(stem)               \
  namespace builtin {                                  \
  extern const ::cbench::Experiment experiment_##stem; \
  }                                                    \
  const ::cbench::Experiment builtin::experiment_##stem

}  // namespace cbench
