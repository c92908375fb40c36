// `cbench run`: one experiment with one executor, printed in the original's words (or as one JSON
// document). Its flags are its own and those the experiments declare (docs/design.md,
// "Experiments describe themselves").
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <thread>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "executors/process.hpp"
#include "executors/run_task.hpp"
#include "experiments/build_info.hpp"
#include "experiments/experiment.hpp"
#include "experiments/json.hpp"
#include "fixtures/http_server.hpp"
#include "fixtures/server_process.hpp"

namespace cbench::cli {
namespace {

// The flags of `cbench run`: its own, then every option an experiment declares (one flag for all
// the experiments that declare the same name, its help naming each), then the output's.
struct RunFlags {
  std::vector<FlagSpec> specs;
  std::vector<std::string_view> options;           // the flags experiments declare
  std::vector<std::unique_ptr<std::string>> help;  // the generated help texts the specs point to
};

const RunFlags& run_flags() {
  static const RunFlags flags = [] {
    RunFlags f;
    f.specs = {
        {"workload", "W", "the experiment to run (see cbench list); required"},
        {"executor", "E", "the concurrency model (see cbench list; default sequential)"},
        {"workers", "N", "how many workers (default 1 for sequential, else the number of cores)"},
        {"as-completed", "", "print each task's line as it finishes, not in task order"},
        {"fixtures", "DIR", "corpus folder with books/*.txt and stop-words/english.txt"},
        {"seed", "S", "seed of the generated corpus used when no corpus folder is found (2016)"},
    };
    std::vector<std::string> order;
    std::map<std::string, std::pair<const OptionSpec*, std::string>> options;
    std::string servers;
    for (const Experiment* e : experiments()) {
      if (!e->server_url_option.empty())
        servers += (servers.empty() ? "" : ", ") + std::string(e->name);
      for (const OptionSpec& spec : e->options) {
        std::string part = std::string(e->name) + ": " + std::string(spec.help);
        if (spec.kind == OptionKind::integer || spec.kind == OptionKind::seconds) {
          part += " (" + spec.default_text() + ")";
        }
        auto [it, added] = options.try_emplace(std::string(spec.name), &spec, part);
        if (added) {
          order.push_back(std::string(spec.name));
        } else if (it->second.first->kind != spec.kind) {
          throw std::logic_error("--" + std::string(spec.name) + " is declared as two kinds");
        } else {
          it->second.second += "; " + part;
        }
      }
    }
    auto add = [&f](std::string_view name, std::string_view value, std::string help) {
      f.help.push_back(std::make_unique<std::string>(std::move(help)));
      f.specs.push_back({name, value, *f.help.back()});
    };
    for (const auto& name : order) {
      const auto& [spec, help] = options.at(name);
      add(spec->name, spec->placeholder, help);
      f.options.push_back(spec->name);
    }
    if (!servers.empty()) {
      add("profile", "P",
          servers + ": the fixture server's profile: " + shaping_profile_names(", ") + " (quick)");
    }
    f.specs.push_back({"json", "", "print one JSON document instead of lines"});
    f.specs.push_back({"output", "FILE", "also write the JSON document to FILE"});
    f.specs.push_back({"help", "", "show this help"});
    return f;
  }();
  return flags;
}

struct RunRequest {
  const Experiment* experiment = nullptr;
  const ExecutorInfo* executor = nullptr;
  int workers = 1;
  bool as_completed = false;
  bool json = false;
  std::optional<std::string> output;  // --output FILE
  std::string profile;                // the fixture server's, when the experiment starts one
  CorpusOptions corpus;
  Options options;
};

// The experiment's options: its defaults, and the flags given for them, each checked against
// its range.
Options experiment_options(const Experiment& e, const Flags& flags) {
  Options options = e.defaults();
  for (const OptionSpec& spec : e.options) {
    const std::string_view name = spec.name;
    switch (spec.kind) {
      case OptionKind::integer:
        if (auto v = flags.integer(name, std::lround(spec.min), std::lround(spec.max))) {
          options.set(name, *v);
        }
        break;
      case OptionKind::seconds:
        if (auto v = flags.seconds(name)) {
          if (*v < spec.min || *v > spec.max) {
            throw UsageError("--" + std::string(name) + " takes seconds from " +
                             number_text(spec.min) + " to " + number_text(spec.max));
          }
          options.set(name, *v);
        }
        break;
      case OptionKind::text:
        if (auto v = flags.text(name)) options.set(name, *v);
        break;
      case OptionKind::flag:
        if (flags.has(name)) options.set(name, true);
        break;
    }
  }
  return options;
}

RunRequest parse_run(const Flags& flags) {
  RunRequest r;
  auto workload = flags.text("workload");
  if (!workload) throw UsageError("--workload is required (see cbench list)");
  try {
    r.experiment = &find_experiment(*workload);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  const Experiment& e = *r.experiment;
  auto reject = [&](std::string_view flag, bool applies) {
    if (flags.has(flag) && !applies) {
      throw UsageError("--" + std::string(flag) + " does not apply to the " + std::string(e.name) +
                       " workload");
    }
  };
  reject("fixtures", e.uses_corpus);
  reject("seed", e.uses_corpus);
  for (std::string_view option : run_flags().options) reject(option, e.option(option) != nullptr);
  reject("profile", !e.server_url_option.empty());
  if (flags.has("profile") && !e.server_url_option.empty() && flags.has(e.server_url_option)) {
    throw UsageError("--profile shapes the fixture server, which --" +
                     std::string(e.server_url_option) + " replaces: give one");
  }

  const std::string executor =
      flags.text("executor").value_or(std::string(reference_executor().name));
  r.executor = find_executor(executor);
  if (r.executor == nullptr) {
    if (const char* why = missing_executor_reason(executor)) {
      throw UsageError("this build has no " + executor + " executor: " + why);
    }
    throw UsageError("unknown executor \"" + executor + "\" (known: " + executor_names() + ")");
  }
  // The worker count's one rule (executors/executor.hpp): its default and its checks.
  try {
    r.workers = resolve_workers(*r.executor, flags.integer("workers", 1, 100000));
  } catch (const std::invalid_argument& refused) {
    throw UsageError(refused.what());
  }
  r.as_completed = flags.has("as-completed");
  r.json = flags.has("json");
  r.output = flags.text("output");
  if (auto dir = flags.text("fixtures")) r.corpus.fixtures = *dir;
  if (auto seed = flags.integer("seed", 0, std::numeric_limits<long>::max())) {
    r.corpus.seed = static_cast<std::uint64_t>(*seed);
  }
  r.options = experiment_options(e, flags);
  r.profile = flags.text("profile").value_or("quick");
  const auto& profiles = shaping_profiles();
  if (std::none_of(profiles.begin(), profiles.end(),
                   [&](const auto& p) { return p.name == r.profile; })) {
    throw UsageError("--profile takes " + shaping_profile_names() + ", got \"" + r.profile + "\"");
  }
  // An experiment that prints as it goes (the counter) does, unless the output is a JSON document.
  r.options.echo = !r.json;
  return r;
}

std::string seconds_text(double s) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f", s);
  return text;
}

// What a run measured beside its results, for its JSON document.
struct RunFigures {
  int workers = 0;                   // what the executor reports it ran with
  std::optional<double> server_cpu;  // the fixture server's, when one was started
  double elapsed = 0, caller_cpu = 0, worker_cpu = 0;
};

// The --json document (and --output's): the request, the corpus, every task's result with its
// value as the experiment writes it, the summary, the times and the build. One JSON writer for
// all of it (nlohmann's), the keys in the order the document has always had.
json::Document run_document(const RunRequest& r, const Corpus* corpus,
                            const std::vector<Task>& tasks,
                            const std::vector<std::optional<TaskResult>>& results,
                            const std::vector<std::string>& summary, const RunFigures& figures) {
  const Experiment& e = *r.experiment;
  json::Document doc;
  doc["workload"] = e.name;
  doc["executor"] = r.executor->name;
  doc["workers"] = figures.workers;
  doc["cores"] = std::thread::hardware_concurrency();
  if (corpus) {
    doc["corpus"] = {{"kind", to_string(corpus->kind)},
                     {"origin", corpus->origin},
                     {"checksum", corpus->checksum},
                     {"books", corpus->books.size()},
                     {"bytes", corpus->total_bytes()}};
  }
  auto& out = doc["results"] = json::Document::array();
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    const TaskResult& result = *results[i];
    json::Document row{{"task", tasks[i].name}, {"ok", result.ok()}};
    if (result.ok()) {
      row["value"] = json::Document::parse(e.task_json(result.value));
      if (e.task_line != nullptr) row["line"] = e.task_line(tasks[i], result.value);
    } else {
      row["error"] = result.error;
    }
    row["worker"] = result.worker;
    row["cpu_seconds"] = json::finite(result.cpu_seconds);
    row["seconds"] = json::finite(std::chrono::duration<double>(result.end - result.start).count());
    out.push_back(std::move(row));
  }
  doc["summary"] = summary;
  if (figures.server_cpu) {
    doc["server"] = {{"profile", r.profile}, {"cpu_seconds", json::finite(*figures.server_cpu)}};
  }
  doc["elapsed_seconds"] = json::finite(figures.elapsed);
  doc["cpu_seconds"] = {{"this_process", json::finite(figures.caller_cpu)},
                        {"worker_processes", json::finite(figures.worker_cpu)}};
  doc["build"] = json::Document::parse(build_info_json());
  return doc;
}

// A nested workload's trees through a runtime's fork-join, one tree at a time, each result handed
// on as an executor's would be.
void run_trees(ForkJoin& fork_join, const std::vector<Task>& tasks,
               const std::function<void(TaskResult&&)>& on_result) {
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    TaskResult result;
    result.index = i;
    result.start = Clock::now();
    try {
      result.value = fork_join.run(tasks[i]);
    } catch (const TaskError& error) {
      result.error = std::string(error.what()).substr(error.task().size() + 2);
    } catch (const std::exception& error) {
      result.error = error.what();
    }
    result.end = Clock::now();
    on_result(std::move(result));
  }
}

