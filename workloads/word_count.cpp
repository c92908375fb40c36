// How the count runs (DESIGN §3 gives the semantics; this is about speed):
//
// - The text goes through a 4 KiB buffer 64 bytes at a time: A-Z lower-cased and an ASCII
//   white-space mask computed, with AVX2 when the CPU has it (chosen at run time, so the default
//   build gets it) or with portable SWAR code. Word starts and ends are bit masks walked with
//   count-trailing-zeros, so no branch depends on each byte (a byte loop mispredicts at every word
//   boundary and stalls near 300 MB/s).
// - A word of at most 16 bytes that is all ASCII (nearly every English word) is one masked 16-byte
//   load from that buffer: its zero-padded bytes are its key, its hash input and its comparison,
//   and the table stores them inline, so short words need no key storage at all.
// - Any other word takes an exact slow path: longer ASCII words are lower-cased into a scratch
//   buffer; words with non-ASCII bytes are validated as UTF-8 (Python's offsets), re-split at
//   multi-byte white space (U+0085, U+00A0, U+2000..., which the ASCII scan cannot see) and
//   lower-cased with unicode::append_lower (full mapping, Final_Sigma). Keys longer than 16 bytes
//   point into the text, or into an arena when lower-casing changed them.
// - Words reach the table in batches of 64 whose slots were prefetched while their keys were
//   built, so that cache misses overlap.
//
// Tokenising first and lower-casing each token is exact because white space is neither cased nor
// case-ignorable and lower() never produces it (scripts/gen-unicode-tables asserts both). Splitting
// the whole text rather than line by line is exact because line breaks are white space and a UTF-8
// sequence never holds the bytes \n or \r; so is reporting the first invalid byte of the text.
#include "workloads/word_count.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <utility>

#include "workloads/unicode.hpp"

#if defined(__x86_64__)
#include <immintrin.h>
#define CBENCH_WORD_SCAN_AVX2 1
#endif

namespace cbench {
namespace {

__extension__ using Uint128 = unsigned __int128;

constexpr std::uint64_t kSeed0 = 0x9E3779B97F4A7C15ull;
constexpr std::uint64_t kSeed1 = 0xD6E8FEB86659FD93ull;
constexpr std::uint64_t kHighBits = 0x8080808080808080ull;
constexpr std::uint64_t kOnes = 0x0101010101010101ull;

inline std::uint64_t mix(std::uint64_t a, std::uint64_t b) {
  Uint128 product = static_cast<Uint128>(a) * b;
  return static_cast<std::uint64_t>(product) ^ static_cast<std::uint64_t>(product >> 64);
}

// Hash of a word of at most 16 bytes, zero padded.
inline std::uint64_t hash16(std::uint64_t k0, std::uint64_t k1) {
  return mix(k0 ^ kSeed0, k1 ^ kSeed1);
}

inline std::uint64_t load64(const char* p) {
  std::uint64_t v = 0;
  std::memcpy(&v, p, 8);
  return v;
}

// Hash of a word of more than 16 bytes.
std::uint64_t hash_long(const char* p, std::size_t n) {
  std::uint64_t h = hash16(load64(p), load64(p + 8));
  std::size_t i = 16;
  for (; i + 16 <= n; i += 16) h = mix(h ^ load64(p + i) ^ kSeed0, load64(p + i + 8) ^ kSeed1);
  if (i < n) {
    char rest[16] = {};
    std::memcpy(rest, p + i, n - i);
    h = mix(h ^ load64(rest) ^ kSeed0, load64(rest + 8) ^ kSeed1);
  }
  return h ^ n;
}

bool by_word(const WordCount& a, const WordCount& b) {
  return a.word < b.word;
}

// Python's str.split() white space among ASCII bytes: \t \n \v \f \r, \x1c-\x1f and space.
constexpr bool is_ascii_space(unsigned char b) {
  return (b >= 0x09 && b <= 0x0D) || (b >= 0x1C && b <= 0x20);
}

// ---------------------------------------------------------------------------------------------
// The table: open addressing with linear probing, at most 5/8 full. A slot holds a word of up to
// 16 bytes itself, so a lookup touches one cache line and a hit stores one count. Each slot also
// keeps the offset of its word's first occurrence: Python's Counter order, which decides ties.
// Longer words live in a second, rarely used table, as views of their bytes.

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
    std::size_t room;  // insertions left before the table must grow
    std::uint64_t base;  // where the text being counted starts in all that was counted (streams)

