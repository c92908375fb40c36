// The cbench CLI end to end: its lines agree with the original Python's, and every mistake gets
// one clear message and the right exit code (2 for the command line, 1 for a failed run).
#include <gtest/gtest.h>

#include <regex>

#include "tests/support/oracle.hpp"
#include "tests/tiny.hpp"

namespace cbench {
namespace {

using testing::CommandResult;

CommandResult cbench(std::vector<std::string> args, std::vector<std::string> env = {}) {
  args.insert(args.begin(), CBENCH_CLI);
  return testing::run_command(args, env);
}

// The lines between the "Corpus:" header and "Elapsed time:".
std::string result_lines(const std::string& out) {
  std::string lines;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("Corpus: ") || line.starts_with("Elapsed time: ")) continue;
    lines += line + "\n";
  }
  return lines;
}

void expect_usage_error(const CommandResult& r, std::string_view message) {
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find(message), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("usage: cbench"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
}

TEST(Cli, WordcountAgreesWithTheOriginalOnTheRealCorpus) {
  auto fixtures = testing::real_fixtures();
  if (!fixtures) GTEST_SKIP() << "CBENCH_FIXTURES is not set: no real corpus";
  if (!testing::oracle_python()) GTEST_SKIP() << "no python3 with NumPy";
  auto r = cbench({"run", "--workload", "wordcount", "--fixtures", fixtures->string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> args{"wordcount", fixtures->string()};
  args.insert(args.end(), testing::kCanonicalBooks.begin(), testing::kCanonicalBooks.end());
  EXPECT_EQ(result_lines(r.out), testing::run_oracle("original.py", args));
  EXPECT_NE(r.out.find("Corpus: real ("), std::string::npos) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("\nElapsed time: [0-9]+\\.[0-9]{2} seconds\n$")))
      << r.out;
}

TEST(Cli, Pbkdf2AgreesWithTheOriginalOnTheRealCorpus) {
  auto fixtures = testing::real_fixtures();
  if (!fixtures) GTEST_SKIP() << "CBENCH_FIXTURES is not set: no real corpus";
  if (!testing::oracle_python()) GTEST_SKIP() << "no python3 with NumPy";
  const std::string iterations = testing::sized("20000", "200");
  auto r = cbench({"run", "--workload", "pbkdf2", "--iterations", iterations, "--fixtures",
                   fixtures->string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> args{"pbkdf2", fixtures->string(), iterations};
  args.insert(args.end(), testing::kCanonicalBooks.begin(), testing::kCanonicalBooks.end());
  EXPECT_EQ(result_lines(r.out), testing::run_oracle("original.py", args));
}

TEST(Cli, RunsEveryWorkloadOnTheGeneratedCorpus) {
  const std::vector<std::vector<std::string>> runs = {
      {"--workload", "wordcount"},
      {"--workload", "read"},
      {"--workload", "pbkdf2", "--iterations", "10"},
      {"--workload", "eigen", "--size", "20"},
      {"--workload", "double"},
      {"--workload", "wordfreq", "--chunks", "5"},
      {"--workload", "count", "--size", "3", "--interval", "0"},
  };
  for (auto args : runs) {
    args.insert(args.begin(), "run");
    auto r = cbench(args, {"CBENCH_FIXTURES="});
    EXPECT_EQ(r.exit_code, 0) << args[2] << ": " << r.err;
    EXPECT_NE(r.out.find("Elapsed time: "), std::string::npos) << args[2] << ": " << r.out;
  }
}

TEST(Cli, PrintsTheOriginalsLines) {
  auto r = cbench({"run", "--workload", "double", "--size", "4"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(result_lines(r.out), "2 * 0 = 0\n2 * 1 = 2\n2 * 2 = 4\n2 * 3 = 6\n");

  r = cbench({"run", "--workload", "count", "--size", "3", "--interval", "0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(result_lines(r.out), "1\n2\n3\n4\n5\n6\n");

  r = cbench({"run", "--workload", "wordcount"}, {"CBENCH_FIXTURES="});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("^Corpus: generated \\(generated, seed 2016\\), "
                                                  "8 books, 2\\.6 MB, sha256 [0-9a-f]{12}\n")))
      << r.out;
  EXPECT_TRUE(std::regex_search(
      r.out,
      std::regex("\nMost common word in Metamorphosis is \"[^\"]+\" \\([0-9]+ appearances\\)\n")))
      << r.out;
}

TEST(Cli, JsonIsOneDocumentWithCorpusBuildAndResults) {
  if (!testing::oracle_python()) GTEST_SKIP() << "no python3 with NumPy";
  auto r = cbench({"run", "--workload", "wordcount", "--json"}, {"CBENCH_FIXTURES="});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  testing::TempDir dir;
  auto path = dir.write("run.json", r.out);
  const std::string check =
      "import json,sys; d=json.load(open(sys.argv[1])); "
      "assert d['workload']=='wordcount' and d['executor']=='sequential', d; "
      "assert d['corpus']['kind']=='generated' and len(d['corpus']['checksum'])==64; "
      "assert len(d['results'])==8 and all(x['ok'] and x['value']['count']>0 for x in "
      "d['results']); "
      "assert d['build']['word_scan_kernel'] in ('avx512','avx2','scalar'); "
      "s=d['build']['eigen_solver']; assert s.startswith('LAPACKE dgeev over LAPACK 3.') "
      "or s==\"Eigen's own RealSchur (built without LAPACKE)\", s; print('ok')";
  auto py = testing::run_command({*testing::oracle_python(), "-c", check, path.string()});
  EXPECT_EQ(py.out, "ok\n") << py.err << "\n" << r.out;
}

TEST(Cli, ABadBookIsNamedAndTheOtherResultsStay) {
  testing::TempDir dir;
  dir.write("books/Gulliver.txt", "good words good\n");
  dir.write("books/Metamorphosis.txt", std::string("gregor \xC3\x28 samsa\n"));
  dir.write("books/Frankenstein.txt", "   \n\t ");
  dir.write("stop-words/english.txt", "the\n");
  auto r = cbench({"run", "--workload", "wordcount", "--fixtures", dir.path().string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("Most common word in Gulliver is \"good\" (2 appearances)"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("Corpus: custom ("), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("Metamorphosis: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("7"), std::string::npos) << "the offset of the bad byte: " << r.err;
  EXPECT_NE(r.err.find("Frankenstein: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("2 of 3 tasks failed"), std::string::npos) << r.err;
}

TEST(Cli, CommandLineMistakesExitTwoWithAUsageLine) {
  expect_usage_error(cbench({"frobnicate"}), "unknown command");
  expect_usage_error(cbench({"run"}), "--workload is required");
  expect_usage_error(cbench({"run", "--workload", "nope"}), "unknown workload \"nope\"");
  expect_usage_error(cbench({"run", "--workload", "double", "--bogus"}), "unknown flag --bogus");
  expect_usage_error(cbench({"run", "--workload", "double", "--workers", "zero"}), "--workers");
  expect_usage_error(cbench({"run", "--workload", "double", "--workers", "2"}),
                     "--workers must be 1");
  expect_usage_error(cbench({"run", "--workload", "double", "--executor", "gpu"}),
                     "unknown executor \"gpu\"");
  expect_usage_error(cbench({"run", "--workload", "pbkdf2", "--size", "3"}),
                     "--size does not apply to the pbkdf2 workload");
  expect_usage_error(cbench({"run", "--workload", "pbkdf2", "--iterations", "0"}), "--iterations");
  expect_usage_error(cbench({"run", "--workload", "count", "--interval", "-1"}), "--interval");
  expect_usage_error(cbench({"run", "--workload", "double", "--size"}), "needs a value");
  expect_usage_error(cbench({"run", "--workload", "double", "--json=yes"}), "takes no value");
  expect_usage_error(cbench({"run", "stray"}), "unexpected argument");
  expect_usage_error(cbench({"list", "--workload", "x"}), "unknown flag");
  EXPECT_EQ(cbench({}).exit_code, 2);
}

TEST(Cli, AMissingCorpusFolderIsOneClearError) {
  auto r = cbench({"run", "--workload", "wordcount", "--fixtures", "/nonexistent/cbench"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--fixtures /nonexistent/cbench is not a corpus folder"), std::string::npos)
      << r.err;
  EXPECT_EQ(r.out, "");
}

TEST(Cli, HelpAndListAndVersion) {
  for (const std::vector<std::string>& args : {std::vector<std::string>{"--help"},
                                               {"run", "--help"},
                                               {"list", "--help"},
                                               {"version", "--help"}}) {
    auto r = cbench(args);
    EXPECT_EQ(r.exit_code, 0) << args[0];
    EXPECT_NE(r.out.find("usage: cbench"), std::string::npos) << r.out;
  }
  auto r = cbench({"list"});
  EXPECT_EQ(r.exit_code, 0);
  for (auto name :
       {"count", "wordcount", "read", "pbkdf2", "eigen", "double", "wordfreq", "sequential"}) {
    EXPECT_NE(r.out.find(std::string("  ") + name + " "), std::string::npos) << name << "\n"
                                                                             << r.out;
  }
  r = cbench({"version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("\"commit\":"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace cbench