// The values of the tasks that succeeded, for the reduce; each failure named on standard error
// (a task the executor never returned is one). Returns how many failed.
int collect_values(const std::vector<Task>& tasks, std::vector<std::optional<TaskResult>>& results,
                   std::vector<Bytes>& values) {
  int failures = 0;
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    if (!results[i]) {
      results[i] = TaskResult{};
      results[i]->index = i;
      results[i]->error = "the executor returned no result";
    }
    if (!results[i]->ok()) {
      ++failures;
      std::cerr << "cbench: error: " << tasks[i].name << ": " << results[i]->error << "\n";
    } else {
      values.push_back(results[i]->value);
    }
  }
  return failures;
}

// The document on standard output (--json) and in --output's file; false when the file could not
// be written (said on standard error).
bool write_document(const RunRequest& r, const std::string& document) {
  if (r.json) std::cout << document;
  if (!r.output) return true;
  std::ofstream file(*r.output, std::ios::binary);
  file << document;
  file.close();
  if (!file) std::cerr << "cbench: error: cannot write " << *r.output << "\n";
  return static_cast<bool>(file);
}

// The lines a run prints without --json: each task's (unless they were printed as they
// completed), the summary, the times.
void print_lines(const RunRequest& r, const std::vector<Task>& tasks,
                 const std::vector<std::optional<TaskResult>>& results,
                 const std::vector<std::string>& summary, const RunFigures& figures) {
  const Experiment& e = *r.experiment;
  if (!r.as_completed && e.task_line != nullptr) {
    for (std::size_t i = 0; i < tasks.size(); ++i) {
      if (results[i]->ok()) std::cout << e.task_line(tasks[i], results[i]->value) << "\n";
    }
  }
  for (const auto& line : summary) std::cout << line << "\n";
  std::cout << "Elapsed time: " << seconds_text(figures.elapsed) << " seconds\n";
  if (figures.worker_cpu > 0) {
    std::cout << "CPU time: " << seconds_text(figures.worker_cpu) << " seconds in the "
              << figures.workers << " worker processes, " << seconds_text(figures.caller_cpu)
              << " in this one\n";
  }
  if (figures.server_cpu) {
    std::cout << "Server CPU time: " << seconds_text(*figures.server_cpu) << " seconds (profile "
              << r.profile << ", not counted above)\n";
  }
}

