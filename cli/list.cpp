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
  json::Document doc;
  auto& workloads = doc["workloads"] = json::Document::array();
  for (const Experiment* e : experiments()) {
    json::Document options = json::Document::array();
    for (const OptionSpec& o : e->options) {
      options.push_back(
          {{"name", o.name}, {"kind", to_string(o.kind)}, {"default", o.default_text()}});
    }
    workloads.push_back({{"name", e->name},
                         {"id", e->id},
                         {"summary", e->summary},
                         {"work", e->work == WorkKind::cpu ? "cpu" : "waiting"},
                         {"uses_corpus", e->uses_corpus},
                         {"downloads", !e->server_url_option.empty()},
                         {"reads_files", e->file_of != nullptr},
                         {"nested", e->nested()},
                         {"options", std::move(options)}});
  }
  auto& list = doc["executors"] = json::Document::array();
  for (const ExecutorInfo* e : executors()) {
    const ExecutorTraits& t = e->traits;
    list.push_back({{"name", e->name},
                    {"model", e->model},
                    {"python", e->python},
                    {"workers", to_string(t.workers)},
                    {"cold_mode", t.cold_mode},
                    {"worker_cap", t.worker_cap},
                    {"tsan_visible", t.tsan_visible},
                    {"needs_launcher", t.needs_launcher},
                    {"native_floor", e->native_floor != nullptr},
                    {"fork_join", e->has_fork_join()},
                    {"fork_join_blocking", e->fork_join_blocking != nullptr},
                    {"native_fib", e->native_fib != nullptr}});
  }
  return json::dump(doc);
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
