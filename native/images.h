// The MIP trainer's batch preparation (native/images.cc; lib/bpe/images.ts is the reference).
#pragma once
#include <cstddef>
#include <cstdint>

namespace nasrank {

// count images idx[b] of images (n × side × side × channels bytes, NHWC) → out (count × image ×
// image × channels floats). draws: 5 per image (crop y, crop x, flip, cutout y, cutout x) when
// augmenting, nullptr for evaluation; cutout only with draws. The caller validates every input.
void image_batch(const uint8_t* images, size_t side, size_t channels, const int32_t* idx, size_t count, size_t image,
                 const double* mean, const double* sd, const int32_t* draws, size_t cutout, float* out, int threads);

}  // namespace nasrank
