#include "coro/frame_pool.hpp"

#include <algorithm>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
// What the pool holds and has not handed out is poisoned, so that AddressSanitizer sees a frame
// used after it was freed as it would with malloc.
#define CBENCH_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define CBENCH_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define CBENCH_POISON(p, n) ((void)(p), (void)(n))
#define CBENCH_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace cbench {

FramePool::~FramePool() {
  // A block still in use when its thread ends is not this pool's to keep alive: its slab goes too.
  free_slabs();
}

void FramePool::free_slabs() noexcept {
  while (slabs_ != nullptr) {
    Slab* next = slabs_->next;
    CBENCH_UNPOISON(slabs_, slabs_->bytes);
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
    CBENCH_UNPOISON(head, size);
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
  CBENCH_POISON(block, size);
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
    CBENCH_POISON(cursor_, bytes - kSlabHeader);
    stats_.slab_bytes += bytes;
    next_slab_ = std::min(next_slab_ * 2, kLargestSlab);
  }
  void* block = cursor_;
  cursor_ += size;
  CBENCH_UNPOISON(block, size);
  return block;
}

bool FramePool::release_unused() noexcept {
  if (stats_.blocks_in_use != 0) return false;
  free_slabs();
  free_.fill(nullptr);
  cursor_ = end_ = nullptr;
  next_slab_ = kFirstSlab;
  stats_.slab_bytes = 0;
  return true;
}

}  // namespace cbench
