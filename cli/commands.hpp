// The subcommands of `cbench`, one file each (list.cpp, run.cpp, serve.cpp), and what they
// share: the usage line and how a mistake on the command line is reported.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace cbench::cli {

// The whole CLI, as `cbench` runs it: call from main, first thing (it starts the fork server and,
// under mpirun, turns ranks other than 0 into engines). Returns the exit status.
int run_cli(int argc, char** argv);

inline constexpr std::string_view kUsage = "usage: cbench {list,run,version} [--help] ...";

// Prints "cbench COMMAND: error: MESSAGE" and the usage line on standard error; returns 2.
int usage_error(std::string_view command, const std::string& message);

// `cbench list [--json]`: the workloads and the executors (with --json, their options and traits).
int cmd_list(const std::vector<std::string>& args);

// `cbench run --workload W ...`: one experiment with one executor, printed as the original did.
int cmd_run(const std::vector<std::string>& args);

}  // namespace cbench::cli
