#include "coro/frame_pool.hpp"

#include <algorithm>

namespace cbench {

FramePool::~FramePool() {
  // A block still in use when its thread ends is not this pool's to keep alive: its slab goes too.
  while (slabs_ != nullptr) {
    Slab* next = slabs_->next;
    ::operator delete(slabs_, slabs_->bytes);
    slabs_ = next;
  }
}

void* FramePool::allocate(std::size_t bytes) {
  const std::size_t size = rounded(bytes);
  stats_.largest_block = std::max(stats_.largest_block, bytes);
  void* block = nullptr;
  if (size > kLargest) {
    block = ::operator new(size);
  } else if (FreeBlock*& head = free_[size / kGrain - 1]; head != nullptr) {
    block = head;
    head = head->next;
  } else {
    block = carve(size);
  }
  ++stats_.blocks_in_use;
  stats_.bytes_in_use += size;
  return block;
}

void FramePool::deallocate(void* block, std::size_t bytes) noexcept {
  if (block == nullptr) return;
  const std::size_t size = rounded(bytes);
  --stats_.blocks_in_use;
  stats_.bytes_in_use -= size;
  if (size > kLargest) {
    ::operator delete(block, size);
    return;
  }
  FreeBlock*& head = free_[size / kGrain - 1];
  head = ::new (block) FreeBlock{head};
}

// A block from the newest slab, or from a new one when it has too little left. What was left of
// the old slab is not lost for good: it goes back to malloc with the slab.
void* FramePool::carve(std::size_t size) {
  if (static_cast<std::size_t>(end_ - cursor_) < size) {
    const std::size_t bytes = next_slab_;
    auto* slab = static_cast<Slab*>(::operator new(bytes));
    slab->next = slabs_;
    slab->bytes = bytes;
    slabs_ = slab;
    cursor_ = reinterpret_cast<char*>(slab) + kSlabHeader;
    end_ = reinterpret_cast<char*>(slab) + bytes;
    stats_.slab_bytes += bytes;
    next_slab_ = std::min(next_slab_ * 2, kLargestSlab);
  }
  void* block = cursor_;
  cursor_ += size;
  return block;
}

bool FramePool::release_unused() noexcept {
  if (stats_.blocks_in_use != 0) return false;
  while (slabs_ != nullptr) {
    Slab* next = slabs_->next;
    ::operator delete(slabs_, slabs_->bytes);
    slabs_ = next;
  }
  free_.fill(nullptr);
  cursor_ = end_ = nullptr;
  next_slab_ = kFirstSlab;
  stats_.slab_bytes = 0;
  return true;
}

}  // namespace cbench
