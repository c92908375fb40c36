#include "benchmarks/suite.hpp"

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <map>
#include <mutex>
#include <regex>
#include <sstream>

#include "experiments/json.hpp"

namespace cbench::bench {
namespace {

std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> items;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find(',', start);
    if (end == std::string_view::npos) end = text.size();
    if (end > start) items.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return items;
}

int parse_int(std::string_view text, std::string_view what) {
  int value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) {
    throw std::invalid_argument(std::string(what) + ": \"" + std::string(text) +
                                "\" is not a whole number");
  }
  return value;
}

}  // namespace

std::string_view to_string(Preset preset) {
  return name_of(kPresetNames, preset);
}

double PresetValues::*preset_member(const SuiteOptions& o) {
  if (o.smoke) return &PresetValues::smoke;
  switch (o.preset) {
    case Preset::quick:
      return &PresetValues::quick;
    case Preset::standard:
      return &PresetValues::standard;
    case Preset::seed:
      return &PresetValues::seed;
    case Preset::full:
      return &PresetValues::full;
  }
  return &PresetValues::standard;
}

std::vector<int> worker_range(int first, int last, int step, bool multiply) {
  std::vector<int> workers;
  for (long w = first; w <= last; w = multiply ? w * step : w + step)
    workers.push_back(static_cast<int>(w));
  return workers;
}

std::vector<int> parse_worker_range(std::string_view text) {
  std::vector<int> workers;
  if (text.find(':') == std::string_view::npos) {
    for (const auto& item : split_list(text))
      workers.push_back(parse_int(item, "--cbench_workers"));
  } else {
    // first:last[:step], step "*k" multiplies, "k" adds (oneTBB's examples use the same syntax).
    auto parts = std::vector<std::string>();
    std::size_t start = 0;
    while (true) {
      auto end = text.find(':', start);
      parts.emplace_back(text.substr(start, end == std::string_view::npos ? end : end - start));
      if (end == std::string_view::npos) break;
      start = end + 1;
    }
    if (parts.size() < 2 || parts.size() > 3) {
      throw std::invalid_argument("--cbench_workers: expected first:last[:step], got \"" +
                                  std::string(text) + "\"");
    }
    const int first = parse_int(parts[0], "--cbench_workers"),
              last = parse_int(parts[1], "--cbench_workers");
    bool multiply = false;
    int step = 1;
    if (parts.size() == 3) {
      std::string_view s = parts[2];
      multiply = s.starts_with("*");
      if (multiply) s.remove_prefix(1);
      step = parse_int(s, "--cbench_workers step");
    }
    if (first < 1 || last < first || step < (multiply ? 2 : 1)) {
      throw std::invalid_argument("--cbench_workers: \"" + std::string(text) +
                                  "\" is not an increasing range from 1 up");
    }
    workers = worker_range(first, last, step, multiply);
  }
  for (int w : workers) {
    if (w < 1) throw std::invalid_argument("--cbench_workers: worker counts start at 1");
  }
  if (workers.empty()) throw std::invalid_argument("--cbench_workers: no worker count given");
  return workers;
}

