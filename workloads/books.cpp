#include "workloads/books.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace cbench {

// POSIX reads rather than iostreams: one allocation of the file's size and no stream buffer, so
// the timed work is the read itself.
std::string read_book(const std::filesystem::path& path) {
  auto fail = [&](const char* what) {
    return std::runtime_error("cannot " + std::string(what) + " " + path.string() + ": " +
                              std::strerror(errno));
  };
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw fail("open");
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    auto error = fail("stat");
    ::close(fd);
    throw error;
  }
  if (S_ISDIR(info.st_mode)) {
    ::close(fd);
    throw std::runtime_error("cannot read " + path.string() + ": it is a folder");
  }
  std::string bytes(static_cast<std::size_t>(info.st_size), '\0');
  std::size_t done = 0;
  while (true) {
    if (done == bytes.size()) bytes.resize(done + 65536);  // the file grew, or st_size was 0
    ssize_t n = ::read(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      auto error = fail("read");
      ::close(fd);
      throw error;
    }
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  ::close(fd);
  bytes.resize(done);
  return bytes;
}

}  // namespace cbench
