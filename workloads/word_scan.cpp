// The scan loop: one body for every kernel that goes through the text, builds each short word's
// key and hands it to the table, and sends the other words to the slow path; then the run-time
// choice of kernel. It is the hot loop of every word-count workload. What it calls lives beside
// it: the kernels in word_scan_kernels.hpp, the slow path in word_slow_path.hpp, the table in
// word_table.*, the hash in word_hash.*.
//
// How the count runs (docs/design.md, "Workload semantics", gives the semantics; this is about
// speed):
//
// - The text goes through a 4 KiB buffer 64 bytes at a time: A-Z lower-cased and an ASCII
//   white-space mask computed, with AVX-512 BW or AVX2 when the CPU has it (chosen at run time,
//   so the default build gets it) or with portable SWAR code. Word starts and ends are bit masks
//   walked with count-trailing-zeros, so no branch depends on each byte (a byte loop mispredicts at
//   every word boundary and stalls near 300 MB/s).
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
#include "workloads/word_scan.hpp"

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "workloads/word_count.hpp"
#include "workloads/word_hash.hpp"
#include "workloads/word_scan_kernels.hpp"
#include "workloads/word_slow_path.hpp"

namespace cbench {
namespace word_count_detail {
namespace {

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

[[gnu::target(CBENCH_WORD_SCAN_AVX512_TARGET), gnu::flatten]] void count_words_avx512(
    std::string_view text, WordTable& table) {
  count_words<Avx512Kernel>(text, table);
}
#endif

enum class Kernel { scalar, avx2, avx512 };
constexpr std::string_view kKernelNames[] = {"scalar", "avx2", "avx512"};

// The best kernel this CPU runs.
Kernel best_kernel() {
#ifdef CBENCH_WORD_SCAN_AVX2
  static const Kernel best = [] {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl")) {
      return Kernel::avx512;
    }
    return __builtin_cpu_supports("avx2") ? Kernel::avx2 : Kernel::scalar;
  }();
  return best;
#else
  return Kernel::scalar;
#endif
}

// -1: the best; else a Kernel forced by the tests.
std::atomic<int> forced{-1};

Kernel chosen() {
  const int f = forced.load(std::memory_order_relaxed);
  return f < 0 ? best_kernel() : static_cast<Kernel>(f);
}

}  // namespace

void count_all(std::string_view text, WordTable& table) {
  switch (chosen()) {
#ifdef CBENCH_WORD_SCAN_AVX2
    case Kernel::avx512:
      count_words_avx512(text, table);
      return;
    case Kernel::avx2:
      count_words_avx2(text, table);
      return;
#endif
    default:
      count_words_scalar(text, table);
  }
}

}  // namespace word_count_detail

std::string_view word_scan_kernel() {
  return word_count_detail::kKernelNames[static_cast<int>(word_count_detail::chosen())];
}

std::vector<std::string_view> word_scan_kernels() {
  using namespace word_count_detail;
  std::vector<std::string_view> kernels;
  for (int k = 0; k <= static_cast<int>(best_kernel()); ++k) kernels.push_back(kKernelNames[k]);
  return kernels;
}

void force_word_scan_kernel(std::string_view name) {
  using namespace word_count_detail;
  if (name.empty()) {
    forced.store(-1, std::memory_order_relaxed);
    return;
  }
  for (int k = 0; k <= static_cast<int>(best_kernel()); ++k) {
    if (kKernelNames[k] == name) {
      forced.store(k, std::memory_order_relaxed);
      return;
    }
  }
  throw std::invalid_argument("this CPU has no \"" + std::string(name) + "\" word-scan kernel");
}

void force_scalar_word_scan(bool force) {
  force_word_scan_kernel(force ? "scalar" : "");
}

}  // namespace cbench
