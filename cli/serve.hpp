// `cbench serve`: the HTTP fixture server of experiment E2 in the foreground
// (fixtures/http_server.hpp).
#pragma once

#include <string>
#include <vector>

namespace cbench::cli {

// Runs the server until SIGTERM or SIGINT (or, with --stop-on-stdin-eof, the end of standard
// input). Prints exactly one line to standard output once it accepts connections:
//   cbench serve: listening on http://127.0.0.1:PORT/ (profile P: ...; corpus ...)
// Returns 0 after a clean stop, 2 for a mistake on the command line (with a usage line), 1 when
// the server cannot start.
int serve_command(const std::vector<std::string>& args);

}  // namespace cbench::cli
