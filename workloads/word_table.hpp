// The word table, where the words of a text and their counts live while it is counted: open
// addressing with linear probing, at most 5/8 full. A slot holds a word of up to 16 bytes itself,
// so a lookup touches one cache line and a hit stores one count. Each slot also keeps the offset
// of its word's first occurrence: Python's Counter order, which decides ties. Longer words live in
// a second, rarely used table, as views of their bytes.
//
// What the scan calls for every word (Hot, add and their helpers) is defined here, so that it
// inlines into the scan loop. The rest runs a few times per text and is defined apart: growth in
// word_table.cpp, each read-out beside the workload that uses it (sorted in
// word_frequencies.cpp; clear_count and most_common in most_common_word.cpp).
// Internal to workloads/.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "workloads/word_bytes.hpp"
#include "workloads/word_count.hpp"
#include "workloads/word_hash.hpp"

namespace cbench::word_count_detail {

constexpr std::size_t kShortWord = 16;

// count << 8 | length; 0: empty slot.
constexpr std::uint64_t kOneMore = 256;
constexpr std::uint64_t kLengthBits = 0xFF;

struct Slot {
  std::uint64_t k0, k1;  // the word, zero padded
  std::uint64_t meta;
  std::uint64_t first;  // offset of its first occurrence
};

struct LongSlot {
  const char* data;
  std::uint64_t length;  // 0: empty slot
  std::uint64_t count;
  std::uint64_t first;
  std::uint64_t hash;
};

// Lower-cased copies of long words, in a few blocks: no allocation per word.
class Arena {
 public:
  const char* copy(std::string_view bytes) {
    if (bytes.size() > left_) {
      std::size_t size = std::max<std::size_t>(kBlockSize, bytes.size());
      blocks_.emplace_back(new char[size]);
      next_ = blocks_.back().get();
      left_ = size;
    }
    char* out = next_;
    std::memcpy(out, bytes.data(), bytes.size());
    next_ += bytes.size();
    left_ -= bytes.size();
    return out;
  }

 private:
  static constexpr std::size_t kBlockSize = 16 * 1024;
  std::vector<std::unique_ptr<char[]>> blocks_;
  char* next_ = nullptr;
  std::size_t left_ = 0;
};

class WordTable {
 public:
  // What the scan loop needs, as plain values it can keep in registers (a count written through
  // a member pointer could alias the members otherwise). The scan takes a copy and hands it back
  // (set_hot) before anything else touches the table.
  struct Hot {
    Slot* slots;
    std::size_t mask;
    std::size_t room;    // insertions left before the table must grow
    std::uint64_t base;  // where the text being counted starts in all that was counted (streams)

    void prefetch(std::uint64_t hash) const { __builtin_prefetch(&slots[hash & mask]); }

    // One more occurrence of a word of 1..16 bytes (zero padded) first seen at `first`; false
    // when the table must now grow.
    bool add(std::uint64_t k0, std::uint64_t k1, std::uint64_t length, std::uint64_t hash,
             std::uint64_t first) {
      std::size_t i = hash & mask;
      // Most words are found in their home slot: that test comes first, alone, so that its
      // branch is taken nearly always and the loop below runs only for collisions and new words.
      if (__builtin_expect(same(slots[i], k0, k1, length), 1)) {
        slots[i].meta += kOneMore;
        return true;
      }
      while (slots[i].meta != 0) {
        i = (i + 1) & mask;
        if (same(slots[i], k0, k1, length)) {
          slots[i].meta += kOneMore;
          return true;
        }
      }
      slots[i] = Slot{k0, k1, length + kOneMore, base + first};
      return --room != 0;
    }

    static bool same(const Slot& slot, std::uint64_t k0, std::uint64_t k1, std::uint64_t length) {
      return ((slot.k0 ^ k0) | (slot.k1 ^ k1) | ((slot.meta & kLengthBits) ^ length)) == 0;
    }
  };

