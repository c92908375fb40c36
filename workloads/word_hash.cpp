// The hash of words longer than 16 bytes: rare, so it stays out of line and out of the header.
#include "workloads/word_hash.hpp"

#include <cstring>

namespace cbench::word_count_detail {

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

}  // namespace cbench::word_count_detail
