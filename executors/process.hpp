// Facts about the running process that more than one part needs: the fork server (it may start
// only while the process has one thread), the mpi executor and the harnesses (they start helper
// processes from the same binary), and the tests.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

namespace cbench {

// Threads of this process (entries of /proc/self/task).
int count_threads();

// The running binary (/proc/self/exe): what a helper process of the same program is started
// from (the fixture server, the mpi executor's spawned engines).
std::filesystem::path current_executable();

// The fields of /proc/PID/stat from the third on, as proc(5) numbers them: [0] is field 3 (the
// state), [1] field 4 (the parent), [k] field k + 3. Read after the command name's closing
// parenthesis, since the name may hold spaces and parentheses. Empty when the process has gone.
std::vector<std::string> proc_stat_fields(pid_t pid);

}  // namespace cbench
