// The exact slow path of the scan: words longer than 16 bytes or holding non-ASCII bytes. A long
// ASCII word is lower-cased (A-Z) in a scratch buffer; a word with non-ASCII bytes is validated
// as UTF-8, split again at the multi-byte white space the ASCII scan cannot see and lower-cased
// with unicode::append_lower. add_word is never inlined, so the scan loop stays small.
//
// Header only, included by word_scan.cpp alone, so that GCC sees add_word's body when it compiles
// the scan loop: with add_word compiled apart, it lays out the table's probe loop differently.
// Internal to workloads/.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "workloads/unicode.hpp"
#include "workloads/word_bytes.hpp"
#include "workloads/word_table.hpp"

namespace cbench::word_count_detail {

struct SlowPath {
  std::string_view text;
  WordTable& table;
  std::string scratch;

  // A white-space-free piece of valid UTF-8.
  void add_piece(std::size_t begin, std::size_t end) {
    if (begin == end) return;
    std::string_view piece = text.substr(begin, end - begin);
    scratch.clear();
    unicode::append_lower(piece, scratch);
    bool unchanged = scratch == piece;
    table.add(unchanged ? piece : std::string_view(scratch), unchanged, begin);
  }

  [[gnu::noinline]] void add_word(std::size_t begin, std::size_t end) {
    const auto* p = reinterpret_cast<const unsigned char*>(text.data());
    std::size_t i = begin;
    while (i + 8 <= end && (load64(text.data() + i) & kHighBits) == 0) i += 8;
    while (i < end && p[i] < 0x80) ++i;
    if (i == end) {  // ASCII: lower-case A-Z only
      scratch.assign(text.data() + begin, end - begin);
      bool changed = false;
      for (char& c : scratch) {
        if (c >= 'A' && c <= 'Z') {
          c = static_cast<char>(c + ('a' - 'A'));
          changed = true;
        }
      }
      table.add(changed ? std::string_view(scratch) : text.substr(begin, end - begin), !changed,
                begin);
      return;
    }
    // Validate (the ASCII scan only split at ASCII white space) and split at Unicode white space.
    std::size_t piece = begin;
    while (i < end) {
      if (p[i] < 0x80) {
        ++i;
        continue;
      }
      char32_t c = 0;
      std::size_t length = unicode::decode_multibyte(text.substr(i, end - i), c);
      if (length == 0) throw unicode::InvalidUtf8(i);
      if (unicode::is_space(c)) {
        add_piece(piece, i);
        piece = i + length;
      }
      i += length;
    }
    add_piece(piece, end);
  }
};

}  // namespace cbench::word_count_detail
