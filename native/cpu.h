// Run-time CPU dispatch shared by the kernels with hand-written AVX2 paths.
#ifndef NASRANK_CPU_H
#define NASRANK_CPU_H

#include <cstdlib>
#include <cstring>

namespace nasrank {

// NASRANK_NO_AVX2 set to anything but "" or "0" forces the portable kernels (tests use it to
// cover both paths; the results are the same).
inline bool avx2_disabled_by_env() {
  const char* off = std::getenv("NASRANK_NO_AVX2");
  return off != nullptr && *off != '\0' && std::strcmp(off, "0") != 0;
}

// Whether the AVX2+FMA kernels may run: the CPU has both and NASRANK_NO_AVX2 does not forbid
// them. Decided once per process.
inline bool avx2_fma_usable() {
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
  static const bool yes = [] {
    if (avx2_disabled_by_env()) return false;
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  }();
  return yes;
#else
  return false;
#endif
}

}  // namespace nasrank

#endif
