// cbench: run one experiment with one executor and print what the original printed. run_cli
// (commands.hpp) is all of it; cli_main.cpp is cbench's main, and any program's that links
// cbench::cli_main, with experiments of its own.
//
//   cbench list [--json]
//   cbench run --workload W [--executor E] [--workers N] [--fixtures DIR] ...
//   cbench serve ...
//   cbench version
//
// Exit status: 0 when every task succeeded, 1 when a task or the set-up failed (each failure named
// on standard error, every other result still printed), 2 for a mistake on the command line.
#include <iostream>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/serve.hpp"
#include "executors/executor.hpp"
#include "experiments/build_info.hpp"

namespace cbench::cli {

int usage_error(std::string_view command, const std::string& message) {
  std::cerr << "cbench" << (command.empty() ? "" : " ") << command << ": error: " << message << "\n"
            << kUsage << "\n";
  return 2;
}

namespace {

const std::vector<FlagSpec> kHelpFlag = {{"help", "", "show this help"}};

int cmd_version(const std::vector<std::string>& args) {
  Flags flags(args, kHelpFlag);
  if (flags.has("help")) {
    std::cout << "usage: cbench version\n\nPrints how this binary was built, as JSON.\n";
    return 0;
  }
  std::cout << build_info_json() << "\n";
  return 0;
}

int main_with_args(const std::vector<std::string>& argv) {
  if (argv.empty() || argv[0] == "--help" || argv[0] == "-h" || argv[0] == "help") {
    std::cout << kUsage << "\n\n"
              << "  list      the workloads and executors\n"
                 "  run       run one experiment with one executor\n"
                 "  serve     the HTTP fixture server of wordcount-http (E2)\n"
                 "  version   how this binary was built\n\n"
                 "Run `cbench COMMAND --help` for a command's flags.\n";
    return argv.empty() ? 2 : 0;
  }
  if (argv[0] == "--version") return cmd_version({});
  const std::string command = argv[0];
  const std::vector<std::string> args(argv.begin() + 1, argv.end());
  try {
    if (command == "list") return cmd_list(args);
    if (command == "run") return cmd_run(args);
    if (command == "serve") return serve_command(args);
    if (command == "version") return cmd_version(args);
    return usage_error("", "unknown command \"" + command + "\"");
  } catch (const UsageError& e) {
    return usage_error(command, e.what());
  } catch (const std::exception& e) {
    std::cerr << "cbench " << command << ": error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace

int run_cli(int argc, char** argv) {
  // Before anything else, while this is the only thread: what the executors start with the
  // process (the fork server, from which the fork executor's workers are forked; under mpirun,
  // the engines, which never return from here). executors/executor.hpp, start_processes.
  try {
    start_processes(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "cbench: error: " << e.what() << "\n";
    return 1;
  }
  return main_with_args(std::vector<std::string>(argv + 1, argv + argc));
}

}  // namespace cbench::cli
