// Minimal fork-join helpers. Kernels split work into a fixed number of contiguous
// chunks (not "whatever thread finishes first") so that every reduction is combined in
// the same order on every run: same inputs => bit-identical results.
#pragma once
#include <algorithm>
#include <atomic>
#include <cstddef>
#include <thread>
#include <vector>

namespace nasrank {

// Number of worker threads kernels may use (>= 1). Defaults to the hardware
// concurrency, overridable by NASRANK_THREADS or set_thread_count().
int thread_count();
void set_thread_count(int n);

// Runs fn(chunk_index, begin, end) over `chunks` contiguous, equal slices of [0, n),
// on up to `threads` threads (the calling thread included).
template <class Fn>
void parallel_chunks(size_t n, size_t chunks, int threads, Fn fn) {
  if (chunks == 0) return;
  auto bounds = [&](size_t c) { return n * c / chunks; };
  size_t workers = std::min<size_t>(static_cast<size_t>(std::max(threads, 1)), chunks);
  if (workers <= 1) {
    for (size_t c = 0; c < chunks; ++c) fn(c, bounds(c), bounds(c + 1));
    return;
  }
  std::atomic<size_t> next{0};
  auto work = [&]() {
    for (size_t c = next++; c < chunks; c = next++) fn(c, bounds(c), bounds(c + 1));
  };
  std::vector<std::thread> pool;
  pool.reserve(workers - 1);
  for (size_t t = 1; t < workers; ++t) pool.emplace_back(work);
  work();
  for (auto& th : pool) th.join();
}

// Runs fn(i) for every i in [0, n), handing out indices dynamically (for items of
// very different cost, e.g. triplet anchors). Results must be written per index.
template <class Fn>
void parallel_items(size_t n, int threads, Fn fn) {
  size_t workers = std::min<size_t>(static_cast<size_t>(std::max(threads, 1)), n);
  if (workers <= 1) {
    for (size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  std::atomic<size_t> next{0};
  auto work = [&]() {
    for (size_t i = next++; i < n; i = next++) fn(i);
  };
  std::vector<std::thread> pool;
  pool.reserve(workers - 1);
  for (size_t t = 1; t < workers; ++t) pool.emplace_back(work);
  work();
  for (auto& th : pool) th.join();
}

}  // namespace nasrank
