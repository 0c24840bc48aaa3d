#include "parallel.h"

#include <cstdlib>

namespace nasrank {

namespace {
int initial_thread_count() {
  if (const char* env = std::getenv("NASRANK_THREADS")) {
    long n = std::strtol(env, nullptr, 10);
    if (n >= 1) return n > kMaxThreads ? kMaxThreads : static_cast<int>(n);
  }
  unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(std::min<unsigned>(hw, kMaxThreads));
}
std::atomic<int> g_threads{initial_thread_count()};
}  // namespace

int thread_count() { return g_threads.load(); }
void set_thread_count(int n) { g_threads.store(n < 1 ? 1 : n > kMaxThreads ? kMaxThreads : n); }

}  // namespace nasrank
