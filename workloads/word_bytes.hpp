// The byte-level helpers that every part of the word count shares (the hash, the table, the
// kernels, the slow path, the splitting): a 128-bit integer, an unaligned 8-byte load, the mask
// of the bytes' high bits and Python's ASCII white space. Internal to workloads/.
#pragma once

#include <cstdint>
#include <cstring>

namespace cbench::word_count_detail {

__extension__ using Uint128 = unsigned __int128;

constexpr std::uint64_t kHighBits = 0x8080808080808080ull;

inline std::uint64_t load64(const char* p) {
  std::uint64_t v = 0;
  std::memcpy(&v, p, 8);
  return v;
}

// Python's str.split() white space among ASCII bytes: \t \n \v \f \r, \x1c-\x1f and space.
constexpr bool is_ascii_space(unsigned char b) {
  return (b >= 0x09 && b <= 0x0D) || (b >= 0x1C && b <= 0x20);
}

}  // namespace cbench::word_count_detail
