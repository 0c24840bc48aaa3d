// MD5 after RFC 1321: 64-byte blocks, four rounds of sixteen steps, little-endian words.
#include "md5.h"

#include <cstring>

// The multi-lane compression uses GCC vector extensions (8 x uint32); on x86-64 Linux it is
// compiled for x86-64-v3 (AVX2) and the baseline and dispatched at load time, never
// -march=native. Other compilers get a loop over the scalar compression.
#if defined(__GNUC__) && !defined(__clang__) && !defined(NASRANK_NO_VECTOR_LOOPS)
#define NASRANK_MD5_VECTOR 1
#pragma GCC diagnostic ignored "-Wpsabi"
#else
#define NASRANK_MD5_VECTOR 0
#endif
#if defined(__GNUC__)
#define NASRANK_MD5_INLINE inline __attribute__((always_inline))
#else
#define NASRANK_MD5_INLINE inline
#endif
#if NASRANK_MD5_VECTOR && defined(__x86_64__) && defined(__linux__) && !defined(NASRANK_NO_TARGET_CLONES)
#define NASRANK_MD5_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define NASRANK_MD5_CLONES
#endif

namespace nasrank {

namespace {

constexpr uint32_t kT[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391};

template <class T>
NASRANK_MD5_INLINE T rotl(T x, int s) { return (x << s) | (x >> (32 - s)); }

inline uint32_t load_le32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) | (static_cast<uint32_t>(p[2]) << 16) |
         (static_cast<uint32_t>(p[3]) << 24);
}

// The 64 steps written out (F, G, H, I rounds); the compiler keeps a..d in registers.
#define NASRANK_MD5_STEP(f, a, b, c, d, x, t, s) \
  a += f(b, c, d) + (x) + (t);                   \
  a = rotl(a, s) + b;
#define NASRANK_F(x, y, z) (((x) & (y)) | (~(x) & (z)))
#define NASRANK_G(x, y, z) (((x) & (z)) | ((y) & ~(z)))
#define NASRANK_H(x, y, z) ((x) ^ (y) ^ (z))
#define NASRANK_I(x, y, z) ((y) ^ ((x) | ~(z)))

// The 64 steps on words of type W (uint32_t, or a vector of lanes).
template <class W>
NASRANK_MD5_INLINE void rounds(W& a, W& b, W& c, W& d, const W* m) {
  for (int r = 0; r < 16; r += 4) {
    NASRANK_MD5_STEP(NASRANK_F, a, b, c, d, m[r], kT[r], 7)
    NASRANK_MD5_STEP(NASRANK_F, d, a, b, c, m[r + 1], kT[r + 1], 12)
    NASRANK_MD5_STEP(NASRANK_F, c, d, a, b, m[r + 2], kT[r + 2], 17)
    NASRANK_MD5_STEP(NASRANK_F, b, c, d, a, m[r + 3], kT[r + 3], 22)
  }
  for (int r = 16; r < 32; r += 4) {
    NASRANK_MD5_STEP(NASRANK_G, a, b, c, d, m[(5 * r + 1) & 15], kT[r], 5)
    NASRANK_MD5_STEP(NASRANK_G, d, a, b, c, m[(5 * r + 6) & 15], kT[r + 1], 9)
    NASRANK_MD5_STEP(NASRANK_G, c, d, a, b, m[(5 * r + 11) & 15], kT[r + 2], 14)
    NASRANK_MD5_STEP(NASRANK_G, b, c, d, a, m[(5 * r + 16) & 15], kT[r + 3], 20)
  }
  for (int r = 32; r < 48; r += 4) {
    NASRANK_MD5_STEP(NASRANK_H, a, b, c, d, m[(3 * r + 5) & 15], kT[r], 4)
    NASRANK_MD5_STEP(NASRANK_H, d, a, b, c, m[(3 * r + 8) & 15], kT[r + 1], 11)
    NASRANK_MD5_STEP(NASRANK_H, c, d, a, b, m[(3 * r + 11) & 15], kT[r + 2], 16)
    NASRANK_MD5_STEP(NASRANK_H, b, c, d, a, m[(3 * r + 14) & 15], kT[r + 3], 23)
  }
  for (int r = 48; r < 64; r += 4) {
    NASRANK_MD5_STEP(NASRANK_I, a, b, c, d, m[(7 * r) & 15], kT[r], 6)
    NASRANK_MD5_STEP(NASRANK_I, d, a, b, c, m[(7 * r + 7) & 15], kT[r + 1], 10)
    NASRANK_MD5_STEP(NASRANK_I, c, d, a, b, m[(7 * r + 14) & 15], kT[r + 2], 15)
    NASRANK_MD5_STEP(NASRANK_I, b, c, d, a, m[(7 * r + 21) & 15], kT[r + 3], 21)
  }
}

