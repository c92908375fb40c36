// The workloads other than word counting, each against an independent oracle: Python's hashlib
// for PBKDF2, NumPy for eigenvalues, and plain expectations for the counter, reading and the map.
#include <gtest/gtest.h>

#include <filesystem>

#include <sstream>

#include "tests/support/oracle.hpp"
#include "tests/tiny.hpp"
#include "workloads/books.hpp"
#include "workloads/counter.hpp"
#include "workloads/eigenvalue.hpp"
#include "workloads/fingerprint.hpp"
#include "workloads/trivial.hpp"
#include "workloads/unicode.hpp"

namespace cbench {
namespace {

using testing::run_oracle;
using testing::sized;

#define SKIP_WITHOUT_PYTHON() \
  if (!testing::oracle_python()) GTEST_SKIP() << "no python3 with NumPy: run scripts/setup"

// ---- PBKDF2 fingerprint ----------------------------------------------------------------

TEST(Fingerprint, MatchesHashlibOnAdversarialTexts) {
  SKIP_WITHOUT_PYTHON();
  const std::vector<std::string> texts = {
      "plain ascii\n",
      "windows\r\nline\r\nends\r\n",
      "old mac\rline\rends",
      "mixed\r\n\r\r\n\n",
      "\xEF\xBB\xBF"
      "BOM first, then \xCE\xA3\xCE\xB9 and \xE2\x80\xA8 a separator",
      "x",
  };
  for (const auto& text : texts) {
    const auto expected = run_oracle("pbkdf2.py", {"1000"}, text);
    EXPECT_EQ(pbkdf2_fingerprint(text, 1000) + "\n", expected) << "text: " << text;
  }
}

// A long password reaches HMAC as its SHA-512 digest, taken in pieces without a copy of the text:
// texts either side of the length where that starts (two blocks raw, one block translated),
// carriage returns at the hashing buffer's edge, a line longer than the buffer.
TEST(Fingerprint, MatchesHashlibEitherSideOfTheDigestedLength) {
  SKIP_WITHOUT_PYTHON();
  std::vector<std::string> texts;
  for (std::size_t size : {127u, 128u, 129u, 255u, 256u, 257u, 258u}) {
    texts.push_back(std::string(size, 'a'));
    std::string crlf;
    while (crlf.size() < size) crlf += crlf.size() % 2 == 0 ? '\r' : '\n';
    texts.push_back(crlf);  // half as long, translated
  }
  std::string edges(200'000, 'b');
  for (std::size_t at : {65'535u, 65'536u, 131'071u, 131'072u}) edges[at] = '\r';
  edges[131'073] = '\n';
  texts.push_back(edges);
  texts.push_back(std::string(100'000, 'c') + "\r\n" + std::string(70'000, 'd') + "\r");
  for (const auto& text : texts) {
    const auto expected = run_oracle("pbkdf2.py", {"10"}, text);
    EXPECT_EQ(pbkdf2_fingerprint(text, 10) + "\n", expected) << "text of " << text.size();
  }
}

TEST(Fingerprint, MatchesHashlibOnRealBooks) {
  SKIP_WITHOUT_PYTHON();
  auto fixtures = testing::real_fixtures();
  if (!fixtures) GTEST_SKIP() << "CBENCH_FIXTURES is not set: no real corpus";
  for (const auto& entry : std::filesystem::directory_iterator(*fixtures / "books")) {
    const std::string text = read_book(entry.path());
    const auto expected = run_oracle("pbkdf2.py", {"1000", entry.path().string()});
    EXPECT_EQ(pbkdf2_fingerprint(text, 1000) + "\n", expected) << entry.path();
  }
}

TEST(Fingerprint, MatchesHashlibAtTheOriginalIterations) {
  SKIP_WITHOUT_PYTHON();
  if (testing::tiny()) GTEST_SKIP() << "1,000,000 iterations is too slow under a sanitizer";
  const std::string text = "The original experiment hashes each book 1,000,000 times.\n";
  EXPECT_EQ(pbkdf2_fingerprint(text, 1'000'000) + "\n", run_oracle("pbkdf2.py", {"1000000"}, text));
}

TEST(Fingerprint, RejectsBadInput) {
  EXPECT_THROW(pbkdf2_fingerprint("text", 0), std::invalid_argument);
  EXPECT_THROW(pbkdf2_fingerprint("text", -5), std::invalid_argument);
  try {
    pbkdf2_fingerprint(
        "abc\xFF"
        "def",
        1);
    FAIL() << "invalid UTF-8 was hashed";
  } catch (const unicode::InvalidUtf8& e) {
    EXPECT_EQ(e.offset(), 3u);
  }
}

TEST(Fingerprint, TranslatesNewlinesAsPythonsTextMode) {
  EXPECT_EQ(python_text_bytes("a\r\nb\rc\n\r\r\n"), "a\nb\nc\n\n\n");
  EXPECT_EQ(python_text_bytes("no carriage return"), "no carriage return");
}

// ---- largest eigenvalue ----------------------------------------------------------------

void expect_matches_numpy(std::uint64_t seed, long n, long bottom, long top) {
  std::istringstream oracle(run_oracle("eigen.py", {std::to_string(seed), std::to_string(n),
                                                    std::to_string(bottom), std::to_string(top)}));
  double re = 0, im = 0;
  long long sum = 0;
  oracle >> re >> im >> sum;
  ASSERT_TRUE(oracle) << "unreadable oracle output";

  const auto matrix = random_integer_matrix(seed, n, bottom, top);
  long long our_sum = 0;
  for (double v : matrix) our_sum += static_cast<long long>(v);
  EXPECT_EQ(our_sum, sum) << "the matrix differs from Python's draw (seed " << seed << ")";

  const auto value = largest_eigenvalue(seed, n, bottom, top);
  const double tolerance = 1e-8 * std::max(1.0, std::abs(re));
  EXPECT_NEAR(value.real(), re, tolerance) << "seed " << seed << ", n " << n;
  EXPECT_NEAR(value.imag(), im, tolerance) << "seed " << seed << ", n " << n;
}

TEST(Eigenvalue, MatchesNumPy) {
  SKIP_WITHOUT_PYTHON();
  for (std::uint64_t seed = 0; seed < 8; ++seed) expect_matches_numpy(seed, sized(60L, 12L), 0, 9);
  expect_matches_numpy(3, sized(300L, 20L), 0, 9);
  // Entries of both signs give complex pairs at the top, where the ordering matters.
  expect_matches_numpy(11, sized(40L, 10L), -5, 5);
  expect_matches_numpy(5, 1, 0, 9);
}

TEST(Eigenvalue, IsCloseToFourNForEntriesZeroToEight) {
  const long n = sized(200L, 40L);
  const auto value = largest_eigenvalue(0, n, 0, 9);
  EXPECT_NEAR(value.real(), 4.0 * static_cast<double>(n), 0.05 * static_cast<double>(n));
  EXPECT_EQ(value.imag(), 0.0);
}

TEST(Eigenvalue, RejectsBadInput) {
  EXPECT_THROW(largest_eigenvalue(0, 0), std::invalid_argument);
  EXPECT_THROW(largest_eigenvalue(0, 5, 3, 3), std::invalid_argument);
}

// LAPACKE is loaded at the first solve (a threaded OpenBLAS behind it would otherwise start its
// threads before main, before the fork server): that solve starts no thread of its own.
TEST(Eigenvalue, ItsLapackStartsNoThread) {
  auto threads = [] {
    return std::distance(std::filesystem::directory_iterator("/proc/self/task"),
                         std::filesystem::directory_iterator{});
  };
  const auto before = threads();
  EXPECT_GT(largest_eigenvalue(3, 120).real(), 0);
  EXPECT_EQ(threads(), before) << eigen_solver();
}

// The solver is named with the LAPACK it was loaded from (or says there is none), as `cbench
// version` and the benchmarks' context report it.
TEST(Eigenvalue, NamesItsSolver) {
  const std::string solver = eigen_solver();
  if (solver.starts_with("LAPACKE")) {
    EXPECT_TRUE(solver.starts_with("LAPACKE dgeev over LAPACK 3.")) << solver;
    EXPECT_NE(solver.find("liblapack"), std::string::npos) << solver;  // the file it came from
  } else {
    EXPECT_EQ(solver, "Eigen's own RealSchur (built without LAPACKE)");
  }
}

// ---- counter, reading, trivial map -------------------------------------------------------

TEST(Counter, EmitsEveryNumberInOrder) {
  std::vector<long> seen;
  auto emitted = count(11, 15, std::chrono::nanoseconds(0), [&](long i) { seen.push_back(i); });
  EXPECT_EQ(emitted, (std::vector<long>{11, 12, 13, 14}));
  EXPECT_EQ(seen, emitted);
  EXPECT_TRUE(count(3, 3, std::chrono::nanoseconds(0)).empty());
}

TEST(Counter, RejectsBadInput) {
  EXPECT_THROW(count(5, 4, std::chrono::nanoseconds(0)), std::invalid_argument);
  EXPECT_THROW(count(1, 2, std::chrono::nanoseconds(-1)), std::invalid_argument);
}

TEST(ReadBook, ReadsEveryByte) {
  testing::TempDir dir;
  std::string bytes;
  for (int i = 0; i < 300000; ++i) bytes += static_cast<char>(i * 7);
  auto path = dir.write("book.txt", bytes);
  EXPECT_EQ(read_book(path), bytes);
  EXPECT_EQ(read_book(dir.write("empty.txt", "")), "");
}

TEST(ReadBook, NamesTheMissingFile) {
  try {
    read_book("/nonexistent/cbench/book.txt");
    FAIL() << "a missing file was read";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/cbench/book.txt"), std::string::npos)
        << e.what();
  }
  testing::TempDir dir;
  EXPECT_THROW(read_book(dir.path()), std::runtime_error);
}

TEST(TrivialMap, Doubles) {
  static_assert(double_it(21) == 42);
  EXPECT_EQ(double_it(-3), -6);
}

}  // namespace
}  // namespace cbench
