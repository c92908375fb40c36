// The HTTP fixture server's pure functions: bandwidths, request paths, profiles, seeded fates.
#include <signal.h>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include "fixtures/server_process.hpp"
#include "tests/support/http_test.hpp"

namespace cbench {
namespace {

using namespace http_test;

// ---------------------------------------------------------------------------------------------
// Pure parts.

TEST(HttpServerPure, ParsesBandwidths) {
  EXPECT_EQ(parse_bandwidth("300000"), 300000u);
  EXPECT_EQ(parse_bandwidth("300K"), 300000u);
  EXPECT_EQ(parse_bandwidth("300k"), 300000u);
  EXPECT_EQ(parse_bandwidth("1.5M"), 1500000u);
  EXPECT_EQ(parse_bandwidth("2Ki"), 2048u);
  EXPECT_EQ(parse_bandwidth("1MiB"), 1048576u);
  EXPECT_EQ(parse_bandwidth("64KB/s"), 64000u);
  for (const char* bad : {"", "K", "12X", "-5", "0", "1e99", "fast"}) {
    EXPECT_THROW(parse_bandwidth(bad), std::invalid_argument) << bad;
  }
}

TEST(HttpServerPure, DecodesRequestPaths) {
  EXPECT_EQ(decode_request_path("/books/A%20Tale%20of%20Two%20Cities.txt"),
            "/books/A Tale of Two Cities.txt");
  EXPECT_EQ(decode_request_path("/health?x=1"), "/health");
  EXPECT_EQ(decode_request_path("http://127.0.0.1:8080/health"), "/health");
  EXPECT_EQ(decode_request_path("/a+b"), "/a+b");
  for (const char* bad : {"/books/../etc/passwd", "/books/%2e%2e/x", "/x%00.txt", "/x%zz", "/x%2",
                          "books/x.txt", "*"}) {
    EXPECT_EQ(decode_request_path(bad), std::nullopt) << bad;
  }
}

TEST(HttpServerPure, ProfilesAndSeedCalibration) {
  EXPECT_EQ(find_shaping_profile("lan").latency.count(), 0);
  EXPECT_EQ(find_shaping_profile("lan").bandwidth, 0u);
  EXPECT_EQ(find_shaping_profile("quick").bandwidth, 0u);
  EXPECT_GT(find_shaping_profile("quick").latency.count(), 0);
  EXPECT_THROW(find_shaping_profile("wan"), std::invalid_argument);
  // The seed profile reproduces the original's 10.06 s sequential and 2.78 s with 8 threads for
  // the 8 real books (docs/design.md, "Workload semantics"), by the arithmetic in http_server.hpp.
  const auto& seed = find_shaping_profile("seed");
  const double latency = std::chrono::duration<double>(seed.latency).count();
  const double bandwidth = static_cast<double>(seed.bandwidth);
  const double total = 2'632'202, largest = 776'646;  // bytes: all 8 books, the largest
  EXPECT_NEAR(8 * latency + total / bandwidth, 10.0, 0.3);
  EXPECT_NEAR(latency + largest / bandwidth, 2.8, 0.1);
}

TEST(HttpServerPure, FatesAreSeededNestedAndReproducible) {
  FaultOptions faults{.error_500 = 0.2, .reset = 0.2, .stall = 0.2, .seed = 42};
  std::map<Fate, int> seen;
  for (std::uint64_t n = 0; n < 200; ++n) {
    for (const char* path : {"/books/Alpha.txt", "/books/Beta.txt"}) {
      const Fate fate = fault_fate(faults, path, n);
      EXPECT_EQ(fate, fault_fate(faults, path, n));  // pure
      ++seen[fate];
    }
  }
  for (Fate fate : {Fate::ok, Fate::error_500, Fate::reset, Fate::stall}) {
    EXPECT_GT(seen[fate], 40) << to_string(fate);  // 400 draws at 0.2-0.4 each
  }
  // Raising a fraction with the same seed only adds requests to its fate.
  FaultOptions more = faults;
  more.error_500 = 0.4;
  more.reset = 0;
  more.stall = 0;
  FaultOptions less = more;
  less.error_500 = 0.2;
  int fewer = 0, larger = 0;
  for (std::uint64_t n = 0; n < 200; ++n) {
    const bool in_less = fault_fate(less, "/books/Alpha.txt", n) == Fate::error_500;
    const bool in_more = fault_fate(more, "/books/Alpha.txt", n) == Fate::error_500;
    EXPECT_TRUE(!in_less || in_more) << n;
    fewer += in_less;
    larger += in_more;
  }
  EXPECT_LT(fewer, larger);
  // Another seed, other choices.
  FaultOptions other = faults;
  other.seed = 43;
  int differ = 0;
  for (std::uint64_t n = 0; n < 100; ++n) {
    differ += fault_fate(faults, "/books/Alpha.txt", n) != fault_fate(other, "/books/Alpha.txt", n);
  }
  EXPECT_GT(differ, 10);
  EXPECT_EQ(fault_fate(FaultOptions{}, "/books/Alpha.txt", 0), Fate::ok);
  EXPECT_THROW(fault_fate(FaultOptions{.error_500 = 0.7, .reset = 0.5}, "/x", 0),
               std::invalid_argument);
  EXPECT_THROW(fault_fate(FaultOptions{.stall = 1.5}, "/x", 0), std::invalid_argument);
}

}  // namespace
}  // namespace cbench