void block(uint32_t h[4], const uint8_t* p) {
  uint32_t m[16];
  for (int i = 0; i < 16; ++i) m[i] = load_le32(p + 4 * i);
  uint32_t a = h[0], b = h[1], c = h[2], d = h[3];
  rounds(a, b, c, d, m);
  h[0] += a;
  h[1] += b;
  h[2] += c;
  h[3] += d;
}

#undef NASRANK_MD5_STEP
#undef NASRANK_F
#undef NASRANK_G
#undef NASRANK_H
#undef NASRANK_I

}  // namespace

#if NASRANK_MD5_VECTOR
typedef uint32_t v8u __attribute__((vector_size(4 * kMd5Lanes)));

NASRANK_MD5_CLONES void md5_compress_lanes(uint32_t state[4][kMd5Lanes], const uint8_t* const blocks[kMd5Lanes]) {
  v8u m[16];
  for (int i = 0; i < 16; ++i) {
    for (int l = 0; l < kMd5Lanes; ++l) m[i][l] = load_le32(blocks[l] + 4 * i);
  }
  v8u s[4];
  std::memcpy(s, state, sizeof s);
  v8u a = s[0], b = s[1], c = s[2], d = s[3];
  rounds(a, b, c, d, m);
  s[0] += a;
  s[1] += b;
  s[2] += c;
  s[3] += d;
  std::memcpy(state, s, sizeof s);
}
#else
void md5_compress_lanes(uint32_t state[4][kMd5Lanes], const uint8_t* const blocks[kMd5Lanes]) {
  for (int l = 0; l < kMd5Lanes; ++l) {
    uint32_t h[4] = {state[0][l], state[1][l], state[2][l], state[3][l]};
    block(h, blocks[l]);
    for (int w = 0; w < 4; ++w) state[w][l] = h[w];
  }
}
#endif

void md5(const uint8_t* data, size_t len, uint8_t digest[16]) {
  uint32_t h[4] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476};
  size_t full = len / 64;
  for (size_t k = 0; k < full; ++k) block(h, data + 64 * k);
  // Tail: the remaining bytes, 0x80, zeros, and the bit length (little-endian) in the
  // last 8 bytes of a final block (two blocks when fewer than 9 bytes are left).
  uint8_t tail[128];
  size_t rest = len - 64 * full;
  std::memcpy(tail, data + 64 * full, rest);
  tail[rest] = 0x80;
  size_t tail_len = rest + 9 <= 64 ? 64 : 128;
  std::memset(tail + rest + 1, 0, tail_len - rest - 1);
  uint64_t bits = static_cast<uint64_t>(len) * 8;
  for (int i = 0; i < 8; ++i) tail[tail_len - 8 + i] = static_cast<uint8_t>(bits >> (8 * i));
  block(h, tail);
  if (tail_len == 128) block(h, tail + 64);
  for (int i = 0; i < 4; ++i) {
    digest[4 * i] = static_cast<uint8_t>(h[i]);
    digest[4 * i + 1] = static_cast<uint8_t>(h[i] >> 8);
    digest[4 * i + 2] = static_cast<uint8_t>(h[i] >> 16);
    digest[4 * i + 3] = static_cast<uint8_t>(h[i] >> 24);
  }
}

}  // namespace nasrank