  explicit WordTable(std::size_t text_size) {
    // English books hold a distinct word per 20 to 45 bytes: start with room for one per 24 (the
    // table of the largest book then stays near 1 MiB), and grow when needed. Not beyond 2^17
    // slots (4 MiB) to start with: a text's vocabulary grows far slower than the text (the eight
    // books together have 36,719 distinct words), and a table sized for one word per 24 bytes of
    // a 263 MB text took 512 MiB, twice the text, for words it never held.
    std::size_t capacity = 1024;
    while (capacity * kMaxLoad / 8 < text_size / 24 && capacity < (std::size_t{1} << 17)) {
      capacity *= 2;
    }
    slots_.resize(capacity);
    hot_ = Hot{slots_.data(), capacity - 1, capacity * kMaxLoad / 8, 0};
    long_slots_.resize(64);
    long_room_ = long_slots_.size() / 2;
  }

  Hot hot() const { return hot_; }
  void set_hot(const Hot& hot) { hot_ = hot; }

  // Streaming (WordCounter): the text comes in pieces that die once counted, so a long word is
  // always copied, and a first occurrence counts from the start of the first piece.
  void start_piece(std::uint64_t base) {
    streaming_ = true;
    hot_.base = base;
  }
  // A text in pieces that all stay in memory while the table lives (views of the corpus): a long
  // word is read where it is, as in one text.
  void start_lasting_piece(std::uint64_t base) { hot_.base = base; }

  // Doubles the table (when its room is used up). The words move in by falling count, so that
  // the frequent ones get their home slot and most lookups stop at the first probe.
  [[gnu::noinline]] void grow();

  // One more occurrence of any non-empty word first seen at `first`. `stable`: its bytes outlive
  // the table, so a long word can be kept as a view instead of copied.
  void add(std::string_view word, bool stable, std::uint64_t first) {
    if (word.size() <= kShortWord) {
      std::uint64_t k0 = 0, k1 = 0;
      pad(word, k0, k1);
      if (!hot_.add(k0, k1, word.size(), hash16(k0, k1), first)) grow();
      return;
    }
    const std::uint64_t hash = hash_long(word.data(), word.size());
    LongSlot& slot = long_slots_[probe_long(word, hash)];
    if (slot.length != 0) {
      ++slot.count;
      return;
    }
    slot = LongSlot{stable && !streaming_ ? word.data() : arena_.copy(word), word.size(), 1,
                    hot_.base + first, hash};
    if (--long_room_ == 0) grow_long();
  }

  // Sets the count of a word to 0 if it was seen.
  void clear_count(std::string_view word);

  // Every word and its count, sorted by the word's bytes. Short words are sorted as integers
  // (their bytes big-endian, then their length, which orders a zero-padded word exactly as its
  // bytes would), long ones as strings; the two runs are merged.
  WordFrequencies sorted() const;

  // Python's most_common(1): the highest count, the earliest seen among equals; nullopt when no
  // word was seen.
  std::optional<WordCount> most_common() const;

 private:
  static constexpr std::size_t kMaxLoad = 5;  // eighths: linear probing stays short
  static constexpr std::uint64_t kNever = std::numeric_limits<std::uint64_t>::max();

  // The bytes of a short word, copied into `bytes`.
  static std::string_view short_word(const Slot& slot, char (&bytes)[kShortWord]);

  static void pad(std::string_view word, std::uint64_t& k0, std::uint64_t& k1) {
    char bytes[kShortWord] = {};
    std::memcpy(bytes, word.data(), word.size());
    k0 = load64(bytes);
    k1 = load64(bytes + 8);
  }

  // The slot of a long word, or the empty slot where it belongs.
  std::size_t probe_long(std::string_view word, std::uint64_t hash) const {
    const std::size_t mask = long_slots_.size() - 1;
    for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
      const LongSlot& slot = long_slots_[i];
      if (slot.length == 0 || (slot.hash == hash && slot.length == word.size() &&
                               std::memcmp(slot.data, word.data(), word.size()) == 0)) {
        return i;
      }
    }
  }

  [[gnu::noinline]] void grow_long();

  std::vector<Slot> slots_;
  Hot hot_{};
  bool streaming_ = false;
  std::vector<LongSlot> long_slots_;
  std::size_t long_room_ = 0;
  Arena arena_;
};

}  // namespace cbench::word_count_detail
