#include "executors/process.hpp"

#include <dirent.h>

#include <cerrno>
#include <system_error>

namespace cbench {

int count_threads() {
  DIR* dir = ::opendir("/proc/self/task");
  if (dir == nullptr) {
    throw std::system_error(errno, std::generic_category(), "opendir /proc/self/task");
  }
  int threads = 0;
  while (dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] != '.') ++threads;
  }
  ::closedir(dir);
  return threads;
}

std::filesystem::path current_executable() {
  return std::filesystem::read_symlink("/proc/self/exe");
}

}  // namespace cbench
