// The fixture server as a child process (ServerProcess) and the `cbench serve` subcommand.
#include <signal.h>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include "fixtures/server_process.hpp"
#include "tests/support/http_test.hpp"

namespace cbench {
namespace {

using namespace http_test;

// ---------------------------------------------------------------------------------------------
// The child process and the subcommand.

// A corpus folder with the tiny corpus's files.
std::unique_ptr<testing::TempDir> corpus_folder() {
  auto dir = std::make_unique<testing::TempDir>();
  for (const auto& book : tiny_corpus().books) dir->write("books/" + book.name + ".txt", book.text);
  dir->write("stop-words/english.txt", tiny_corpus().stop_words_text);
  return dir;
}

TEST(ServerProcessTest, StartsServesReportsCpuAndStops) {
  REQUIRE_CURL(curl);
  const auto dir = corpus_folder();
  ServerProcess server(CBENCH_CLI,
                       {"serve", "--profile", "quick", "--fixtures", dir->path().string()});
  EXPECT_GT(server.port(), 0);
  EXPECT_TRUE(server.ready_line().starts_with("cbench serve: listening on " + server.base_url() +
                                              " (profile quick"))
      << server.ready_line();
  EXPECT_NE(server.ready_line().find("custom ("), std::string::npos) << server.ready_line();
  const auto r = run_curl(
      *curl, {"--fail", book_url(server.base_url() + "books/{}.txt", "A Tale of Two Cities")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, tiny_corpus().book("A Tale of Two Cities").text);
  EXPECT_GE(server.cpu_seconds(), 0.0);
  const pid_t pid = server.pid();
  EXPECT_TRUE(server.running());
  const int status = server.stop();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_FALSE(server.running());
  EXPECT_EQ(::kill(pid, 0), -1);  // reaped: the pid no longer names our child
  EXPECT_GE(server.cpu_seconds(), 0.0);
  EXPECT_NE(server.error_output().find("stopped by"), std::string::npos) << server.error_output();
  EXPECT_EQ(server.stop(), status);  // idempotent
}

TEST(ServerProcessTest, ABadCommandLineIsAnErrorWithItsStandardError) {
  try {
    ServerProcess server(CBENCH_CLI, {"serve", "--bogus"});
    FAIL() << "started";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("unknown flag --bogus"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("exited with status 2"), std::string::npos) << e.what();
  }
}

TEST(ServerProcessTest, AServerThatNeverBecomesReadyIsKilledAndAnError) {
  try {
    ServerProcess server("/bin/sh", {"-c", "echo starting >&2; exec sleep 60"}, 300ms);
    FAIL() << "ready";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("did not say it was ready"), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("starting"), std::string::npos) << e.what();
  }
}

TEST(ServerProcessTest, AMissingExecutableIsAnError) {
  EXPECT_THROW(ServerProcess("/nonexistent/cbench", {"serve"}), std::system_error);
}

TEST(ServeCommand, BadFlagsExit2WithAUsageLine) {
  for (const std::vector<std::string>& args : {std::vector<std::string>{"--bogus"},
                                               {"--profile", "wan"},
                                               {"--bandwidth", "12X"},
                                               {"--fault-500", "0.7", "--fault-reset", "0.5"},
                                               {"--fault-stall", "2"},
                                               {"--port", "70000"},
                                               {"--latency", "-1"},
                                               {"--header-timeout", "0"}}) {
    std::vector<std::string> argv = {CBENCH_CLI, "serve"};
    argv.insert(argv.end(), args.begin(), args.end());
    const auto r = run_command(argv);
    EXPECT_EQ(r.exit_code, 2) << args.front() << ": " << r.err;
    EXPECT_NE(r.err.find("usage: cbench serve"), std::string::npos) << r.err;
    EXPECT_EQ(r.out, "");
  }
  const auto help = run_command({CBENCH_CLI, "serve", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--fault-stall"), std::string::npos);
  const auto top = run_command({CBENCH_CLI, "--help"});
  EXPECT_NE(top.out.find("serve"), std::string::npos);
}

TEST(ServeCommand, APortInUseOrAMissingCorpusIsAnError) {
  auto server = start_server();
  auto r = run_command(
      {CBENCH_CLI, "serve", "--profile", "lan", "--port", std::to_string(server->port())});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("cannot listen on 127.0.0.1:" + std::to_string(server->port())),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.out, "");
  r = run_command({CBENCH_CLI, "serve", "--fixtures", "/nonexistent/corpus"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("/nonexistent/corpus"), std::string::npos) << r.err;
}

TEST(ServeCommand, PrintsOneReadyLineAndStopsAtTheEndOfItsInput) {
  // run_command gives the child /dev/null as standard input: it ends at once.
  const auto dir = corpus_folder();
  const auto r =
      run_command({CBENCH_CLI, "serve", "--profile", "lan", "--fixtures", dir->path().string(),
                   "--fault-500", "0.25", "--fault-seed", "9", "--stop-on-stdin-eof"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out.starts_with("cbench serve: listening on http://127.0.0.1:")) << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
  EXPECT_NE(r.out.find("faults 500 0.25"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace cbench
