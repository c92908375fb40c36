// Where the coroutines of cbench::Async (coro/async.hpp) and the Asio wait operations they start
// get their memory: a pool per thread of blocks in multiples of 16 bytes, carved from slabs and
// kept on a free list per size once freed. Against malloc it saves each block's header and
// rounding, and, against Asio's own recycling, the blocks it caches per thread; the slabs go back
// to malloc when release_unused() finds no block in use (the coro executor calls it at the end of
// every run), so a pool holds nothing between runs.
//
// A block is freed on the thread that allocated it, with the size it was allocated with (the
// coroutine frame's size, which the compiler passes to operator delete; the operation's, which
// Asio's allocator passes): the event loop that runs a coroutine is single-threaded, and so is
// the pool.
#pragma once

#include <array>
#include <cstddef>
#include <new>

namespace cbench {

class FramePool {
 public:
  // Every block is a multiple of this, and so aligned like operator new's blocks.
  static constexpr std::size_t kGrain = __STDCPP_DEFAULT_NEW_ALIGNMENT__;
  // Larger blocks come from operator new and go back to it.
  static constexpr std::size_t kLargest = 1024;

  struct Stats {
    std::size_t blocks_in_use = 0;  // allocated and not yet freed, of any size
    std::size_t bytes_in_use = 0;   // their sizes, rounded up to kGrain
    std::size_t slab_bytes = 0;     // what the pool holds from malloc (large blocks not counted)
    std::size_t largest_block = 0;  // the largest size asked for since the pool was made
  };

  FramePool() = default;
  FramePool(const FramePool&) = delete;
  FramePool& operator=(const FramePool&) = delete;
  ~FramePool();

  // The calling thread's pool.
  static FramePool& local() noexcept {
    thread_local FramePool pool;
    return pool;
  }

  void* allocate(std::size_t bytes);
  void deallocate(void* block, std::size_t bytes) noexcept;

  // Gives the slabs back to malloc when no block is in use; returns whether it did (or held none).
  bool release_unused() noexcept;

  Stats stats() const noexcept { return stats_; }

 private:
  struct FreeBlock {
    FreeBlock* next;
  };
  struct Slab {
    Slab* next;
    std::size_t bytes;
  };
  static constexpr std::size_t kClasses = kLargest / kGrain;
  static constexpr std::size_t kFirstSlab = 4096;
  // Slabs grow from a page to four: a few tasks waste little of one, many waste little of many.
  static constexpr std::size_t kLargestSlab = 16 * 1024;
  static constexpr std::size_t kSlabHeader = (sizeof(Slab) + kGrain - 1) / kGrain * kGrain;

  static std::size_t rounded(std::size_t bytes) noexcept {
    return bytes == 0 ? kGrain : (bytes + kGrain - 1) / kGrain * kGrain;
  }
  void* carve(std::size_t bytes);
  void free_slabs() noexcept;

  std::array<FreeBlock*, kClasses> free_{};  // free_[k]: freed blocks of (k + 1) * kGrain bytes
  Slab* slabs_ = nullptr;
  char* cursor_ = nullptr;  // the rest of the newest slab, never handed out yet
  char* end_ = nullptr;
  std::size_t next_slab_ = kFirstSlab;
  Stats stats_;
};

// FramePool::local() as a standard allocator: what a handler passed to an Asio operation names as
// its associated allocator, so that the operation's memory comes from the pool too.
template <typename T>
struct FrameAllocator {
  using value_type = T;

  FrameAllocator() noexcept = default;
  template <typename U>
  FrameAllocator(const FrameAllocator<U>&) noexcept {}  // NOLINT: rebinding is implicit

  T* allocate(std::size_t n) {
    static_assert(alignof(T) <= FramePool::kGrain, "the pool aligns to kGrain only");
    return static_cast<T*>(FramePool::local().allocate(n * sizeof(T)));
  }
  void deallocate(T* p, std::size_t n) noexcept { FramePool::local().deallocate(p, n * sizeof(T)); }

  template <typename U>
  bool operator==(const FrameAllocator<U>&) const noexcept {
    return true;
  }
};

}  // namespace cbench
