// The word frequencies of a text counted in chunks and merged (E7): each chunk counted and read
// out of the word table sorted by word (WordTable::sorted), the merge of two such results, the
// cut of a text into chunks at white space and the most frequent words of the result.
//
// WordTable::sorted is defined here, beside its only user, rather than in word_table.cpp: GCC
// compiles merge differently when the two do not share the std::vector<WordCount> code.
#include "workloads/word_count.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "workloads/word_bytes.hpp"
#include "workloads/word_scan.hpp"
#include "workloads/word_table.hpp"

namespace cbench {

namespace word_count_detail {
namespace {

bool by_word(const WordCount& a, const WordCount& b) {
  return a.word < b.word;
}

}  // namespace

WordFrequencies WordTable::sorted() const {
  struct Short {
    std::uint64_t high, low;  // the key's bytes in big-endian order
    std::uint64_t meta;
  };
  std::vector<Short> shorts;
  shorts.reserve(slots_.size() * kMaxLoad / 8 - hot_.room);
  for (const Slot& slot : slots_) {
    if (slot.meta != 0) {
      shorts.push_back(Short{__builtin_bswap64(slot.k0), __builtin_bswap64(slot.k1), slot.meta});
    }
  }
  std::sort(shorts.begin(), shorts.end(), [](const Short& a, const Short& b) {
    if (a.high != b.high) return a.high < b.high;
    if (a.low != b.low) return a.low < b.low;
    return (a.meta & kLengthBits) < (b.meta & kLengthBits);
  });
  WordFrequencies longs;
  for (const LongSlot& slot : long_slots_) {
    if (slot.length != 0) longs.push_back({std::string(slot.data, slot.length), slot.count});
  }
  std::sort(longs.begin(), longs.end(), by_word);
  WordFrequencies out;
  out.reserve(shorts.size() + longs.size());
  auto next_long = longs.begin();
  for (const Short& word : shorts) {
    char bytes[kShortWord];
    const std::uint64_t k0 = __builtin_bswap64(word.high), k1 = __builtin_bswap64(word.low);
    std::memcpy(bytes, &k0, 8);
    std::memcpy(bytes + 8, &k1, 8);
    std::string_view text(bytes, word.meta & kLengthBits);
    while (next_long != longs.end() && next_long->word < text)
      out.push_back(std::move(*next_long++));
    out.push_back(WordCount{std::string(text), word.meta / kOneMore});
  }
  while (next_long != longs.end()) out.push_back(std::move(*next_long++));
  return out;
}

}  // namespace word_count_detail

using word_count_detail::count_all;
using word_count_detail::is_ascii_space;
using word_count_detail::Uint128;
using word_count_detail::WordTable;

WordFrequencies word_frequencies(std::string_view chunk) {
  return word_frequencies(std::span<const std::string_view>(&chunk, 1));
}

WordFrequencies word_frequencies(std::span<const std::string_view> pieces) {
  std::size_t bytes = 0;
  for (const auto piece : pieces) bytes += piece.size();
  WordTable table(bytes);
  std::size_t at = 0;
  for (const auto piece : pieces) {
    table.start_lasting_piece(at);
    count_all(piece, table);
    at += piece.size();
  }
  return table.sorted();
}

WordFrequencies merge(const WordFrequencies& a, const WordFrequencies& b) {
  WordFrequencies out;
  out.reserve(a.size() + b.size());
  auto i = a.begin(), j = b.begin();
  while (i != a.end() && j != b.end()) {
    if (i->word < j->word) {
      out.push_back(*i++);
    } else if (j->word < i->word) {
      out.push_back(*j++);
    } else {
      out.push_back(WordCount{i->word, i->count + j->count});
      ++i;
      ++j;
    }
  }
  out.insert(out.end(), i, a.end());
  out.insert(out.end(), j, b.end());
  return out;
}

std::vector<std::size_t> whitespace_cuts(std::size_t size, int parts,
                                         const std::function<unsigned char(std::size_t)>& byte_at) {
  if (parts < 1) throw std::invalid_argument("split_at_whitespace: parts must be at least 1");
  std::vector<std::size_t> cuts;
  cuts.reserve(static_cast<std::size_t>(parts) - 1);
  std::size_t begin = 0;
  for (int k = 1; k < parts; ++k) {
    auto target = static_cast<std::size_t>(static_cast<Uint128>(size) * static_cast<unsigned>(k) /
                                           static_cast<unsigned>(parts));
    std::size_t cut = std::max(target, begin);
    while (cut < size && !is_ascii_space(byte_at(cut))) ++cut;
    cuts.push_back(cut);
    begin = cut;
  }
  return cuts;
}

std::vector<std::string_view> split_at_whitespace(std::string_view text, int parts) {
  const auto cuts = whitespace_cuts(
      text.size(), parts, [&](std::size_t i) { return static_cast<unsigned char>(text[i]); });
  std::vector<std::string_view> pieces;
  pieces.reserve(static_cast<std::size_t>(parts));
  std::size_t begin = 0;
  for (std::size_t cut : cuts) {
    pieces.push_back(text.substr(begin, cut - begin));
    begin = cut;
  }
  pieces.push_back(text.substr(begin));
  return pieces;
}

std::vector<WordCount> top_words(const WordFrequencies& frequencies, std::size_t count) {
  std::vector<WordCount> top(frequencies);
  auto more_frequent = [](const WordCount& a, const WordCount& b) {
    return a.count != b.count ? a.count > b.count : a.word < b.word;
  };
  count = std::min(count, top.size());
  std::partial_sort(top.begin(), top.begin() + static_cast<std::ptrdiff_t>(count), top.end(),
                    more_frequent);
  top.resize(count);
  return top;
}

}  // namespace cbench
