// The CLI's flag parser (cli/args.hpp): the input's parts (cut at NUL bytes) are the arguments.
// Any arguments give the flags or a UsageError; a number read is within the bounds asked.
#include <string>
#include <vector>

#include "cli/args.hpp"
#include "fuzz/fuzz.hpp"

using namespace cbench;

CBENCH_FUZZ_TARGET {
  std::vector<std::string> args;
  fuzz::for_each_part(fuzz::bytes(data, size), '\0',
                      [&](std::string_view part) { args.emplace_back(part); });
  static const std::vector<cli::FlagSpec> specs = {
      {"workers", "N", "how many workers"},
      {"latency", "SECONDS", "a duration"},
      {"executor", "NAME", "a name"},
      {"json", "", "a switch"},
  };
  try {
    const cli::Flags flags(args, specs);
    if (auto w = flags.integer("workers", 1, 100000)) {
      fuzz::check(*w >= 1 && *w <= 100000, "an integer out of its bounds");
    }
    if (auto s = flags.seconds("latency")) fuzz::check(*s >= 0, "negative seconds");
    flags.text("executor");
    flags.has("json");
  } catch (const cli::UsageError&) {
  }
  return 0;
}
