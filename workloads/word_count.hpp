// The word-count workloads (docs/design.md, "Workload semantics"): the most common word of a book
// (E2, E2') and the word frequencies of a text counted in chunks and merged (E7). Both tokenise
// exactly as
//   for line in raw.splitlines(keepends=True): counter.update(line.decode('utf-8').lower().split())
// does in Python, without ever materialising a per-word string in the hot loop.
//
// The implementation, by concern: most_common_word.cpp, stop_words.cpp and word_frequencies.cpp
// implement this API over the scan loop (word_scan.cpp, which says how the count runs and picks
// the kernel), its two kernels (word_scan_kernels.hpp), its slow path for long and non-ASCII
// words (word_slow_path.hpp), the word table (word_table.*) and its hash (word_hash.*);
// word_bytes.hpp holds the byte helpers they share. All those headers are internal to
// workloads/; this one is the API.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace cbench {

struct WordCount {
  std::string word;
  std::uint64_t count = 0;
  friend bool operator==(const WordCount&, const WordCount&) = default;
};

// The stop words, one per entry, as the file lists them (surrounding white space stripped).
using StopWords = std::vector<std::string>;

// Parses a stop-word file: one word per line, surrounding white space stripped, blank lines
// skipped.
StopWords parse_stop_words(std::string_view file_text);

// Python's Counter semantics: stop words keep a count of 0, ties go to the word seen first.
// Throws unicode::InvalidUtf8 for invalid UTF-8, std::invalid_argument for an empty or
// all-white-space text.
WordCount most_common_word(std::string_view text, const StopWords& stop_words);

// most_common_word over a text that arrives in pieces (a download, line by line): the same
// answer as counting the pieces joined, provided no word spans two pieces (each piece but the
// last ends at white space, as whole lines do). Offsets in errors count from the first piece.
class WordCounter {
 public:
  WordCounter();
  ~WordCounter();
  WordCounter(const WordCounter&) = delete;
  WordCounter& operator=(const WordCounter&) = delete;

  void add(std::string_view piece);
  // As most_common_word; sets the stop words' counts to 0, so call it once, at the end.
  WordCount most_common(const StopWords& stop_words);
  std::uint64_t bytes() const { return bytes_; }

 private:
  struct Table;
  std::unique_ptr<Table> table_;
  std::uint64_t bytes_ = 0;
};

// Word -> count, sorted by the word's bytes; every count > 0.
using WordFrequencies = std::vector<WordCount>;

// Counts every word of a chunk (no stop words). An empty chunk gives an empty result.
WordFrequencies word_frequencies(std::string_view chunk);
// The same for a chunk in pieces, each of which ends a word where it ends (at white space, or
// at the end of a book joined to the next by a newline): the frequencies of the pieces joined.
WordFrequencies word_frequencies(std::span<const std::string_view> pieces);

// Sum of two frequency tables; merging the tables of a text's chunks equals counting the text.
WordFrequencies merge(const WordFrequencies& a, const WordFrequencies& b);

// Cuts text into `parts` pieces at ASCII white space (a word is never split); some pieces may be
// empty when the text has few white-space bytes. parts < 1 is std::invalid_argument.
std::vector<std::string_view> split_at_whitespace(std::string_view text, int parts);

// Where split_at_whitespace cuts a text of `size` bytes whose byte i is byte_at(i): the `parts`
// - 1 cut offsets, for a text that is not in one piece of memory (the books, joined only in
// the task inputs). parts < 1 is std::invalid_argument.
std::vector<std::size_t> whitespace_cuts(std::size_t size, int parts,
                                         const std::function<unsigned char(std::size_t)>& byte_at);

// The `count` most frequent words, most frequent first, ties by the word's bytes.
std::vector<WordCount> top_words(const WordFrequencies& frequencies, std::size_t count);

// Which implementation of the white-space scan this process uses ("avx512", "avx2" or
// "scalar"), chosen once at run time from the CPU's features: the best it has.
std::string_view word_scan_kernel();

// Every kernel this CPU can run, scalar first.
std::vector<std::string_view> word_scan_kernels();

// Test hooks: makes this process use the named kernel (one of word_scan_kernels(); another is
// std::invalid_argument) whatever else the CPU offers, so that tests check that every kernel
// gives the same results; "" restores the run-time choice. force_scalar_word_scan(true) is
// force_word_scan_kernel("scalar"), (false) is "".
void force_word_scan_kernel(std::string_view name);
void force_scalar_word_scan(bool force);

}  // namespace cbench