SuiteOptions parse_suite_flags(int& argc, char** argv) {
  SuiteOptions o;
  std::optional<std::string> workers_text;
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (!arg.starts_with("--cbench_")) {
      argv[kept++] = argv[i];
      continue;
    }
    auto eq = arg.find('=');
    std::string_view name =
        arg.substr(2, eq == std::string_view::npos ? std::string_view::npos : eq - 2);
    std::string value = eq == std::string_view::npos ? "" : std::string(arg.substr(eq + 1));
    auto need = [&] {
      if (value.empty())
        throw std::invalid_argument("--" + std::string(name) + " needs a value (--" +
                                    std::string(name) + "=...)");
    };
    if (name == "cbench_preset") {
      need();
      const auto preset = value_of(kPresetNames, value);
      if (!preset) {
        throw std::invalid_argument("--cbench_preset: unknown preset \"" + value + "\" (" +
                                    names_list(kPresetNames) + ")");
      }
      o.preset = *preset;
    } else if (name == "cbench_workers") {
      need();
      workers_text = value;
    } else if (name == "cbench_workloads") {
      need();
      o.workloads = split_list(value);
      for (const auto& w : o.workloads) find_experiment(w);  // throws for an unknown name
    } else if (name == "cbench_executors") {
      need();
      o.executors = split_list(value);
      for (const auto& e : o.executors) {
        if (find_executor(e) == nullptr)
          throw std::invalid_argument("--cbench_executors: unknown executor \"" + e + "\"");
      }
    } else if (name == "cbench_fixtures") {
      need();
      o.fixtures = value;
    } else if (name == "cbench_profile") {
      need();
      o.http_profile = value;
    } else if (name == "cbench_cpus") {
      need();
      for (const auto& c : split_list(value)) o.cpus.push_back(parse_int(c, "--cbench_cpus"));
    } else if (name == "cbench_trace") {
      need();
      o.trace = value;
    } else if (name == "cbench_journal") {
      need();
      o.journal = value;
    } else if (name == "cbench_resume") {
      need();
      o.resume = value;
    } else if (name == "cbench_scale") {
      need();
      for (const auto& s : split_list(value)) {
        const long scale = parse_int(s, "--cbench_scale");
        if (scale < 1 || scale > 1024) {
          throw std::invalid_argument("--cbench_scale: " + s + " is not a scale from 1 to 1024");
        }
        o.scales.push_back(static_cast<int>(scale));
      }
    } else if (name == "cbench_smoke") {
      o.smoke = true;
    } else if (name == "cbench_count") {
      o.count = true;
    } else if (name == "cbench_plan") {
      o.plan = true;
    } else if (name == "cbench_host_limit") {
      need();
      o.host_limit = value == "off" ? std::numeric_limits<double>::infinity()
                                    : std::strtod(value.c_str(), nullptr);
      if (!(o.host_limit > 0)) {
        throw std::invalid_argument(
            "--cbench_host_limit: expected a ratio above 0 (1.5: a probe "
            "50% slower than calibrated) or off, got \"" +
            value + "\"");
      }
    } else if (name == "cbench_remeasure") {
      need();
      std::ifstream in(value);
      if (!in) throw std::invalid_argument("--cbench_remeasure: cannot read " + value);
      for (std::string line; std::getline(in, line);) {
        if (!line.empty()) o.remeasure.insert(line);
      }
    } else {
      throw std::invalid_argument(
          "unknown flag --" + std::string(name) +
          " (ours: --cbench_preset, --cbench_workers, --cbench_workloads, "
          "--cbench_executors, --cbench_fixtures, --cbench_profile, "
          "--cbench_cpus, --cbench_trace, --cbench_journal, --cbench_resume, "
          "--cbench_scale, --cbench_smoke, --cbench_count, --cbench_plan, "
          "--cbench_remeasure, --cbench_host_limit)");
    }
  }
  argc = kept;
  argv[argc] = nullptr;

  // Pinning comes first, so that every count of cores below sees the smaller machine.
  if (!o.cpus.empty()) {
    cpu_set_t set;
    CPU_ZERO(&set);
    for (int c : o.cpus) {
      if (c < 0 || c >= CPU_SETSIZE)
        throw std::invalid_argument("--cbench_cpus: no CPU " + std::to_string(c));
      CPU_SET(c, &set);
    }
    if (sched_setaffinity(0, sizeof set, &set) != 0) {
      throw std::invalid_argument("--cbench_cpus: cannot pin to those CPUs (are they online?)");
    }
  }
  cpu_set_t allowed;
  o.cores = sched_getaffinity(0, sizeof allowed, &allowed) == 0
                ? CPU_COUNT(&allowed)
                : static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
  if (o.http_profile.empty()) o.http_profile = o.preset == Preset::seed ? "seed" : "quick";
  if (workers_text) {
    o.workers = parse_worker_range(*workers_text);
  } else {
    switch (o.preset) {
      case Preset::quick:
        o.workers = {1, 2, 4};
        break;
      case Preset::standard:
        o.workers = {1, 2, 4, 8};
        break;
      case Preset::seed:
        o.workers = {1, 2, 4, 8};
        break;
      // Up to 4x the cores: the curve past the core count is where models part ways.
      case Preset::full:
        o.workers = worker_range(1, 4 * o.cores, 2, /*multiply=*/true);
        break;
    }
  }
  switch (o.preset) {
    case Preset::quick:
      o.min_time = 0.05;
      break;
    case Preset::standard:
      o.min_time = 0.2;
      break;
    case Preset::seed:
      o.min_time = 0;
      break;
    case Preset::full:
      o.min_time = 0.5;
      o.repetitions = 5;
      break;
  }
  if (o.smoke) {
    o.min_time = 0.001;
    o.repetitions = 0;
  }
  if (o.count) {
    o.min_time = 0;
    o.repetitions = 0;
  }
  return o;
}

namespace {
std::vector<std::pair<std::string, double>>& unmeasured_notes() {
  static std::vector<std::pair<std::string, double>> notes;
  return notes;
}
}  // namespace

void note_unmeasured(const std::string& family, double seconds_per_iteration) {
  unmeasured_notes().emplace_back(family, seconds_per_iteration);
}

