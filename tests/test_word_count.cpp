// The word-count workloads against Python itself (tests/oracle/word_count.py runs the reference
// Python loop given in docs/design.md, "Workload semantics", on the same bytes): the real books,
// random texts built to hit every one of its rules, and invalid UTF-8; both scan kernels;
// frequencies, merging and the helpers.
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

namespace cbench {
namespace {

using testing::real_fixtures;
using testing::run_oracle;

// Runs a check under each scan kernel this CPU has, then restores the run-time choice.
template <class F>
void for_each_kernel(F check) {
  for (std::string_view kernel : word_scan_kernels()) {
    force_word_scan_kernel(kernel);
    check(std::string(kernel));
  }
  force_word_scan_kernel("");
}

// The C++ answer in the oracle's words: "<word> <count>", "invalid-utf8 <offset>" or "empty".
std::string cpp_most_common(std::string_view text, const StopWords& stop_words) {
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
std::string streamed_most_common(std::string_view text, const StopWords& stop_words,
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

std::vector<std::string> lines_of(const std::string& output) {
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
std::string show(std::string_view bytes) {
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
std::string first_difference(const WordFrequencies& expected, const WordFrequencies& actual) {
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

bool skip_without_python() {
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
const std::vector<std::string> kSpecialWords = {
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

const std::vector<std::string> kSpaces = {
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

std::string stop_word_file(const std::vector<std::string>& words) {
  std::string file;
  for (const auto& w : words) file += w + "\n";
  return file;
}

// ---------------------------------------------------------------------------------------------
// The real books.

TEST(WordCountRealBooks, MostCommonWordMatchesPython) {
  SKIP_WITHOUT_PYTHON();
  auto fixtures = real_fixtures();
  if (!fixtures) GTEST_SKIP() << "CBENCH_FIXTURES does not name the real corpus";
  const auto stop_file = *fixtures / "stop-words" / "english.txt";
  const StopWords stop_words = parse_stop_words(testing::read_file(stop_file));
  ASSERT_GT(stop_words.size(), 100u);
  int books = 0;
  for (const auto& entry : std::filesystem::directory_iterator(*fixtures / "books")) {
    const std::string text = testing::read_file(entry.path());
    const auto expected =
        lines_of(run_oracle("word_count.py", {"most-common", stop_file.string()}, text));
    ASSERT_EQ(expected.size(), 1u);
    for_each_kernel([&](const std::string& kernel) {
      EXPECT_EQ(cpp_most_common(text, stop_words), expected[0])
          << entry.path().filename() << " with the " << kernel << " kernel";
    });
    EXPECT_EQ(streamed_most_common(text, stop_words, 7), expected[0])
        << entry.path().filename() << " counted as it streams in";
    ++books;
  }
  EXPECT_EQ(books, 8);
}

TEST(WordCountRealBooks, FrequenciesMatchPythonsCounter) {
  SKIP_WITHOUT_PYTHON();
  auto fixtures = real_fixtures();
  if (!fixtures) GTEST_SKIP() << "CBENCH_FIXTURES does not name the real corpus";
  std::string corpus;
  for (const auto& entry : std::filesystem::directory_iterator(*fixtures / "books")) {
    const std::string text = testing::read_file(entry.path());
    corpus += text;
    const auto expected = parse_counter(lines_of(run_oracle("word_count.py", {"counter"}, text)));
    for_each_kernel([&](const std::string& kernel) {
      EXPECT_EQ(first_difference(expected, word_frequencies(text)), "")
          << entry.path().filename() << " with the " << kernel << " kernel";
    });
  }
  // E7: the whole corpus cut into 16 chunks, counted and merged, equals counting it at once.
  const auto whole = parse_counter(lines_of(run_oracle("word_count.py", {"counter"}, corpus)));
  WordFrequencies merged;
  for (auto chunk : split_at_whitespace(corpus, 16))
    merged = merge(merged, word_frequencies(chunk));
  EXPECT_EQ(first_difference(whole, merged), "") << "16 chunks merged";
}

// ---------------------------------------------------------------------------------------------
// Random texts.

TEST(WordCountRandom, MostCommonWordAndFrequenciesMatchPython) {
  SKIP_WITHOUT_PYTHON();
  testing::TempDir dir;
  TextGenerator gen(20240601);
  // Sizes: small, around the 64-byte block and 4 KiB chunk sizes of the scan, and larger.
  std::vector<std::size_t> sizes;
  for (int i = 0; i < 150; ++i) sizes.push_back(1 + gen.below(300));
  for (int i = 0; i < 30; ++i) sizes.push_back(4000 + gen.below(300));
  for (int i = 0; i < 10; ++i) sizes.push_back(8100 + gen.below(300));
  sizes.push_back(60000);

  // All texts share one oracle run per stop-word file; group them by a few stop-word sets.
  for (int group = 0; group < 4; ++group) {
    std::vector<std::string> texts;
    for (std::size_t i = static_cast<std::size_t>(group); i < sizes.size(); i += 4) {
      texts.push_back(gen.text(sizes[i]));
    }
    const auto stop_list = gen.stop_words(texts[0]);
    const auto stop_file =
        dir.write("stop-" + std::to_string(group) + ".txt", stop_word_file(stop_list));
    const StopWords stop_words = parse_stop_words(testing::read_file(stop_file));
    const auto most_common = oracle_batch({"most-common", stop_file.string()}, texts);
    const auto counters = oracle_batch({"counter"}, texts);
    ASSERT_EQ(most_common.size(), texts.size());
    for (std::size_t t = 0; t < texts.size(); ++t) {
      const auto expected_counts = parse_counter(counters[t]);
      for_each_kernel([&](const std::string& kernel) {
        EXPECT_EQ(cpp_most_common(texts[t], stop_words), most_common[t].at(0))
            << "text " << group << "/" << t << " (" << texts[t].size() << " bytes), " << kernel
            << ": " << show(texts[t].substr(0, 200));
        EXPECT_EQ(first_difference(expected_counts, word_frequencies(texts[t])), "")
            << "text " << group << "/" << t << ", " << kernel;
      });
      EXPECT_EQ(streamed_most_common(texts[t], stop_words, t), most_common[t].at(0))
          << "text " << group << "/" << t << " streamed: " << show(texts[t].substr(0, 200));
      WordFrequencies merged;
      for (auto chunk : split_at_whitespace(texts[t], 16))
        merged = merge(merged, word_frequencies(chunk));
      EXPECT_EQ(first_difference(expected_counts, merged), "")
          << "text " << group << "/" << t << " merged";
    }
  }
}

// Every word length from 1 to 40 at every offset in a 64-byte block and around the 4 KiB chunk
// boundary, so words straddle the 16-, 32- and 64-byte loads and the chunk copy.
TEST(WordCountRandom, WordsStraddlingBlockAndChunkBoundaries) {
  SKIP_WITHOUT_PYTHON();
  std::vector<std::string> texts;
  for (std::size_t length = 1; length <= 40; ++length) {
    for (std::size_t offset :
         {0, 1, 15, 16, 17, 31, 32, 33, 47, 48, 63, 64, 65, 4080, 4090, 4095, 4096, 4097}) {
      std::string text(offset, ' ');
      std::string word;
      for (std::size_t i = 0; i < length; ++i)
        word += static_cast<char>(i % 3 == 0 ? 'A' + i % 26 : 'a' + i % 26);
      text += word + " x " + word;
      if (length % 2 == 0) text += "\n";
      texts.push_back(text);
      // The same with a non-ASCII byte at the end of the word and no white space after it.
      texts.push_back(std::string(offset, '\n') + word + "\xC3\x89");
    }
  }
  const auto expected = oracle_batch({"counter"}, texts);
  for (std::size_t t = 0; t < texts.size(); ++t) {
    for_each_kernel([&](const std::string& kernel) {
      EXPECT_EQ(first_difference(parse_counter(expected[t]), word_frequencies(texts[t])), "")
          << kernel << ": " << show(texts[t].substr(texts[t].find_first_not_of(" \n")));
    });
  }
}

TEST(WordCountRandom, TiesGoToTheWordSeenFirst) {
  SKIP_WITHOUT_PYTHON();
  testing::TempDir dir;
  const auto stop_file = dir.write("stop.txt", "the\nand\n");
  const StopWords stop_words{"the", "and"};
  const std::vector<std::string> texts = {
      "b a a b",                                // tie: b first
      "The the AND and",                        // only stop words: the first word, with 0
      "and the x",                              // stop words first, then a single word
      "\xCE\xA3\xCE\xA3 \xCF\x83\xCF\x82 x x",  // ΣΣ and σς are the same word after lower()
      "a\nb\r\nc\rb a",                         // line endings
      "\xEF\xBB\xBFthe the",                    // the BOM stays part of the first word
      "KELVIN \xE2\x84\xAA"
      "elvin kelvin",
  };
  const auto expected = oracle_batch({"most-common", stop_file.string()}, texts);
  for (std::size_t t = 0; t < texts.size(); ++t) {
    for_each_kernel([&](const std::string& kernel) {
      EXPECT_EQ(cpp_most_common(texts[t], stop_words), expected[t].at(0))
          << kernel << ": " << show(texts[t]);
    });
  }
}

TEST(WordCountRandom, OnlyStopWordsGiveTheFirstWordWithZero) {
  WordCount best = most_common_word("The and THE and", {"the", "and"});
  EXPECT_EQ(best, (WordCount{"the", 0}));
}

// ---------------------------------------------------------------------------------------------
// Invalid UTF-8: the error names the offset Python's decoder reports, in the whole text.

TEST(WordCountInvalidUtf8, OffsetMatchesPython) {
  SKIP_WITHOUT_PYTHON();
  const std::vector<std::string> bad = {
      "\xC0\x80",
      "\xC1\xBF",  // overlong 2-byte
      "\xE0\x80\x80",
      "\xE0\x9F\xBF",  // overlong 3-byte
      "\xF0\x80\x80\x80",
      "\xF0\x8F\xBF\xBF",  // overlong 4-byte
      "\xED\xA0\x80",
      "\xED\xBF\xBF",  // surrogates
      "\xF4\x90\x80\x80",
      "\xF5\x80\x80\x80",
      "\xFF",
      "\xFE",  // above U+10FFFF, never valid
      "\x80",
      "\xBF",  // stray continuation
      "\xC3",
      "\xE2\x82",
      "\xF0\x9F\x98",  // truncated (at the end when last)
      "\xC3(",
      "\xE2\x82 ",
      "\xE2\x80\n",  // lead byte followed by ASCII or white space
      "\xE2\x80",    // a cut-off U+2000 (white space) sequence
  };
  TextGenerator gen(7);
  std::vector<std::string> texts;
  for (const auto& b : bad) {
    texts.push_back(b);
    texts.push_back("word " + b);
    texts.push_back("caf\xC3\xA9" + b + "x");
    texts.push_back(std::string(4094, 'a') + " " + b);  // near the chunk boundary
    for (int i = 0; i < 4; ++i) {
      std::string text = gen.text(50 + gen.below(5000));
      // Insert at a character boundary so that the text before stays valid.
      std::size_t at = gen.below(text.size() + 1);
      while (at < text.size() && (static_cast<unsigned char>(text[at]) & 0xC0) == 0x80) ++at;
      text.insert(at, b);
      texts.push_back(text);
    }
  }
  testing::TempDir dir;
  const auto stop_file = dir.write("stop.txt", "");
  const auto expected = oracle_batch({"most-common", stop_file.string()}, texts);
  for (std::size_t t = 0; t < texts.size(); ++t) {
    ASSERT_EQ(expected[t].at(0).rfind("invalid-utf8 ", 0), 0u) << show(texts[t].substr(0, 80));
    for_each_kernel([&](const std::string& kernel) {
      EXPECT_EQ(cpp_most_common(texts[t], {}), expected[t].at(0))
          << kernel << ": " << show(texts[t].substr(0, 80));
    });
    // Counted in pieces, the offset still counts from the start of the book.
    EXPECT_EQ(streamed_most_common(texts[t], {}, t), expected[t].at(0))
        << show(texts[t].substr(0, 80));
    // word_frequencies reports the same offset, relative to its chunk.
    try {
      word_frequencies(texts[t]);
      ADD_FAILURE() << "no error for " << show(texts[t].substr(0, 80));
    } catch (const unicode::InvalidUtf8& error) {
      EXPECT_EQ("invalid-utf8 " + std::to_string(error.offset()), expected[t].at(0));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// C++-only rules and helpers.

TEST(WordCount, EmptyOrWhiteSpaceOnlyIsAnError) {
  for_each_kernel([](const std::string& kernel) {
    for (std::string text :
         {std::string(), std::string(" "), std::string("\n\r\n\t "),
          std::string("\xC2\xA0\xE3\x80\x80 \xE2\x80\xA8"), std::string(5000, ' ')}) {
      EXPECT_THROW(most_common_word(text, {}), std::invalid_argument)
          << kernel << ": " << show(text);
      EXPECT_TRUE(word_frequencies(text).empty()) << kernel;
    }
  });
}

TEST(WordCount, ScanKernelIsChosenAtRunTimeAndCanBeForced) {
  force_word_scan_kernel("");
#if defined(__x86_64__)
  const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                      __builtin_cpu_supports("avx512vl");
  EXPECT_EQ(word_scan_kernel(), avx512                           ? "avx512"
                                : __builtin_cpu_supports("avx2") ? "avx2"
                                                                 : "scalar");
  EXPECT_EQ(word_scan_kernels().size(), avx512 ? 3u : __builtin_cpu_supports("avx2") ? 2u : 1u);
#endif
  EXPECT_EQ(word_scan_kernels().back(), word_scan_kernel());
  for (std::string_view kernel : word_scan_kernels()) {
    force_word_scan_kernel(kernel);
    EXPECT_EQ(word_scan_kernel(), kernel);
  }
  force_scalar_word_scan(true);
  EXPECT_EQ(word_scan_kernel(), "scalar");
  EXPECT_THROW(force_word_scan_kernel("sse9"), std::invalid_argument);
  force_word_scan_kernel("");
  EXPECT_EQ(word_scan_kernel(), word_scan_kernels().back());
}

TEST(WordCount, FrequenciesAreSortedByBytes) {
  auto frequencies = word_frequencies("b A a \xC3\xA9 B z b");
  EXPECT_EQ(frequencies, (WordFrequencies{{"a", 2}, {"b", 3}, {"z", 1}, {"\xC3\xA9", 1}}));
  // A word that is a prefix of another, also when the rest is NUL bytes; long and short words.
  const char raw[] = "a\0 a ab a\0\0 aaaaaaaaaaaaaaaaaaaa aaaaaaaaaaaaaaaa aaaaaaaaaaaaaaab";
  const std::string text(raw, sizeof raw - 1);
  EXPECT_EQ(word_frequencies(text), (WordFrequencies{{"a", 1},
                                                     {std::string("a\0", 2), 1},
                                                     {std::string("a\0\0", 3), 1},
                                                     {"aaaaaaaaaaaaaaaa", 1},
                                                     {"aaaaaaaaaaaaaaaaaaaa", 1},
                                                     {"aaaaaaaaaaaaaaab", 1},
                                                     {"ab", 1}}));
}

TEST(WordCount, MergeAddsCounts) {
  WordFrequencies a{{"a", 1}, {"c", 2}};
  WordFrequencies b{{"b", 5}, {"c", 3}, {"d", 1}};
  EXPECT_EQ(merge(a, b), (WordFrequencies{{"a", 1}, {"b", 5}, {"c", 5}, {"d", 1}}));
  EXPECT_EQ(merge({}, b), b);
  EXPECT_EQ(merge(a, {}), a);
}

TEST(WordCount, SplitAtWhitespaceNeverCutsAWord) {
  EXPECT_THROW(split_at_whitespace("a b", 0), std::invalid_argument);
  TextGenerator gen(99);
  for (int round = 0; round < 50; ++round) {
    std::string text = gen.text(gen.below(3000));
    for (int parts : {1, 2, 16, 100}) {
      auto pieces = split_at_whitespace(text, parts);
      ASSERT_EQ(pieces.size(), static_cast<std::size_t>(parts));
      std::string joined;
      for (std::size_t i = 0; i < pieces.size(); ++i) {
        joined += pieces[i];
        // Every cut is at ASCII white space (or the end of the text).
        if (joined.size() < text.size() && !joined.empty() && i + 1 < pieces.size()) {
          unsigned char at = static_cast<unsigned char>(text[joined.size()]);
          EXPECT_TRUE(at == ' ' || (at >= 0x09 && at <= 0x0D) || (at >= 0x1C && at <= 0x1F))
              << "cut before byte " << int{at};
        }
      }
      EXPECT_EQ(joined, text);
    }
  }
  // Few white-space bytes: some pieces are empty, none splits the word.
  auto pieces = split_at_whitespace("oneverylongword", 4);
  EXPECT_EQ(pieces[0], "oneverylongword");
  EXPECT_TRUE(pieces[1].empty() && pieces[2].empty() && pieces[3].empty());
}

TEST(WordCount, TopWords) {
  WordFrequencies frequencies{{"a", 1}, {"b", 3}, {"c", 3}, {"d", 2}};
  EXPECT_EQ(top_words(frequencies, 3), (std::vector<WordCount>{{"b", 3}, {"c", 3}, {"d", 2}}));
  EXPECT_EQ(top_words(frequencies, 10).size(), 4u);
  EXPECT_TRUE(top_words(frequencies, 0).empty());
}

TEST(WordCount, ParseStopWords) {
  EXPECT_EQ(parse_stop_words("a\n  b \r\n\n\tc\rd\xE3\x80\x80\n\xC2\xA0"
                             "e\n\xEF\xBB\xBF"
                             "f"),
            (StopWords{"a", "b", "c", "d", "e",
                       "\xEF\xBB\xBF"
                       "f"}));
  EXPECT_TRUE(parse_stop_words("").empty());
  EXPECT_TRUE(parse_stop_words("\n \n").empty());
  EXPECT_THROW(parse_stop_words("a\n\xFF\n"), unicode::InvalidUtf8);
}

}  // namespace
}  // namespace cbench
