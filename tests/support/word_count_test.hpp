// What the word-count tests share (test_word_count.cpp against Python, test_word_count_units.cpp):
// the scan kernels in turn, the C++ side of each comparison, Python's oracle, and the generator of
// random texts built to hit every rule of docs/design.md, "Workload semantics".
#pragma once

#include "workloads/word_count.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/oracle.hpp"
#include "workloads/http.hpp"
#include "workloads/unicode.hpp"

namespace cbench::word_count_test {

using testing::real_fixtures;
using testing::run_oracle;

// Runs a check under each scan kernel this CPU has, then restores the run-time choice.
template <class F>
inline void for_each_kernel(F check) {
  for (std::string_view kernel : word_scan_kernels()) {
    force_word_scan_kernel(kernel);
    check(std::string(kernel));
  }
  force_word_scan_kernel("");
}

// The C++ answer in the oracle's words: "<word> <count>", "invalid-utf8 <offset>" or "empty".
inline std::string cpp_most_common(std::string_view text, const StopWords& stop_words) {
  try {
    WordCount best = most_common_word(text, stop_words);
    return best.word + " " + std::to_string(best.count);
  } catch (const unicode::InvalidUtf8& error) {
    return "invalid-utf8 " + std::to_string(error.offset());
  } catch (const std::invalid_argument&) {
    return "empty";
  }
}

// The same text counted as a download counts it: cut into pieces of random sizes (as a socket
// delivers them), re-assembled into whole lines by LineBatcher, each batch added to a
// WordCounter. Must give what most_common_word gives on the whole text.
inline std::string streamed_most_common(std::string_view text, const StopWords& stop_words,
                                        std::uint64_t seed) {
  try {
    WordCounter counter;
    LineBatcher lines([&](std::string_view batch) { counter.add(batch); });
    std::mt19937_64 rng(seed);
    for (std::size_t at = 0; at < text.size();) {
      const std::size_t n = std::min<std::size_t>(text.size() - at, 1 + rng() % 3000);
      lines.feed(text.substr(at, n));
      at += n;
    }
    lines.finish();
    WordCount best = counter.most_common(stop_words);
    return best.word + " " + std::to_string(best.count);
  } catch (const unicode::InvalidUtf8& error) {
    return "invalid-utf8 " + std::to_string(error.offset());
  } catch (const std::invalid_argument&) {
    return "empty";
  }
}

// A Python Counter, as the oracle prints it, sorted by word like WordFrequencies.
WordFrequencies parse_counter(const std::vector<std::string>& lines) {
  WordFrequencies counts;
  for (const auto& line : lines) {
    auto space = line.find(' ');
    counts.push_back(WordCount{line.substr(space + 1), std::stoull(line.substr(0, space))});
  }
  std::sort(counts.begin(), counts.end(),
            [](const WordCount& a, const WordCount& b) { return a.word < b.word; });
  return counts;
}

inline std::vector<std::string> lines_of(const std::string& output) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < output.size()) {
    std::size_t end = output.find('\n', start);
    lines.push_back(output.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

// Runs the oracle once over many texts ("batch" mode); one answer (a list of lines) per text.
std::vector<std::vector<std::string>> oracle_batch(const std::vector<std::string>& args,
                                                   const std::vector<std::string>& texts) {
  std::string input;
  for (const auto& text : texts) input += std::to_string(text.size()) + "\n" + text;
  std::vector<std::string> full_args{"batch"};
  full_args.insert(full_args.end(), args.begin(), args.end());
  auto lines = lines_of(run_oracle("word_count.py", full_args, input));
  std::vector<std::vector<std::string>> answers;
  for (std::size_t i = 0; i < lines.size();) {
    std::size_t count = std::stoul(lines[i].substr(2));
    answers.emplace_back(lines.begin() + static_cast<std::ptrdiff_t>(i + 1),
                         lines.begin() + static_cast<std::ptrdiff_t>(i + 1 + count));
    i += 1 + count;
  }
  return answers;
}

// Escapes a word for a failure message.
inline std::string show(std::string_view bytes) {
  std::ostringstream out;
  out << '"';
  for (unsigned char c : bytes) {
    if (c >= 0x20 && c < 0x7F && c != '\\') {
      out << c;
    } else {
      static const char* hex = "0123456789abcdef";
      out << "\\x" << hex[c >> 4] << hex[c & 15];
    }
  }
  out << '"';
  return out.str();
}

// The first difference between two frequency tables, or "" when they are equal.
inline std::string first_difference(const WordFrequencies& expected,
                                    const WordFrequencies& actual) {
  auto [e, a] = std::mismatch(expected.begin(), expected.end(), actual.begin(), actual.end());
  if (e == expected.end() && a == actual.end()) return "";
  std::ostringstream out;
  out << "expected "
      << (e == expected.end() ? "nothing" : show(e->word) + " x" + std::to_string(e->count))
      << ", got "
      << (a == actual.end() ? "nothing" : show(a->word) + " x" + std::to_string(a->count)) << " ("
      << expected.size() << " vs " << actual.size() << " words)";
  return out.str();
}

inline bool skip_without_python() {
  return !testing::oracle_python().has_value();
}

#define SKIP_WITHOUT_PYTHON()                          \
  if (skip_without_python())                           \
    GTEST_SKIP() << "no Python interpreter was found " \
                    "at configure time";

// ---------------------------------------------------------------------------------------------
// Random texts.

// Pieces the generator draws from. Non-ASCII capitals with special lower-casing, Greek words
// whose sigma is final or not, case-ignorable marks, a BOM, NUL and control bytes inside words.
inline const std::vector<std::string> kSpecialWords = {
    "\xCE\xA3",                                                          // Σ alone
    "\xCE\x9F\xCE\x94\xCE\xA5\xCE\xA3\xCE\xA3\xCE\x95\xCE\xA5\xCE\xA3",  // ΟΔΥΣΣΕΥΣ
    "\xCE\xA3\xCE\x91\xCE\xA3",                                          // ΣΑΣ
    "\xCE\x91\xCE\xA3'",                 // ΑΣ' (apostrophe is case-ignorable)
    "\xCE\x91\xCE\xA3\xCC\x81",          // ΑΣ + combining acute
    "\xCE\x91\xCE\xA3\xCC\x81\xCE\x92",  // ΑΣ́Β: not final
    "\xCE\x91\xCE\xA3.\xCE\x92",         // ΑΣ.Β: '.' is case-ignorable
    "\xCE\x91\xCE\xA3-\xCE\x92",         // ΑΣ-Β: '-' is not
    "1\xCE\xA3",                         // digit then Σ
    "\xC4\xB0stanbul",                   // İstanbul -> i̇stanbul
    "\xE1\xBA\x9E"
    "E",         // ẞE -> ße
    "\xC7\x84",  // Ǆ -> ǆ
    "\xC7\x85",  // ǅ -> ǆ
    "\xE2\x84\xAA"
    "elvin",                                             // KELVIN SIGN -> kelvin (ASCII)
    "\xE2\x84\xAB",                                      // ANGSTROM SIGN -> å
    "Caf\xC3\x89",                                       // CafÉ
    "caf\xC3\xA9",                                       // café
    "\xD0\x9C\xD0\x9E\xD0\xA1\xD0\x9A\xD0\x92\xD0\x90",  // МОСКВА
    "\xF0\x9F\x98\x80!",                                 // emoji
    "\xF0\x90\x90\x80",                                  // DESERET CAPITAL LONG I -> 𐐨
    "\xE4\xB8\xAD\xE6\x96\x87",                          // 中文
    "\xEF\xBB\xBFThe",                                   // BOM + The
    std::string("a\0b", 3),                              // NUL inside a word
    std::string("a\x00", 2),                             // "a" + NUL: not "a"
    "\x7F\x01",                                          // control bytes
    "don't",
    "--",
    "\xE2\x80\x94",                    // em dash
    "\xE2\x80\x9CQuoted\xE2\x80\x9D",  // “Quoted”
};

inline const std::vector<std::string> kSpaces = {
    " ",
    "\t",
    "\n",
    "\x0B",
    "\x0C",
    "\r",
    "\r\n",
    "\x1C",
    "\x1D",
    "\x1E",
    "\x1F",
    "\xC2\x85",      // U+0085
    "\xC2\xA0",      // U+00A0
    "\xE1\x9A\x80",  // U+1680
    "\xE2\x80\x80",
    "\xE2\x80\x81",
    "\xE2\x80\x82",
    "\xE2\x80\x83",
    "\xE2\x80\x84",
    "\xE2\x80\x85",
    "\xE2\x80\x86",
    "\xE2\x80\x87",
    "\xE2\x80\x88",
    "\xE2\x80\x89",
    "\xE2\x80\x8A",  // U+2000..U+200A
    "\xE2\x80\xA8",
    "\xE2\x80\xA9",
    "\xE2\x80\xAF",
    "\xE2\x81\x9F",  // U+2028 U+2029 U+202F U+205F
    "\xE3\x80\x80",  // U+3000
};

class TextGenerator {
 public:
  explicit TextGenerator(std::uint32_t seed) : rng_(seed) {}

  std::size_t below(std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_);
  }
  bool chance(double p) { return std::bernoulli_distribution(p)(rng_); }

  std::string ascii_word(std::size_t length) {
    static const std::string letters = "abcdefghijklmnopqrstuvwxyz";
    std::string word;
    for (std::size_t i = 0; i < length; ++i) word += letters[below(chance(0.5) ? 4 : 26)];
    switch (below(6)) {
      case 0:  // Capitalised
        word[0] = static_cast<char>(word[0] - 'a' + 'A');
        break;
      case 1:  // ALL CAPS
        for (char& c : word) c = static_cast<char>(c - 'a' + 'A');
        break;
      case 2:  // punctuation stays part of the word
        word = (chance(0.5) ? "(" : "") + word + std::string(1, ".,;:!?\"')"[below(9)]);
        break;
      default:
        break;
    }
    return word;
  }

  std::string word() {
    switch (below(10)) {
      case 0:
        return kSpecialWords[below(kSpecialWords.size())];
      case 1: {  // long words, beyond 16 and 64 bytes, sometimes with non-ASCII inside
        std::string w = ascii_word(17 + below(90));
        if (chance(0.3)) w.insert(below(w.size()), kSpecialWords[below(kSpecialWords.size())]);
        return w;
      }
      case 2:  // lengths around the 8- and 16-byte key limits
        return ascii_word(7 + below(11));
      default:
        return ascii_word(1 + below(chance(0.7) ? 4 : 12));
    }
  }

  std::string space() {
    if (chance(0.75)) return " ";
    std::string s = kSpaces[below(kSpaces.size())];
    while (chance(0.3)) s += kSpaces[below(kSpaces.size())];
    return s;
  }

  // Words from a small vocabulary (so that counts, ties and stop words matter) between random
  // white space; sometimes white space first or last, sometimes no final newline.
  std::string text(std::size_t target_size) {
    std::vector<std::string> vocabulary;
    const std::size_t distinct = 1 + below(chance(0.3) ? 4 : 60);
    for (std::size_t i = 0; i < distinct; ++i) vocabulary.push_back(word());
    std::string text;
    if (chance(0.2)) text += space();
    while (text.size() < target_size) {
      text += chance(0.9) ? vocabulary[below(vocabulary.size())] : word();
      text += space();
    }
    if (chance(0.5)) {
      while (!text.empty() && (text.back() == ' ' || text.back() == '\n')) text.pop_back();
    }
    return text;
  }

  // Stop words: some of the text's words, lower-cased by hand or not, plus unrelated ones.
  std::vector<std::string> stop_words(const std::string& text) {
    std::vector<std::string> words;
    std::istringstream in(text);
    std::string w;
    std::vector<std::string> tokens;
    while (in >> w) tokens.push_back(w);
    const std::size_t count = below(6);
    for (std::size_t i = 0; i < count && !tokens.empty(); ++i) {
      std::string stop = tokens[below(tokens.size())];
      if (chance(0.7)) {
        for (char& c : stop) {
          if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        }
      }
      words.push_back(stop);
    }
    if (chance(0.3)) words.push_back("unrelated");
    return words;
  }

  std::mt19937& rng() { return rng_; }

 private:
  std::mt19937 rng_;
};

inline std::string stop_word_file(const std::vector<std::string>& words) {
  std::string file;
  for (const auto& w : words) file += w + "\n";
  return file;
}

}  // namespace cbench::word_count_test
