// Runs the independent Python oracles under tests/oracle with the interpreter CMake found (one
// that has NumPy), so every workload is checked against Python itself on the same input.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/temp_dir.hpp"

namespace cbench::testing {

// The interpreter the oracles run on, or nullopt when the build found none (tests then skip).
std::optional<std::string> oracle_python();

// Runs tests/oracle/<script> with args, feeding `input` on standard input; returns its standard
// output. Throws std::runtime_error with the script's standard error when it fails.
std::string run_oracle(std::string_view script, const std::vector<std::string>& args,
                       std::string_view input = {});

// The real corpus (CBENCH_FIXTURES, set by scripts/test when the shared fixtures exist), or
// nullopt.
std::optional<std::filesystem::path> real_fixtures();

struct CommandResult {
  int exit_code = -1;  // the exit status, or 128 + signal
  std::string out, err;
};

// Runs argv[0] with the arguments (no shell), with extra environment variables set ("NAME=value";
// "NAME=" unsets NAME), and returns its exit code and both output streams.
CommandResult run_command(const std::vector<std::string>& argv,
                          const std::vector<std::string>& env = {});

// Whole file as bytes.
std::string read_file(const std::filesystem::path& path);

// The eight books in the original's order (manifest.tsv's, by title).
inline const std::vector<std::string> kCanonicalBooks = {"Gulliver",
                                                         "Alice in Wonderland",
                                                         "Pride and prejudice",
                                                         "Yellow wallpaper",
                                                         "Metamorphosis",
                                                         "A Tale of Two Cities",
                                                         "The Importance of Being Earnest",
                                                         "Frankenstein"};

}  // namespace cbench::testing
