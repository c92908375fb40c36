// The journal `--resume` reads back (benchmarks/journal.hpp, read_journal): any bytes give its
// contents or std::runtime_error naming the journal — a line of the wrong shape is left out, as a
// line a crash cut off is.
#include <sstream>
#include <stdexcept>

#include "benchmarks/journal.hpp"
#include "fuzz/fuzz.hpp"

CBENCH_FUZZ_TARGET {
  std::istringstream in{std::string(cbench::fuzz::bytes(data, size))};
  try {
    const auto contents = cbench::bench::read_journal(in, "fuzz.journal.jsonl");
    cbench::fuzz::check(contents.cases >= 0, "a journal of fewer than no cases");
  } catch (const std::runtime_error&) {
  }
  return 0;
}
