// Facts about the running process that more than one part needs: the fork server (it may start
// only while the process has one thread), the mpi executor and the harnesses (they start helper
// processes from the same binary), and the tests.
#pragma once

#include <filesystem>

namespace cbench {

// Threads of this process (entries of /proc/self/task).
int count_threads();

// The running binary (/proc/self/exe): what a helper process of the same program is started
// from (the fixture server, the mpi executor's spawned engines).
std::filesystem::path current_executable();

}  // namespace cbench
