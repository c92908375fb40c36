// cbench serve [--profile P] [--port N] [--latency MS] [--bandwidth B] [--fixtures DIR] [--seed S]
//              [--fault-500 F] [--fault-reset F] [--fault-stall F] [--fault-seed S]
//              [--header-timeout S] [--stall-timeout S] [--stop-on-stdin-eof]
#include "cli/serve.hpp"

#include <signal.h>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <limits>
#include <optional>
#include <sstream>

#include "cli/args.hpp"
#include "fixtures/corpus.hpp"
#include "fixtures/http_server.hpp"

namespace cbench::cli {
namespace {

constexpr std::string_view kServeUsage =
    "usage: cbench serve [--profile lan|quick|seed] [--port N] [--latency MS] [--bandwidth B] "
    "[--fixtures DIR] [--seed S] [--fault-500 F] [--fault-reset F] [--fault-stall F] "
    "[--fault-seed S] [--header-timeout S] [--stall-timeout S] [--stop-on-stdin-eof]";

const std::vector<FlagSpec> kServeFlags = {
    {"profile", "P", "shaping: lan (none), quick (5 ms latency), seed (default: 110 ms, 290K/s)"},
    {"port", "N", "TCP port on 127.0.0.1 (default 0: the OS picks one; see the ready line)"},
    {"latency", "MS", "milliseconds before the first byte of every response (overrides profile)"},
    {"bandwidth", "B", "bytes per second per connection: 300000, 300K, 1M, 64Ki (overrides)"},
    {"fixtures", "DIR", "corpus folder with books/*.txt and stop-words/english.txt"},
    {"seed", "S", "seed of the generated corpus used when no corpus folder is found (2016)"},
    {"fault-500", "F", "fraction of book GETs answered 500 (0..1)"},
    {"fault-reset", "F", "fraction of book GETs reset after about half the body"},
    {"fault-stall", "F", "fraction of book GETs stalled after about half the body"},
    {"fault-seed", "S", "seed of the fault choice: the same seed fails the same requests (0)"},
    {"header-timeout", "S", "seconds a client has to send a request head; 408 after (10)"},
    {"stall-timeout", "S", "seconds a stalled response holds its connection (120)"},
    {"stop-on-stdin-eof", "", "also stop when standard input ends (for a parent on a pipe)"},
    {"help", "", "show this help"},
};

double fraction(const Flags& flags, std::string_view name) {
  const auto text = flags.text(name);
  if (!text) return 0;
  double value = -1;
  auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (error != std::errc() || end != text->data() + text->size() || !(value >= 0 && value <= 1)) {
    throw UsageError("--" + std::string(name) + " takes a fraction from 0 to 1, got \"" + *text +
                     "\"");
  }
  return value;
}

std::string number_text(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

std::string milliseconds_text(std::chrono::microseconds d) {
  return number_text(static_cast<double>(d.count()) / 1000.0) + " ms";
}

struct ServeRequest {
  std::string profile;
  HttpServerOptions options;
  CorpusOptions corpus;
};

ServeRequest parse_serve(const Flags& flags) {
  ServeRequest r;
  r.profile = flags.text("profile").value_or("seed");
  try {
    r.options.apply(find_shaping_profile(r.profile));
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  r.options.port = static_cast<std::uint16_t>(flags.integer("port", 0, 65535).value_or(0));
  if (auto text = flags.text("latency")) {
    double ms = -1;
    auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), ms);
    if (error != std::errc() || end != text->data() + text->size() || !(ms >= 0 && ms <= 600'000)) {
      throw UsageError("--latency takes milliseconds from 0 to 600000, got \"" + *text + "\"");
    }
    r.options.latency = std::chrono::microseconds(std::llround(ms * 1000));
  }
  if (auto text = flags.text("bandwidth")) {
    try {
      r.options.bandwidth = parse_bandwidth(*text);
    } catch (const std::invalid_argument& e) {
      throw UsageError(std::string("--bandwidth: ") + e.what());
    }
  }
  if (auto dir = flags.text("fixtures")) r.corpus.fixtures = *dir;
  if (auto seed = flags.integer("seed", 0, std::numeric_limits<long>::max())) {
    r.corpus.seed = static_cast<std::uint64_t>(*seed);
  }
  r.options.faults.error_500 = fraction(flags, "fault-500");
  r.options.faults.reset = fraction(flags, "fault-reset");
  r.options.faults.stall = fraction(flags, "fault-stall");
  if (auto seed = flags.integer("fault-seed", 0, std::numeric_limits<long>::max())) {
    r.options.faults.seed = static_cast<std::uint64_t>(*seed);
  }
  try {
    validate(r.options.faults);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  auto milliseconds = [](double seconds) {
    return std::chrono::milliseconds(std::llround(seconds * 1000));
  };
  if (auto s = flags.seconds("header-timeout")) {
    if (*s <= 0) throw UsageError("--header-timeout must be more than 0 seconds");
    r.options.header_timeout = milliseconds(*s);
  }
  if (auto s = flags.seconds("stall-timeout")) r.options.stall_timeout = milliseconds(*s);
  r.options.stop_on_stdin_eof = flags.has("stop-on-stdin-eof");
  return r;
}

std::string ready_line(const std::string& profile, const HttpServer& server, const Corpus& corpus) {
  const HttpServerOptions& o = server.options();
  std::string line = "cbench serve: listening on " + server.base_url() + " (profile " + profile +
                     ": latency " + milliseconds_text(o.latency) + ", bandwidth " +
                     (o.bandwidth == 0 ? std::string("unlimited")
                                       : std::to_string(o.bandwidth) + " B/s per connection");
  if (o.faults.any()) {
    line += "; faults 500 " + number_text(o.faults.error_500) + ", reset " +
            number_text(o.faults.reset) + ", stall " + number_text(o.faults.stall) + ", seed " +
            std::to_string(o.faults.seed);
  }
  return line + "; corpus " + corpus.describe() + ")";
}

}  // namespace

int serve_command(const std::vector<std::string>& args) {
  ServeRequest request;
  try {
    Flags flags(args, kServeFlags);
    if (flags.has("help")) {
      std::cout
          << kServeUsage << "\n\n"
          << "Serves the corpus over HTTP on 127.0.0.1 for the wordcount-http experiment (E2):\n"
             "  /books/<URL-encoded name>.txt, /stop-words/english.txt, /health\n"
             "shaped by a profile and with optional seeded faults. Prints one line when ready\n"
             "and runs until SIGTERM or SIGINT.\n\n"
          << describe_flags(kServeFlags);
      return 0;
    }
    request = parse_serve(flags);
  } catch (const UsageError& e) {
    std::cerr << "cbench serve: error: " << e.what() << "\n" << kServeUsage << "\n";
    return 2;
  }

  // A client gone from the other end of the ready line's pipe must not kill the server.
  ::signal(SIGPIPE, SIG_IGN);
  std::optional<Corpus> corpus;
  std::optional<HttpServer> server;
  try {
    corpus = load_corpus(request.corpus);
  } catch (const std::exception& e) {
    std::cerr << "cbench serve: error: " << e.what() << "\n";
    return 1;
  }
  try {
    server.emplace(*corpus, request.options);
  } catch (const std::exception& e) {
    std::cerr << "cbench serve: error: cannot listen on " << request.options.address << ":"
              << request.options.port << ": " << e.what() << "\n";
    return 1;
  }
  std::cout << ready_line(request.profile, *server, *corpus) << "\n" << std::flush;
  const int signal = server->run({SIGTERM, SIGINT});
  const HttpServerStats stats = server->stats();
  std::cerr << "cbench serve: stopped"
            << (signal != 0 ? std::string(" by ") + ::strsignal(signal) : std::string())
            << " after " << stats.requests << " requests on " << stats.connections_accepted
            << " connections\n";
  return 0;
}

}  // namespace cbench::cli
