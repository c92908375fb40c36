// The corpus folder reader (fixtures/corpus.hpp, load_corpus_from) and the count of a book's
// words that reads every byte of it: the input's parts (cut at NUL bytes) are the stop-word list,
// then a book's name and its text, again and again, written as a corpus folder. Any folder gives
// a corpus or std::runtime_error naming what is wrong; a book's bytes give its most common word,
// or unicode::InvalidUtf8, or std::invalid_argument for a text of white space only.
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "fixtures/corpus.hpp"
#include "fuzz/fuzz.hpp"
#include "tests/support/temp_dir.hpp"
#include "workloads/unicode.hpp"
#include "workloads/word_count.hpp"

using namespace cbench;
namespace fs = std::filesystem;

CBENCH_FUZZ_TARGET {
  std::vector<std::string_view> parts;
  fuzz::for_each_part(fuzz::bytes(data, size), '\0',
                      [&](std::string_view part) { parts.push_back(part); });
  const testing::TempDir folder;  // one of its own for each input, removed however it ends
  const fs::path& dir = folder.path();
  fs::create_directories(dir / "books");
  if (parts.size() > 1 || !parts[0].empty()) folder.write("stop-words/english.txt", parts[0]);
  for (std::size_t i = 1; i + 1 < parts.size(); i += 2) {
    const std::string_view name = parts[i];
    // A name the folder can hold as one file: not empty, no "/", no NUL, not "." or "..".
    if (name.empty() || name.size() > 200 || name.find('/') != std::string_view::npos ||
        name == "." || name == "..") {
      continue;
    }
    folder.write(fs::path("books") / (std::string(name) + ".txt"), parts[i + 1]);
  }
  try {
    const Corpus corpus = load_corpus_from(dir);
    fuzz::check(!corpus.books.empty(), "a corpus without a book");
    for (const auto& book : corpus.books) {
      try {
        most_common_word(book.text, corpus.stop_words);
      } catch (const unicode::InvalidUtf8&) {
      } catch (const std::invalid_argument&) {
      }
    }
  } catch (const std::runtime_error&) {
  }
  return 0;
}
