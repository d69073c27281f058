#!/usr/bin/env bash
# Runs torch_peer.py (PyTorch's CPU kernels on MetaPrune's benchmark shapes) in a chosen set-up.
#
#   bench/peers/run_torch_peer.sh [--config best|default] [--smoke] [torch_peer.py options...]
#
#   --config best     (default) the fastest PyTorch 1.13 set-up found on these machines:
#                       * OpenBLAS 0.3.x (OpenMP build) first on LD_LIBRARY_PATH, so torch's libblas.so.3
#                         resolves to it instead of Debian's reference BLAS. The .deb is fetched with
#                         `apt-get download libopenblas0-openmp` and unpacked with `dpkg-deb -x` into
#                         $PEER_CACHE (default /tmp/metaprune-peer-cache): nothing is installed system-wide.
#                       * jemalloc preloaded, MALLOC_CONF=oversize_threshold:0,dirty_decay_ms:-1,muzzy_decay_ms:-1
#                         (never returns memory to the OS: no page faults on reused activation buffers)
#                       * channels_last tensors (set inside torch_peer.py)
#   --config default  Debian's torch as installed: reference BLAS, glibc malloc, NCHW.
#   --smoke           tiny iteration counts (checks the set-up in ~1 min; numbers mean nothing)
#   --script FILE     the peer program in bench/peers/ to run in that set-up (default torch_peer.py, the
#                     kernel shapes; torch_pruningnet.py times whole training steps, see run_steps.sh)
#
# Environment: PYTHON (default /usr/bin/python3, which has Debian's python3-torch), PEER_CACHE.
# Output: bench/peers/out/torch-<config>-<time>.jsonl and .md (plus what it prints).
# Needs: apt-get install python3-torch libjemalloc2 (Debian 12); network for apt-get download once.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=${PYTHON:-/usr/bin/python3}
CACHE=${PEER_CACHE:-/tmp/metaprune-peer-cache}
CONFIG=best
SCRIPT=torch_peer.py
ARGS=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --config) CONFIG=$2; shift 2 ;;
    --config=*) CONFIG=${1#*=}; shift ;;
    --script) SCRIPT=$2; shift 2 ;;
    --script=*) SCRIPT=${1#*=}; shift ;;
    -h|--help) sed -n '2,24p' "$0"; exec "$PY" "$HERE/$SCRIPT" --help ;;
    *) ARGS+=("$1"); shift ;;
  esac
done
[[ $CONFIG == best || $CONFIG == default ]] || { echo "--config must be best or default" >&2; exit 2; }
[[ -f $HERE/$SCRIPT ]] || { echo "--script: no $SCRIPT in $HERE" >&2; exit 2; }

"$PY" -c 'import torch' 2>/dev/null || {
  echo "error: $PY cannot import torch (Debian: apt-get install python3-torch; or set PYTHON=...)" >&2; exit 1; }

find_openblas() {  # echo the directory holding the unpacked OpenBLAS libblas.so.3, or nothing
  local d
  for d in "$CACHE"/openblas-openmp/usr/lib/*/openblas-openmp; do
    [[ -e $d/libblas.so.3 ]] && { echo "$d"; return 0; }
  done
  return 0
}

find_jemalloc() {
  local p
  p=$(ldconfig -p 2>/dev/null | awk '/libjemalloc\.so\.2 /{print $NF; exit}')
  [[ -n $p && -e $p ]] && { echo "$p"; return 0; }
  for p in /usr/lib/*/libjemalloc.so.2 /usr/lib/libjemalloc.so.2 /usr/lib64/libjemalloc.so.2; do
    [[ -e $p ]] && { echo "$p"; return 0; }
  done
  return 0
}

if [[ $CONFIG == best ]]; then
  OB=$(find_openblas)
  if [[ -z $OB ]]; then
    echo "# OpenBLAS not in $CACHE: apt-get download libopenblas0-openmp && dpkg-deb -x ..."
    mkdir -p "$CACHE/debs"
    (cd "$CACHE/debs" && apt-get download libopenblas0-openmp) || {
      echo "error: 'apt-get download libopenblas0-openmp' failed (run 'apt-get update' first?)." >&2
      echo "       Or unpack any libopenblas0-openmp .deb under $CACHE/openblas-openmp with dpkg-deb -x." >&2
      exit 1; }
    deb=$(ls -t "$CACHE"/debs/libopenblas0-openmp_*.deb | head -1)
    dpkg-deb -x "$deb" "$CACHE/openblas-openmp"
    dpkg-deb -f "$deb" Package Version > "$CACHE/openblas-openmp/VERSION"
    OB=$(find_openblas)
    [[ -n $OB ]] || { echo "error: no libblas.so.3 in $deb" >&2; exit 1; }
  fi
  JE=$(find_jemalloc)
  [[ -n $JE ]] || { echo "error: libjemalloc.so.2 not found (apt-get install libjemalloc2)" >&2; exit 1; }
  export LD_LIBRARY_PATH="$OB${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  export LD_PRELOAD="$JE${LD_PRELOAD:+:$LD_PRELOAD}"
  export MALLOC_CONF=oversize_threshold:0,dirty_decay_ms:-1,muzzy_decay_ms:-1
  echo "# best set-up: OpenBLAS from $OB ($(tr '\n' ' ' < "$CACHE/openblas-openmp/VERSION" 2>/dev/null || echo '?'))"
  echo "#              LD_PRELOAD=$LD_PRELOAD MALLOC_CONF=$MALLOC_CONF, channels_last"
else
  unset LD_PRELOAD MALLOC_CONF || true
  echo "# default set-up: Debian torch as installed (whatever libblas.so.3 the system selects), glibc malloc, NCHW"
fi

# Never let a stray OMP_NUM_THREADS decide the thread count: the peer sets it per measurement.
unset OMP_NUM_THREADS || true
echo "# $(date -Is)  $(nproc) CPUs, loadavg $(cut -d' ' -f1-3 /proc/loadavg)"
exec "$PY" "$HERE/$SCRIPT" --config "$CONFIG" "${ARGS[@]}"
