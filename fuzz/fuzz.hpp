// What every fuzz target shares (fuzz/README.md): the entry point libFuzzer calls, and a check
// that stops the run with the input saved when an invariant of the parser does not hold.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#define CBENCH_FUZZ_TARGET \
  extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)

namespace cbench::fuzz {

inline std::string_view bytes(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// An invariant that does not hold: said, then abort(), which libFuzzer reports with the input.
[[noreturn]] inline void broken(const char* what) {
  std::fprintf(stderr, "fuzz: invariant broken: %s\n", what);
  std::abort();
}

inline void check(bool holds, const char* what) {
  if (!holds) broken(what);
}

// Cuts an input into parts at a separator byte: how a target gives one input several fields
// (arguments, files).
template <typename F>
void for_each_part(std::string_view in, char separator, F&& f) {
  for (;;) {
    const std::size_t at = in.find(separator);
    f(in.substr(0, at));
    if (at == std::string_view::npos) return;
    in.remove_prefix(at + 1);
  }
}

}  // namespace cbench::fuzz
