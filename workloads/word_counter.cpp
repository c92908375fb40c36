// Interim WordCounter: keeps the pieces and counts them at the end. To be replaced by counting
// each piece into the word table as it arrives (word_count.cpp).
#include "workloads/word_count.hpp"

namespace cbench {

struct WordCounter::Table {
  std::string text;
};

WordCounter::WordCounter() : table_(std::make_unique<Table>()) {}
WordCounter::~WordCounter() = default;

void WordCounter::add(std::string_view piece) {
  table_->text.append(piece);
  bytes_ += piece.size();
}

WordCount WordCounter::most_common(const StopWords& stop_words) {
  return most_common_word(table_->text, stop_words);
}

}  // namespace cbench
