#!/usr/bin/env bash
# Packs .device/ for the lent GPU machine (it has CUDA, PyTorch with cuDNN/cuBLAS, nvcc; no JDK, no network):
#   .device/jre.txz                 a jlink'ed Java runtime (java.base, jdk.incubator.vector and a few more)
#   .device/lib/                    metaprune.jar (without the embedded data set and native/), its runtime jars, and
#                                   metaprune-cudnn.jar with JavaCPP's CUDA presets (the JNI jars only)
#   .device/libmetaprune_cuda.so.xz the CUDA library for ARCHS, stripped and compressed
#   .device/env.sh                  = bench/gpu/device_env.sh: unpacks both, sets JAVA, CP, JAVA_OPTS, LD_LIBRARY_PATH
#   .device/kernels_bench.py        the kernel benchmark against cuDNN / cuBLAS through PyTorch
# The device tool carries at most 64 MiB; this prints the total. Then, for example:
#   device tool: carry [".device"], command: bash bench/gpu/device_run_resident.sh
# Usage: bench/gpu/pack.sh [ARCHS]   (default 90-real: the H100 / H200 the device tool lends; CMake syntax)
set -euo pipefail
cd "$(dirname "$0")/../.."
ARCHS=${1:-90-real}
grep -qxF '/.device/' .git/info/exclude 2>/dev/null || echo '/.device/' >> .git/info/exclude
JDK=""
for c in "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/*; do
  [[ -n "$c" && -x "$c/bin/jlink" ]] || continue
  v=$("$c/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/.*java.specification.version = //p')
  if [[ "${v%%.*}" -ge 25 ]]; then JDK=$c; break; fi
done
[[ -n "$JDK" ]] || { echo "pack: no JDK >= 25 with jlink found (set JAVA_HOME)" >&2; exit 2; }
command -v xz >/dev/null || { echo "pack: xz is needed" >&2; exit 2; }
JAVA_HOME=$JDK mvn -B -q -pl java,cudnn -am -DskipTests -Dmetaprune.cuda.archs="$ARCHS" package
so=java/target/classes/native/linux-x86_64/libmetaprune_cuda.so
[[ -f $so ]] || { echo "pack: $so was not built (is nvcc on the PATH?)" >&2; exit 2; }
rm -rf .device && mkdir -p .device/lib
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$JDK/bin/jlink" --add-modules java.base,jdk.incubator.vector,java.logging,jdk.unsupported,java.management,java.xml \
  --strip-debug --no-man-pages --no-header-files --output "$tmp/jre"
strip --strip-unneeded "$tmp/jre/lib/server/libjvm.so" 2>/dev/null || true
tar -C "$tmp" -cJf .device/jre.txz jre
cp java/target/metaprune.jar "$tmp/metaprune.jar"
zip -q -d "$tmp/metaprune.jar" 'native/*' 'dev/metaprune/data/fashion-mnist-subset/*' >/dev/null || true
cp "$tmp/metaprune.jar" java/target/lib/*.jar .device/lib/
if [[ -f cudnn/target/metaprune-cudnn.jar ]]; then cp cudnn/target/metaprune-cudnn.jar cudnn/target/lib/*.jar .device/lib/; fi
cp "$so" "$tmp/lib.so" && strip --strip-unneeded "$tmp/lib.so" 2>/dev/null || true
xz -9 -c "$tmp/lib.so" > .device/libmetaprune_cuda.so.xz
cp bench/gpu/device_env.sh .device/env.sh
cp bench/gpu/kernels_bench.py .device/
du -sh .device
du -sk .device | awk '{ if ($1 > 64 * 1024) { print "pack: over the device tool'"'"'s 64 MiB" > "/dev/stderr"; exit 1 } }'
