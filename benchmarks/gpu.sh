#!/usr/bin/env bash
# The GPU visit as one prepared script (run it from the repository root on a machine with an
# NVIDIA GPU, nvcc and the repository's node_modules):
#   1. builds the CUDA addon with cmake-js into build/ (node-gyp-build then loads it first),
#   2. compiles the TypeScript if dist/ is missing,
#   3. runs benchmarks/gpu.js: every CUDA kernel against its CPU twin, then the GPU
#      benchmarks beside their CPU peers, one table.
# Exit status: non-zero when the build fails or a parity check fails. Without a GPU the
# parity checks are skipped with a message (exit 0). Budget: well under 8 minutes on an H100
# host (the build is most of it).
# Usage: bash benchmarks/gpu.sh [--quick] [--no-build]
set -euo pipefail
cd "$(dirname "$0")/.."
build=1
args=()
for a in "$@"; do
  case "$a" in
    --no-build) build=0 ;;
    *) args+=("$a") ;;
  esac
done
if command -v nvidia-smi >/dev/null 2>&1; then
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
else
  echo "gpu.sh: nvidia-smi not found (no NVIDIA driver here)"
fi
if [ "$build" = 1 ]; then
  if ! command -v nvcc >/dev/null 2>&1 && [ -x /usr/local/cuda/bin/nvcc ]; then export PATH="/usr/local/cuda/bin:$PATH"; fi
  command -v nvcc >/dev/null 2>&1 || echo "gpu.sh: nvcc not found: cmake-js builds the CPU-only addon"
  t0=$(date +%s)
  log="${TMPDIR:-/tmp}/nasrank-cuda-build.log"
  npx cmake-js rebuild --parallel "$(nproc)" > "$log" 2>&1 || { tail -n 40 "$log"; echo "gpu.sh: the cmake-js build failed (log: $log)"; exit 1; }
  echo "gpu.sh: cmake-js build in $(( $(date +%s) - t0 )) s"
fi
[ -f dist/lib/index.js ] || npm run build > /dev/null
node benchmarks/gpu.js "${args[@]+"${args[@]}"}"
