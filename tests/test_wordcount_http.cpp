// E2 end to end: wordcount-http through every executor against the fixture server (a process of
// its own, `cbench serve`), equal to counting the books from memory; every fault kind named by
// book and cause with the other books intact; a stall ended by the client's timeout; 1,000
// concurrent downloads on one event loop; and the same client against a real nginx.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "experiments/experiment.hpp"
#include "fixtures/server_process.hpp"
#include "tests/support/fork_environment.hpp"
#include "tests/support/http_test.hpp"
#include "tests/support/oracle.hpp"
#include "tests/support/registry_params.hpp"
#include "tests/tiny.hpp"
#include "workloads/books.hpp"
#include "workloads/http.hpp"

extern char** environ;

namespace cbench {
namespace {

using testing::kThreadSanitizer;

// An executor of the registry may run the downloads here unless it needs a launcher (mpirun:
// tests/test_mpi.sh) or, under ThreadSanitizer, its runtime is one TSan cannot see.
bool testable(const ExecutorInfo& info) {
  return !info.traits.needs_launcher && !(kThreadSanitizer && !info.traits.tsan_visible);
}

// Every test that downloads through an executor runs once per executor of the registry.
class WordcountHttp : public ::testing::TestWithParam<const ExecutorInfo*> {
 protected:
  void SetUp() override {
    if (!testable(info())) GTEST_SKIP() << "needs mpirun, or is not visible to this sanitizer";
  }
  const ExecutorInfo& info() const { return *GetParam(); }
  std::string name() const { return std::string(GetParam()->name); }
  // W workers, or the one the reference has.
  std::unique_ptr<Executor> make(int workers) const {
    return info().make(info().traits.worker_cap == 1 ? 1 : workers);
  }
};

Corpus test_corpus() {
  if (auto real = testing::real_fixtures()) return load_corpus_from(*real);
  return generated_corpus(2016);
}

// The fixture server serving the corpus the test uses (CBENCH_FIXTURES is inherited).
ServerProcess start_server(std::vector<std::string> extra = {}) {
  std::vector<std::string> args{"serve", "--profile", "quick"};
  args.insert(args.end(), extra.begin(), extra.end());
  return ServerProcess(CBENCH_CLI, args);
}

std::vector<Task> http_tasks(const Corpus& corpus, const std::string& books_url,
                             HttpOptions http = {}) {
  const Experiment& experiment = find_experiment("wordcount-http");
  Options options = experiment.defaults();
  options.set("books-url", books_url);
  options.set("keep-alive", http.keep_alive);
  options.set("timeout", std::chrono::duration<double>(http.total_timeout).count());
  return experiment.make_tasks(corpus, options);
}

std::vector<Bytes> local_reference(const Corpus& corpus) {
  std::vector<Bytes> values;
  const auto tasks = find_experiment("wordcount").make_tasks(corpus, {});
  for (const auto& r : map(*reference_executor().make(1), tasks)) values.push_back(r.value);
  return values;
}

std::vector<TaskResult> run_all(Executor& executor, std::span<const Task> tasks) {
  std::vector<TaskResult> results(tasks.size());
  executor.run(tasks, [&](TaskResult&& r) {
    auto i = r.index;
    results[i] = std::move(r);
  });
  return results;
}

TEST_P(WordcountHttp, EqualsCountingFromMemory) {
  const Corpus corpus = test_corpus();
  const auto reference = local_reference(corpus);
  ServerProcess server = start_server();
  const std::string url = server.base_url() + "books/{}.txt";
  for (bool keep_alive : {false, true}) {
    HttpOptions http;
    http.keep_alive = keep_alive;
    const auto tasks = http_tasks(corpus, url, http);
    for (int workers : {1, 2, 8}) {
      if (info().traits.worker_cap == 1 && workers != 1) continue;
      auto executor = info().make(workers);
      const auto results = map(*executor, tasks);
      for (std::size_t i = 0; i < results.size(); ++i) {
        EXPECT_EQ(results[i].value, reference[i])
            << tasks[i].name << " via " << name() << " W=" << workers
            << (keep_alive ? " keep-alive" : "");
      }
    }
  }
}

// Each fault kind: every book fails, named, with the cause in words.
void expect_every_book_fails(const ExecutorInfo& info, const std::vector<std::string>& fault,
                             const std::string& cause, HttpOptions http = {}) {
  const Corpus corpus = test_corpus();
  ServerProcess server = start_server(fault);
  const auto tasks = http_tasks(corpus, server.base_url() + "books/{}.txt", http);
  const std::string name(info.name);
  {
    auto executor = info.make(info.traits.worker_cap == 1 ? 1 : 4);
    const auto results = run_all(*executor, tasks);
    for (std::size_t i = 0; i < results.size(); ++i) {
      EXPECT_FALSE(results[i].ok()) << tasks[i].name << " via " << name;
      EXPECT_NE(results[i].error.find(cause), std::string::npos)
          << tasks[i].name << " via " << name << ": " << results[i].error;
      // The URL in the message names the book.
      EXPECT_NE(results[i].error.find(url_encode(tasks[i].name)), std::string::npos)
          << results[i].error;
    }
    try {
      map(*executor, tasks);
      ADD_FAILURE() << "map hid the failure";
    } catch (const TaskError& e) {
      EXPECT_EQ(e.task(), tasks[0].name);
    }
  }
}

TEST_P(WordcountHttp, A500IsNamedByBookAndStatus) {
  expect_every_book_fails(info(), {"--fault-500", "1"}, "HTTP status 500");
}

TEST_P(WordcountHttp, AResetIsNamedByBook) {
  expect_every_book_fails(info(), {"--fault-reset", "1"}, "connection reset");
}

TEST_P(WordcountHttp, AStallEndsAtTheClientTimeoutNeverAHang) {
  HttpOptions http;
  http.total_timeout = std::chrono::milliseconds(300);
  expect_every_book_fails(info(), {"--fault-stall", "1"}, "timed out", http);
}

TEST_P(WordcountHttp, SomeFaultsLeaveEveryOtherBookIntact) {
  const Corpus corpus = test_corpus();
  const auto reference = local_reference(corpus);
  ServerProcess server =
      start_server({"--fault-500", "0.3", "--fault-reset", "0.2", "--fault-seed", "11"});
  const auto tasks = http_tasks(corpus, server.base_url() + "books/{}.txt");
  const std::string name = this->name();
  {
    auto executor = make(3);
    const auto results = run_all(*executor, tasks);
    int failed = 0;
    for (std::size_t i = 0; i < results.size(); ++i) {
      if (results[i].ok()) {
        EXPECT_EQ(results[i].value, reference[i]) << tasks[i].name << " via " << name;
      } else {
        ++failed;
        EXPECT_TRUE(results[i].error.find("HTTP status 500") != std::string::npos ||
                    results[i].error.find("connection reset") != std::string::npos)
            << results[i].error;
      }
    }
    EXPECT_LT(failed, static_cast<int>(tasks.size())) << name;
  }
}

TEST_P(WordcountHttp, AnUnreachableServerIsAConnectError) {
  const Corpus corpus = test_corpus();
  // A port nobody listens on.
  const auto tasks =
      http_tasks(corpus, "http://127.0.0.1:" + std::to_string(http_test::free_port()) + "/{}.txt");
  auto executor = make(8);
  for (const auto& r : run_all(*executor, tasks)) {
    EXPECT_NE(r.error.find("cannot connect"), std::string::npos) << r.error;
  }
}

// A thousand downloads in flight at once on one event loop: every download starts before any
// resumes, so all are in flight together (threads may finish one before the last starts).
TEST_P(WordcountHttp, AThousandConcurrentDownloadsOnOneEventLoop) {
  const std::size_t n = testing::sized<std::size_t>(1000, 200);
  if (info().traits.workers != WorkerPlace::coroutines)
    GTEST_SKIP() << "not coroutines on one loop";
  raise_open_file_limit();
  const Corpus corpus = test_corpus();
  const auto reference = local_reference(corpus);
  ServerProcess server = start_server();
  const auto one_round = http_tasks(corpus, server.base_url() + "books/{}.txt");
  std::vector<Task> tasks;
  for (std::size_t i = 0; i < n; ++i) tasks.push_back(one_round[i % one_round.size()]);
  auto executor = make(static_cast<int>(n));
  const auto results = map(*executor, tasks);
  ASSERT_EQ(results.size(), n);
  for (std::size_t i = 0; i < n; ++i) {
    ASSERT_EQ(results[i].value, reference[i % reference.size()]) << "download " << i;
  }
  EXPECT_EQ(executor->peak_parallelism(), static_cast<int>(n));
}

// ---- a real peer: nginx ----------------------------------------------------------------

std::string find_nginx() {
  for (const char* path : {"/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx"}) {
    if (::access(path, X_OK) == 0) return path;
  }
  return {};
}

using http_test::free_port;
using http_test::port_open;

TEST(WordcountHttp, DownloadsTheCorpusFromARealNginx) {
  const std::string nginx = find_nginx();
  if (nginx.empty()) GTEST_SKIP() << "nginx is not installed (scripts/setup installs nginx-light)";
  const Corpus corpus = test_corpus();
  const auto reference = local_reference(corpus);
  testing::TempDir dir;
  for (const auto& book : corpus.books) dir.write("root/books/" + book.name + ".txt", book.text);
  const auto root = dir.path() / "root";
  // Bound to a port just found free: nginx cannot report a port the OS picked for it.
  std::uint16_t port = 0;
  pid_t pid = -1;
  for (int attempt = 0; attempt < 5 && pid < 0; ++attempt) {
    port = free_port();
    const auto conf =
        dir.write("nginx.conf", "daemon off;\nmaster_process off;\nworker_processes 1;\npid " +
                                    (dir.path() / "nginx.pid").string() + ";\nerror_log " +
                                    (dir.path() / "error.log").string() +
                                    ";\nevents { worker_connections 64; }\n"
                                    "http {\n  access_log off;\n  client_body_temp_path " +
                                    (dir.path() / "tmp").string() + ";\n  proxy_temp_path " +
                                    (dir.path() / "tmp").string() + ";\n  fastcgi_temp_path " +
                                    (dir.path() / "tmp").string() + ";\n  uwsgi_temp_path " +
                                    (dir.path() / "tmp").string() + ";\n  scgi_temp_path " +
                                    (dir.path() / "tmp").string() +
                                    ";\n  server {\n    listen 127.0.0.1:" + std::to_string(port) +
                                    ";\n    root " + root.string() + ";\n  }\n}\n");
    std::vector<std::string> argv_strings{nginx, "-p", dir.path().string(), "-c", conf.string()};
    std::vector<char*> argv;
    for (auto& a : argv_strings) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t child = -1;
    ASSERT_EQ(::posix_spawn(&child, nginx.c_str(), nullptr, nullptr, argv.data(), environ), 0);
    // Up to 5 s for it to listen; a child that exits (port taken meanwhile) is retried.
    for (int i = 0; i < 100; ++i) {
      if (port_open(port)) {
        pid = child;
        break;
      }
      int status = 0;
      if (::waitpid(child, &status, WNOHANG) == child) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (pid < 0) {
      ::kill(child, SIGKILL);
      ::waitpid(child, nullptr, 0);
    }
  }
  ASSERT_GT(pid, 0) << "nginx did not start: " << testing::read_file(dir.path() / "error.log");
  const auto tasks =
      http_tasks(corpus, "http://127.0.0.1:" + std::to_string(port) + "/books/{}.txt");
  const auto missing =
      http_tasks(corpus, "http://127.0.0.1:" + std::to_string(port) + "/nothing/{}.txt");
  for (const ExecutorInfo* info : executors()) {
    if (!testable(*info)) continue;
    auto executor = info->make(info->traits.worker_cap == 1 ? 1 : 4);
    const auto results = map(*executor, tasks);
    for (std::size_t i = 0; i < results.size(); ++i)
      EXPECT_EQ(results[i].value, reference[i]) << info->name;
    // A missing book is nginx's 404, named.
    for (const auto& r : run_all(*executor, missing)) {
      EXPECT_NE(r.error.find("HTTP status 404"), std::string::npos)
          << info->name << ": " << r.error;
    }
  }
  ::kill(pid, SIGTERM);  // ours, by its pid
  int status = 0;
  ::waitpid(pid, &status, 0);
}

INSTANTIATE_TEST_SUITE_P(Registry, WordcountHttp, ::testing::ValuesIn(executors()),
                         testing::executor_param_name);

}  // namespace
}  // namespace cbench
