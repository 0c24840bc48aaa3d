// Minimal fork-join helpers. Kernels split work into a fixed number of contiguous
// chunks (not "whatever thread finishes first") so that every reduction is combined in
// the same order on every run: same inputs => bit-identical results.
#pragma once
#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace nasrank {

// Number of worker threads kernels may use (>= 1). Defaults to the hardware
// concurrency, overridable by NASRANK_THREADS or set_thread_count().
int thread_count();
void set_thread_count(int n);

namespace detail {
// Runs work() on `workers` threads (the caller included). An exception thrown on any
// thread (e.g. std::bad_alloc) stops the hand-out of further work via `stop` and is
// rethrown on the calling thread after all threads joined, instead of terminating.
template <class Work>
void run_workers(size_t workers, std::atomic<bool>& stop, Work work) {
  std::exception_ptr error;
  std::mutex error_mutex;
  auto guarded = [&]() {
    try {
      work();
    } catch (...) {
      stop = true;
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!error) error = std::current_exception();
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(workers - 1);
  for (size_t t = 1; t < workers; ++t) pool.emplace_back(guarded);
  guarded();
  for (auto& th : pool) th.join();
  if (error) std::rethrow_exception(error);
}
}  // namespace detail

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
  std::atomic<bool> stop{false};
  detail::run_workers(workers, stop, [&]() {
    for (size_t c = next++; c < chunks && !stop; c = next++) fn(c, bounds(c), bounds(c + 1));
  });
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
  std::atomic<bool> stop{false};
  detail::run_workers(workers, stop, [&]() {
    for (size_t i = next++; i < n && !stop; i = next++) fn(i);
  });
}

}  // namespace nasrank