    void prefetch(std::uint64_t hash) const { __builtin_prefetch(&slots[hash & mask]); }

    // One more occurrence of a word of 1..16 bytes (zero padded) first seen at `first`; false
    // when the table must now grow.
    bool add(std::uint64_t k0, std::uint64_t k1, std::uint64_t length, std::uint64_t hash,
             std::uint64_t first) {
      std::size_t i = hash & mask;
      for (;; i = (i + 1) & mask) {
        const Slot& slot = slots[i];
        bool same = ((slot.k0 ^ k0) | (slot.k1 ^ k1) | ((slot.meta & kLengthBits) ^ length)) == 0;
        if (same | (slot.meta == 0)) break;
      }
      Slot& slot = slots[i];
      if (__builtin_expect(slot.meta != 0, 1)) {
        slot.meta += kOneMore;
        return true;
      }
      slot = Slot{k0, k1, length + kOneMore, base + first};
      return --room != 0;
    }
  };

  explicit WordTable(std::size_t text_size) {
    // English books hold a distinct word per 20 to 45 bytes: start with room for one per 24 (the
    // table of the largest book then stays near 1 MiB), and grow when needed.
    std::size_t capacity = 1024;
    while (capacity * kMaxLoad / 8 < text_size / 24 && capacity < (std::size_t{1} << 24)) {
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

  // Doubles the table (when its room is used up). The words move in by falling count, so that
  // the frequent ones get their home slot and most lookups stop at the first probe.
  [[gnu::noinline]] void grow() {
    if (slots_.size() >= (std::size_t{1} << 40)) throw std::length_error("too many words");
    const std::size_t used = slots_.size() * kMaxLoad / 8 - hot_.room;
    std::vector<Slot> words;
    words.reserve(used);
    for (const Slot& slot : slots_) {
      if (slot.meta != 0) words.push_back(slot);
    }
    std::sort(words.begin(), words.end(),
              [](const Slot& a, const Slot& b) { return a.meta > b.meta; });
    std::vector<Slot> bigger(slots_.size() * 2);
    const std::size_t mask = bigger.size() - 1;
    for (const Slot& slot : words) {
      std::size_t i = hash16(slot.k0, slot.k1) & mask;
      while (bigger[i].meta != 0) i = (i + 1) & mask;
      bigger[i] = slot;
    }
    slots_.swap(bigger);
    hot_ = Hot{slots_.data(), mask, slots_.size() * kMaxLoad / 8 - used, hot_.base};
  }

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
  void clear_count(std::string_view word) {
    if (word.empty()) return;
    if (word.size() <= kShortWord) {
      std::uint64_t k0 = 0, k1 = 0;
      pad(word, k0, k1);
      for (std::size_t i = hash16(k0, k1) & hot_.mask;; i = (i + 1) & hot_.mask) {
        Slot& slot = slots_[i];
        if (slot.meta == 0) return;
        if (slot.k0 == k0 && slot.k1 == k1 && (slot.meta & kLengthBits) == word.size()) {
          slot.meta &= kLengthBits;
          return;
        }
      }
    }
    LongSlot& slot = long_slots_[probe_long(word, hash_long(word.data(), word.size()))];
    if (slot.length != 0) slot.count = 0;
  }

  // Every word and its count, sorted by the word's bytes. Short words are sorted as integers
  // (their bytes big-endian, then their length, which orders a zero-padded word exactly as its
  // bytes would), long ones as strings; the two runs are merged.
  WordFrequencies sorted() const {
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

  // Python's most_common(1): the highest count, the earliest seen among equals; nullopt when no
  // word was seen.
  std::optional<WordCount> most_common() const {
    // Without a branch per slot (half the slots are empty, at random): the best slot has the
    // largest count << 64 | ~first, which is 0 for an empty slot; a second pass finds it.
    auto key = [](const Slot& slot) {
      const std::uint64_t used = 0 - static_cast<std::uint64_t>(slot.meta != 0);
      return static_cast<Uint128>(slot.meta / kOneMore) << 64 | (~slot.first & used);
    };
    Uint128 best_key = 0;
    for (const Slot& slot : slots_) {
      const Uint128 k = key(slot);
      const Uint128 more = 0 - static_cast<Uint128>(k > best_key);
      best_key = (k & more) | (best_key & ~more);
    }
    const Slot* best = nullptr;
    if (best_key != 0) {
      for (const Slot& slot : slots_) {
        if (key(slot) == best_key) best = &slot;
      }
    }
    std::uint64_t best_count = static_cast<std::uint64_t>(best_key >> 64);
    std::uint64_t best_first = ~static_cast<std::uint64_t>(best_key);
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

 private:
  static constexpr std::size_t kMaxLoad = 5;  // eighths: linear probing stays short
  static constexpr std::uint64_t kNever = std::numeric_limits<std::uint64_t>::max();

  // The bytes of a short word, copied into `bytes`.
  static std::string_view short_word(const Slot& slot, char (&bytes)[kShortWord]) {
    std::memcpy(bytes, &slot.k0, 8);
    std::memcpy(bytes + 8, &slot.k1, 8);
    return std::string_view(bytes, slot.meta & kLengthBits);
  }

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

  [[gnu::noinline]] void grow_long() {
    std::vector<LongSlot> bigger(long_slots_.size() * 2);
    const std::size_t mask = bigger.size() - 1;
    for (const LongSlot& slot : long_slots_) {
      if (slot.length == 0) continue;
      std::size_t i = slot.hash & mask;
      while (bigger[i].length != 0) i = (i + 1) & mask;
      bigger[i] = slot;
    }
    long_slots_.swap(bigger);
    long_room_ = long_slots_.size() / 4;
  }

  std::vector<Slot> slots_;
  Hot hot_{};
  bool streaming_ = false;
  std::vector<LongSlot> long_slots_;
  std::size_t long_room_ = 0;
  Arena arena_;
};

// ---------------------------------------------------------------------------------------------
// The slow path: words longer than 16 bytes or holding non-ASCII bytes.

struct SlowPath {
  std::string_view text;
  WordTable& table;
  std::string scratch;

  // A white-space-free piece of valid UTF-8.
  void add_piece(std::size_t begin, std::size_t end) {
    if (begin == end) return;
    std::string_view piece = text.substr(begin, end - begin);
    scratch.clear();
    unicode::append_lower(piece, scratch);
    bool unchanged = scratch == piece;
    table.add(unchanged ? piece : std::string_view(scratch), unchanged, begin);
  }

  [[gnu::noinline]] void add_word(std::size_t begin, std::size_t end) {
    const auto* p = reinterpret_cast<const unsigned char*>(text.data());
    std::size_t i = begin;
    while (i + 8 <= end && (load64(text.data() + i) & kHighBits) == 0) i += 8;
    while (i < end && p[i] < 0x80) ++i;
    if (i == end) {  // ASCII: lower-case A-Z only
      scratch.assign(text.data() + begin, end - begin);
      bool changed = false;
      for (char& c : scratch) {
        if (c >= 'A' && c <= 'Z') {
          c = static_cast<char>(c + ('a' - 'A'));
          changed = true;
        }
      }
      table.add(changed ? std::string_view(scratch) : text.substr(begin, end - begin), !changed,
                begin);
      return;
    }
    // Validate (the ASCII scan only split at ASCII white space) and split at Unicode white space.
    std::size_t piece = begin;
    while (i < end) {
      if (p[i] < 0x80) {
        ++i;
        continue;
      }
      char32_t c = 0;
      std::size_t length = unicode::decode_multibyte(text.substr(i, end - i), c);
      if (length == 0) throw unicode::InvalidUtf8(i);
      if (unicode::is_space(c)) {
        add_piece(piece, i);
        piece = i + length;
      }
      i += length;
    }
    add_piece(piece, end);
  }
};

// ---------------------------------------------------------------------------------------------
// The kernels. lower_block lower-cases A-Z in a 64-byte block (other bytes, non-ASCII included,
// are copied) and returns its white-space mask (bit i: byte i is ASCII white space); load_key
// reads the zero-padded key of a short lower-cased word. Both kernels give the same answers.

struct ScalarKernel {
  // 0x80 in each byte of x in [lo, hi]; only for bytes below 0x80 (the caller masks the others).
  // Adding to bytes of at most 0x7F never carries into the next byte.
  static std::uint64_t in_range(std::uint64_t x7, unsigned lo, unsigned hi) {
    return ((x7 + (0x80 - lo) * kOnes) & ~(x7 + (0x80 - hi - 1) * kOnes)) & kHighBits;
  }

  static std::uint64_t lower_block(const char* in, char* out) {
    std::uint64_t mask = 0;
    for (int w = 0; w < 8; ++w) {
      std::uint64_t x = load64(in + 8 * w);
      std::uint64_t x7 = x & ~kHighBits;
      std::uint64_t ascii = ~x & kHighBits;
      std::uint64_t spaces = (in_range(x7, 0x09, 0x0D) | in_range(x7, 0x1C, 0x20)) & ascii;
      std::uint64_t upper = in_range(x7, 'A', 'Z') & ascii;
      x |= upper >> 2;  // 0x80 >> 2 == 0x20
      std::memcpy(out + 8 * w, &x, 8);
      // Gather the eight 0x80 flags into eight bits.
      mask |= (((spaces >> 7) * 0x0102040810204080ull) >> 56) << (8 * w);
    }
    return mask;
  }

  // The `length` (1..16) bytes at p (16 readable), zero padded; false when one is not ASCII.
  static bool load_key(const char* p, std::size_t length, std::uint64_t& k0, std::uint64_t& k1) {
    std::uint64_t m0 = ~std::uint64_t{0} >> (64 - 8 * std::min<std::size_t>(length, 8));
    std::uint64_t m1 = length > 8 ? ~std::uint64_t{0} >> (128 - 8 * length) : 0;
    k0 = load64(p) & m0;
    k1 = load64(p + 8) & m1;
    return ((k0 | k1) & kHighBits) == 0;
  }
};

#ifdef CBENCH_WORD_SCAN_AVX2
struct Avx2Kernel {
  [[gnu::target("avx2")]] static std::uint32_t lower32(const char* in, char* out) {
    __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in));
    // 'A'..'Z' + 0x3F is 0x80..0x99, the only bytes below -102 as signed.
    __m256i upper =
        _mm256_cmpgt_epi8(_mm256_set1_epi8(-102), _mm256_add_epi8(v, _mm256_set1_epi8(0x3F)));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out),
                        _mm256_or_si256(v, _mm256_and_si256(upper, _mm256_set1_epi8(0x20))));
    // Nibble lookup: low nibble -> which high nibbles (bit 0: 0x0_, 1: 0x1_, 2: 0x2_) make a
    // white-space byte. vpshufb gives 0 for bytes >= 0x80, which are never white space.
    const __m256i by_low = _mm256_setr_epi8(4, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 3, 3, 2, 2,  //
                                            4, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 3, 3, 2, 2);
    const __m256i by_high = _mm256_setr_epi8(1, 2, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  //
                                             1, 2, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    __m256i low = _mm256_shuffle_epi8(by_low, v);
    __m256i high = _mm256_shuffle_epi8(
        by_high, _mm256_and_si256(_mm256_srli_epi16(v, 4), _mm256_set1_epi8(0x0F)));
    __m256i not_space = _mm256_cmpeq_epi8(_mm256_and_si256(low, high), _mm256_setzero_si256());
    return ~static_cast<std::uint32_t>(_mm256_movemask_epi8(not_space));
  }

  [[gnu::target("avx2")]] static std::uint64_t lower_block(const char* in, char* out) {
    return lower32(in, out) | std::uint64_t{lower32(in + 32, out + 32)} << 32;
  }

  [[gnu::target("avx2")]] static bool load_key(const char* p, std::size_t length, std::uint64_t& k0,
                                               std::uint64_t& k1) {
    // 16 bytes of 0xFF then 16 of 0: loading at 16 - length keeps the first `length` bytes.
    alignas(32) static constexpr signed char kKeep[32] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                                          -1, -1, -1, -1, -1, -1, -1, -1};
    __m128i v =
        _mm_and_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)),
                      _mm_loadu_si128(reinterpret_cast<const __m128i*>(kKeep + 16 - length)));
    k0 = static_cast<std::uint64_t>(_mm_cvtsi128_si64(v));
    k1 = static_cast<std::uint64_t>(_mm_extract_epi64(v, 1));
    return _mm_movemask_epi8(v) == 0;
  }
};
#endif