int run_experiment(const RunRequest& r) {
  const Experiment& e = *r.experiment;
  std::optional<Corpus> corpus;
  if (e.uses_corpus) corpus = load_corpus(r.corpus);
  // A downloading experiment without an address of its own: the fixture server in a process of
  // its own, serving the same corpus, so its CPU time is never the client's.
  std::optional<ServerProcess> server;
  Options options = r.options;
  if (!e.server_url_option.empty() && options.text(e.server_url_option).empty()) {
    start_fixture_server(
        server, current_executable(),
        {.profile = r.profile, .seed = r.corpus.seed, .fixtures = r.corpus.fixtures});
    options.set(e.server_url_option, server->books_url());
  }
  const Corpus empty_corpus;
  const std::vector<Task> tasks = e.make_tasks(corpus ? *corpus : empty_corpus, options);
  // A nested workload's trees go through the executor's fork-join when it has one; otherwise
  // the executor runs each tree as a task, its children spawned inline. Either is built here,
  // before the timing starts, and only the one that runs.
  const int workers = r.workers;  // resolved and checked with the request (resolve_workers)
  const bool through_fork_join = e.nested() && r.executor->has_fork_join();
  auto executor = through_fork_join ? nullptr : r.executor->make(workers);
  auto fork_join = through_fork_join ? r.executor->fork_join(workers) : nullptr;
  // The workers the executor reports (its own count of what it runs, which the report prints).
  const int used_workers = executor ? executor->workers() : workers;

  if (corpus && !r.json) std::cout << "Corpus: " << corpus->describe() << "\n" << std::flush;

  std::vector<std::optional<TaskResult>> results(tasks.size());
  const auto start = Clock::now();
  auto on_result = [&](TaskResult&& result) {
    if (r.as_completed && !r.json && result.ok() && e.task_line != nullptr) {
      std::cout << e.task_line(tasks[result.index], result.value) << "\n" << std::flush;
    }
    results[result.index] = std::move(result);
  };
  if (fork_join) {
    run_trees(*fork_join, tasks, on_result);
  } else {
    executor->run(tasks, on_result);
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  // A fork-join's workers are threads of this process: its CPU clock counts them.
  const double worker_cpu = executor ? executor->worker_cpu_seconds() : 0;
  // This process's CPU time (for mpi, the controller's: it should wait, not spin).
  const double caller_cpu = process_cpu_seconds();
  double server_cpu = 0;
  if (server) {
    server_cpu = server->cpu_seconds();
    server->stop();
  }

  std::vector<Bytes> values;
  const int failures = collect_values(tasks, results, values);
  std::vector<std::string> summary;
  if (failures == 0 && e.reduce != nullptr) {
    const Bytes reduced = e.reduce(values);
    if (e.summary_lines != nullptr) summary = e.summary_lines(reduced);
  }

  const RunFigures figures{used_workers, server ? std::optional(server_cpu) : std::nullopt, elapsed,
                           caller_cpu, worker_cpu};
  if ((r.json || r.output) &&
      !write_document(r, json::dump(run_document(r, corpus ? &*corpus : nullptr, tasks, results,
                                                 summary, figures)) +
                             "\n")) {
    return 1;
  }
  if (!r.json) print_lines(r, tasks, results, summary, figures);
  std::cout << std::flush;
  if (failures > 0) {
    std::cerr << "cbench: " << failures << " of " << tasks.size() << " tasks failed\n";
    return 1;
  }
  return 0;
}

}  // namespace

int cmd_run(const std::vector<std::string>& args) {
  Flags flags(args, run_flags().specs);
  if (flags.has("help")) {
    std::cout << "usage: cbench run --workload W [--executor E] [--workers N] [options]\n\n"
                 "Runs one experiment and prints one line per task, then the elapsed time.\n\n"
              << describe_flags(run_flags().specs);
    return 0;
  }
  return run_experiment(parse_run(flags));
}

}  // namespace cbench::cli
