#!/usr/bin/env bash
# Runs the DJL peer: PyTorch 2.7.1 (CPU) through DJL 0.36 on MetaPrune's benchmark shapes, offline.
#
#   bench/peers/djl/run_djl_peer.sh [--config default|best] [--build] [--smoke] [DjlPeer options...]
#
#   --config default  (default) DJL as a JVM user gets it: libtorch from the Maven jar, glibc malloc, NCHW
#   --config best     + jemalloc preloaded into the JVM with
#                     MALLOC_CONF=oversize_threshold:0,dirty_decay_ms:-1,muzzy_decay_ms:-1 (no page faults
#                     on reused activation buffers); DJL offers no channels_last, so layout stays NCHW
#   --build           rebuild (mvn package) even if target/ exists; the first run builds anyway
#   --smoke           tiny iteration counts (checks the set-up; numbers mean nothing)
#   DjlPeer options:  --threads 1 2, --only REGEX, --groups a,b, --warmup/--window/--windows, ... (--help)
#
# Offline: -Dai.djl.offline=true; libtorch is copied out of the pytorch-native-cpu jar (and the JNI
# glue out of pytorch-jni) into ENGINE_CACHE_DIR (default $PEER_CACHE/djl = /tmp/metaprune-peer-cache/djl)
# on the first run; nothing is downloaded except the Maven artifacts (Maven Central) at build time.
# Output: bench/peers/out/djl-<config>-<time>.jsonl, and .md (make_table.py, if python3 is present).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
CACHE=${PEER_CACHE:-/tmp/metaprune-peer-cache}
CONFIG=default BUILD=0 ARGS=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --config) CONFIG=$2; shift 2 ;;
    --config=*) CONFIG=${1#*=}; shift ;;
    --build) BUILD=1; shift ;;
    -h|--help) sed -n '2,20p' "$0"; ARGS+=(--help); shift ;;
    *) ARGS+=("$1"); shift ;;
  esac
done
[[ $CONFIG == best || $CONFIG == default ]] || { echo "--config must be default or best" >&2; exit 2; }

JH=$("$ROOT/bench/find_jdk.sh" 25)
if [[ $BUILD == 1 || ! -d $HERE/target/classes || ! -d $HERE/target/lib ]]; then
  echo "# building $HERE (mvn package; Maven picks a JDK >= 25 through maven-toolchains-plugin)"
  mvn -B -q -f "$HERE/pom.xml" package
fi

if [[ $CONFIG == best ]]; then
  JE=$(ldconfig -p 2>/dev/null | awk '/libjemalloc\.so\.2 /{print $NF; exit}')
  [[ -n $JE && -e $JE ]] || { echo "error: libjemalloc.so.2 not found (apt-get install libjemalloc2)" >&2; exit 1; }
  export LD_PRELOAD="$JE${LD_PRELOAD:+:$LD_PRELOAD}"
  export MALLOC_CONF=oversize_threshold:0,dirty_decay_ms:-1,muzzy_decay_ms:-1
  echo "# best set-up: LD_PRELOAD=$LD_PRELOAD MALLOC_CONF=$MALLOC_CONF (NCHW: DJL has no channels_last)"
else
  unset LD_PRELOAD MALLOC_CONF || true
  echo "# default set-up: DJL + bundled libtorch as shipped, glibc malloc, NCHW"
fi
unset OMP_NUM_THREADS || true   # the peer sets torch's thread count per measurement

mkdir -p "$CACHE/djl" "$ROOT/bench/peers/out"
PREFIX="$ROOT/bench/peers/out/djl-$CONFIG-$(date +%Y%m%d-%H%M%S)"
# A user-supplied --out wins (DjlPeer takes the last one).
echo "# $(date -Is)  $(nproc) CPUs, loadavg $(cut -d' ' -f1-3 /proc/loadavg), java $JH"
cd "$ROOT"
set +e
"$JH/bin/java" -Xmx4g -Dai.djl.offline=true -DENGINE_CACHE_DIR="$CACHE/djl" \
  -Dorg.slf4j.simpleLogger.defaultLogLevel=${DJL_LOG_LEVEL:-warn} \
  --enable-native-access=ALL-UNNAMED \
  -cp "$HERE/target/classes:$HERE/target/lib/*" dev.metaprune.peer.djl.DjlPeer \
  --config "$CONFIG" --out "$PREFIX" "${ARGS[@]}"
rc=$?
set -e
for a in "${ARGS[@]}"; do [[ $a == --help || $a == -h ]] && exit $rc; done
JSONL=$PREFIX.jsonl
for ((k = 0; k < ${#ARGS[@]}; k++)); do [[ ${ARGS[k]} == --out ]] && JSONL=${ARGS[k+1]}.jsonl; done
if [[ -s $JSONL ]] && command -v "${PYTHON:-python3}" >/dev/null 2>&1; then
  "${PYTHON:-python3}" "$ROOT/bench/peers/make_table.py" "$JSONL" > "${JSONL%.jsonl}.md" && echo "# table: ${JSONL%.jsonl}.md"
fi
exit $rc
