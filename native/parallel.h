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

// Upper bound on the worker threads of one call (setThreads, a call's `threads` option and
// NASRANK_THREADS are all capped here): more threads than this only cost memory and
// thread-creation failures.
constexpr int kMaxThreads = 256;

// Number of worker threads kernels may use, in [1, kMaxThreads]. Defaults to the hardware
// concurrency, overridable by NASRANK_THREADS or set_thread_count() (both clamped).
int thread_count();
void set_thread_count(int n);

namespace detail {
// Runs work() on up to `workers` threads (the caller included). An exception thrown on any
// thread (e.g. std::bad_alloc) stops the hand-out of further work via `stop` and is
// rethrown on the calling thread after all threads joined, instead of terminating.
// A thread that cannot be created (std::system_error: resource limits) is not an error:
// work() hands out work dynamically, so the threads already started and the caller do it
// all (chunk boundaries do not depend on the thread count, so results are the same). No
// std::thread is ever destroyed while joinable, which would terminate the process.
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
  try {
    pool.reserve(workers - 1);
    for (size_t t = 1; t < workers; ++t) pool.emplace_back(guarded);
  } catch (...) {
    // std::system_error (no thread) or std::bad_alloc (no room for the pool): go on with
    // the threads that started.
  }
  guarded();
  for (auto& th : pool) th.join();
  if (error) std::rethrow_exception(error);
}
}  // namespace detail

// Runs a() and b(), concurrently when threads >= 2 and a thread can be started. An
// exception from either is rethrown on the calling thread after both finished (a() first).
template <class A, class B>
void parallel_pair(int threads, A a, B b) {
  if (threads < 2) {
    a();
    b();
    return;
  }
  std::exception_ptr error_a;
  auto guarded_a = [&]() {
    try {
      a();
    } catch (...) {
      error_a = std::current_exception();
    }
  };
  std::thread t;
  try {
    t = std::thread(guarded_a);
  } catch (...) {
    guarded_a();  // no thread: run it here
  }
  std::exception_ptr error_b;
  try {
    b();
  } catch (...) {
    error_b = std::current_exception();
  }
  if (t.joinable()) t.join();
  if (error_a) std::rethrow_exception(error_a);
  if (error_b) std::rethrow_exception(error_b);
}

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