// ---------------------------------------------------------------------------------------------
// The scan, one body for both kernels. The text goes through a 4 KiB buffer in which it is
// lower-cased (A-Z) and padded, so that a short word's key is one 16-byte load that never reads
// past the text; the buffer keeps the previous chunk's last 64 bytes in front, for short words
// that straddle two chunks.

template <class Kernel>
inline void count_words(std::string_view text, WordTable& table) {
  const char* const p = text.data();
  const std::size_t n = text.size();
  SlowPath slow{text, table, {}};
  WordTable::Hot hot = table.hot();

  constexpr std::size_t kChunk = 4096;
  alignas(64) char lowered[64 + kChunk + 64];
  std::memset(lowered, ' ', sizeof lowered);
  char* const origin = lowered + 64;  // the chunk's first byte
  std::uint64_t masks[kChunk / 64 + 1];
  std::size_t chunk = 0;  // the chunk's offset in the text

  // Words go through a small batch: keys and hashes first, prefetching their slots, then the
  // table updates, so that cache misses overlap instead of stalling one after the other.
  struct Pending {
    std::uint64_t k0, k1, hash;
    std::size_t begin, end;
    bool fast;  // false: the slow path
  };
  constexpr std::size_t kBatch = 64;
  Pending batch[kBatch + 32];  // a block ends at most 32 words
  std::size_t pending = 0;

  auto word = [&](std::size_t begin, std::size_t end) {
    Pending& w = batch[pending++];
    w.begin = begin;
    w.end = end;
    w.fast = false;
    const std::size_t length = end - begin;
    if (length <= kShortWord) {
      // A short word begins at most 16 bytes before the chunk, inside the kept 64 bytes.
      const char* key =
          origin + (static_cast<std::ptrdiff_t>(begin) - static_cast<std::ptrdiff_t>(chunk));
      if (Kernel::load_key(key, length, w.k0, w.k1)) {
        w.hash = hash16(w.k0, w.k1);
        w.fast = true;
        hot.prefetch(w.hash);
      }
    }
  };
  auto flush = [&] {
    for (std::size_t i = 0; i < pending; ++i) {
      const Pending& w = batch[i];
      if (w.fast) {
        if (hot.add(w.k0, w.k1, w.end - w.begin, w.hash, w.begin)) continue;
        table.set_hot(hot);
        table.grow();
      } else {
        table.set_hot(hot);
        slow.add_word(w.begin, w.end);
      }
      hot = table.hot();
    }
    pending = 0;
  };

  std::uint64_t space_before = 1;  // the byte before the text counts as white space
  bool open = false;               // a word started in an earlier block
  std::size_t open_begin = 0;
  auto block = [&](std::uint64_t spaces, std::size_t base) {
    std::uint64_t after_space = spaces << 1 | space_before;
    std::uint64_t begins = ~spaces & after_space;
    std::uint64_t ends = spaces & ~after_space;
    space_before = spaces >> 63;
    if (open && ends != 0) {
      word(open_begin, base + static_cast<std::size_t>(__builtin_ctzll(ends)));
      ends &= ends - 1;
      open = false;
    }
    while (ends != 0) {
      std::size_t begin = base + static_cast<std::size_t>(__builtin_ctzll(begins));
      std::size_t end = base + static_cast<std::size_t>(__builtin_ctzll(ends));
      begins &= begins - 1;
      ends &= ends - 1;
      word(begin, end);
    }
    if (begins != 0) {
      open_begin = base + static_cast<std::size_t>(__builtin_ctzll(begins));
      open = true;
    }
  };

  for (;;) {
    const std::size_t size = std::min(kChunk, n - chunk);
    std::size_t blocks = 0;
    for (; 64 * blocks + 64 <= size; ++blocks) {
      masks[blocks] = Kernel::lower_block(p + chunk + 64 * blocks, origin + 64 * blocks);
    }
    const bool last = size < kChunk;
    if (last) {  // the rest, padded with spaces, which also end the last word
      char rest[64];
      std::memset(rest, ' ', sizeof rest);
      if (size > 64 * blocks) std::memcpy(rest, p + chunk + 64 * blocks, size - 64 * blocks);
      masks[blocks] = Kernel::lower_block(rest, origin + 64 * blocks);
      ++blocks;
    }
    for (std::size_t b = 0; b < blocks; ++b) {
      block(masks[b], chunk + 64 * b);
      if (pending >= kBatch) flush();
    }
    if (last) break;
    std::memcpy(lowered, lowered + kChunk, 64);
    chunk += kChunk;
  }
  flush();
  table.set_hot(hot);
}

