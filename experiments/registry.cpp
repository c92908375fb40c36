// The registry of experiments and the values of their options.
#include <cmath>
#include <cstdio>
#include <memory>
#include <mutex>
#include <stdexcept>

#include "executors/named_registry.hpp"
#include "experiments/experiment.hpp"

namespace cbench {

// The experiments of the build's list (experiments/CMakeLists.txt), each defined in its own file
// with CBENCH_REGISTER_EXPERIMENT; the list is generated, so naming a file there is all it takes.
namespace builtin {
#define CBENCH_BUILTIN(stem) extern const Experiment experiment_##stem;
#define CBENCH_MISSING(stem, why)
#include "registered_experiments.inc"
#undef CBENCH_BUILTIN
#undef CBENCH_MISSING
}  // namespace builtin

namespace {

NamedRegistry<Experiment>& experiment_registry() {
  static NamedRegistry<Experiment> r({
#define CBENCH_BUILTIN(stem) &builtin::experiment_##stem,
#define CBENCH_MISSING(stem, why)
#include "registered_experiments.inc"
#undef CBENCH_BUILTIN
#undef CBENCH_MISSING
  });
  return r;
}

const char* kind_name(const Options::Value& v) {
  switch (v.index()) {
    case 0:
      return "a whole number";
    case 1:
      return "a number of seconds";
    case 2:
      return "text";
    default:
      return "a switch";
  }
}

}  // namespace

std::string number_text(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.15g", value);
  return text;
}

std::string OptionSpec::default_text() const {
  if (kind == OptionKind::text) return std::string(fallback_text);
  if (kind == OptionKind::flag) return "off";
  return number_text(fallback);
}

const Options::Value& Options::value(std::string_view name) const {
  auto it = values_.find(name);
  if (it == values_.end()) {
    throw std::logic_error("option \"" + std::string(name) + "\" was never set");
  }
  return it->second;
}

template <typename T>
static const T& typed(const Options::Value& v, std::string_view name, const char* want) {
  if (const T* p = std::get_if<T>(&v)) return *p;
  throw std::logic_error("option \"" + std::string(name) + "\" is " + kind_name(v) + ", not " +
                         want);
}

long Options::integer(std::string_view name) const {
  return typed<long>(value(name), name, "a whole number");
}
double Options::seconds(std::string_view name) const {
  return typed<double>(value(name), name, "a number of seconds");
}
std::chrono::nanoseconds Options::duration(std::string_view name) const {
  return std::chrono::nanoseconds(std::llround(seconds(name) * 1e9));
}
const std::string& Options::text(std::string_view name) const {
  return typed<std::string>(value(name), name, "text");
}
bool Options::flag(std::string_view name) const {
  return typed<bool>(value(name), name, "a switch");
}

Options& Options::set(std::string_view name, Value value) {
  values_.insert_or_assign(std::string(name), std::move(value));
  return *this;
}

const OptionSpec* Experiment::option(std::string_view option_name) const {
  for (const auto& spec : options) {
    if (spec.name == option_name) return &spec;
  }
  return nullptr;
}

namespace {

Options defaults_of(const Experiment& e, double PresetValues::*preset) {
  Options o;
  for (const auto& spec : e.options) {
    const double number = preset != nullptr && spec.bench ? (*spec.bench).*preset : spec.fallback;
    switch (spec.kind) {
      case OptionKind::integer:
        o.set(spec.name, std::lround(number));
        break;
      case OptionKind::seconds:
        o.set(spec.name, number);
        break;
      case OptionKind::text:
        o.set(spec.name, std::string(spec.fallback_text));
        break;
      case OptionKind::flag:
        o.set(spec.name, false);
        break;
    }
  }
  return o;
}

}  // namespace

Options Experiment::defaults() const {
  return defaults_of(*this, nullptr);
}

Options Experiment::defaults(double PresetValues::*preset) const {
  return defaults_of(*this, preset);
}

std::span<const Experiment* const> experiments() {
  return experiment_registry().all();
}

const Experiment& find_experiment(std::string_view name) {
  auto& r = experiment_registry();
  if (const Experiment* e = r.find(name)) return *e;
  throw std::invalid_argument("unknown workload \"" + std::string(name) +
                              "\" (known: " + r.names() + ")");
}

void register_experiment(const Experiment& experiment) {
  if (experiment.make_tasks == nullptr || experiment.task_json == nullptr) {
    throw std::logic_error("experiment \"" + std::string(experiment.name) +
                           "\" needs make_tasks and task_json");
  }
  experiment_registry().add(experiment, "experiment");
}

bool register_task_kinds(std::initializer_list<TaskKind> kinds,
                         std::initializer_list<AsyncForm> async_forms) {
  for (const auto& kind : kinds) register_task_kind(kind);
  for (const auto& form : async_forms) register_async_form(form.kind, form.run);
  return true;
}

std::uint64_t input_bytes(const Task& task, const Bytes&) {
  return task.input_bytes();
}

std::uint64_t result_bytes(const Task&, const Bytes& result) {
  return result.size();
}

Task make_task(std::string_view kind, std::string name, Bytes input) {
  return make_task(kind, std::move(name), std::move(input), {});
}

Task make_task(std::string_view kind, std::string name, Bytes input, TaskViews views) {
  return Task{&task_kind(kind), std::move(name), std::make_shared<const Bytes>(std::move(input)),
              std::move(views)};
}

}  // namespace cbench
