// Command-line flags for the cbench CLI: `--name value` or `--name=value`, each flag known in
// advance, so that a misspelt flag is an error rather than silently ignored.
#pragma once

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace cbench::cli {

// A mistake in the command line: the CLI prints it with the usage line and exits 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct FlagSpec {
  std::string_view name;   // without the leading dashes
  std::string_view value;  // the value's placeholder ("N"), empty for a switch
  std::string_view help;
};

class Flags {
 public:
  // Parses argv against the specs; throws UsageError for unknown flags, missing values, a value
  // given to a switch, repeated flags and positional arguments.
  Flags(const std::vector<std::string>& args, const std::vector<FlagSpec>& specs);

  bool has(std::string_view name) const { return values_.count(std::string(name)) != 0; }
  std::optional<std::string> text(std::string_view name) const;
  // Integer in [min, max]; UsageError naming the flag otherwise.
  std::optional<long> integer(std::string_view name, long min, long max) const;
  // Non-negative number of seconds ("0.5", "1").
  std::optional<double> seconds(std::string_view name) const;

 private:
  std::map<std::string, std::string, std::less<>> values_;
};

// "  --workers N     how many workers (default: ...)" lines for --help.
std::string describe_flags(const std::vector<FlagSpec>& specs);

}  // namespace cbench::cli
