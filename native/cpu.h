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

}  // namespace nasrank

#endif
