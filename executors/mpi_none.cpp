// A build without Open MPI: no mpi executor. enter() lets engines started by a build that had
// one fail with a message rather than run the harness.
#include <cstring>
#include <stdexcept>
#include <string>

#include "executors/mpi.hpp"

namespace cbench::mpi {

bool built() {
  return false;
}

int world_engines() {
  return 0;
}

void enter(int& argc, char**& argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], kEngineFlag) == 0) {
      throw std::runtime_error("this build has no MPI, so it cannot be an mpi engine");
    }
  }
}

}  // namespace cbench::mpi
