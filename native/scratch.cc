#include "scratch.h"

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <new>

namespace nasrank {

namespace {

constexpr size_t kAlign = 64;
constexpr size_t kGranule = size_t{1} << 16;  // capacities are rounded up to 64 KiB

struct Cached {
  char* data;
  size_t capacity;
};

size_t initial_limit() {
  if (const char* env = std::getenv("NASRANK_SCRATCH_MB")) {
    char* end = nullptr;
    double mb = std::strtod(env, &end);
    if (end != env && mb >= 0 && mb < 1e9) return static_cast<size_t>(mb * 1048576.0);
  }
  return size_t{256} << 20;
}

// A fixed array, so giving a block back (in a destructor) never allocates.
constexpr size_t kMaxCached = 16;

struct Cache {
  std::mutex mutex;
  Cached blocks[kMaxCached];  // [0, count) sorted by capacity, ascending
  size_t count = 0;
  size_t bytes = 0;
  size_t limit = initial_limit();

  void erase(size_t i) {
    bytes -= blocks[i].capacity;
    for (size_t k = i + 1; k < count; ++k) blocks[k - 1] = blocks[k];
    --count;
  }
  // Frees the smallest cached blocks until the cache fits its limit.
  void trim() {
    while (count > 0 && bytes > limit) {
      free_block(blocks[0].data);
      erase(0);
    }
  }
  static void free_block(char* p) { ::operator delete(p, std::align_val_t{kAlign}); }
};

// Never destroyed: blocks may be given back by threads still running at process exit.
Cache& cache() {
  static Cache* c = new Cache();
  return *c;
}

}  // namespace

ScratchBlock::ScratchBlock(size_t bytes) : data_(nullptr), capacity_(0) {
  const size_t want = std::max<size_t>((bytes + kGranule - 1) / kGranule * kGranule, kGranule);
  Cache& c = cache();
  {
    std::lock_guard<std::mutex> lock(c.mutex);
    // Best fit: the smallest cached block that is large enough.
    for (size_t i = 0; i < c.count; ++i) {
      if (c.blocks[i].capacity >= want) {
        data_ = c.blocks[i].data;
        capacity_ = c.blocks[i].capacity;
        c.erase(i);
        return;
      }
    }
  }
  data_ = static_cast<char*>(::operator new(want, std::align_val_t{kAlign}));
  capacity_ = want;
}

ScratchBlock::~ScratchBlock() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  if (capacity_ > c.limit) {
    Cache::free_block(data_);
    return;
  }
  if (c.count == kMaxCached) {  // full: drop the smallest
    Cache::free_block(c.blocks[0].data);
    c.erase(0);
  }
  size_t at = c.count;
  while (at > 0 && c.blocks[at - 1].capacity > capacity_) {
    c.blocks[at] = c.blocks[at - 1];
    --at;
  }
  c.blocks[at] = Cached{data_, capacity_};
  ++c.count;
  c.bytes += capacity_;
  c.trim();
}

size_t scratch_cache_limit() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  return c.limit;
}

void set_scratch_cache_limit(size_t bytes) {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  c.limit = bytes;
  c.trim();
}

size_t release_scratch() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  size_t freed = c.bytes;
  while (c.count > 0) {
    Cache::free_block(c.blocks[0].data);
    c.erase(0);
  }
  return freed;
}

size_t scratch_cached_bytes() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  return c.bytes;
}

}  // namespace nasrank
