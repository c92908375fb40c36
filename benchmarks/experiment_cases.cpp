// The one body every experiment runs in, and the one grid it is registered over:
//   workload x executor x mode x workers, from the suite's options.
//
// Outside the timing: the corpus and the tasks, the sequential reference (computed once per
// workload, its per-task times recorded for the ideal curve), the executor (but in `cold` mode)
// and its size check, one warm-up pass. Inside: the run. After each run, the results are compared
// with the reference; a difference fails that case with SkipWithError naming the task.
#include <fcntl.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>

#include "benchmarks/suite.hpp"
#include "experiments/json.hpp"
#include "workloads/enum_names.hpp"

namespace cbench::bench {
namespace {

enum class Mode { map, as_completed, cold, cold_cache };

constexpr EnumNames<Mode, 4> kModeNames{{{Mode::map, "map"},
                                         {Mode::as_completed, "as-completed"},
                                         {Mode::cold, "cold"},
                                         {Mode::cold_cache, "cold-cache"}}};

std::string_view to_string(Mode mode) {
  return name_of(kModeNames, mode);
}

// Everything a workload's cases share, prepared once, when its first case runs.
struct Prepared {
  const Experiment* experiment = nullptr;
  Options options;  // at this preset's sizes
  std::vector<Task> tasks;
  std::vector<Bytes> reference;
  Bytes reduced_reference;           // map-reduce experiments: the reduced result
  std::vector<double> task_seconds;  // sequential, per task
  std::uint64_t bytes = 0;           // input bytes of one run
  std::vector<std::string> files;    // read: the books on disk, for the cold-cache mode
};

// Cold page cache: drop the books from it (outside the timing) so the read hits the disk.
void drop_from_page_cache(const std::vector<std::string>& files) {
  for (const auto& path : files) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    ::fdatasync(fd);
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    ::close(fd);
  }
}

std::vector<TaskResult> run_tasks(Executor& executor, std::span<const Task> tasks, Mode mode) {
  if (mode == Mode::as_completed) {
    std::vector<TaskResult> results;
    results.reserve(tasks.size());
    executor.run(tasks, [&](TaskResult&& r) { results.push_back(std::move(r)); });
    return results;
  }
  // map: in task order, in place (Executor::run_into); a failed task stays in the list for the
  // check to name it.
  std::vector<TaskResult> results(tasks.size());
  executor.run_into(tasks, results);
  return results;
}

// The first task that failed or differs from the reference, in words; empty when all agree. A
// difference names the task, its kind and the executor, and says how many tasks differ: a kind
// that reads state which does not travel with its task (a global the caller set after the fork
// server started) gives other values in another process, and the case must say which, not
// average them into a time.
std::string check(const Prepared& p, const std::vector<TaskResult>& results,
                  const ExecutorInfo& info, int workers) {
  if (results.size() != p.tasks.size()) {
    return "the executor returned " + std::to_string(results.size()) + " results for " +
           std::to_string(p.tasks.size()) + " tasks";
  }
  std::vector<bool> seen(p.tasks.size(), false);
  const TaskResult* first_wrong = nullptr;
  std::size_t wrong = 0;
  for (const auto& r : results) {
    if (r.index >= p.tasks.size() || seen[r.index]) return "a task's result came twice";
    seen[r.index] = true;
    if (!r.ok()) return p.tasks[r.index].name + ": " + r.error;
    if (r.value != p.reference[r.index]) {
      ++wrong;
      if (first_wrong == nullptr || r.index < first_wrong->index) first_wrong = &r;
    }
  }
  if (first_wrong == nullptr) return {};
  const Task& task = p.tasks[first_wrong->index];
  const std::string got = p.experiment->task_json(first_wrong->value),
                    want = p.experiment->task_json(p.reference[first_wrong->index]);
  return task.name + ": result differs from the sequential reference (got " + got.substr(0, 200) +
         ", expected " + want.substr(0, 200) + "): task kind \"" + std::string(task.kind->name) +
         "\" under " + std::string(info.name) + " with " + std::to_string(workers) +
         (workers == 1 ? " worker, " : " workers, ") + std::to_string(wrong) + " of " +
         std::to_string(p.tasks.size()) + " tasks differ";
}

// The reduce step, on the caller, from the results in task order (empty without one, or when a
// task failed: the check names that task).
Bytes reduce(const Prepared& p, const std::vector<TaskResult>& results) {
  if (p.experiment->reduce == nullptr) return {};
  std::vector<Bytes> values(results.size());
  for (const auto& r : results) {
    if (!r.ok() || r.index >= values.size()) return {};
    values[r.index] = r.value;
  }
  return p.experiment->reduce(values);
}

void run_case(benchmark::State& state, const std::shared_ptr<Prepared>& p, const std::string& name,
              const ExecutorInfo& info, Mode mode, int workers, int cores) {
  const std::span<const Task> tasks = p->tasks;
  std::unique_ptr<Executor> executor;
  if (mode != Mode::cold) {
    executor = info.make(workers);
    if (executor->workers() != workers) {
      state.SkipWithError(("the executor has " + std::to_string(executor->workers()) +
                           " workers, not " + std::to_string(workers))
                              .c_str());
      return;
    }
    // Warm-up: an untimed pass (caches, lazily started workers, connection set-up), checked too.
    if (auto error = check(*p, run_tasks(*executor, tasks, mode), info, workers); !error.empty()) {
      state.SkipWithError(error.c_str());
      return;
    }
  }
  double wall = 0, cpu = 0, worker_cpu = 0;
  std::vector<TaskResult> last;
  Clock::time_point last_start{};
  const CpuTimes steal_before = read_cpu_times();
  const Usage usage_before = usage_now(worker_pids_of(executor.get()));
  for (auto _ : state) {
    if (mode == Mode::cold_cache) {
      state.PauseTiming();
      drop_from_page_cache(p->files);
      state.ResumeTiming();
    }
    count_begin(executor.get());
    const double cpu_start = process_cpu_seconds();
    const auto start = Clock::now();
    if (mode == Mode::cold) executor = info.make(workers);
    std::vector<TaskResult> results = run_tasks(*executor, tasks, mode);
    Bytes reduced = reduce(*p, results);
    count_end(state, executor.get(), static_cast<double>(tasks.size()));
    worker_cpu += executor->worker_cpu_seconds();
    if (mode == Mode::cold) executor.reset();  // teardown is part of a cold run
    wall += std::chrono::duration<double>(Clock::now() - start).count();
    cpu += process_cpu_seconds() - cpu_start;
    state.PauseTiming();
    std::string error = check(*p, results, info, workers);
    if (error.empty() && reduced != p->reduced_reference) {
      error = "the reduced result differs from the sequential reference";
    }
    if (!error.empty()) {
      // Out of the loop with the timing paused: Google Benchmark checks that a case whose error
      // is set never resumes it (a failed assertion in its own builds, which Debian's are).
      state.SkipWithError(error.c_str());
      break;
    }
    last = std::move(results);
    last_start = start;
    state.ResumeTiming();
  }
  const CpuTimes steal_after = read_cpu_times();
  const auto iterations = static_cast<double>(state.iterations());
  set_usage_counters(state, usage_before, usage_now(worker_pids_of(executor.get())),
                     static_cast<double>(tasks.size()) * iterations);
  state.counters["tasks_per_second"] = benchmark::Counter(
      static_cast<double>(tasks.size()) * iterations, benchmark::Counter::kIsRate);
  if (p->experiment->bytes != nullptr)
    state.SetBytesProcessed(static_cast<std::int64_t>(p->bytes) * state.iterations());
  state.counters["workers"] = workers;
  state.counters["cores"] = cores;
  state.counters["worker_cpu_seconds"] = iterations > 0 ? worker_cpu / iterations : 0;
  state.counters["cpu_utilization"] = wall > 0 ? (cpu + worker_cpu) / (wall * cores) : 0;
  state.counters["steal_fraction"] = steal_fraction(steal_before, steal_after);
  if (!last.empty()) {
    std::vector<TraceTask> trace;
    for (const auto& r : last) {
      trace.push_back({p->tasks[r.index].name, r.worker,
                       std::chrono::duration<double>(r.start - last_start).count(),
                       std::chrono::duration<double>(r.end - last_start).count()});
    }
    record_trace(name, std::move(trace));
  }
}

// The message a nested run's error is reported with: a deadlock says so first, whatever task it
// happened in, so that the report and a reader see what kind of failure it is.
std::string nested_error(const std::exception& e) {
  const std::string what = e.what();
  const auto at = what.find("deadlock: ");
  if (at == std::string::npos || at == 0) return what;
  return what.substr(at) + " (in " + what.substr(0, what.find(':')) + ")";
}

// Every root of a nested experiment through a fork-join, each result checked against the
// reference; the first error in words, empty when all agree.
std::string run_roots(ForkJoin& fork_join, const Prepared& p, std::vector<Bytes>& results) {
  results.resize(p.tasks.size());
  try {
    for (std::size_t i = 0; i < p.tasks.size(); ++i) results[i] = fork_join.run(p.tasks[i]);
  } catch (const std::exception& e) {
    return nested_error(e);
  }
  for (std::size_t i = 0; i < p.tasks.size(); ++i) {
    if (results[i] != p.reference[i]) {
      return p.tasks[i].name + ": result differs from the sequential reference (got " +
             p.experiment->task_json(results[i]) + ", expected " +
             p.experiment->task_json(p.reference[i]) + ")";
    }
  }
  return {};
}

// A nested experiment's case (docs/design.md, "Nested fork-join"): its roots through the
// executor's fork-join with W workers, built outside the timing, warmed up and checked once, then
// timed; a deadlock (the blocking pool, deeper than W) ends the case with its message. Counters:
// the tree's tasks per run, tasks per second and ns per task, as libfork reports them.
void run_nested_case(benchmark::State& state, const std::shared_ptr<Prepared>& p,
                     std::unique_ptr<ForkJoin> (*make)(int), int workers, int cores) {
  std::uint64_t tasks = 0;
  for (const Bytes& r : p->reference) tasks += p->experiment->nested_tasks(r);
  std::unique_ptr<ForkJoin> fork_join = make(workers);
  std::vector<Bytes> results;
  if (auto error = run_roots(*fork_join, *p, results); !error.empty()) {
    state.SkipWithError(error.c_str());
    return;
  }
  double wall = 0, cpu = 0;
  for (auto _ : state) {
    count_begin(nullptr);
    const double cpu_start = process_cpu_seconds();
    const auto start = Clock::now();
    std::string error = run_roots(*fork_join, *p, results);
    wall += std::chrono::duration<double>(Clock::now() - start).count();
    count_end(state, nullptr, static_cast<double>(tasks));
    cpu += process_cpu_seconds() - cpu_start;
    if (!error.empty()) {
      state.SkipWithError(error.c_str());
      break;
    }
  }
  const auto iterations = static_cast<double>(state.iterations());
  const double all_tasks = static_cast<double>(tasks) * iterations;
  state.counters["tasks"] = static_cast<double>(tasks);
  state.counters["tasks_per_second"] = benchmark::Counter(all_tasks, benchmark::Counter::kIsRate);
  state.counters["ns_per_task"] = all_tasks > 0 ? wall * 1e9 / all_tasks : 0;
  state.counters["workers"] = workers;
  state.counters["cores"] = cores;
  state.counters["cpu_utilization"] = wall > 0 ? cpu / (wall * cores) : 0;
}

// An executor without nested fork-join, listed in the grid as such: one row that says so.
void not_supported_case(benchmark::State& state, const ExecutorInfo& info) {
  const std::string why = "not supported: " + std::string(info.name) +
                          " has no nested fork-join (its tasks cannot spawn children and wait "
                          "for them)";
  state.SkipWithError(why.c_str());
}

// context_suffix: "" for the grid, "/scale:S" for the cost-against-work sweep's rows.
std::shared_ptr<Prepared> prepare(const Experiment& experiment, Options options,
                                  const Corpus& corpus, const std::string& context_suffix = "") {
  auto p = std::make_shared<Prepared>();
  p->experiment = &experiment;
  p->options = std::move(options);
  p->tasks = experiment.make_tasks(corpus, p->options);
  auto sequential = reference_executor().make(1);
  // The reference, and each task's sequential time for the ideal curve (docs/design.md, "The
  // ideal curve"). The first pass is cold (page faults, caches, lazy set-up) and would inflate
  // the ideal, so when a pass is cheap the times are the best of three; a pass over 2 s is
  // measured once.
  double pass_seconds = 0;
  for (int pass = 0; pass < 3 && (pass == 0 || pass_seconds < 2.0); ++pass) {
    const auto results = map(*sequential, p->tasks);
    pass_seconds = 0;
    for (std::size_t i = 0; i < results.size(); ++i) {
      const double seconds =
          std::chrono::duration<double>(results[i].end - results[i].start).count();
      pass_seconds += seconds;
      if (pass == 0) {
        p->reference.push_back(results[i].value);
        p->task_seconds.push_back(seconds);
      } else {
        p->task_seconds[i] = std::min(p->task_seconds[i], seconds);
      }
    }
  }
  if (experiment.reduce != nullptr) p->reduced_reference = experiment.reduce(p->reference);
  if (experiment.bytes != nullptr) {
    for (std::size_t i = 0; i < p->tasks.size(); ++i) {
      p->bytes += experiment.bytes(p->tasks[i], p->reference[i]);
    }
  }
  if (experiment.file_of != nullptr) {
    for (const auto& task : p->tasks) p->files.push_back(experiment.file_of(task));
  }
  std::string seconds;
  for (double s : p->task_seconds) seconds += (seconds.empty() ? "" : ",") + json::number(s);
  add_context("cbench_task_seconds/" + std::string(experiment.name) + context_suffix, seconds);
  if (context_suffix.empty()) {
    add_context("cbench_work_kind/" + std::string(experiment.name),
                experiment.work == WorkKind::cpu ? "cpu" : "waiting");
  }
  return p;
}

// The options of the sweep's scale S: every option that declares a scale_power grows by
// S^scale_power (rounded, kept in its range), so that the work grows S times.
Options scaled_options(const Experiment& experiment, Options options, int scale) {
  for (const OptionSpec& spec : experiment.options) {
    if (spec.scale_power <= 0 || scale <= 1) continue;
    const double factor = std::pow(static_cast<double>(scale), spec.scale_power);
    if (spec.kind == OptionKind::integer) {
      const double grown = std::round(static_cast<double>(options.integer(spec.name)) * factor);
      options.set(spec.name,
                  static_cast<long>(std::clamp(grown, spec.min, spec.max > 0 ? spec.max : grown)));
    } else if (spec.kind == OptionKind::seconds) {
      options.set(spec.name, options.seconds(spec.name) * factor);
    }
  }
  return options;
}

// The cost-against-work sweep (--cbench_scale): each CPU-bound workload at each scale, under
// every executor at one worker count (the most of the grid's that the cores can run at once),
// in map mode: scale/workload:W/executor:E/workers:N/scale:S. Waiting workloads (sleeps,
// downloads) are left out: their time is the waits', whatever the work.
int register_scale_rows(const SuiteOptions& o, const Experiment& experiment, const Corpus& corpus) {
  if (o.scales.empty() || experiment.work != WorkKind::cpu || experiment.nested()) return 0;
  const std::string workload(experiment.name);
  std::map<int, std::shared_ptr<Prepared>> prepared;
  int registered = 0;
  for (const ExecutorInfo* info : executors()) {
    const std::vector<int> grid = grid_workers(o, *info);
    if (grid.empty()) continue;
    int workers = grid.front();
    for (int w : grid) {
      if (w <= o.cores) workers = std::max(workers, w);
    }
    const std::string family = "scale/workload:" + workload +
                               "/executor:" + std::string(info->name) +
                               "/workers:" + std::to_string(workers);
    registered += register_family(o, {.name = family, .arg = "scale", .values = o.scales}, [&] {
      for (int s : o.scales) {
        if (prepared.contains(s) || !selected(o, family + "/scale:" + std::to_string(s))) continue;
        Options options = scaled_options(experiment, experiment.defaults(preset_member(o)), s);
        const Corpus grown = scaled_corpus(corpus, static_cast<unsigned>(s), kCorpusSeed);
        prepared[s] = prepare(experiment, std::move(options), grown, "/scale:" + std::to_string(s));
      }
      return [prepared, family, info, workers, cores = o.cores](benchmark::State& state) {
        const int scale = static_cast<int>(state.range(0));
        run_case(state, prepared.at(scale), family + "/scale:" + std::to_string(scale), *info,
                 Mode::map, workers, cores);
        state.counters["scale"] = scale;
      };
    });
  }
  return registered;
}

// A nested experiment's grid: per executor with a fork-join, mode `fork-join` over the grid's
// worker counts (and mode `blocking` for a variant whose waiting workers block); per executor
// without one, a row at W = 1 of mode `not-supported`, which says so.
int register_nested(const SuiteOptions& o, const Experiment& experiment, const Corpus& corpus) {
  const std::string workload(experiment.name);
  std::shared_ptr<Prepared> prepared;
  int registered = 0;
  for (const ExecutorInfo* info : executors()) {
    std::vector<int> grid = grid_workers(o, *info);
    if (grid.empty()) continue;
    using Make = std::unique_ptr<ForkJoin> (*)(int);
    std::vector<std::pair<std::string_view, Make>> modes;
    if (info->fork_join != nullptr) modes.emplace_back("fork-join", info->fork_join);
    if (info->fork_join_blocking != nullptr)
      modes.emplace_back("blocking", info->fork_join_blocking);
    if (modes.empty()) {
      modes.emplace_back("not-supported", nullptr);
      grid = {1};
    }
    for (const auto& entry : modes) {
      const std::string_view mode = entry.first;
      const Make make = entry.second;  // a variable, not a binding: clang 14 captures no binding
      const std::string family =
          workload + "/executor:" + std::string(info->name) + "/mode:" + std::string(mode);
      registered += register_family(o, {.name = family, .values = grid}, [&]() -> CaseBody {
        if (make == nullptr) {
          return [info](benchmark::State& state) { not_supported_case(state, *info); };
        }
        if (!prepared)
          prepared = prepare(experiment, experiment.defaults(preset_member(o)), corpus);
        return [p = prepared, make = make, cores = o.cores](benchmark::State& state) {
          run_nested_case(state, p, make, static_cast<int>(state.range(0)), cores);
        };
      });
    }
  }
  return registered;
}

}  // namespace

