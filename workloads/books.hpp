// E3: reading a book from the local disk.
#pragma once

#include <filesystem>
#include <string>

namespace cbench {

// The whole file as bytes. Throws std::runtime_error naming the file and the system's reason
// when it is missing or unreadable.
std::string read_book(const std::filesystem::path& path);

}  // namespace cbench
