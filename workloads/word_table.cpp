// The word table's growth: both tables double when their room is used up, a few times per text
// at most. Out of line (gnu::noinline) so that the scan loop, which calls grow, stays small.
#include "workloads/word_table.hpp"

#include <algorithm>
#include <cstddef>
#include <stdexcept>
#include <vector>

namespace cbench::word_count_detail {

void WordTable::grow() {
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

void WordTable::grow_long() {
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

}  // namespace cbench::word_count_detail
