// What the fork executor's tests share (test_fork.cpp, test_fork_faults.cpp): the fork server,
// started by a global test Environment after static initialisation (so every task kind below is
// registered in it) and before the first test or thread; the task kinds the tests send to
// workers; and helpers that look at the processes and descriptors a pool leaves.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <tbb/task_group.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "executors/fork_pool.hpp"
#include "executors/fork_server.hpp"
#include "executors/process.hpp"
#include "executors/run_task.hpp"
#include "tests/support/oracle.hpp"

namespace cbench::fork_test {

// Set in the child runs of ForkLazy: no server is started up front, to test the lazy start.
inline bool lazy_run() {
  return std::getenv("CBENCH_TEST_FORK_LAZY") != nullptr;
}

class ForkServerEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    if (!lazy_run()) start_fork_server();
  }
};

[[maybe_unused]] inline const auto* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new ForkServerEnvironment);

// ---- task kinds, registered before main so that the server and its workers have them ----------

inline void no_core_dump() {
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  rlimit none{0, 0};
  ::setrlimit(RLIMIT_CORE, &none);
}

inline std::string pattern(std::size_t size, unsigned seed) {
  std::string s(size, '\0');
  for (std::size_t i = 0; i < size; ++i)
    s[i] = static_cast<char>('a' + (i * 7 + i / 13 + seed) % 26);
  return s;
}

inline double process_cpu() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Appends a byte to the file named on the first line, then waits until the file has as many bytes
// as the second line says: the tasks that pass it were all running at once.
inline Bytes barrier(std::string_view input) {
  auto newline = input.find('\n');
  const std::string path(input.substr(0, newline));
  const auto needed = std::stoul(std::string(input.substr(newline + 1)));
  { std::ofstream(path, std::ios::app | std::ios::binary) << 'x'; }
  // A guard against a hang when W is not honoured, not a timing assertion.
  for (int i = 0; i < 120'000; ++i) {
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && static_cast<unsigned long>(st.st_size) >= needed) {
      return std::to_string(::getpid());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  throw std::runtime_error("barrier: fewer than " + std::to_string(needed) + " tasks arrived");
}

[[maybe_unused]] inline const bool kRegistered = [] {
  register_task_kind({"test-echo", [](std::string_view in) { return Bytes(in); }});
  // The input, then each view, each after a '|'.
  register_task_kind(
      {.name = "test-echo-views",
       .run_views = [](std::string_view in, std::span<const std::string_view> views) {
         Bytes out(in);
         for (const auto view : views) out.append("|").append(view);
         return out;
       }});
  register_task_kind({"test-throw", [](std::string_view in) -> Bytes {
                        throw std::runtime_error("boom: " + std::string(in));
                      }});
  register_task_kind({"test-abort", [](std::string_view) -> Bytes {
                        no_core_dump();
                        std::abort();
                      }});
  register_task_kind({"test-sigkill", [](std::string_view) -> Bytes {
                        ::raise(SIGKILL);
                        return {};
                      }});
  register_task_kind({"test-segv", [](std::string_view) -> Bytes {
                        no_core_dump();
                        ::raise(SIGSEGV);
                        return {};
                      }});
  register_task_kind(
      {"test-exit", [](std::string_view in) -> Bytes { ::_exit(std::stoi(std::string(in))); }});
  register_task_kind(
      {"test-big", [](std::string_view in) { return pattern(std::stoul(std::string(in)), 3); }});
  register_task_kind({"test-sleep-ms", [](std::string_view in) {
                        std::this_thread::sleep_for(
                            std::chrono::milliseconds(std::stoi(std::string(in))));
                        return Bytes(in);
                      }});
  register_task_kind({"test-pid", [](std::string_view) { return std::to_string(::getpid()); }});
  // "<pid> <input>", or the worker exits with status 3 when the input is "exit".
  register_task_kind({"test-pid-or-exit", [](std::string_view in) -> Bytes {
                        if (in == "exit") ::_exit(3);
                        return std::to_string(::getpid()) + " " + std::string(in);
                      }});
  register_task_kind({"test-barrier", barrier});
  register_task_kind({"test-spin-cpu", [](std::string_view in) {
                        // Burns at least this much CPU time, so the worker's report has a floor.
                        const double until = process_cpu() + std::stod(std::string(in));
                        volatile unsigned x = 0;
                        while (process_cpu() < until) {
                          for (int i = 0; i < 1000; ++i) x = x + static_cast<unsigned>(i);
                        }
                        return Bytes("spun");
                      }});
  return true;
}();

// ---- helpers -----------------------------------------------------------------------------------

inline Task make_task(std::string_view kind, std::string input, std::string name = {}) {
  if (name.empty()) name = std::string(kind) + " " + input.substr(0, 20);
  return {&task_kind(kind), std::move(name), std::make_shared<const Bytes>(std::move(input))};
}

// Every result of one run(), by index; fails the test if one came twice or not at all.
inline std::vector<TaskResult> run_all(Executor& executor, std::span<const Task> tasks) {
  std::vector<std::optional<TaskResult>> slots(tasks.size());
  executor.run(tasks, [&](TaskResult&& r) {
    EXPECT_LT(r.index, tasks.size());
    if (r.index >= tasks.size()) return;
    EXPECT_FALSE(slots[r.index]) << "task " << r.index << " reported twice";
    slots[r.index] = std::move(r);
  });
  std::vector<TaskResult> results;
  for (std::size_t i = 0; i < slots.size(); ++i) {
    EXPECT_TRUE(slots[i]) << "task " << i << " never reported";
    results.push_back(slots[i] ? std::move(*slots[i]) : TaskResult{});
  }
  return results;
}

inline int count_fds() {
  int n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd"))
    ++n;
  return n;
}

struct ProcStat {
  pid_t pid = 0, ppid = 0;
  char state = '?';
};

inline std::optional<ProcStat> proc_stat(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return std::nullopt;
  auto close = line.rfind(')');  // the command name may hold spaces and parentheses
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(line.substr(close + 1));
  ProcStat st;
  st.pid = pid;
  rest >> st.state >> st.ppid;
  return st;
}

// Processes whose parent is `parent` and which are zombies.
inline std::vector<pid_t> zombie_children(pid_t parent) {
  std::vector<pid_t> zombies;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const auto name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    auto st = proc_stat(static_cast<pid_t>(std::stol(name)));
    if (st && st->ppid == parent && st->state == 'Z') zombies.push_back(st->pid);
  }
  return zombies;
}

inline void expect_no_zombies() {
  EXPECT_EQ(zombie_children(::getpid()), std::vector<pid_t>{}) << "zombies among our children";
  EXPECT_EQ(zombie_children(fork_server_pid()), std::vector<pid_t>{})
      << "zombies among the fork server's children";
}

// A mix: a shared 0.8 MB input, multi-MB results, small and empty inputs.
inline std::vector<Task> mixed_tasks(std::size_t n) {
  auto book = std::make_shared<const Bytes>(pattern(800'000, 1));
  std::vector<Task> tasks;
  for (std::size_t i = 0; i < n; ++i) {
    switch (i % 4) {
      case 0:
        tasks.push_back({&task_kind("test-echo"), "book " + std::to_string(i), book});
        break;
      case 1:
        tasks.push_back(make_task("test-big", std::to_string(3'000'000 + i)));
        break;
      case 2:
        tasks.push_back(make_task("test-echo", "task " + std::to_string(i)));
        break;
      default:
        tasks.push_back({&task_kind("test-echo"), "no input " + std::to_string(i), nullptr});
    }
  }
  return tasks;
}

}  // namespace cbench::fork_test