[[gnu::flatten]] void count_words_scalar(std::string_view text, WordTable& table) {
  count_words<ScalarKernel>(text, table);
}

#ifdef CBENCH_WORD_SCAN_AVX2
[[gnu::target("avx2"), gnu::flatten]] void count_words_avx2(std::string_view text,
                                                            WordTable& table) {
  count_words<Avx2Kernel>(text, table);
}
#endif

std::atomic<bool> force_scalar{false};

bool cpu_has_avx2() {
#ifdef CBENCH_WORD_SCAN_AVX2
  static const bool has = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") != 0;
  }();
  return has;
#else
  return false;
#endif
}

bool use_avx2() {
  return !force_scalar.load(std::memory_order_relaxed) && cpu_has_avx2();
}

void count_all(std::string_view text, WordTable& table) {
#ifdef CBENCH_WORD_SCAN_AVX2
  if (use_avx2()) {
    count_words_avx2(text, table);
    return;
  }
#endif
  count_words_scalar(text, table);
}

// Python's str.strip() white space at either end of valid or invalid UTF-8 bytes.
std::string_view strip(std::string_view s) {
  auto space_at_front = [](std::string_view t) -> std::size_t {
    auto b = static_cast<unsigned char>(t.front());
    if (b < 0x80) return is_ascii_space(b) ? 1 : 0;
    char32_t c = 0;
    std::size_t length = unicode::decode_multibyte(t, c);
    return length != 0 && unicode::is_space(c) ? length : 0;
  };
  auto space_at_back = [](std::string_view t) -> std::size_t {
    auto b = static_cast<unsigned char>(t.back());
    if (b < 0x80) return is_ascii_space(b) ? 1 : 0;
    for (std::size_t length = 2; length <= 4 && length <= t.size(); ++length) {
      char32_t c = 0;
      if (unicode::decode_multibyte(t.substr(t.size() - length), c) == length) {
        return unicode::is_space(c) ? length : 0;
      }
    }
    return 0;
  };
  while (!s.empty()) {
    std::size_t length = space_at_front(s);
    if (length == 0) break;
    s.remove_prefix(length);
  }
  while (!s.empty()) {
    std::size_t length = space_at_back(s);
    if (length == 0) break;
    s.remove_suffix(length);
  }
  return s;
}

}  // namespace