void print_plan_notes() {
  for (const auto& [family, seconds] : unmeasured_notes()) {
    std::printf("unmeasured %s %.9g\n", family.c_str(), seconds);
  }
}

void set_run_length(benchmark::internal::Benchmark* b, const SuiteOptions& o, bool repeat) {
  if (o.count) {
    b->Iterations(1);
    return;
  }
  if (o.min_time > 0) b->MinTime(o.min_time);
  if (repeat && o.repetitions > 0) b->Repetitions(o.repetitions);
}

// ---- context, trace, /proc -------------------------------------------------------------------

void add_context(const std::string& key, const std::string& value) {
  benchmark::AddCustomContext(key, value);
}

namespace {
std::mutex trace_mutex;
std::map<std::string, std::vector<TraceTask>> traces;
}  // namespace

void record_trace(const std::string& case_name, std::vector<TraceTask> tasks) {
  std::lock_guard lock(trace_mutex);
  traces[case_name] = std::move(tasks);
}

void write_trace(const std::filesystem::path& path) {
  std::lock_guard lock(trace_mutex);
  std::ofstream out(path);
  out << "[";
  bool first_case = true;
  for (const auto& [name, tasks] : traces) {  // a case a line
    json::Document rows = json::Document::array();
    for (const auto& t : tasks) {
      rows.push_back({{"task", t.task},
                      {"worker", t.worker},
                      {"start", json::finite(t.start)},
                      {"end", json::finite(t.end)}});
    }
    out << (first_case ? "\n" : ",\n") << json::dump({{"name", name}, {"tasks", std::move(rows)}});
    first_case = false;
  }
  out << "\n]\n";
  if (!out) throw std::runtime_error("cannot write the trace " + path.string());
}

CpuTimes read_cpu_times() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  unsigned long long v[10] = {};
  in >> cpu;
  for (auto& x : v) in >> x;
  CpuTimes t;
  if (cpu != "cpu") return t;
  t.steal = v[7];
  for (int i = 0; i < 8; ++i) t.total += v[i];  // guest time is already inside user time
  return t;
}

double steal_fraction(const CpuTimes& before, const CpuTimes& after) {
  const auto total = after.total - before.total;
  return total == 0 ? 0.0
                    : static_cast<double>(after.steal - before.steal) / static_cast<double>(total);
}

std::size_t pss_bytes(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/smaps_rollup");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("Pss:")) {
      std::istringstream fields(line.substr(4));
      std::size_t kib = 0;
      fields >> kib;
      return kib * 1024;
    }
  }
  return 0;
}

bool wanted_executor(const SuiteOptions& o, std::string_view name) {
  const auto& filter = o.executors;
  return filter.empty() || std::find(filter.begin(), filter.end(), name) != filter.end();
}

std::vector<int> grid_workers(const SuiteOptions& o, const ExecutorInfo& info) {
  if (!wanted_executor(o, info.name)) return {};
  return offered_workers(info, o.workers);  // the worker count's one rule (executor.hpp)
}

bool check_floor_run(benchmark::State& state, const FloorCount& count, std::size_t tasks) {
  if (count.ran == tasks && count.wrong == 0) return true;
  std::string why =
      "the floor ran " + std::to_string(count.ran) + " of " + std::to_string(tasks) + " tasks";
  if (count.wrong > 0) why += ", " + std::to_string(count.wrong) + " of them with a wrong result";
  state.SkipWithError(why.c_str());
  return false;
}

int register_family(const SuiteOptions& o, const Family& family,
                    const std::function<CaseBody()>& body) {
  std::vector<int> chosen;
  for (int v : family.values) {
    if (selected(o, family.name + "/" + family.arg + ":" + std::to_string(v))) chosen.push_back(v);
  }
  if (chosen.empty()) return 0;
  auto* b = benchmark::RegisterBenchmark(family.name.c_str(), body());
  b->ArgName(family.arg);
  for (int v : chosen) b->Arg(v);
  b->UseRealTime()->MeasureProcessCPUTime()->Unit(family.unit);
  if (family.iterations > 0 && !o.count) {
    b->Iterations(family.iterations);
  } else {
    set_run_length(b, o, family.repeat);
  }
  return static_cast<int>(chosen.size());
}

bool selected(const SuiteOptions& o, const std::string& name) {
  if (o.finished.contains(name)) return false;
  static const std::string filter = benchmark::GetBenchmarkFilter();
  if (filter.empty() || filter == "." || filter == "all") return true;
  // Google Benchmark's own rule: a leading '-' negates the pattern.
  if (filter.front() == '-') return !std::regex_search(name, std::regex(filter.substr(1)));
  return std::regex_search(name, std::regex(filter));
}

}  // namespace cbench::bench
