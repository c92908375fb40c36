#include "workloads/unicode.hpp"

#include <cstdint>
#include <cstring>

namespace cbench::unicode {
namespace tables {

struct Record {
  std::uint8_t flags;         // kSpace | kCased | kCaseIgnorable
  std::uint8_t lower_length;  // bytes of the lower mapping in kLowerPool; 0: lower() is identity
  std::uint16_t lower_offset;
};

#include "workloads/unicode_tables.inc"

inline const Record& lookup(char32_t c) noexcept {
  return kRecords[kStage2[(std::size_t{kStage1[c >> kBlockBits]} << kBlockBits) +
                          (c & ((1u << kBlockBits) - 1))]];
}

}  // namespace tables

namespace {

constexpr char32_t kCapitalSigma = 0x3A3;
constexpr char kSmallSigma[] = "\xCF\x83";  // U+03C3
constexpr char kFinalSigma[] = "\xCF\x82";  // U+03C2

bool is_continuation(unsigned char b) noexcept {
  return (b & 0xC0) == 0x80;
}

// Length of the valid UTF-8 sequence at p[0..n) (n >= 1, p[0] >= 0x80) and its code point, or 0
// when Python's strict decoder rejects the sequence starting at p[0] (the offset it reports is
// always that of the lead byte).
std::size_t decode_sequence(const unsigned char* p, std::size_t n, char32_t& out) noexcept {
  unsigned char b0 = p[0];
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    if (n < 2 || !is_continuation(p[1])) return 0;
    out = (char32_t{b0} & 0x1F) << 6 | (p[1] & 0x3F);
    return 2;
  }
  if (b0 >= 0xE0 && b0 <= 0xEF) {
    if (n < 2) return 0;
    unsigned char lo = b0 == 0xE0 ? 0xA0 : 0x80;  // no overlong forms
    unsigned char hi = b0 == 0xED ? 0x9F : 0xBF;  // no surrogates
    if (p[1] < lo || p[1] > hi) return 0;
    if (n < 3 || !is_continuation(p[2])) return 0;
    out = (char32_t{b0} & 0x0F) << 12 | (char32_t{p[1]} & 0x3F) << 6 | (p[2] & 0x3F);
    return 3;
  }
  if (b0 >= 0xF0 && b0 <= 0xF4) {
    if (n < 2) return 0;
    unsigned char lo = b0 == 0xF0 ? 0x90 : 0x80;  // no overlong forms
    unsigned char hi = b0 == 0xF4 ? 0x8F : 0xBF;  // nothing above U+10FFFF
    if (p[1] < lo || p[1] > hi) return 0;
    if (n < 3 || !is_continuation(p[2])) return 0;
    if (n < 4 || !is_continuation(p[3])) return 0;
    out = (char32_t{b0} & 0x07) << 18 | (char32_t{p[1]} & 0x3F) << 12 |
          (char32_t{p[2]} & 0x3F) << 6 | (p[3] & 0x3F);
    return 4;
  }
  return 0;  // stray continuation byte, C0, C1, F5..FF
}

// Decodes the code point at p (valid UTF-8 with at least one byte) and returns its length.
std::size_t decode_valid(const unsigned char* p, std::size_t n, char32_t& out) noexcept {
  if (p[0] < 0x80) {
    out = p[0];
    return 1;
  }
  std::size_t length = decode_sequence(p, n, out);
  if (length == 0) {  // not valid after all: treat the byte as a code point of its own
    out = 0xFFFD;
    length = 1;
  }
  return length;
}

// CPython's handle_capital_sigma, forward half: true when the next character after `from` that is
// not case-ignorable exists and is cased.
bool cased_follows(const unsigned char* p, std::size_t n, std::size_t from) noexcept {
  while (from < n) {
    char32_t c = 0;
    from += decode_valid(p + from, n - from, c);
    const auto& record = tables::lookup(c);
    if ((record.flags & tables::kCaseIgnorable) == 0) return (record.flags & tables::kCased) != 0;
  }
  return false;
}

}  // namespace

std::size_t decode_multibyte(std::string_view bytes, char32_t& code_point) noexcept {
  return decode_sequence(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
                         code_point);
}

InvalidUtf8::InvalidUtf8(std::size_t offset)
    : std::runtime_error("invalid UTF-8 at byte offset " + std::to_string(offset)),
      offset_(offset) {}

void check_utf8(std::string_view bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const std::size_t n = bytes.size();
  std::size_t i = 0;
  while (i < n) {
    // Skip ASCII eight bytes at a time.
    if (i + 8 <= n) {
      std::uint64_t word = 0;
      std::memcpy(&word, p + i, 8);
      if ((word & 0x8080808080808080ull) == 0) {
        i += 8;
        continue;
      }
    }
    if (p[i] < 0x80) {
      ++i;
      continue;
    }
    char32_t c = 0;
    std::size_t length = decode_sequence(p + i, n - i, c);
    if (length == 0) throw InvalidUtf8(i);
    i += length;
  }
}

bool is_space(char32_t c) noexcept {
  if (c > tables::kMaxCodePoint) return false;
  return (tables::lookup(c).flags & tables::kSpace) != 0;
}

void append_lower(std::string_view token, std::string& out) {
  const auto* p = reinterpret_cast<const unsigned char*>(token.data());
  const std::size_t n = token.size();
  // Whether the last character that is not case-ignorable was cased: the backward half of
  // CPython's handle_capital_sigma, carried along instead of searched for.
  bool cased_before = false;
  std::size_t i = 0;
  while (i < n) {
    if (p[i] < 0x80) {
      char c = static_cast<char>(p[i]);
      bool upper = c >= 'A' && c <= 'Z';
      out += upper ? static_cast<char>(c + ('a' - 'A')) : c;
      // ASCII: letters are cased; '\'', '.', ':', '^' and '`' are case-ignorable.
      const auto& record = tables::lookup(p[i]);
      if ((record.flags & tables::kCaseIgnorable) == 0) {
        cased_before = (record.flags & tables::kCased) != 0;
      }
      ++i;
      continue;
    }
    char32_t c = 0;
    std::size_t length = decode_valid(p + i, n - i, c);
    const auto& record = tables::lookup(c);
    if (c == kCapitalSigma) {
      bool final = cased_before && !cased_follows(p, n, i + length);
      out += final ? kFinalSigma : kSmallSigma;
    } else if (record.lower_length != 0) {
      out.append(tables::kLowerPool + record.lower_offset, record.lower_length);
    } else {
      out.append(token.data() + i, length);
    }
    if ((record.flags & tables::kCaseIgnorable) == 0) {
      cased_before = (record.flags & tables::kCased) != 0;
    }
    i += length;
  }
}

}  // namespace cbench::unicode
