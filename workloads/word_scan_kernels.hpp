// The kernels of the scan, which give the same answers: ScalarKernel (portable SWAR code),
// Avx2Kernel and Avx512Kernel (AVX-512 BW: one 64-byte register per block, masks straight from
// the compares; x86-64 only). lower_block lower-cases A-Z in a 64-byte block (other bytes,
// non-ASCII included, are copied) and returns its white-space mask (bit i: byte i is ASCII
// white space); load_key reads the zero-padded key of a short lower-cased word.
//
// Header only, for word_scan.cpp alone: the scan loop is one template over the kernel and must
// inline its calls. The AVX2 functions carry [[gnu::target("avx2")]], so this file needs no
// -mavx2 (nor -mavx512bw: Avx512Kernel carries its own target) and the default build has them;
// word_scan.cpp picks a kernel at run time from the CPU's features. Internal to workloads/.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "workloads/word_bytes.hpp"

#if defined(__x86_64__)
#include <immintrin.h>
#define CBENCH_WORD_SCAN_AVX2 1
#endif

namespace cbench::word_count_detail {

constexpr std::uint64_t kOnes = 0x0101010101010101ull;

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

#define CBENCH_WORD_SCAN_AVX512_TARGET "avx512f,avx512bw,avx512vl,avx2"
struct Avx512Kernel {
  [[gnu::target(CBENCH_WORD_SCAN_AVX512_TARGET)]] static std::uint64_t lower_block(const char* in,
                                                                                   char* out) {
    const __m512i v = _mm512_loadu_si512(in);
    // Unsigned compares of v - lo below the range's length: A..Z, and the white space
    // 0x09..0x0D and 0x1C..0x20 (bytes of 0x80 and up are in neither).
    const __mmask64 upper =
        _mm512_cmplt_epu8_mask(_mm512_sub_epi8(v, _mm512_set1_epi8('A')), _mm512_set1_epi8(26));
    _mm512_storeu_si512(out, _mm512_mask_add_epi8(v, upper, v, _mm512_set1_epi8(0x20)));
    const __mmask64 spaces =
        _mm512_cmplt_epu8_mask(_mm512_sub_epi8(v, _mm512_set1_epi8(0x09)), _mm512_set1_epi8(5)) |
        _mm512_cmplt_epu8_mask(_mm512_sub_epi8(v, _mm512_set1_epi8(0x1C)), _mm512_set1_epi8(5));
    return static_cast<std::uint64_t>(spaces);
  }

  [[gnu::target(CBENCH_WORD_SCAN_AVX512_TARGET)]] static bool load_key(const char* p,
                                                                       std::size_t length,
                                                                       std::uint64_t& k0,
                                                                       std::uint64_t& k1) {
    // The first `length` bytes, the others zero, in one masked load.
    const __m128i v = _mm_maskz_loadu_epi8(static_cast<__mmask16>((1u << length) - 1), p);
    k0 = static_cast<std::uint64_t>(_mm_cvtsi128_si64(v));
    k1 = static_cast<std::uint64_t>(_mm_extract_epi64(v, 1));
    return _mm_movemask_epi8(v) == 0;
  }
};
#endif

}  // namespace cbench::word_count_detail