int register_experiments(const SuiteOptions& o, const Corpus& corpus,
                         const std::function<std::string()>& books_url) {
  auto wanted = [](const std::vector<std::string>& filter, std::string_view name) {
    return filter.empty() || std::find(filter.begin(), filter.end(), name) != filter.end();
  };
  int registered = 0;
  for (const Experiment* e : experiments()) {
    const Experiment& experiment = *e;
    const std::string workload(experiment.name);
    if (!wanted(o.workloads, workload)) continue;
    if (experiment.nested()) {
      registered += register_nested(o, experiment, corpus);
      continue;
    }
    const bool cold_cache = experiment.file_of != nullptr;

    // The grid: one family per executor and mode, its worker counts as the argument
    // `workers` (never ->Threads(n), which would run the body itself on n threads).
    struct GridFamily {
      const ExecutorInfo* executor;
      Mode mode;
      std::vector<int> workers;
    };
    std::vector<GridFamily> families;
    for (const ExecutorInfo* info : executors()) {
      const std::vector<int> workers = grid_workers(o, *info);
      if (workers.empty()) continue;
      families.push_back({info, Mode::map, workers});
      if (!info->traits.is_reference()) {  // the reference runs once, in task order
        families.push_back({info, Mode::as_completed, workers});
        // Workers built outside the timing: a cold row times start-up too, as the original did.
        if (info->traits.cold_mode) families.push_back({info, Mode::cold, workers});
      }
      if (cold_cache) families.push_back({info, Mode::cold_cache, workers});
    }
    auto prepared = std::shared_ptr<Prepared>();
    for (const auto& f : families) {
      const std::string family = workload + "/executor:" + std::string(f.executor->name) +
                                 "/mode:" + std::string(to_string(f.mode));
      registered += register_family(o, {.name = family, .values = f.workers}, [&] {
        if (!prepared) {
          Options options = experiment.defaults(preset_member(o));
          if (!experiment.server_url_option.empty()) {
            options.set(experiment.server_url_option, books_url());
          }
          prepared = prepare(experiment, std::move(options), corpus);
        }
        return [p = prepared, family, f, cores = o.cores](benchmark::State& state) {
          const int workers = static_cast<int>(state.range(0));
          run_case(state, p, family + "/workers:" + std::to_string(workers), *f.executor, f.mode,
                   workers, cores);
        };
      });
    }
    registered += register_scale_rows(o, experiment, corpus);
  }
  return registered;
}

}  // namespace cbench::bench
