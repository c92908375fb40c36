#include "cli/args.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace cbench::cli {

Flags::Flags(const std::vector<std::string>& args, const std::vector<FlagSpec>& specs) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (!arg.starts_with("--") || arg.size() == 2) {
      throw UsageError("unexpected argument \"" + std::string(arg) + "\"");
    }
    arg.remove_prefix(2);
    std::optional<std::string> inline_value;
    if (auto eq = arg.find('='); eq != std::string_view::npos) {
      inline_value = std::string(arg.substr(eq + 1));
      arg = arg.substr(0, eq);
    }
    auto spec =
        std::find_if(specs.begin(), specs.end(), [&](const FlagSpec& s) { return s.name == arg; });
    if (spec == specs.end()) throw UsageError("unknown flag --" + std::string(arg));
    if (values_.count(arg) != 0) throw UsageError("--" + std::string(arg) + " given twice");
    std::string value;
    if (spec->value.empty()) {
      if (inline_value) throw UsageError("--" + std::string(arg) + " takes no value");
    } else if (inline_value) {
      value = *inline_value;
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      throw UsageError("--" + std::string(arg) + " needs a value (" + std::string(spec->value) +
                       ")");
    }
    values_.emplace(std::string(arg), std::move(value));
  }
}

std::optional<std::string> Flags::text(std::string_view name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::optional<long> Flags::integer(std::string_view name, long min, long max) const {
  auto value = text(name);
  if (!value) return std::nullopt;
  long n = 0;
  auto [end, error] = std::from_chars(value->data(), value->data() + value->size(), n);
  if (error != std::errc() || end != value->data() + value->size() || n < min || n > max) {
    throw UsageError("--" + std::string(name) + " takes a whole number from " +
                     std::to_string(min) + " to " + std::to_string(max) + ", got \"" + *value +
                     "\"");
  }
  return n;
}

std::optional<double> Flags::seconds(std::string_view name) const {
  auto value = text(name);
  if (!value) return std::nullopt;
  double s = 0;
  auto [end, error] = std::from_chars(value->data(), value->data() + value->size(), s);
  if (error != std::errc() || end != value->data() + value->size() || !std::isfinite(s) || s < 0 ||
      s > 86400) {
    throw UsageError("--" + std::string(name) + " takes seconds from 0 to 86400, got \"" + *value +
                     "\"");
  }
  return s;
}

std::string describe_flags(const std::vector<FlagSpec>& specs) {
  std::string out;
  for (const auto& spec : specs) {
    std::string left = "  --" + std::string(spec.name);
    if (!spec.value.empty()) left += " " + std::string(spec.value);
    left.resize(std::max<std::size_t>(left.size() + 2, 24), ' ');
    out += left + std::string(spec.help) + "\n";
  }
  return out;
}

}  // namespace cbench::cli
