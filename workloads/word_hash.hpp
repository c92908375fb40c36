// The hash of a word's bytes, in one place because the table's lookups, its growth and the scan's
// prefetches must all agree on it: one 64x64->128-bit multiply for a zero-padded word of at most
// 16 bytes (nearly every word; inline, the scan hashes each of them), a loop of them for longer
// words. Internal to workloads/.
#pragma once

#include <cstddef>
#include <cstdint>

#include "workloads/word_bytes.hpp"

namespace cbench::word_count_detail {

constexpr std::uint64_t kSeed0 = 0x9E3779B97F4A7C15ull;
constexpr std::uint64_t kSeed1 = 0xD6E8FEB86659FD93ull;

inline std::uint64_t mix(std::uint64_t a, std::uint64_t b) {
  Uint128 product = static_cast<Uint128>(a) * b;
  return static_cast<std::uint64_t>(product) ^ static_cast<std::uint64_t>(product >> 64);
}

// Hash of a word of at most 16 bytes, zero padded.
inline std::uint64_t hash16(std::uint64_t k0, std::uint64_t k1) {
  return mix(k0 ^ kSeed0, k1 ^ kSeed1);
}

// Hash of a word of more than 16 bytes.
std::uint64_t hash_long(const char* p, std::size_t n);

}  // namespace cbench::word_count_detail
