// What the tests of the HTTP fixture server and of the downloading clients share: a small corpus
// to serve, the server started on it, curl found on PATH, a raw TCP client for what curl would not
// send, and ports of the loopback interface.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "fixtures/corpus.hpp"
#include "fixtures/http_server.hpp"
#include "tests/support/oracle.hpp"
#include "workloads/http.hpp"

namespace cbench::http_test {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using testing::CommandResult;
using testing::run_command;

inline std::string repeat_text(std::string_view line, std::size_t bytes) {
  std::string text;
  while (text.size() < bytes) text += line;
  text.resize(bytes);
  text.back() = '\n';
  return text;
}

// A hand-made corpus: small books, one with spaces in its name, one large enough to pace.
inline Corpus tiny_corpus() {
  Corpus corpus;
  corpus.kind = CorpusKind::custom;
  corpus.origin = "test";
  corpus.add_book("Alpha", "It was the best of times, it was the worst of times.\nAlpha beta.\n");
  corpus.add_book("A Tale of Two Cities", "A tale with spaces in its name.\n");
  corpus.add_book(
      "Large",
      repeat_text("the quick brown fox jumps over the lazy dog, again and again\n", 40'000));
  corpus.stop_words_text = "the\na\nof\n";
  corpus.checksum = "test";
  return corpus;
}

inline std::string url_of(const HttpServer& server, std::string_view book) {
  return book_url(server.books_url_template(), book);
}

// The server serves views of its corpus: one that lives as long as the test binary.
inline const Corpus& shared_tiny_corpus() {
  static const Corpus corpus = tiny_corpus();
  return corpus;
}

inline std::unique_ptr<HttpServer> start_server(HttpServerOptions options = {},
                                                const Corpus& corpus = shared_tiny_corpus()) {
  auto server = std::make_unique<HttpServer>(corpus, std::move(options));
  server->start();
  return server;
}

inline std::optional<std::string> find_curl() {
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/bin:/bin";
  for (std::size_t start = 0; start <= dirs.size();) {
    auto end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    const std::filesystem::path candidate =
        std::filesystem::path(dirs.substr(start, end - start)) / "curl";
    if (!candidate.parent_path().empty() && ::access(candidate.c_str(), X_OK) == 0) {
      return candidate.string();
    }
    start = end + 1;
  }
  return std::nullopt;
}

#define REQUIRE_CURL(curl)                            \
  const auto curl = ::cbench::http_test::find_curl(); \
  if (!curl) GTEST_SKIP() << "no curl on PATH: the interoperability test skips"

// Runs curl with a hang guard; -sS: no progress meter, errors still said.
inline CommandResult run_curl(const std::string& curl, std::vector<std::string> args) {
  std::vector<std::string> argv = {curl, "-sS", "--max-time", "30"};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv);
}

// A blocking TCP client with timeouts, for what curl would not send.
class RawClient {
 public:
  explicit RawClient(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error("socket failed");
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      ::close(fd_);
      throw std::runtime_error("connect failed: " + std::string(std::strerror(errno)));
    }
  }
  ~RawClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  // False when the server has closed (a send may then fail with EPIPE or ECONNRESET).
  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  enum class End { eof, reset, timeout };

  struct Response {
    int status = 0;
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;
  };

  // One response: its head, then Content-Length bytes of body (none for a HEAD request).
  Response read_response(bool head_request = false, std::chrono::milliseconds timeout = 20s) {
    const auto deadline = Clock::now() + timeout;
    std::size_t end = std::string::npos;
    while ((end = buffered_.find("\r\n\r\n")) == std::string::npos) {
      if (fill(deadline) <= 0) throw std::runtime_error("no complete response head: " + buffered_);
    }
    Response r;
    const std::string head = buffered_.substr(0, end);
    buffered_.erase(0, end + 4);
    std::size_t line_end = head.find("\r\n");
    const std::string status_line = head.substr(0, line_end);
    if (!status_line.starts_with("HTTP/1.1 ")) throw std::runtime_error("bad status line: " + head);
    r.status = std::stoi(status_line.substr(9, 3));
    while (line_end != std::string::npos) {
      const std::size_t start = line_end + 2;
      line_end = head.find("\r\n", start);
      const std::string line =
          head.substr(start, line_end == std::string::npos ? std::string::npos : line_end - start);
      const auto colon = line.find(':');
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      r.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
    }
    const std::size_t length = head_request ? 0 : std::stoul(r.headers.at("content-length"));
    while (buffered_.size() < length) {
      if (fill(deadline) <= 0) throw std::runtime_error("body ended early");
    }
    r.body = buffered_.substr(0, length);
    buffered_.erase(0, length);
    return r;
  }

  // Reads until the server closes (or resets, or the timeout passes); `into` gets every byte.
  End read_to_end(std::string& into, std::chrono::milliseconds timeout = 20s) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
      const ssize_t n = fill(deadline);
      if (n > 0) continue;
      into += buffered_;
      buffered_.clear();
      if (n == 0) return End::eof;
      return n == -2 ? End::timeout : End::reset;
    }
  }

 private:
  int fd_ = -1;
  std::string buffered_;

  // Bytes read into buffered_; 0 at end of file, -1 on an error (a reset), -2 at the deadline.
  ssize_t fill(Clock::time_point deadline) {
    for (;;) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) return -2;
      pollfd p{fd_, POLLIN, 0};
      const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
      if (ready < 0 && errno == EINTR) continue;
      if (ready <= 0) continue;
      char chunk[16384];
      const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n > 0) buffered_.append(chunk, static_cast<std::size_t>(n));
      return n < 0 ? -1 : n;
    }
  }
};

inline std::string get_request(std::string_view path, std::string_view extra_headers = "") {
  return "GET " + std::string(path) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
         std::string(extra_headers) + "\r\n";
}

// After any abuse, a normal request on a new connection must still succeed.
inline void expect_still_serving(const HttpServer& server) {
  RawClient client(server.port());
  ASSERT_TRUE(client.send(get_request("/books/Alpha.txt")));
  const auto r = client.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, tiny_corpus().book("Alpha").text);
}

// A port of the loopback interface nobody listens on (bound, noted, closed).
inline std::uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

// Whether something accepts connections on that port of the loopback interface.
inline bool port_open(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return ok;
}

}  // namespace cbench::http_test
