// E6: the trivial map x -> 2x over 0..N-1, whose only cost is dispatch.
#pragma once

namespace cbench {

constexpr long double_it(long x) noexcept {
  return 2 * x;
}

}  // namespace cbench
