// MD5 (RFC 1321), written out here so the addon needs no crypto library. Used only for the
// NAS-Bench-101 module hash, which is defined in terms of MD5 hex digests.
#pragma once
#include <cstddef>
#include <cstdint>

namespace nasrank {

// The 16-byte digest of data[0, len).
void md5(const uint8_t* data, size_t len, uint8_t digest[16]);

// Multi-buffer MD5: one compression step (one 64-byte block) in each of kMd5Lanes
// independent lanes at once, through SIMD vectors where the compiler has them (AVX2 when
// the CPU has it, chosen at load time; SSE2 otherwise). state is word-major: state[w][l]
// is word w (a, b, c, d) of lane l. Callers pad their messages themselves.
constexpr int kMd5Lanes = 8;
void md5_compress_lanes(uint32_t state[4][kMd5Lanes], const uint8_t* const blocks[kMd5Lanes]);
// The initial MD5 state words.
constexpr uint32_t kMd5Init[4] = {0x67452301u, 0xefcdab89u, 0x98badcfeu, 0x10325476u};

// Writes the 32 lowercase hex characters of a 16-byte digest (no terminator).
inline void hex32(const uint8_t digest[16], char* out) {
  static const char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 16; ++i) {
    out[2 * i] = kHex[digest[i] >> 4];
    out[2 * i + 1] = kHex[digest[i] & 15];
  }
}

}  // namespace nasrank
