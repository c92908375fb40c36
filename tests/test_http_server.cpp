// The HTTP fixture server of E2 in a process of this test: HTTP with the real curl client,
// hostile input, seeded faults, shaping and a thousand connections at once (the pure functions:
// test_http_pure.cpp; the child process and `cbench serve`: test_server_process.cpp).
//
// No assertion is on an upper bound of elapsed time (the machine is shared and noisy): the
// shaping tests check lower bounds and the server's own counters; waits on the network have
// generous timeouts that only guard against a hang.
#include <signal.h>
#include <sys/wait.h>
#include <asio/co_spawn.hpp>
#include <asio/connect.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "fixtures/server_process.hpp"
#include "tests/support/http_test.hpp"

namespace cbench {
namespace {

using namespace http_test;

// ---------------------------------------------------------------------------------------------
// HTTP, with the real curl.

TEST(HttpServerCurl, GetsEveryBookAndTheStopWords) {
  REQUIRE_CURL(curl);
  auto server = start_server();
  const Corpus corpus = tiny_corpus();
  for (const auto& book : corpus.books) {
    const auto r = run_curl(*curl, {"--fail", url_of(*server, book.name)});
    ASSERT_EQ(r.exit_code, 0) << book.name << ": " << r.err;
    EXPECT_EQ(r.out, book.text) << book.name;
  }
  auto r = run_curl(*curl, {"--fail", server->base_url() + "stop-words/english.txt"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, corpus.stop_words_text);
  r = run_curl(*curl, {"--fail", server->base_url() + "health"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "ok");
  // The headers every body comes with.
  r = run_curl(*curl, {"-D", "-", "-o", "/dev/null", url_of(*server, "Alpha")});
  EXPECT_NE(r.out.find("Content-Type: text/plain; charset=utf-8\r\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Content-Length: " + std::to_string(corpus.book("Alpha").text.size())),
            std::string::npos)
      << r.out;
}

TEST(HttpServerCurl, HeadGivesTheLengthAndNoBody) {
  REQUIRE_CURL(curl);
  auto server = start_server();
  const auto r = run_curl(*curl, {"-I", url_of(*server, "Large")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out.starts_with("HTTP/1.1 200 OK\r\n")) << r.out;
  EXPECT_NE(r.out.find("Content-Length: 40000\r\n"), std::string::npos) << r.out;
  // Nothing follows the head, even on a connection the server then closes.
  RawClient client(server->port());
  ASSERT_TRUE(
      client.send("HEAD /books/Large.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  std::string all;
  EXPECT_EQ(client.read_to_end(all), RawClient::End::eof);
  EXPECT_TRUE(all.ends_with("\r\n\r\n")) << all;
  EXPECT_NE(all.find("Content-Length: 40000\r\n"), std::string::npos) << all;
}

TEST(HttpServerCurl, KeepAliveReusesTheConnection) {
  REQUIRE_CURL(curl);
  auto server = start_server();
  const auto r = run_curl(
      *curl, {"-o", "/dev/null", "-o", "/dev/null", "-w", "%{http_code} %{num_connects}\\n",
              url_of(*server, "Alpha"), url_of(*server, "A Tale of Two Cities")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "200 1\n200 0\n");  // the second transfer opened no connection
  EXPECT_EQ(server->stats().connections_accepted, 1u);
}

TEST(HttpServerCurl, UnknownPathIs404AndOtherMethods405) {
  REQUIRE_CURL(curl);
  auto server = start_server();
  auto r = run_curl(*curl, {"-o", "/dev/null", "-w", "%{http_code}", url_of(*server, "Nope")});
  EXPECT_EQ(r.out, "404");
  r = run_curl(*curl, {"-o", "/dev/null", "-w", "%{http_code}", server->base_url() + "books/"});
  EXPECT_EQ(r.out, "404");
  r = run_curl(*curl,
               {"-X", "POST", "-d", "x=1", "-D", "-", "-o", "/dev/null", url_of(*server, "Alpha")});
  EXPECT_TRUE(r.out.starts_with("HTTP/1.1 405 Method Not Allowed\r\n")) << r.out;
  EXPECT_NE(r.out.find("Allow: GET, HEAD\r\n"), std::string::npos) << r.out;
  r = run_curl(*curl,
               {"-X", "DELETE", "-o", "/dev/null", "-w", "%{http_code}", url_of(*server, "Alpha")});
  EXPECT_EQ(r.out, "405");
  EXPECT_EQ(server->stats().status_404, 2u);
  EXPECT_EQ(server->stats().status_405, 2u);
}

// ---------------------------------------------------------------------------------------------
// HTTP details, with a raw socket.

TEST(HttpServerProtocol, Http10ClosesUnlessAskedToKeepAlive) {
  auto server = start_server();
  {
    RawClient client(server->port());
    ASSERT_TRUE(client.send("GET /health HTTP/1.0\r\n\r\n"));
    const auto r = client.read_response();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.headers.at("connection"), "close");
    std::string rest;
    EXPECT_EQ(client.read_to_end(rest), RawClient::End::eof);
    EXPECT_EQ(rest, "");
  }
  {
    RawClient client(server->port());
    ASSERT_TRUE(client.send("GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    auto r = client.read_response();
    EXPECT_EQ(r.headers["connection"], "keep-alive");
    ASSERT_TRUE(client.send("GET /books/Alpha.txt HTTP/1.0\r\n\r\n"));
    r = client.read_response();
    EXPECT_EQ(r.body, tiny_corpus().book("Alpha").text);
  }
  {
    RawClient client(server->port());  // HTTP/1.1 honours Connection: close
    ASSERT_TRUE(client.send(get_request("/health", "Connection: close\r\n")));
    const auto r = client.read_response();
    EXPECT_EQ(r.headers.at("connection"), "close");
    std::string rest;
    EXPECT_EQ(client.read_to_end(rest), RawClient::End::eof);
  }
  EXPECT_EQ(server->stats().connections_accepted, 3u);
}

TEST(HttpServerProtocol, PipelinedRequestsAreAnsweredInOrder) {
  auto server = start_server();
  RawClient client(server->port());
  ASSERT_TRUE(client.send(get_request("/books/Alpha.txt") + get_request("/nope") +
                          get_request("/books/A%20Tale%20of%20Two%20Cities.txt")));
  EXPECT_EQ(client.read_response().body, tiny_corpus().book("Alpha").text);
  EXPECT_EQ(client.read_response().status, 404);
  EXPECT_EQ(client.read_response().body, tiny_corpus().book("A Tale of Two Cities").text);
}

TEST(HttpServerProtocol, RefusesTraversalNulAndBadEscapes) {
  auto server = start_server();
  for (const char* target : {"/books/../books/Alpha.txt", "/books/%2e%2e/Alpha.txt",
                             "/books/Alpha%00.txt", "/books/%zz.txt", "books/Alpha.txt"}) {
    RawClient client(server->port());
    ASSERT_TRUE(client.send(get_request(target)));
    EXPECT_EQ(client.read_response().status, 400) << target;
    std::string rest;
    EXPECT_EQ(client.read_to_end(rest), RawClient::End::eof) << target;
  }
  expect_still_serving(*server);
}

TEST(HttpServerProtocol, OtherHttpVersionsAre505) {
  auto server = start_server();
  RawClient client(server->port());
  ASSERT_TRUE(client.send("GET /health HTTP/2.0\r\n\r\n"));
  EXPECT_EQ(client.read_response().status, 505);
}

// ---------------------------------------------------------------------------------------------
// Hostile input: each refused and closed, the server still serving.

TEST(HttpServerHostile, GarbageIs400AndClosed) {
  auto server = start_server();
  const std::string inputs[] = {
      std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11),  // a TLS hello
      "HELLO\r\n\r\n",
      "GET /health\r\n\r\n",
      "GET  /health HTTP/1.1\r\n\r\n",
      "GET /health HTTP/1.1\r\nno colon here\r\n\r\n",
      "GET /health HTTP/1.1\r\n folded: header\r\n\r\n",
      std::string("\x00\x00\x00\x00", 4),
  };
  for (const auto& input : inputs) {
    RawClient client(server->port());
    client.send(input);
    std::string all;
    EXPECT_EQ(client.read_to_end(all), RawClient::End::eof) << input;
    EXPECT_TRUE(all.starts_with("HTTP/1.1 400 Bad Request\r\n")) << input << " -> " << all;
  }
  expect_still_serving(*server);
}

TEST(HttpServerHostile, OversizedHeadIs431AndClosed) {
  auto server = start_server();
  RawClient client(server->port());
  client.send("GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20'000, 'a') + "\r\n\r\n");
  std::string all;
  EXPECT_EQ(client.read_to_end(all), RawClient::End::eof);
  EXPECT_TRUE(all.starts_with("HTTP/1.1 431 ")) << all;
  EXPECT_EQ(server->stats().status_431, 1u);
  {
    RawClient endless(server->port());  // a request line that never ends
    endless.send("GET /" + std::string(9'000, 'x'));
    std::string rest;
    EXPECT_EQ(endless.read_to_end(rest), RawClient::End::eof);
    EXPECT_TRUE(rest.starts_with("HTTP/1.1 431 ")) << rest;
  }
  expect_still_serving(*server);
}

TEST(HttpServerHostile, SlowHeadsAre408AndClosedWithinTheBound) {
  HttpServerOptions options;
  options.header_timeout = 300ms;
  auto server = start_server(options);
  const std::string partial[] = {
      "GET /books/Alp",                       // a request line that never ends
      "GET /health HTTP/1.1\r\nHost: x\r\n",  // headers never finished
      "",                                     // nothing at all
  };
  for (const auto& input : partial) {
    RawClient client(server->port());
    client.send(input);
    std::string all;
    // The 20 s guard only stops a hang; the server answers after 300 ms.
    EXPECT_EQ(client.read_to_end(all, 20s), RawClient::End::eof) << "\"" << input << "\"";
    EXPECT_TRUE(all.starts_with("HTTP/1.1 408 Request Timeout\r\n")) << all;
  }
  EXPECT_EQ(server->stats().status_408, 3u);
  // A client slowly trickling a head is bounded too: the bound is on the whole head.
  {
    RawClient client(server->port());
    std::string all;
    for (char c : std::string("GET /health HTTP/1.1\r\nHost: x\r\n")) {
      if (!client.send(std::string(1, c))) break;
      std::this_thread::sleep_for(50ms);
    }
    EXPECT_EQ(client.read_to_end(all, 20s), RawClient::End::eof);
    EXPECT_TRUE(all.starts_with("HTTP/1.1 408 ")) << all;
  }
  // A kept-alive connection that goes idle is not answered 408: it has no request pending.
  {
    RawClient client(server->port());
    ASSERT_TRUE(client.send(get_request("/health")));
    EXPECT_EQ(client.read_response().status, 200);
    std::this_thread::sleep_for(600ms);
    ASSERT_TRUE(client.send(get_request("/health")));
    EXPECT_EQ(client.read_response().status, 200);
  }
  expect_still_serving(*server);
}

// ---------------------------------------------------------------------------------------------
// Faults.

TEST(HttpServerFaults, Every500WhenTheFractionIsOne) {
  REQUIRE_CURL(curl);
  HttpServerOptions options;
  options.faults.error_500 = 1.0;
  auto server = start_server(options);
  for (const char* book : {"Alpha", "Large", "A Tale of Two Cities", "Alpha"}) {
    const auto r =
        run_curl(*curl, {"-o", "/dev/null", "-w", "%{http_code}", url_of(*server, book)});
    EXPECT_EQ(r.out, "500") << book;
  }
  // Only corpus files fail: the health check and HEAD do not.
  auto r =
      run_curl(*curl, {"-o", "/dev/null", "-w", "%{http_code}", server->base_url() + "health"});
  EXPECT_EQ(r.out, "200");
  r = run_curl(*curl, {"-I", "-o", "/dev/null", "-w", "%{http_code}", url_of(*server, "Alpha")});
  EXPECT_EQ(r.out, "200");
  EXPECT_EQ(server->stats().status_500, 4u);
}

TEST(HttpServerFaults, ResetGivesTheClientAResetAndAShortBody) {
  REQUIRE_CURL(curl);
  HttpServerOptions options;
  options.faults.reset = 1.0;
  auto server = start_server(options);
  RawClient client(server->port());
  ASSERT_TRUE(client.send(get_request("/books/Large.txt")));
  std::string all;
  const auto end = client.read_to_end(all);
  EXPECT_NE(end, RawClient::End::timeout);
  ASSERT_TRUE(all.starts_with("HTTP/1.1 200 OK\r\n")) << all.substr(0, 200);
  const auto body = all.size() - (all.find("\r\n\r\n") + 4);
  EXPECT_LT(body, 40'000u);  // never the whole book
  // curl: "Recv failure: Connection reset by peer" (56) or a partial file (18).
  const auto r = run_curl(*curl, {"-o", "/dev/null", url_of(*server, "Large")});
  EXPECT_TRUE(r.exit_code == 56 || r.exit_code == 18) << r.exit_code << " " << r.err;
  EXPECT_EQ(server->stats().resets, 2u);
}

TEST(HttpServerFaults, StallMakesAClientTimeOutAndTheServerGivesUp) {
  REQUIRE_CURL(curl);
  HttpServerOptions options;
  options.faults.stall = 1.0;
  options.stall_timeout = 3s;  // longer than curl's 1 s below, so that curl gives up first
  auto server = start_server(options);
  // curl with a 1 s timeout times out (28), never hangs.
  const auto r =
      run_command({*curl, "-sS", "--max-time", "1", "-o", "/dev/null", url_of(*server, "Large")});
  EXPECT_EQ(r.exit_code, 28) << r.err;
  // A client that waits longer sees the server drop the stalled connection after its bound.
  RawClient client(server->port());
  ASSERT_TRUE(client.send(get_request("/books/Large.txt")));
  std::string all;
  EXPECT_NE(client.read_to_end(all, 20s), RawClient::End::timeout);
  EXPECT_TRUE(all.starts_with("HTTP/1.1 200 OK\r\n"));
  EXPECT_LT(all.size() - (all.find("\r\n\r\n") + 4), 40'000u);
  EXPECT_EQ(server->stats().stalls, 2u);
  EXPECT_GE(server->stats().stall_timeouts, 1u);
}

// The statuses a server gives to `sequence` of GETs on one kept-alive connection.
std::vector<std::pair<std::string, int>> statuses(const FaultOptions& faults,
                                                  const std::vector<std::string>& sequence) {
  HttpServerOptions options;
  options.faults = faults;
  auto server = start_server(options);
  RawClient client(server->port());
  std::vector<std::pair<std::string, int>> out;
  for (const auto& path : sequence) {
    client.send(get_request(path));
    out.emplace_back(path, client.read_response().status);
  }
  return out;
}

TEST(HttpServerFaults, TheSameSeedFailsTheSameRequestsWhateverTheInterleaving) {
  const FaultOptions faults{.error_500 = 0.5, .seed = 2016};
  const std::string alpha = "/books/Alpha.txt", tale = "/books/A%20Tale%20of%20Two%20Cities.txt";
  std::vector<std::string> interleaved, grouped;
  for (int i = 0; i < 16; ++i) {
    interleaved.push_back(alpha);
    interleaved.push_back(tale);
  }
  for (int i = 0; i < 16; ++i) grouped.push_back(alpha);
  for (int i = 0; i < 16; ++i) grouped.push_back(tale);

  // The n-th GET of each path: the same fate in both orders, run twice, as fault_fate predicts.
  auto by_path = [](const std::vector<std::pair<std::string, int>>& got) {
    std::map<std::string, std::vector<int>> m;
    for (const auto& [path, status] : got) m[path].push_back(status);
    return m;
  };
  const auto first = by_path(statuses(faults, interleaved));
  EXPECT_EQ(first, by_path(statuses(faults, grouped)));
  EXPECT_EQ(first, by_path(statuses(faults, interleaved)));
  int failed = 0;
  for (const auto& [path, list] : first) {
    const std::string decoded = *decode_request_path(path);
    for (std::size_t n = 0; n < list.size(); ++n) {
      const bool predicted = fault_fate(faults, decoded, n) == Fate::error_500;
      EXPECT_EQ(list[n], predicted ? 500 : 200) << path << " #" << n;
      failed += list[n] == 500;
    }
  }
  // A fraction in between picks a proper subset (deterministic for this seed).
  EXPECT_GT(failed, 0);
  EXPECT_LT(failed, 32);
  // Another seed picks another subset.
  const auto other = by_path(statuses(FaultOptions{.error_500 = 0.5, .seed = 7}, interleaved));
  EXPECT_NE(first, other);
}

// ---------------------------------------------------------------------------------------------
// Shaping.

TEST(HttpServerShaping, LatencyPrecedesEveryResponseOnAKeptAliveConnection) {
  HttpServerOptions options;
  options.latency = 60ms;
  auto server = start_server(options);
  RawClient client(server->port());
  for (const char* path : {"/books/Alpha.txt", "/health", "/nope", "/books/Alpha.txt"}) {
    const auto start = Clock::now();
    ASSERT_TRUE(client.send(get_request(path)));
    client.read_response();
    EXPECT_GE(Clock::now() - start, 60ms) << path;  // a lower bound: safe on a busy machine
  }
  const auto stats = server->stats();
  EXPECT_EQ(stats.connections_accepted, 1u);
  EXPECT_EQ(stats.latency_waits, 4u);
  EXPECT_EQ(stats.responses, 4u);
}

TEST(HttpServerShaping, BandwidthIsPacedInTicks) {
  HttpServerOptions options;
  options.bandwidth = 200'000;  // 2,000 bytes per 10 ms tick
  options.tick = 10ms;
  auto server = start_server(options);
  RawClient client(server->port());
  const auto start = Clock::now();
  ASSERT_TRUE(client.send(get_request("/books/Large.txt")));
  const auto r = client.read_response();
  const auto elapsed = Clock::now() - start;
  EXPECT_EQ(r.body, tiny_corpus().book("Large").text);
  const auto stats = server->stats();
  // 40,000 body bytes plus the head in slices of at most 2,000: at least 21 writes, 20 ticks.
  EXPECT_GE(stats.writes, 21u);
  EXPECT_GT(stats.bytes_sent, 40'000u);
  EXPECT_GE(elapsed, 200ms - 10ms);
  // Without a cap, one write.
  auto fast = start_server();
  RawClient other(fast->port());
  ASSERT_TRUE(other.send(get_request("/books/Large.txt")));
  EXPECT_EQ(other.read_response().body.size(), 40'000u);
  EXPECT_EQ(fast->stats().writes, 1u);
}

// ---------------------------------------------------------------------------------------------
// Stopping.

TEST(HttpServerStop, StopsWithConnectionsInEveryState) {
  HttpServerOptions options;
  options.faults.stall = 1.0;
  auto server = start_server(options);
  RawClient stalled(server->port()), idle(server->port()), partial(server->port()),
      kept(server->port());
  ASSERT_TRUE(stalled.send(get_request("/books/Large.txt")));
  ASSERT_TRUE(partial.send("GET /books/Al"));
  ASSERT_TRUE(kept.send(get_request("/health")));
  EXPECT_EQ(kept.read_response().status, 200);
  // Wait until the stalled response has begun, so that each connection is in its state.
  for (int i = 0; i < 2000 && server->stats().stalls == 0; ++i) std::this_thread::sleep_for(5ms);
  ASSERT_EQ(server->stats().stalls, 1u);
  server->stop();
  for (RawClient* client : {&stalled, &idle, &partial, &kept}) {
    std::string rest;
    EXPECT_NE(client->read_to_end(rest), RawClient::End::timeout);  // closed, not left open
  }
  server->stop();  // idempotent
  server.reset();
}

// ---------------------------------------------------------------------------------------------
// Scale: a thousand connections open at once on one server thread.

TEST(HttpServerScale, AThousandConcurrentConnectionsAllComplete) {
  constexpr int kClients = 1000;
  // Each connection costs a descriptor at both ends, in this one process.
  if (raise_open_file_limit() < 2 * kClients + 200) {
    GTEST_SKIP() << "the open-file limit is too low for " << kClients << " connections";
  }
  HttpServerOptions options;
  options.latency = 50ms;  // every response waits, so the connections overlap
  auto server = start_server(options);
  const std::string expected(tiny_corpus().book("Alpha").text);

  asio::io_context context;
  int connected = 0, settled = 0, completed = 0;
  // Opened once the server has accepted every connection: then all send their requests.
  asio::steady_timer gate(context, asio::steady_timer::time_point::max());
  std::vector<std::string> failures;
  const asio::ip::tcp::endpoint endpoint(asio::ip::address_v4::loopback(), server->port());
  auto client = [&](int id) -> asio::awaitable<void> {
    asio::ip::tcp::socket socket(context);
    asio::error_code ec;
    co_await socket.async_connect(endpoint, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) failures.push_back("connect " + std::to_string(id) + ": " + ec.message());
    if (!ec) ++connected;
    ++settled;
    if (ec) co_return;
    // Every client waits until the server has accepted all: it holds 1,000 connections at once.
    co_await gate.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    const std::string request = get_request("/books/Alpha.txt", "Connection: close\r\n");
    co_await asio::async_write(socket, asio::buffer(request),
                               asio::redirect_error(asio::use_awaitable, ec));
    std::string response;
    co_await asio::async_read(socket, asio::dynamic_buffer(response),
                              asio::redirect_error(asio::use_awaitable, ec));
    if (ec != asio::error::eof) {
      failures.push_back("read " + std::to_string(id) + ": " + ec.message());
    } else if (!response.starts_with("HTTP/1.1 200 OK\r\n") || !response.ends_with(expected)) {
      failures.push_back("response " + std::to_string(id) + ": " + response.substr(0, 100));
    } else {
      ++completed;
    }
  };
  // Opens the gate once the server holds every connection that was made.
  auto opener = [&]() -> asio::awaitable<void> {
    asio::steady_timer poll(context);
    const auto give_up = Clock::now() + 60s;
    while ((settled < kClients ||
            server->stats().connections_open < static_cast<std::uint64_t>(connected)) &&
           Clock::now() < give_up) {
      poll.expires_after(5ms);
      co_await poll.async_wait(asio::use_awaitable);
    }
    gate.cancel();
  };
  // A guard against a hang, not a timing assertion.
  asio::steady_timer guard(context, 120s);
  guard.async_wait([&](const asio::error_code& ec) {
    if (!ec) context.stop();
  });
  auto watcher = [&]() -> asio::awaitable<void> {
    asio::steady_timer poll(context);
    while (completed + static_cast<int>(failures.size()) < kClients) {
      poll.expires_after(10ms);
      co_await poll.async_wait(asio::use_awaitable);
    }
    guard.cancel();
  };
  // The lambdas outlive the loop: a coroutine lambda's captures live in the lambda object.
  for (int i = 0; i < kClients; ++i) asio::co_spawn(context, client(i), asio::detached);
  asio::co_spawn(context, opener(), asio::detached);
  asio::co_spawn(context, watcher(), asio::detached);
  context.run();
  EXPECT_EQ(connected, kClients);
  EXPECT_EQ(completed, kClients);
  EXPECT_TRUE(failures.empty()) << failures.size() << " failures, first: " << failures.front();
  EXPECT_GE(server->stats().peak_connections_open, static_cast<std::uint64_t>(kClients));
  EXPECT_EQ(server->stats().status_200, static_cast<std::uint64_t>(kClients));
}

}  // namespace
}  // namespace cbench
