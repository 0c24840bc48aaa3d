// Reusable scratch memory for kernels with large temporaries (Kendall's tau needs 24 bytes
// per element). Freshly allocated memory costs a page fault per 4 KiB on first touch, which
// on small VMs is as slow as the kernel itself, so blocks are kept in a process-wide cache
// when a call finishes and handed to the next call that fits: repeated calls touch memory
// that is already mapped. The cache is bounded (NASRANK_SCRATCH_MB, default 256 MiB, or
// set_scratch_cache_limit) and can be emptied at any time (release_scratch). Thread-safe:
// concurrent calls (async jobs, worker_threads) each hold their own block.
#pragma once
#include <cstddef>

namespace nasrank {

// An uninitialised block of at least `bytes` bytes, 64-byte aligned, owned until destroyed.
// Throws std::bad_alloc when memory is exhausted.
class ScratchBlock {
 public:
  explicit ScratchBlock(size_t bytes);
  ~ScratchBlock();
  ScratchBlock(const ScratchBlock&) = delete;
  ScratchBlock& operator=(const ScratchBlock&) = delete;
  char* data() const { return data_; }
  size_t capacity() const { return capacity_; }

 private:
  char* data_;
  size_t capacity_;
};

// Carves typed, 64-byte aligned arrays out of a ScratchBlock (sizes computed up front).
class ScratchLayout {
 public:
  template <class T>
  size_t add(size_t count) {
    size_t at = bytes_;
    bytes_ += (count * sizeof(T) + 63) & ~size_t{63};
    return at;
  }
  size_t bytes() const { return bytes_; }

 private:
  size_t bytes_ = 0;
};

template <class T>
T* scratch_at(const ScratchBlock& block, size_t offset) {
  return reinterpret_cast<T*>(block.data() + offset);
}

// Bytes the cache may keep between calls; blocks beyond it are freed when given back.
size_t scratch_cache_limit();
// Sets the limit (0 disables caching) and frees cached blocks beyond it.
void set_scratch_cache_limit(size_t bytes);
// Frees every cached block (blocks in use are unaffected); returns the bytes freed.
size_t release_scratch();
// Bytes currently cached (not in use).
size_t scratch_cached_bytes();

}  // namespace nasrank
