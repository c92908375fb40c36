// The main of `cbench`, and of any program that links cbench::cli_main: the CLI over every
// experiment the program has, its own included (commands.hpp, run_cli).
#include "cli/commands.hpp"

int main(int argc, char** argv) {
  return cbench::cli::run_cli(argc, argv);
}
