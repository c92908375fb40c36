// The fixture server's reading of a request head (fixtures/http_request.hpp) as the server reads
// one (http_connection.cpp, read_head and respond): the head's end, the first line's check, the
// parse, the path's decoding. Invariants: the end lies within the bytes, a refusal is 400 or 505
// with a reason phrase, an accepted request has a method and a target, and a decoded path holds
// no NUL and no "..".
#include <string>

#include "fixtures/http_request.hpp"
#include "fixtures/http_server.hpp"
#include "fuzz/fuzz.hpp"

using namespace cbench;
using namespace cbench::http_request;

CBENCH_FUZZ_TARGET {
  const std::string_view in = fuzz::bytes(data, size);
  const std::size_t end = head_end(in);
  fuzz::check(end == std::string_view::npos || end <= in.size(), "head_end past the bytes");
  const std::size_t nl = in.find('\n');
  const std::string_view first_line = in.substr(0, nl);
  if (!plausible_request_line(first_line)) return 0;
  if (nl != std::string_view::npos) parse_head(first_line);
  if (end == std::string_view::npos) return 0;
  const Request request = parse_head(in.substr(0, end));
  if (request.error != 0) {
    fuzz::check(request.error == 400 || request.error == 505, "a refusal other than 400 or 505");
    fuzz::check(!reason(request.error).empty(), "a refusal without its reason phrase");
    return 0;
  }
  fuzz::check(!request.method.empty(), "an accepted request without a method");
  fuzz::check(!request.target.empty(), "an accepted request without a target");
  if (const auto path = decode_request_path(request.target)) {
    fuzz::check(path->find('\0') == std::string::npos, "a decoded path with a NUL");
    fuzz::check(path->find("..") == std::string::npos, "a decoded path with ..");
  }
  return 0;
}
