// The MIP trainer's batch preparation (lib/bpe/images.ts `prepareBatchJs` is the reference,
// and this kernel is bit-identical to it): gather → area resize (mean of f×f blocks) →
// training only: crop with ⌊image/8⌋ zero padding and a horizontal flip → normalise
// ((v/255 − mean)/sd) → training only: cutout. Float32 NHWC out.
//
// The random draws (crop y, crop x, flip, cutout y, cutout x per image) are made by the
// caller from the package PRNG in the reference's order and passed in, so a seed gives the
// same batch on either path and images can be prepared on several threads. The arithmetic
// is the reference's, operation by operation: the block sum in double (exact: integers), times
// the double 1/(f·f·255), rounded to float32 (the reference's Float32Array buffer); then
// (v − mean)/sd in double, rounded to float32. No fused multiply-add can change a result:
// there is no product followed by a sum.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "images.h"
#include "parallel.h"

namespace nasrank {

void image_batch(const uint8_t* images, size_t side, size_t channels, const int32_t* idx, size_t count, size_t image,
                 const double* mean, const double* sd, const int32_t* draws, size_t cutout, float* out, int threads) {
  const size_t s = image;
  const size_t c = channels;
  const size_t f = side / s;
  const double area = 1.0 / (static_cast<double>(f) * static_cast<double>(f) * 255.0);
  const bool augment = draws != nullptr;
  const long pad = augment ? static_cast<long>(s / 8) : 0;
  const size_t plane = s * s * c;
  // Per-image work is ~s²·c·(f² + 2) operations: chunks of several images keep the
  // hand-out cheap; every image is written by exactly one chunk.
  // Small batches (the CPU preset's 64 images of 28 px: ~50k source bytes) run on the calling
  // thread: starting workers would cost more than the work. Results do not depend on it.
  if (count * side * side * c < (size_t(1) << 18)) threads = 1;
  const size_t chunks = std::min<size_t>(count, static_cast<size_t>(std::max(threads, 1)) * 4);
  parallel_chunks(count, chunks, threads, [&](size_t, size_t begin, size_t end) {
    std::vector<float> resized(plane);
    for (size_t b = begin; b < end; ++b) {
      const uint8_t* src = images + static_cast<size_t>(idx[b]) * side * side * c;
      for (size_t y = 0; y < s; ++y) {
        for (size_t x = 0; x < s; ++x) {
          for (size_t ch = 0; ch < c; ++ch) {
            double sum = 0;
            for (size_t dy = 0; dy < f; ++dy) {
              const uint8_t* row = src + ((y * f + dy) * side + x * f) * c + ch;
              for (size_t dx = 0; dx < f; ++dx) sum += row[dx * c];
            }
            resized[(y * s + x) * c + ch] = static_cast<float>(sum * area);
          }
        }
      }
      long oy = pad, ox = pad;
      bool flip = false;
      if (augment) {
        oy = draws[5 * b];
        ox = draws[5 * b + 1];
        flip = draws[5 * b + 2] != 0;
      }
      float* dst = out + b * plane;
      const long sl = static_cast<long>(s);
      for (long y = 0; y < sl; ++y) {
        const long sy = y + oy - pad;
        for (long x = 0; x < sl; ++x) {
          const long sx = (flip ? sl - 1 - x : x) + ox - pad;
          const bool inside = sy >= 0 && sy < sl && sx >= 0 && sx < sl;
          for (size_t ch = 0; ch < c; ++ch) {
            const double v = inside ? static_cast<double>(resized[(static_cast<size_t>(sy) * s + static_cast<size_t>(sx)) * c + ch]) : 0.0;
            dst[(static_cast<size_t>(y) * s + static_cast<size_t>(x)) * c + ch] = static_cast<float>((v - mean[ch]) / sd[ch]);
          }
        }
      }
      if (augment && cutout > 0) {
        const long cy = draws[5 * b + 3], cx = draws[5 * b + 4];
        const long h = static_cast<long>(cutout / 2);
        const long y1 = std::max(0L, cy - h), y2 = std::min(sl, cy + h);
        const long x1 = std::max(0L, cx - h), x2 = std::min(sl, cx + h);
        for (long y = y1; y < y2; ++y) {
          for (long x = x1; x < x2; ++x) {
            std::fill(dst + (static_cast<size_t>(y) * s + static_cast<size_t>(x)) * c,
                      dst + (static_cast<size_t>(y) * s + static_cast<size_t>(x) + 1) * c, 0.0f);
          }
        }
      }
    }
  });
}

}  // namespace nasrank
