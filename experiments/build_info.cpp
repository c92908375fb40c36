#include "experiments/build_info.hpp"

#include "cbench_commit.h"  // generated at every build (cmake/CbenchCommit.cmake)

#include "experiments/json.hpp"
#include "workloads/eigenvalue.hpp"
#include "workloads/word_count.hpp"

namespace cbench {

#define CBENCH_STRINGIFY_(x) #x
#define CBENCH_STRINGIFY(x) CBENCH_STRINGIFY_(x)

const BuildInfo& build_info() {
  static const BuildInfo info {
    CBENCH_VERSION, CBENCH_GIT_COMMIT,
#if defined(__clang__)
        "clang++ " __clang_version__,
#elif defined(__GNUC__)
        "g++ " CBENCH_STRINGIFY(__GNUC__) "." CBENCH_STRINGIFY(__GNUC_MINOR__) "." CBENCH_STRINGIFY(
            __GNUC_PATCHLEVEL__),
#else
        "unknown compiler",
#endif
        CBENCH_BUILD_TYPE, CBENCH_CXX_FLAGS, CBENCH_NATIVE != 0, CBENCH_SANITIZERS,
  };
  return info;
}

std::string build_info_json() {
  const auto& b = build_info();
  return "{\"version\":" + json::quote(b.version) + ",\"commit\":" + json::quote(b.commit) +
         ",\"compiler\":" + json::quote(b.compiler) +
         ",\"build_type\":" + json::quote(b.build_type) + ",\"flags\":" + json::quote(b.flags) +
         ",\"native\":" + (b.native ? "true" : "false") +
         ",\"sanitizers\":" + json::quote(b.sanitizers) +
         ",\"word_scan_kernel\":" + json::quote(word_scan_kernel()) +
         ",\"eigen_solver\":" + json::quote(eigen_solver()) + "}";
}

}  // namespace cbench
