// The Unicode pieces against Python itself: every code point's white-space property and lower
// mapping, the Final_Sigma rule on random strings, and the offsets of UTF-8 errors.
#include "workloads/unicode.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/oracle.hpp"

namespace cbench::unicode {
namespace {

using testing::run_oracle;

std::string utf8(char32_t c) {
  std::string out;
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
  return out;
}

std::string hex(std::string_view bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

std::string lower(std::string_view token) {
  std::string out;
  append_lower(token, out);
  return out;
}

std::vector<std::string> lines_of(const std::string& output) {
  std::vector<std::string> lines;
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// One oracle run over many inputs; one answer line per input.
std::vector<std::string> oracle_batch(const std::string& mode,
                                      const std::vector<std::string>& inputs) {
  std::string records;
  for (const auto& input : inputs) records += std::to_string(input.size()) + "\n" + input;
  auto lines = lines_of(run_oracle("word_count.py", {"batch", mode}, records));
  std::vector<std::string> answers;
  for (std::size_t i = 0; i + 1 < lines.size(); i += 2) answers.push_back(lines[i + 1]);
  return answers;
}

#define SKIP_WITHOUT_PYTHON()                \
  if (!testing::oracle_python().has_value()) \
  GTEST_SKIP() << "no Python interpreter was found at configure time"

// Every code point: white space exactly where Python's str.isspace() says, and lower() of the
// character alone exactly Python's.
TEST(Unicode, EveryCodePointMatchesPython) {
  SKIP_WITHOUT_PYTHON();
  std::vector<bool> space(0x110000, false);
  std::vector<std::string> lowered(0x110000);
  for (const auto& line : lines_of(run_oracle("word_count.py", {"unicode-table"}))) {
    std::istringstream in(line);
    std::string kind, code_point, mapping;
    in >> kind >> code_point >> mapping;
    auto c = static_cast<char32_t>(std::stoul(code_point, nullptr, 16));
    if (kind == "space") space[c] = true;
    if (kind == "lower") lowered[c] = mapping;
  }
  int spaces = 0, mapped = 0;
  for (char32_t c = 0; c < 0x110000; ++c) {
    if (c >= 0xD800 && c <= 0xDFFF) continue;
    ASSERT_EQ(is_space(c), space[c]) << "U+" << std::hex << static_cast<std::uint32_t>(c);
    spaces += space[c];
    const std::string text = utf8(c);
    const std::string expected = lowered[c].empty() ? hex(text) : lowered[c];
    ASSERT_EQ(hex(lower(text)), expected)
        << "lower() of U+" << std::hex << static_cast<std::uint32_t>(c);
    mapped += !lowered[c].empty();
  }
  EXPECT_EQ(spaces, 29);
  EXPECT_GT(mapped, 1400);
  EXPECT_FALSE(is_space(0x110000));
}

// Final sigma: Σ becomes ς after a cased letter (skipping case-ignorable characters) when no
// cased letter follows (again skipping case-ignorable ones); random strings over an alphabet of
// cased, case-ignorable, both, and neither.
TEST(Unicode, FinalSigmaMatchesPython) {
  SKIP_WITHOUT_PYTHON();
  const std::vector<char32_t> alphabet = {
      0x3A3,                          // Σ
      0x3A3,                          // (twice as likely)
      'A',     'b',   0x391,  0x3B2,  // cased
      '\'',    '.',   ':',    0xAD,
      0x301,   0x2B0, 0x5E,            // case-ignorable: ' . : soft hyphen, acute, ʰ, ^
      0x345,                           // cased and case-ignorable (COMBINING GREEK YPOGEGRAMMENI)
      0x1C5,                           // ǅ titlecase
      '1',     '-',   0x4E2D, 0xFEFF,  // neither (the BOM is case-ignorable: Cf)
      0x130,                           // İ
      0x10400,                         // 𐐀
  };
  std::mt19937 rng(42);
  std::vector<std::string> strings = {"\xCE\xA3", "A\xCE\xA3",
                                      "\xCE\xA3"
                                      "A",
                                      "A\xCE\xA3'", "A'\xCE\xA3'b"};
  for (int i = 0; i < 3000; ++i) {
    std::string s;
    const std::size_t length = 1 + rng() % 7;
    for (std::size_t k = 0; k < length; ++k) s += utf8(alphabet[rng() % alphabet.size()]);
    strings.push_back(s);
  }
  const auto expected = oracle_batch("lower", strings);
  ASSERT_EQ(expected.size(), strings.size());
  for (std::size_t i = 0; i < strings.size(); ++i) {
    EXPECT_EQ(hex(lower(strings[i])), expected[i]) << "lower() of " << hex(strings[i]);
  }
}

std::string check(std::string_view bytes) {
  try {
    check_utf8(bytes);
    return "ok";
  } catch (const InvalidUtf8& error) {
    return "invalid-utf8 " + std::to_string(error.offset());
  }
}

// The offset of the first byte Python's strict decoder rejects: named cases and random bytes.
TEST(Unicode, Utf8ErrorsMatchPython) {
  SKIP_WITHOUT_PYTHON();
  std::vector<std::string> inputs = {
      "",
      "plain ascii",
      "caf\xC3\xA9",
      "\xF0\x9F\x98\x80",
      "\xEF\xBB\xBF",  // valid
      "\xC0\x80",
      "\xE0\x80\x80",
      "\xF0\x80\x80\x80",  // overlong
      "\xED\xA0\x80",
      "\xED\xBF\xBF",  // surrogates
      "\xF4\x90\x80\x80",
      "\xF5\x80",
      "\xFF",  // beyond U+10FFFF
      "a\x80",
      "abcdefgh\xBF",  // stray continuation, after the 8-byte skip
      "\xE2\x82",
      "abc\xF0\x9F\x98",  // truncated at the end
      "\xE2\x82(",
      "\xC3 x",  // invalid continuation
  };
  std::mt19937 rng(7);
  for (int i = 0; i < 2000; ++i) {
    std::string s;
    const std::size_t length = rng() % 24;
    for (std::size_t k = 0; k < length; ++k) {
      // Mostly valid pieces, sometimes a random byte.
      switch (rng() % 4) {
        case 0:
          s += static_cast<char>(rng() % 256);
          break;
        case 1:
          s += utf8(static_cast<char32_t>(0x80 + rng() % 0x700));
          break;
        case 2: {
          char32_t c = static_cast<char32_t>(0x800 + rng() % 0x10F800);
          if (c >= 0xD800 && c <= 0xDFFF) c = 'x';
          s += utf8(c);
          break;
        }
        default:
          s += static_cast<char>('a' + rng() % 26);
      }
    }
    inputs.push_back(s);
  }
  const auto expected = oracle_batch("decode", inputs);
  ASSERT_EQ(expected.size(), inputs.size());
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    EXPECT_EQ(check(inputs[i]), expected[i]) << hex(inputs[i]);
  }
}

TEST(Unicode, InvalidUtf8NamesTheOffset) {
  try {
    check_utf8("abc\xFF");
    FAIL() << "no error";
  } catch (const InvalidUtf8& error) {
    EXPECT_EQ(error.offset(), 3u);
    EXPECT_NE(std::string(error.what()).find('3'), std::string::npos) << error.what();
  }
}

TEST(Unicode, DecodeMultibyte) {
  char32_t c = 0;
  EXPECT_EQ(decode_multibyte("\xC3\xA9", c), 2u);
  EXPECT_EQ(c, U'\u00E9');
  EXPECT_EQ(decode_multibyte("\xE3\x80\x80", c), 3u);
  EXPECT_EQ(c, U'\u3000');
  EXPECT_EQ(decode_multibyte("\xF4\x8F\xBF\xBF", c), 4u);
  EXPECT_EQ(c, U'\U0010FFFF');
  EXPECT_EQ(decode_multibyte("\xE3\x80", c), 0u);  // truncated
  EXPECT_EQ(decode_multibyte("\x80", c), 0u);
}

}  // namespace
}  // namespace cbench::unicode
