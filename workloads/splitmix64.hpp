// splitmix64 (Steele, Lea and Flood, 2014): a tiny generator whose stream is the same on every
// platform, unlike std::uniform_int_distribution, whose draws differ between standard libraries.
// The eigenvalue workload's matrices and the generated corpus are drawn from it, so that the C++
// suite and the Python peer see the same inputs.
#pragma once

#include <cstdint>

namespace cbench {

class SplitMix64 {
 public:
  explicit constexpr SplitMix64(std::uint64_t seed) noexcept : state_(seed) {}

  constexpr std::uint64_t next() noexcept {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  // Uniform in [0, 1) from the top 53 bits.
  constexpr double next_unit() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

 private:
  std::uint64_t state_;
};

}  // namespace cbench
