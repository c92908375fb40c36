// The most common word of a book (E2, E2'): the text counted into a word table, whole
// (most_common_word) or piece by piece as it arrives (WordCounter), then the stop words' counts
// set to 0 and Python's most_common(1) taken. The table's members for this read-out
// (clear_count, most_common) are defined here, beside their only user.
#include "workloads/word_count.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "workloads/unicode.hpp"
#include "workloads/word_scan.hpp"
#include "workloads/word_table.hpp"

namespace cbench {

namespace word_count_detail {

void WordTable::clear_count(std::string_view word) {
  if (word.empty()) return;
  if (word.size() <= kShortWord) {
    std::uint64_t k0 = 0, k1 = 0;
    pad(word, k0, k1);
    for (std::size_t i = hash16(k0, k1) & hot_.mask;; i = (i + 1) & hot_.mask) {
      Slot& slot = slots_[i];
      if (slot.meta == 0) return;
      if (Hot::same(slot, k0, k1, word.size())) {
        slot.meta &= kLengthBits;
        return;
      }
    }
  }
  LongSlot& slot = long_slots_[probe_long(word, hash_long(word.data(), word.size()))];
  if (slot.length != 0) slot.count = 0;
}

std::optional<WordCount> WordTable::most_common() const {
  // Two plain passes, each without an unpredictable branch: the highest count, then the earliest
  // seen of the words that have it (ties are rare). A stop word's count is 0, as is an empty slot's
  // (meta 0); when every word seen is a stop word, the earliest seen wins with 0.
  std::uint64_t best_count = 0;
  for (const Slot& slot : slots_) best_count = std::max(best_count, slot.meta / kOneMore);
  std::uint64_t best_first = kNever;
  const Slot* best = nullptr;
  for (const Slot& slot : slots_) {
    if (slot.meta / kOneMore == best_count && slot.meta != 0 && slot.first < best_first) {
      best_first = slot.first;
      best = &slot;
    }
  }
  std::optional<WordCount> answer;
  char bytes[kShortWord];
  if (best != nullptr) answer = WordCount{std::string(short_word(*best, bytes)), best_count};
  for (const LongSlot& slot : long_slots_) {
    if (slot.length != 0 &&
        (slot.count > best_count || (slot.count == best_count && slot.first < best_first))) {
      best_count = slot.count;
      best_first = slot.first;
      answer = WordCount{std::string(slot.data, slot.length), slot.count};
    }
  }
  return answer;
}

std::string_view WordTable::short_word(const Slot& slot, char (&bytes)[kShortWord]) {
  std::memcpy(bytes, &slot.k0, 8);
  std::memcpy(bytes + 8, &slot.k1, 8);
  return std::string_view(bytes, slot.meta & kLengthBits);
}

}  // namespace word_count_detail

using word_count_detail::count_all;
using word_count_detail::WordTable;

namespace {

// counter[w] = 0 for each stop word, then most_common(1). A stop word that is absent would be
// inserted after every word of the text with a count of 0; it can never win (an earlier word has
// at least the same count), so it need not be inserted.
WordCount most_common_in(WordTable& table, const StopWords& stop_words, bool empty) {
  for (const auto& stop_word : stop_words) table.clear_count(stop_word);
  auto best = table.most_common();
  if (!best) {
    throw std::invalid_argument(empty ? "the text is empty"
                                      : "the text has no words (all white space)");
  }
  return std::move(*best);
}

}  // namespace

WordCount most_common_word(std::string_view text, const StopWords& stop_words) {
  WordTable table(text.size());
  count_all(text, table);
  return most_common_in(table, stop_words, text.empty());
}

struct WordCounter::Table {
  // Sized for a book of about a megabyte; it grows like any other.
  WordTable table{std::size_t{1} << 20};
};

WordCounter::WordCounter() : table_(std::make_unique<Table>()) {}
WordCounter::~WordCounter() = default;

void WordCounter::add(std::string_view piece) {
  table_->table.start_piece(bytes_);
  try {
    count_all(piece, table_->table);
  } catch (const unicode::InvalidUtf8& e) {
    throw unicode::InvalidUtf8(bytes_ + e.offset());  // from the start of the first piece
  }
  bytes_ += piece.size();
}

WordCount WordCounter::most_common(const StopWords& stop_words) {
  return most_common_in(table_->table, stop_words, bytes_ == 0);
}

}  // namespace cbench
