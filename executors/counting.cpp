#include "executors/counting.hpp"

#include <csignal>

#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#include <valgrind/valgrind.h>
#define CBENCH_HAVE_VALGRIND 1
#else
#define CBENCH_HAVE_VALGRIND 0
#endif

namespace cbench::counting {
namespace {

// Marks in Valgrind's log, between which the traced system calls are the region's.
void mark([[maybe_unused]] const char* what) {
#if CBENCH_HAVE_VALGRIND
  VALGRIND_PRINTF("cbench-count: %s\n", what);
#endif
}

void zero_counts() {
#if CBENCH_HAVE_VALGRIND
  CALLGRIND_ZERO_STATS;
#endif
  mark("begin");
}

extern "C" void on_reset(int) {
  zero_counts();
}

}  // namespace

bool under_valgrind() {
#if CBENCH_HAVE_VALGRIND
  return RUNNING_ON_VALGRIND != 0;
#else
  return false;
#endif
}

void begin_region(std::span<const pid_t> workers) {
  if (!under_valgrind()) return;
  for (pid_t pid : workers) ::kill(pid, SIGUSR2);
  zero_counts();
}

void end_region(const std::string& region, std::span<const pid_t> workers) {
  if (!under_valgrind()) return;
  std::string label = "cbench-count|" + region + "|";
  for (std::size_t i = 0; i < workers.size(); ++i) {
    label += (i ? "," : "") + std::to_string(workers[i]);
  }
  mark(("end " + label).c_str());
#if CBENCH_HAVE_VALGRIND
  CALLGRIND_DUMP_STATS_AT(label.c_str());
#endif
}

void install_worker_reset() {
  if (!under_valgrind()) return;
  struct sigaction action {};
  action.sa_handler = on_reset;
  action.sa_flags = SA_RESTART;
  ::sigemptyset(&action.sa_mask);
  ::sigaction(SIGUSR2, &action, nullptr);
}

}  // namespace cbench::counting
