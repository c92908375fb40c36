// `cbench list`: the registries, as lines for a reader or as one JSON document for scripts.
#include <iostream>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "executors/executor.hpp"
#include "experiments/experiment.hpp"
#include "experiments/json.hpp"
#include "workloads/enum_names.hpp"

namespace cbench::cli {
namespace {

constexpr EnumNames<OptionKind, 4> kOptionKindNames{{{OptionKind::integer, "integer"},
                                                     {OptionKind::seconds, "seconds"},
                                                     {OptionKind::text, "text"},
                                                     {OptionKind::flag, "flag"}}};

std::string_view to_string(OptionKind kind) {
  return name_of(kOptionKindNames, kind);
}

// `cbench list --json`: the registries as data, traits included, for scripts and tests.

std::string list_json() {
  std::string out = "{\"workloads\":[";
  bool first = true;
  for (const Experiment* e : experiments()) {
    out += std::string(first ? "" : ",") + "{\"name\":" + json::quote(e->name) +
           ",\"id\":" + json::quote(e->id) + ",\"summary\":" + json::quote(e->summary) +
           ",\"work\":" + json::quote(e->work == WorkKind::cpu ? "cpu" : "waiting") +
           ",\"uses_corpus\":" + (e->uses_corpus ? "true" : "false") +
           ",\"downloads\":" + (e->server_url_option.empty() ? "false" : "true") +
           ",\"reads_files\":" + (e->file_of != nullptr ? "true" : "false") +
           ",\"nested\":" + (e->nested() ? "true" : "false") + ",\"options\":[";
    first = false;
    for (std::size_t i = 0; i < e->options.size(); ++i) {
      const OptionSpec& o = e->options[i];
      out += std::string(i ? "," : "") + "{\"name\":" + json::quote(o.name) +
             ",\"kind\":" + json::quote(to_string(o.kind)) +
             ",\"default\":" + json::quote(o.default_text()) + "}";
    }
    out += "]}";
  }
  out += "],\"executors\":[";
  first = true;
  for (const ExecutorInfo* e : executors()) {
    const ExecutorTraits& t = e->traits;
    out += std::string(first ? "" : ",") + "{\"name\":" + json::quote(e->name) +
           ",\"model\":" + json::quote(e->model) + ",\"python\":" + json::quote(e->python) +
           ",\"workers\":" + json::quote(to_string(t.workers)) +
           ",\"cold_mode\":" + (t.cold_mode ? "true" : "false") +
           ",\"worker_cap\":" + std::to_string(t.worker_cap) +
           ",\"tsan_visible\":" + (t.tsan_visible ? "true" : "false") +
           ",\"needs_launcher\":" + (t.needs_launcher ? "true" : "false") +
           ",\"native_floor\":" + (e->native_floor != nullptr ? "true" : "false") +
           ",\"fork_join\":" + (e->has_fork_join() ? "true" : "false") +
           ",\"fork_join_blocking\":" + (e->fork_join_blocking != nullptr ? "true" : "false") +
           ",\"native_fib\":" + (e->native_fib != nullptr ? "true" : "false") + "}";
    first = false;
  }
  return out + "]}";
}

const std::vector<FlagSpec> kListSpecs = {{"json", "", "print the registries as one JSON document"},
                                          {"help", "", "show this help"}};

}  // namespace

int cmd_list(const std::vector<std::string>& args) {
  Flags flags(args, kListSpecs);
  if (flags.has("help")) {
    std::cout << "usage: cbench list [--json]\n\nLists the workloads and the executors.\n\n"
              << describe_flags(kListSpecs);
    return 0;
  }
  if (flags.has("json")) {
    std::cout << list_json() << "\n";
    return 0;
  }
  std::cout << "Workloads:\n";
  for (const Experiment* e : experiments()) {
    std::string name(e->name);
    name.resize(16, ' ');
    std::string id(e->id);
    id.resize(4, ' ');
    std::cout << "  " << name << id << " " << e->summary << "\n";
  }
  std::cout << "Executors:\n";
  for (const ExecutorInfo* e : executors()) {
    std::string name(e->name);
    name.resize(16, ' ');
    std::cout << "  " << name << e->description() << "\n";
  }
  return 0;
}

}  // namespace cbench::cli
