#include "executors/process.hpp"

#include <dirent.h>

#include <cerrno>
#include <fstream>
#include <sstream>
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

std::vector<std::string> proc_stat_fields(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::vector<std::string> fields;
  const auto close = std::getline(in, line) ? line.rfind(')') : std::string::npos;
  if (close == std::string::npos || close + 2 > line.size()) return fields;
  std::istringstream rest(line.substr(close + 2));
  for (std::string field; rest >> field;) fields.push_back(std::move(field));
  return fields;
}

}  // namespace cbench
