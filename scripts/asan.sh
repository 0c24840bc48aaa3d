#!/usr/bin/env bash
# npm run test:asan — the addon built with AddressSanitizer + UndefinedBehaviorSanitizer into
# build-asan/ (build/ and the prebuild are untouched: node-gyp rebuild wipes build/), then the native tests and the
# fuzz suite run against it. Node itself is not instrumented, so libasan is preloaded.
#
#   scripts/asan.sh            build (if sources changed) and run the default test files
#   scripts/asan.sh test/x.ts  run these test files instead
#   ASAN_JOBS=4                parallel compile jobs (default 2)
#   NASRANK_FUZZ_RUNS=1000     more fuzz runs per export (default 300)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
out="$root/build-asan"
mkdir -p "$out/obj"

cxx="${CXX:-g++}"
libasan="$("$cxx" -print-file-name=libasan.so)"
[ -e "$libasan" ] || { echo "asan.sh: $cxx has no libasan.so" >&2; exit 1; }

digest="$(node scripts/native-digest.js)"
addon_inc="$(node -p "require('node-addon-api').include_dir")"
# node_api.h: node's own headers next to the binary, else the node-api-headers package (offline).
node_inc="$(node -p "require('path').resolve(process.execPath, '../../include/node')")"
if [ ! -e "$node_inc/node_api.h" ]; then node_inc="$(node -p "require('node-api-headers').include_dir")"; fi

# The sources node-gyp compiles (binding.gyp is JSON with comments allowed: read it as JS).
sources=$(node -e "const g = eval('(' + require('fs').readFileSync('binding.gyp', 'utf8') + ')'); console.log(g.targets[0].sources.join(' '))")
flags=(-std=c++17 -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined -fPIC -pthread -fexceptions
  -DNAPI_VERSION=8 -DNAPI_CPP_EXCEPTIONS -DNODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS "-DNASRANK_SOURCE_DIGEST=\"$digest\"" '-DNASRANK_BUILD_SYSTEM="asan"'
  -I"$addon_inc" -I"$node_inc")

start=$(date +%s)
# Recompile what changed: a source newer than its object, any object when a header changed,
# and addon.cc when the source digest (compiled into it) changed.
newest_header="$(ls -t native/*.h | head -1)"
stale=()
for src in $sources; do
  obj="$out/obj/$(basename "$src" .cc).o"
  if [ ! -e "$obj" ] || [ "$src" -nt "$obj" ] || [ "$newest_header" -nt "$obj" ] ||
     { [ "$src" = native/addon.cc ] && [ "$(cat "$out/digest" 2>/dev/null)" != "$digest" ]; }; then
    stale+=("$src")
  fi
done
if [ ${#stale[@]} -gt 0 ] || [ ! -e "$out/nasrank.node" ]; then
  echo "asan.sh: compiling ${#stale[@]} of $(echo $sources | wc -w) sources with -fsanitize=address,undefined (${ASAN_JOBS:-2} jobs)"
  if [ ${#stale[@]} -gt 0 ]; then
    printf '%s\n' "${stale[@]}" | xargs -P "${ASAN_JOBS:-2}" -I{} sh -c '"$0" "$@" -c "{}" -o "'"$out"'/obj/$(basename "{}" .cc).o"' "$cxx" "${flags[@]}"
  fi
  "$cxx" -shared -fsanitize=address,undefined -pthread "$out"/obj/*.o -o "$out/nasrank.node"
  echo "$digest" > "$out/digest"
fi
built=$(date +%s)
echo "asan.sh: addon ready in $((built - start)) s: $out/nasrank.node"

tests=("$@")
if [ ${#tests[@]} -eq 0 ]; then
  tests=(test/native-safety.test.ts test/fuzz.test.ts test/kendall.test.ts test/correlation.test.ts test/pairwise-rank-loss.test.ts
    test/triplet-rank-loss.test.ts test/pairwise-log-loss.test.ts test/sample-efficiency.test.ts test/forest.test.ts test/nb101.test.ts
    test/renas-encode.test.ts test/tfrecord.test.ts test/rank-gcn-native.test.ts test/linear-comparator.test.ts test/controller-native.test.ts test/agnet-native.test.ts)
fi
npm run build --silent
export NASRANK_ADDON="$out/nasrank.node" NASRANK_ASAN=1
export LD_PRELOAD="$libasan${LD_PRELOAD:+:$LD_PRELOAD}"
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:halt_on_error=1:allow_user_segv_handler=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
status=0
npx tap --disable-coverage -j1 "${tests[@]}" || status=$?
echo "asan.sh: tests ran in $(( $(date +%s) - built )) s under ASan+UBSan; exit $status"
exit $status
