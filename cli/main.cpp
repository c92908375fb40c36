// cbench: run one experiment with one executor and print what the original printed.
//
//   cbench list
//   cbench run --workload W [--executor E] [--workers N] [--fixtures DIR] ...
//
// Exit status: 0 when every task succeeded, 1 when a task or the set-up failed (each failure named
// on standard error, every other result still printed), 2 for a mistake on the command line.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <limits>
#include <optional>
#include <thread>

#include "cli/args.hpp"
#include "cli/serve.hpp"
#include "executors/fork_server.hpp"
#include "executors/mpi.hpp"
#include "executors/process.hpp"
#include "executors/run_task.hpp"
#include "experiments/build_info.hpp"
#include "experiments/experiment.hpp"
#include "experiments/json.hpp"
#include "fixtures/server_process.hpp"

namespace cbench::cli {
namespace {

constexpr std::string_view kUsage = "usage: cbench {list,run,version} [--help] ...";

const std::vector<FlagSpec> kListFlags = {{"help", "", "show this help"}};

const std::vector<FlagSpec> kRunFlags = {
    {"workload", "W", "the experiment to run (see cbench list); required"},
    {"executor", "E", "the concurrency model (see cbench list; default sequential)"},
    {"workers", "N", "how many workers (default 1 for sequential, else the number of cores)"},
    {"as-completed", "", "print each task's line as it finishes, not in task order"},
    {"fixtures", "DIR", "corpus folder with books/*.txt and stop-words/english.txt"},
    {"seed", "S", "seed of the generated corpus used when no corpus folder is found (2016)"},
    {"iterations", "K", "pbkdf2: PBKDF2 iterations (1000000)"},
    {"size", "N", "eigen: matrix size n (1000); double: N numbers (10); count: numbers each (10)"},
    {"interval", "SECONDS", "count: sleep after each number (1)"},
    {"chunks", "N", "wordfreq: pieces the corpus is cut into (16)"},
    {"profile", "P", "wordcount-http: the fixture server's profile: lan, quick, seed (quick)"},
    {"books-url", "TEMPLATE", "wordcount-http: fetch from TEMPLATE ({} = URL-encoded book name) "
                              "instead of starting the fixture server"},
    {"keep-alive", "", "wordcount-http: reuse connections (default: a new one per book)"},
    {"timeout", "SECONDS", "wordcount-http: give up on a download after this long (60)"},
    {"json", "", "print one JSON document instead of lines"},
    {"output", "FILE", "also write the JSON document to FILE"},
    {"help", "", "show this help"},
};

int usage_error(std::string_view command, const std::string& message) {
  std::cerr << "cbench" << (command.empty() ? "" : " ") << command << ": error: " << message
            << "\n"
            << kUsage << "\n";
  return 2;
}

std::string human_cores() { return std::to_string(std::thread::hardware_concurrency()); }

int cmd_list(const std::vector<std::string>& args) {
  Flags flags(args, kListFlags);
  if (flags.has("help")) {
    std::cout << "usage: cbench list\n\nLists the workloads and the executors.\n\n"
              << describe_flags(kListFlags);
    return 0;
  }
  std::cout << "Workloads:\n";
  for (const auto& e : experiments()) {
    std::string name(e.name);
    name.resize(16, ' ');
    std::string id(e.id);
    id.resize(4, ' ');
    std::cout << "  " << name << id << " " << e.summary << "\n";
  }
  std::cout << "Executors:\n";
  for (const auto& e : executors()) {
    std::string name(e.name);
    name.resize(16, ' ');
    std::cout << "  " << name << e.model << "\n";
  }
  return 0;
}

struct RunRequest {
  const Experiment* experiment = nullptr;
  std::string executor = "sequential";
  int workers = 1;
  bool as_completed = false;
  bool json = false;
  std::optional<std::string> output;  // --output FILE
  std::string profile;                // the fixture server's, when wordcount-http starts one
  CorpusOptions corpus;
  ExperimentOptions options;
};

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
  reject("fixtures", e.uses(kUsesCorpus));
  reject("seed", e.uses(kUsesCorpus));
  reject("iterations", e.uses(kUsesIterations));
  reject("size", e.uses(kUsesSize));
  reject("interval", e.uses(kUsesInterval));
  reject("chunks", e.uses(kUsesChunks));
  for (auto flag : {"profile", "books-url", "keep-alive", "timeout"}) reject(flag, e.uses(kUsesHttp));
  if (flags.has("profile") && flags.has("books-url")) {
    throw UsageError("--profile shapes the fixture server, which --books-url replaces: give one");
  }

