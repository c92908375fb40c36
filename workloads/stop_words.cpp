// Stop words: parsing a stop-word file as Python reads it (UTF-8 text, one word per line,
// surrounding white space stripped as str.strip() does). Applying them to a count is
// most_common_word.cpp's part.
#include "workloads/word_count.hpp"

#include <cstddef>
#include <string_view>

#include "workloads/unicode.hpp"
#include "workloads/word_bytes.hpp"

namespace cbench {
namespace {

using word_count_detail::is_ascii_space;

// Python's str.strip() white space at either end of valid or invalid UTF-8 bytes.
std::string_view strip(std::string_view s) {
  auto space_at_front = [](std::string_view t) -> std::size_t {
    auto b = static_cast<unsigned char>(t.front());
    if (b < 0x80) return is_ascii_space(b) ? 1 : 0;
    char32_t c = 0;
    std::size_t length = unicode::decode_multibyte(t, c);
    return length != 0 && unicode::is_space(c) ? length : 0;
  };
  auto space_at_back = [](std::string_view t) -> std::size_t {
    auto b = static_cast<unsigned char>(t.back());
    if (b < 0x80) return is_ascii_space(b) ? 1 : 0;
    for (std::size_t length = 2; length <= 4 && length <= t.size(); ++length) {
      char32_t c = 0;
      if (unicode::decode_multibyte(t.substr(t.size() - length), c) == length) {
        return unicode::is_space(c) ? length : 0;
      }
    }
    return 0;
  };
  while (!s.empty()) {
    std::size_t length = space_at_front(s);
    if (length == 0) break;
    s.remove_prefix(length);
  }
  while (!s.empty()) {
    std::size_t length = space_at_back(s);
    if (length == 0) break;
    s.remove_suffix(length);
  }
  return s;
}

}  // namespace

StopWords parse_stop_words(std::string_view file_text) {
  unicode::check_utf8(file_text);  // Python reads the file as UTF-8 text
  StopWords words;
  // Python's text mode ends lines at \n, \r\n and \r; blank lines are skipped, so splitting at
  // every \r and \n gives the same words.
  while (!file_text.empty()) {
    std::size_t end = file_text.find_first_of("\r\n");
    std::string_view line = file_text.substr(0, end);
    std::string_view word = strip(line);
    if (!word.empty()) words.emplace_back(word);
    if (end == std::string_view::npos) break;
    file_text.remove_prefix(end + 1);
  }
  return words;
}

}  // namespace cbench
