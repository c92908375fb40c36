// The word-count workloads against Python itself (tests/oracle/word_count.py runs the reference
// Python loop given in docs/design.md, "Workload semantics", on the same bytes): the real books,
// random texts built to hit every one of its rules, and invalid UTF-8; both scan kernels (the
// frequencies, merging and helpers alone: test_word_count_units.cpp).
#include "tests/support/word_count_test.hpp"

namespace cbench {
namespace {

using namespace word_count_test;

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
// The fuzzer's inputs: fuzz/word_scan.cpp checks the kernels against each other; this checks
// every input of its corpus against Python's rules. The committed corpus by default; a corpus
// grown by scripts/fuzz (build/fuzz/work/word_scan) when CBENCH_WORD_SCAN_CORPUS names it.

TEST(WordCountFuzzCorpus, EveryInputMatchesPython) {
  SKIP_WITHOUT_PYTHON();
  const char* named = std::getenv("CBENCH_WORD_SCAN_CORPUS");
  const std::filesystem::path folder =
      named != nullptr && *named != '\0' ? std::filesystem::path(named)
                                         : std::filesystem::path(CBENCH_FUZZ_CORPUS) / "word_scan";
  std::vector<std::string> names, texts;
  for (const auto& entry : std::filesystem::directory_iterator(folder)) {
    if (!entry.is_regular_file()) continue;
    names.push_back(entry.path().filename().string());
    texts.push_back(testing::read_file(entry.path()));
  }
  ASSERT_GE(texts.size(), 5u) << folder;
  testing::TempDir dir;
  const auto stop_file = dir.write("stop.txt", "the\nand\n");  // the fuzz target's stop words
  const auto most_common = oracle_batch({"most-common", stop_file.string()}, texts);
  const auto counters = oracle_batch({"counter"}, texts);
  ASSERT_EQ(most_common.size(), texts.size());
  int invalid = 0;
  for (std::size_t t = 0; t < texts.size(); ++t) {
    const bool is_invalid = counters[t].size() == 1 && counters[t][0].starts_with("invalid-utf8 ");
    invalid += is_invalid;
    for_each_kernel([&](const std::string& kernel) {
      EXPECT_EQ(cpp_most_common(texts[t], {"the", "and"}), most_common[t].at(0))
          << names[t] << ", " << kernel;
      if (is_invalid) {
        try {
          word_frequencies(texts[t]);
          ADD_FAILURE() << names[t] << ", " << kernel << ": no error, Python: " << counters[t][0];
        } catch (const unicode::InvalidUtf8& error) {
          EXPECT_EQ("invalid-utf8 " + std::to_string(error.offset()), counters[t][0])
              << names[t] << ", " << kernel;
        }
      } else {
        EXPECT_EQ(first_difference(parse_counter(counters[t]), word_frequencies(texts[t])), "")
            << names[t] << ", " << kernel;
      }
    });
  }
  std::printf("%zu inputs of %s against the oracle, %d of them invalid UTF-8\n", texts.size(),
              folder.string().c_str(), invalid);
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

}  // namespace
}  // namespace cbench
