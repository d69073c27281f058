#!/usr/bin/env bash
# Builds libmetaprune_cuda with CMake + nvcc into $2 (a build folder) and copies the library to $3
# (a resource folder: the jar then carries native/linux-x86_64/libmetaprune_cuda.so).
# Usage: build.sh <skip:true|false> <build dir> <resource dir> [architectures]
# Without nvcc it says so in one line and exits 0: everything else builds and tests without it.
set -euo pipefail
skip=${1:-false}; build=$2; res=$3; archs=${4:-}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [[ "$skip" == true ]]; then
  echo "metaprune: CUDA library skipped on purpose (-Dmetaprune.cuda.skip=true)"; exit 0
fi
nvcc=${CUDACXX:-$(command -v nvcc || true)}
[[ -z "${CUDACXX:-}" && -z "$nvcc" && -x /usr/local/cuda/bin/nvcc ]] && nvcc=/usr/local/cuda/bin/nvcc
if [[ -z "$nvcc" || ! -x "$nvcc" ]]; then
  echo "metaprune: no nvcc found${nvcc:+ at $nvcc}: CUDA library skipped (install the CUDA toolkit or set CUDACXX to build it; -Dmetaprune.cuda.skip=true silences this)"
  exit 0
fi
if ! command -v cmake >/dev/null; then
  echo "metaprune: no cmake found: CUDA library skipped (install cmake >= 3.24 to build it)"; exit 0
fi
mkdir -p "$build" "$res"
args=(-S "$here" -B "$build" -DCMAKE_CUDA_COMPILER="$nvcc" -DCMAKE_BUILD_TYPE=Release)
[[ -n "$archs" ]] && args+=(-DMETAPRUNE_CUDA_ARCHS="$archs")
gen=(); command -v ninja >/dev/null && [[ ! -f "$build/CMakeCache.txt" ]] && gen=(-G Ninja)
cmake "${gen[@]}" "${args[@]}" >"$build/configure.log" 2>&1 || { cat "$build/configure.log"; exit 1; }
cmake --build "$build" -j "${MP_CUDA_JOBS:-2}" >"$build/build.log" 2>&1 || { cat "$build/build.log"; exit 1; }
cp "$build/libmetaprune_cuda.so" "$res/libmetaprune_cuda.so"
echo "metaprune: built libmetaprune_cuda ($(cd "$build" && grep -m1 METAPRUNE_CUDA_ARCHS CMakeCache.txt | cut -d= -f2)) with $nvcc"