  r.executor = flags.text("executor").value_or("sequential");
  bool known = false;
  for (const auto& info : executors()) known = known || info.name == r.executor;
  if (!known && r.executor == "mpi") {
    throw UsageError("this build has no mpi executor: Open MPI was not found when it was configured "
                     "(scripts/setup installs openmpi-bin and libopenmpi-dev)");
  }
  if (!known) {
    std::string names;
    for (const auto& info : executors()) names += (names.empty() ? "" : ", ") + std::string(info.name);
    throw UsageError("unknown executor \"" + r.executor + "\" (known: " + names + ")");
  }
  const long cores = std::max(1u, std::thread::hardware_concurrency());
  // Under mpirun the mpi executor's default is every engine mpirun started.
  long default_workers = r.executor == "sequential" ? 1 : cores;
  if (r.executor == "mpi" && mpi::world_engines() > 0) default_workers = mpi::world_engines();
  r.workers = static_cast<int>(flags.integer("workers", 1, 100000).value_or(default_workers));
  if (r.executor == "sequential" && r.workers != 1) {
    throw UsageError("the sequential executor has no workers to give: --workers must be 1");
  }
  r.as_completed = flags.has("as-completed");
  r.json = flags.has("json");
  r.output = flags.text("output");
  if (auto dir = flags.text("fixtures")) r.corpus.fixtures = *dir;
  if (auto seed = flags.integer("seed", 0, std::numeric_limits<long>::max())) {
    r.corpus.seed = static_cast<std::uint64_t>(*seed);
  }
  r.options.iterations = flags.integer("iterations", 1, 2'000'000'000).value_or(1'000'000);
  r.options.size = flags.integer("size", 1, 100'000'000);
  if (auto s = flags.seconds("interval")) {
    r.options.interval = std::chrono::nanoseconds(static_cast<long>(*s * 1e9));
  }
  r.options.chunks = static_cast<int>(flags.integer("chunks", 1, 1'000'000).value_or(16));
  r.profile = flags.text("profile").value_or("quick");
  if (r.profile != "lan" && r.profile != "quick" && r.profile != "seed") {
    throw UsageError("--profile takes lan, quick or seed, got \"" + r.profile + "\"");
  }
  r.options.books_url = flags.text("books-url").value_or("");
  r.options.http.keep_alive = flags.has("keep-alive");
  if (auto s = flags.seconds("timeout")) {
    r.options.http.total_timeout = std::chrono::milliseconds(static_cast<long>(*s * 1000));
  }
  // The counter echoes its numbers as it goes, unless the output is a JSON document.
  r.options.echo = !r.json;
  return r;
}

std::string seconds_text(double s) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f", s);
  return text;
}

int run_experiment(const RunRequest& r) {
  const Experiment& e = *r.experiment;
  std::optional<Corpus> corpus;
  if (e.uses(kUsesCorpus)) corpus = load_corpus(r.corpus);
  // wordcount-http: the fixture server in a process of its own, serving the same corpus, so its
  // CPU time is never the client's.
  std::optional<ServerProcess> server;
  ExperimentOptions options = r.options;
  if (e.uses(kUsesHttp) && options.books_url.empty()) {
    raise_open_file_limit();
    std::vector<std::string> args{"serve", "--profile", r.profile, "--seed", std::to_string(r.corpus.seed)};
    if (r.corpus.fixtures) {
      args.push_back("--fixtures");
      args.push_back(r.corpus.fixtures->string());
    }
    server.emplace(current_executable(), args);
    options.books_url = server->base_url() + "books/{}.txt";
  }
  const Corpus empty_corpus;
  const std::vector<Task> tasks = e.make_tasks(corpus ? *corpus : empty_corpus, options);
  auto executor = make_executor(r.executor, r.workers);

  if (corpus && !r.json) std::cout << "Corpus: " << corpus->describe() << "\n" << std::flush;

  std::vector<std::optional<TaskResult>> results(tasks.size());
  const auto start = Clock::now();
  executor->run(tasks, [&](TaskResult&& result) {
    if (r.as_completed && !r.json && result.ok() && e.task_line != nullptr) {
      std::cout << e.task_line(tasks[result.index], result.value) << "\n" << std::flush;
    }
    results[result.index] = std::move(result);
  });
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  // This process's CPU time (for mpi, the controller's: it should wait, not spin).
  const double caller_cpu = process_cpu_seconds();
  double server_cpu = 0;
  if (server) {
    server_cpu = server->cpu_seconds();
    server->stop();
  }

  int failures = 0;
  std::vector<Bytes> values;
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
  std::vector<std::string> summary;
  if (failures == 0 && e.reduce != nullptr) {
    const Bytes reduced = e.reduce(values);
    if (e.summary_lines != nullptr) summary = e.summary_lines(reduced);
  }

  if (r.json || r.output) {
    std::string out = "{\"workload\":" + json::quote(e.name) + ",\"executor\":" +
                      json::quote(executor->name()) + ",\"workers\":" +
                      std::to_string(executor->workers()) + ",\"cores\":" + human_cores();
    if (corpus) {
      out += ",\"corpus\":{\"kind\":" + json::quote(to_string(corpus->kind)) + ",\"origin\":" +
             json::quote(corpus->origin) + ",\"checksum\":" + json::quote(corpus->checksum) +
             ",\"books\":" + std::to_string(corpus->books.size()) + ",\"bytes\":" +
             std::to_string(corpus->total_bytes()) + "}";
    }
    out += ",\"results\":[";
    for (std::size_t i = 0; i < tasks.size(); ++i) {
      const TaskResult& result = *results[i];
      if (i > 0) out += ",";
      out += "{\"task\":" + json::quote(tasks[i].name) + ",\"ok\":" + (result.ok() ? "true" : "false");
      if (result.ok()) {
        out += ",\"value\":" + e.task_json(result.value);
        if (e.task_line != nullptr) out += ",\"line\":" + json::quote(e.task_line(tasks[i], result.value));
      } else {
        out += ",\"error\":" + json::quote(result.error);
      }
      out += ",\"worker\":" + std::to_string(result.worker) + ",\"cpu_seconds\":" +
             json::number(result.cpu_seconds) + ",\"seconds\":" +
             json::number(std::chrono::duration<double>(result.end - result.start).count()) + "}";
    }
    out += "],\"summary\":[";
    for (std::size_t i = 0; i < summary.size(); ++i) out += (i ? "," : "") + json::quote(summary[i]);
    if (server) {
      out += "],\"server\":{\"profile\":" + json::quote(r.profile) + ",\"cpu_seconds\":" +
             json::number(server_cpu) + "},\"elapsed_seconds\":" + json::number(elapsed);
    } else {
      out += "],\"elapsed_seconds\":" + json::number(elapsed);
    }
    out += ",\"cpu_seconds\":{\"this_process\":" + json::number(caller_cpu) +
           ",\"worker_processes\":" + json::number(executor->worker_cpu_seconds()) + "}";
    out += ",\"build\":" + build_info_json() +
           "}\n";
    if (r.json) std::cout << out;
    if (r.output) {
      std::ofstream file(*r.output, std::ios::binary);
      file << out;
      file.close();
      if (!file) {
        std::cerr << "cbench: error: cannot write " << *r.output << "\n";
        return 1;
      }
    }
  }
  if (!r.json) {
    if (!r.as_completed && e.task_line != nullptr) {
      for (std::size_t i = 0; i < tasks.size(); ++i) {
        if (results[i]->ok()) std::cout << e.task_line(tasks[i], results[i]->value) << "\n";
      }
    }
    for (const auto& line : summary) std::cout << line << "\n";
    std::cout << "Elapsed time: " << seconds_text(elapsed) << " seconds\n";
    if (executor->worker_cpu_seconds() > 0) {
      std::cout << "CPU time: " << seconds_text(executor->worker_cpu_seconds()) << " seconds in the "
                << executor->workers() << " worker processes, " << seconds_text(caller_cpu)
                << " in this one\n";
    }
    if (server) {
      std::cout << "Server CPU time: " << seconds_text(server_cpu) << " seconds (profile "
                << r.profile << ", not counted above)\n";
    }
  }
  std::cout << std::flush;
  if (failures > 0) {
    std::cerr << "cbench: " << failures << " of " << tasks.size() << " tasks failed\n";
    return 1;
  }
  return 0;
}

int cmd_run(const std::vector<std::string>& args) {
  Flags flags(args, kRunFlags);
  if (flags.has("help")) {
    std::cout << "usage: cbench run --workload W [--executor E] [--workers N] [options]\n\n"
                 "Runs one experiment and prints one line per task, then the elapsed time.\n\n"
              << describe_flags(kRunFlags);
    return 0;
  }
  return run_experiment(parse_run(flags));
}

int cmd_version(const std::vector<std::string>& args) {
  Flags flags(args, kListFlags);
  if (flags.has("help")) {
    std::cout << "usage: cbench version\n\nPrints how this binary was built, as JSON.\n";
    return 0;
  }
  std::cout << build_info_json() << "\n";
  return 0;
}

int main_with_args(const std::vector<std::string>& argv) {
  if (argv.empty() || argv[0] == "--help" || argv[0] == "-h" || argv[0] == "help") {
    std::cout << kUsage << "\n\n"
              << "  list      the workloads and executors\n"
                 "  run       run one experiment with one executor\n"
                 "  serve     the HTTP fixture server of wordcount-http (E2)\n"
                 "  version   how this binary was built\n\n"
                 "Run `cbench COMMAND --help` for a command's flags.\n";
    return argv.empty() ? 2 : 0;
  }
  if (argv[0] == "--version") return cmd_version({});
  const std::string command = argv[0];
  const std::vector<std::string> args(argv.begin() + 1, argv.end());
  try {
    if (command == "list") return cmd_list(args);
    if (command == "run") return cmd_run(args);
    if (command == "serve") return serve_command(args);
    if (command == "version") return cmd_version(args);
    return usage_error("", "unknown command \"" + command + "\"");
  } catch (const UsageError& e) {
    return usage_error(command, e.what());
  } catch (const std::exception& e) {
    std::cerr << "cbench " << command << ": error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace
}  // namespace cbench::cli

int main(int argc, char** argv) {
  // Before anything else, while this is the only thread: the fork executor's workers are forked
  // from this server, never from a process that runs other threads (executors/fork_server.hpp).
  try {
    cbench::start_fork_server();
  } catch (const std::exception& e) {
    std::cerr << "cbench: error: cannot start the fork server: " << e.what() << "\n";
    return 1;
  }
  // Under mpirun, ranks other than 0 become engines here and never return (executors/mpi.hpp).
  try {
    cbench::mpi::enter(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "cbench: error: " << e.what() << "\n";
    return 1;
  }
  return cbench::cli::main_with_args(std::vector<std::string>(argv + 1, argv + argc));
}
