// MD5 (RFC 1321), written out here so the addon needs no crypto library. Used only for the
// NAS-Bench-101 module hash, which is defined in terms of MD5 hex digests.
#pragma once
#include <cstddef>
#include <cstdint>

namespace nasrank {

// The 16-byte digest of data[0, len).
void md5(const uint8_t* data, size_t len, uint8_t digest[16]);

// Writes the 32 lowercase hex characters of a 16-byte digest (no terminator).
inline void hex32(const uint8_t digest[16], char* out) {
  static const char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 16; ++i) {
    out[2 * i] = kHex[digest[i] >> 4];
    out[2 * i + 1] = kHex[digest[i] & 15];
  }
}

}  // namespace nasrank
