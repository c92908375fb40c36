// The main of cbench_bench, and of any program that links cbench::bench_main: the whole suite over
// every experiment the program has, its own included (suite.hpp, run_suite).
#include "benchmarks/suite.hpp"

int main(int argc, char** argv) {
  return cbench::bench::run_suite(argc, argv);
}
