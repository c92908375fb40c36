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

namespace {

// The flags as read, before the preset fills in what they leave out.
struct ReadFlags {
  SuiteOptions o;
  std::optional<std::string> workers_text;  // --cbench_workers, parsed once the cores are known
};

// One of our flags: its name (without "--"), whether it takes a value, and what it sets.
struct SuiteFlag {
  std::string_view name;
  bool takes_value;
  void (*apply)(ReadFlags& read, const std::string& value);
};

void set_preset(ReadFlags& r, const std::string& value) {
  const auto preset = value_of(kPresetNames, value);
  if (!preset) {
    throw std::invalid_argument("--cbench_preset: unknown preset \"" + value + "\" (" +
                                names_list(kPresetNames) + ")");
  }
  r.o.preset = *preset;
}

void set_scales(ReadFlags& r, const std::string& value) {
  for (const auto& s : split_list(value)) {
    const long scale = parse_int(s, "--cbench_scale");
    if (scale < 1 || scale > 1024) {
      throw std::invalid_argument("--cbench_scale: " + s + " is not a scale from 1 to 1024");
    }
    r.o.scales.push_back(static_cast<int>(scale));
  }
}

void set_host_limit(ReadFlags& r, const std::string& value) {
  r.o.host_limit = value == "off" ? std::numeric_limits<double>::infinity()
                                  : std::strtod(value.c_str(), nullptr);
  if (!(r.o.host_limit > 0)) {
    throw std::invalid_argument(
        "--cbench_host_limit: expected a ratio above 0 (1.5: a probe "
        "50% slower than calibrated) or off, got \"" +
        value + "\"");
  }
}

void set_remeasure(ReadFlags& r, const std::string& value) {
  std::ifstream in(value);
  if (!in) throw std::invalid_argument("--cbench_remeasure: cannot read " + value);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) r.o.remeasure.insert(line);
  }
}

// Every flag of ours, in the order the message for an unknown one lists them.
const SuiteFlag kSuiteFlags[] = {
    {"cbench_preset", true, set_preset},
    {"cbench_workers", true, [](ReadFlags& r, const std::string& v) { r.workers_text = v; }},
    {"cbench_workloads", true,
     [](ReadFlags& r, const std::string& v) {
       r.o.workloads = split_list(v);
       for (const auto& w : r.o.workloads) find_experiment(w);  // throws for an unknown name
     }},
    {"cbench_executors", true,
     [](ReadFlags& r, const std::string& v) {
       r.o.executors = split_list(v);
       for (const auto& e : r.o.executors) {
         if (find_executor(e) == nullptr)
           throw std::invalid_argument("--cbench_executors: unknown executor \"" + e + "\"");
       }
     }},
    {"cbench_fixtures", true, [](ReadFlags& r, const std::string& v) { r.o.fixtures = v; }},
    {"cbench_profile", true, [](ReadFlags& r, const std::string& v) { r.o.http_profile = v; }},
    {"cbench_cpus", true,
     [](ReadFlags& r, const std::string& v) {
       for (const auto& c : split_list(v)) r.o.cpus.push_back(parse_int(c, "--cbench_cpus"));
     }},
    {"cbench_trace", true, [](ReadFlags& r, const std::string& v) { r.o.trace = v; }},
    {"cbench_journal", true, [](ReadFlags& r, const std::string& v) { r.o.journal = v; }},
    {"cbench_resume", true, [](ReadFlags& r, const std::string& v) { r.o.resume = v; }},
    {"cbench_scale", true, set_scales},
    {"cbench_smoke", false, [](ReadFlags& r, const std::string&) { r.o.smoke = true; }},
    {"cbench_count", false, [](ReadFlags& r, const std::string&) { r.o.count = true; }},
    {"cbench_plan", false, [](ReadFlags& r, const std::string&) { r.o.plan = true; }},
    {"cbench_remeasure", true, set_remeasure},
    {"cbench_host_limit", true, set_host_limit},
};

void read_flag(ReadFlags& read, std::string_view arg) {
  const auto eq = arg.find('=');
  const std::string name(
      arg.substr(2, eq == std::string_view::npos ? std::string_view::npos : eq - 2));
  const std::string value = eq == std::string_view::npos ? "" : std::string(arg.substr(eq + 1));
  for (const SuiteFlag& flag : kSuiteFlags) {
    if (flag.name != name) continue;
    if (flag.takes_value && value.empty()) {
      throw std::invalid_argument("--" + name + " needs a value (--" + name + "=...)");
    }
    flag.apply(read, value);
    return;
  }
  std::string ours;
  for (const SuiteFlag& flag : kSuiteFlags) {
    ours += (ours.empty() ? "--" : ", --") + std::string(flag.name);
  }
  throw std::invalid_argument("unknown flag --" + name + " (ours: " + ours + ")");
}

// Pinning comes first, so that every count of cores after it sees the smaller machine.
int pin_and_count_cores(const std::vector<int>& cpus) {
  if (!cpus.empty()) {
    cpu_set_t set;
    CPU_ZERO(&set);
    for (int c : cpus) {
      if (c < 0 || c >= CPU_SETSIZE)
        throw std::invalid_argument("--cbench_cpus: no CPU " + std::to_string(c));
      CPU_SET(c, &set);
    }
    if (sched_setaffinity(0, sizeof set, &set) != 0) {
      throw std::invalid_argument("--cbench_cpus: cannot pin to those CPUs (are they online?)");
    }
  }
  cpu_set_t allowed;
  return sched_getaffinity(0, sizeof allowed, &allowed) == 0
             ? CPU_COUNT(&allowed)
             : static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
}

// What the preset decides where the flags did not: the worker counts, the HTTP profile, how long
// a case runs.
void apply_preset(SuiteOptions& o, const std::optional<std::string>& workers_text) {
  if (o.http_profile.empty()) o.http_profile = o.preset == Preset::seed ? "seed" : "quick";
  if (workers_text) {
    o.workers = parse_worker_range(*workers_text);
  } else if (o.preset == Preset::full) {
    // Up to 4x the cores: the curve past the core count is where models part ways.
    o.workers = worker_range(1, 4 * o.cores, 2, /*multiply=*/true);
  } else {
    o.workers =
        o.preset == Preset::quick ? std::vector<int>{1, 2, 4} : std::vector<int>{1, 2, 4, 8};
  }
  o.min_time = o.preset == Preset::quick      ? 0.05
               : o.preset == Preset::standard ? 0.2
               : o.preset == Preset::full     ? 0.5
                                              : 0;
  if (o.preset == Preset::full) o.repetitions = 5;
  if (o.smoke || o.count) o.repetitions = 0;
  if (o.smoke) o.min_time = 0.001;
  if (o.count) o.min_time = 0;
}

}  // namespace

SuiteOptions parse_suite_flags(int& argc, char** argv) {
  ReadFlags read;
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.starts_with("--cbench_")) {
      read_flag(read, arg);
    } else {
      argv[kept++] = argv[i];
    }
  }
  argc = kept;
  argv[argc] = nullptr;
  read.o.cores = pin_and_count_cores(read.o.cpus);
  apply_preset(read.o, read.workers_text);
  return read.o;
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
  t.busy = v[0] + v[1] + v[2] + v[7];
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