StopWords parse_stop_words(std::string_view file_text) {
  unicode::check_utf8(file_text);  // Python reads the file as UTF-8 text
  StopWords words;
  // Python's text mode ends lines at \n, \r\n and \r; blank lines are skipped, so splitting at
  // every \r and \n gives the same words.
  while (!file_text.empty()) {
    std::size_t end = file_text.find_first_of("\r\n");
    std::string_view line = file_text.substr(0, end);
    std::string_view word = strip(line);
    if (!word.empty()) words.emplace_back(word);
    if (end == std::string_view::npos) break;
    file_text.remove_prefix(end + 1);
  }
  return words;
}

namespace {

// counter[w] = 0 for each stop word, then most_common(1). A stop word that is absent would be
// inserted after every word of the text with a count of 0; it can never win (an earlier word has
// at least the same count), so it need not be inserted.
WordCount most_common_in(WordTable& table, const StopWords& stop_words, bool empty) {
  for (const auto& stop_word : stop_words) table.clear_count(stop_word);
  auto best = table.most_common();
  if (!best) {
    throw std::invalid_argument(empty ? "the text is empty" : "the text has no words (all white space)");
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

WordFrequencies word_frequencies(std::string_view chunk) {
  WordTable table(chunk.size());
  count_all(chunk, table);
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

std::vector<std::string_view> split_at_whitespace(std::string_view text, int parts) {
  if (parts < 1) throw std::invalid_argument("split_at_whitespace: parts must be at least 1");
  std::vector<std::string_view> pieces;
  pieces.reserve(static_cast<std::size_t>(parts));
  const std::size_t n = text.size();
  std::size_t begin = 0;
  for (int k = 1; k < parts; ++k) {
    auto target = static_cast<std::size_t>(static_cast<Uint128>(n) * static_cast<unsigned>(k) /
                                           static_cast<unsigned>(parts));
    std::size_t cut = std::max(target, begin);
    while (cut < n && !is_ascii_space(static_cast<unsigned char>(text[cut]))) ++cut;
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

std::string_view word_scan_kernel() {
  return use_avx2() ? "avx2" : "scalar";
}

void force_scalar_word_scan(bool force) {
  force_scalar.store(force, std::memory_order_relaxed);
}

}  // namespace cbench
