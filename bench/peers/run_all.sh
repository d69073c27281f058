#!/usr/bin/env bash
# The full peer measurement in one go, on a QUIET machine (nothing else compiling or running):
#   1. probe          bench/probe/run_probe.sh: FMA peak + stream bandwidth, C and Java (~1-2 min)
#   2. torch-best     PyTorch 1.13, OpenBLAS + jemalloc + channels_last                (~8-10 min)
#   3. torch-default  PyTorch 1.13 as Debian installs it                               (~10-15 min)
#   4. djl-default    PyTorch 2.7.1 via DJL 0.36, as shipped                           (~8-12 min)
#   5. djl-best       PyTorch 2.7.1 via DJL 0.36 + jemalloc                            (~7-10 min)
#   then peers.md: every row side by side, with % of the probe's peak.
#
#   bench/peers/run_all.sh                         # everything, ~40-50 min
#   STEPS="probe torch-best djl-default" bench/peers/run_all.sh
#   SMOKE=1 bench/peers/run_all.sh                 # tiny counts: checks the whole chain in ~5 min
#   PEER_ARGS="--threads 1 2 --windows 11" bench/peers/run_all.sh   # extra options for both peers
#   RUN_DIR=/some/dir bench/peers/run_all.sh       # default bench/peers/out/run-<time>
# Each step waits (bounded) for the machine to be quiet before each measurement and records the
# load it found; rows measured under foreign load are flagged "noisy".
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
RUN=${RUN_DIR:-$HERE/out/run-$(date +%Y%m%d-%H%M%S)}
STEPS=${STEPS:-"probe torch-best torch-default djl-default djl-best"}
SM=() ; [[ -n ${SMOKE:-} ]] && SM=(--smoke)
read -r -a PA <<< "${PEER_ARGS:-}"
mkdir -p "$RUN"
LOG=$RUN/log.txt
echo "# run_all.sh: $RUN, steps: $STEPS ${SMOKE:+(SMOKE)}" | tee -a "$LOG"
( cd "$ROOT" && echo "# git: $(git rev-parse --short HEAD 2>/dev/null) $(git status --porcelain 2>/dev/null | wc -l) uncommitted" ) | tee -a "$LOG"
rc_all=0
for s in $STEPS; do
  echo "=== $s $(date -Is)" | tee -a "$LOG"
  case $s in
    probe)         PROBE_OUT=$RUN/probe.jsonl "$ROOT/bench/probe/run_probe.sh" "${SM[@]}" ;;
    torch-best)    "$HERE/run_torch_peer.sh" --config best    --out "$RUN/torch-best"    "${SM[@]}" "${PA[@]}" ;;
    torch-default) "$HERE/run_torch_peer.sh" --config default --out "$RUN/torch-default" "${SM[@]}" "${PA[@]}" ;;
    djl-default)   "$HERE/djl/run_djl_peer.sh" --config default --out "$RUN/djl-default" "${SM[@]}" "${PA[@]}" ;;
    djl-best)      "$HERE/djl/run_djl_peer.sh" --config best    --out "$RUN/djl-best"    "${SM[@]}" "${PA[@]}" ;;
    *) echo "unknown step $s" ;;
  esac 2>&1 | tee -a "$LOG"
  rc=${PIPESTATUS[0]}
  [[ $rc == 0 ]] || { echo "# step $s failed (rc $rc)" | tee -a "$LOG"; rc_all=1; }
done
shopt -s nullglob
files=("$RUN"/torch-*.jsonl "$RUN"/djl-*.jsonl)
if (( ${#files[@]} )); then
  probe=(); [[ -s $RUN/probe.jsonl ]] && probe=(--probe "$RUN/probe.jsonl")
  "${PYTHON:-/usr/bin/python3}" "$HERE/make_table.py" "${files[@]}" "${probe[@]}" > "$RUN/peers.md"
  echo "# merged table: $RUN/peers.md" | tee -a "$LOG"
fi
exit $rc_all
