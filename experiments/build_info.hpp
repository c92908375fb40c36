// How this binary was built: every output records it, so that two results can be told apart.
#pragma once

#include <string>
#include <string_view>

namespace cbench {

struct BuildInfo {
  std::string_view version;     // cbench's version
  std::string_view commit;      // git commit at configure time, or "unknown"
  std::string_view compiler;    // "g++ 12.2.0"
  std::string_view build_type;  // Release, Debug, RelWithDebInfo
  std::string_view flags;       // the optimisation and target flags, "-O3 -DNDEBUG -march=native"
  bool native = false;          // built with -march=native
  std::string_view sanitizers;  // "", "address,undefined" or "thread"
};

const BuildInfo& build_info();

// The build as a JSON object, plus the word-count kernel chosen at run time and what solves E5.
std::string build_info_json();

}  // namespace cbench
