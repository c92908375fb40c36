// UTF-8 decoding and the parts of Python's Unicode database (version 14.0.0, the one Debian 12's
// Python 3.11 ships) that the word-count workloads need: str.split() white space, str.lower()'s
// full lower-case mapping with its Final_Sigma rule. The tables come from
// scripts/gen-unicode-tables, which reads them from Python itself.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

namespace cbench::unicode {

// Thrown for bytes that Python's strict UTF-8 decoder rejects (overlong forms, surrogates,
// code points above U+10FFFF, truncated sequences, stray continuation bytes).
class InvalidUtf8 : public std::runtime_error {
 public:
  explicit InvalidUtf8(std::size_t offset);
  // Byte offset of the first byte Python's decoder reports as invalid.
  std::size_t offset() const noexcept { return offset_; }

 private:
  std::size_t offset_;
};

// Throws InvalidUtf8 naming the first invalid byte.
void check_utf8(std::string_view bytes);

// Decodes the sequence at the start of `bytes` (non-empty, first byte >= 0x80) as Python's strict
// decoder does: returns its length (2..4) and sets code_point, or returns 0 when Python rejects it
// (Python then reports the offset of its first byte).
std::size_t decode_multibyte(std::string_view bytes, char32_t& code_point) noexcept;

// True for the code points Python's str.split() (no argument) splits on.
bool is_space(char32_t c) noexcept;

// Appends Python's str.lower() of one white-space-free token (valid UTF-8) to out. Final sigma is
// decided within the token, which is exact because white space is neither cased nor
// case-ignorable (the generator asserts it).
void append_lower(std::string_view token, std::string& out);

}  // namespace cbench::unicode
