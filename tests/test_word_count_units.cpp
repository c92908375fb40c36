// The word-count workloads' own rules and helpers: errors, the scan kernel's choice, sorting,
// merging, splitting, the top words and the stop words.
#include "tests/support/word_count_test.hpp"

namespace cbench {
namespace {

using namespace word_count_test;

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
