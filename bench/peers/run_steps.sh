#!/usr/bin/env bash
# Whole training steps, MetaPrune beside PyTorch, 1 and 2 threads, one command:
#   1. builds bench/target/benchmarks.jar (mvn -pl bench -am package; SKIP_BUILD=1 skips it)
#   2. JMH: PruningNetStepBench (mobilenetv2-cifar 1x28x28 b128, random and full-width gene) and
#      DenseStepBench (mobilenetv2-cifar full width b128, mobilenetv2 224 b32), threads 1 and 2
#   3. PyTorch 1.13 in its best set-up (run_torch_peer.sh --config best: OpenBLAS + jemalloc) running
#      torch_pruningnet.py: the same steps, channels_last and contiguous, threads 1 and 2
#   4. steps.md: the paired table (images/s, ratio), made by steps_table.py
#
#   bench/peers/run_steps.sh               # full run, ~30-45 min on a quiet 2-core machine
#   QUICK=1 bench/peers/run_steps.sh       # short iterations (~15-25 min): checks the chain, rough numbers
#   STEPS="jmh" bench/peers/run_steps.sh   # one side only (jmh | torch | table); default "jmh torch table"
#   JMH_ARGS="-wi 3 -i 5" TORCH_ARGS="--steps 15" bench/peers/run_steps.sh   # override the counts
#
# Output: bench/results/<date>-<machine>/steps-jmh.{json,txt}, steps-torch.{jsonl,md}, steps.md,
# steps-log.txt (RESULT_DIR overrides the directory; MACHINE the <machine> tag, by default zen5 / zen4 /
# cpu-family-N from /proc/cpuinfo). Existing files of an earlier run there are overwritten.
# Environment: JAVA (a JDK >= 25 java; else bench/find_jdk.sh), PYTHON (default /usr/bin/python3).
# The JMH forks run with -Xmx16g (set in the benchmarks' @Fork): the machine needs ~20 GB of RAM.
# Run it on a quiet machine: the PyTorch side waits (bounded) for quiet and flags noisy rows; JMH does
# not, so the load average before and after the JMH run is logged.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
cd "$ROOT"

detect_machine() {
  local fam
  fam=$(awk -F: '/^cpu family/{gsub(/ /,"",$2); print $2; exit}' /proc/cpuinfo 2>/dev/null)
  if grep -qm1 AuthenticAMD /proc/cpuinfo 2>/dev/null; then
    case $fam in 26) echo zen5; return ;; 25) echo zen4; return ;; esac
  fi
  echo "cpu-family-${fam:-unknown}"
}
MACHINE=${MACHINE:-$(detect_machine)}
OUT=${RESULT_DIR:-$ROOT/bench/results/$(date +%Y-%m-%d)-$MACHINE}
STEPS=${STEPS:-"jmh torch table"}
PY=${PYTHON:-/usr/bin/python3}
mkdir -p "$OUT"
LOG=$OUT/steps-log.txt
echo >> "$LOG"   # appended: a partial re-run (STEPS=...) keeps the earlier log
# tracked outputs carry no machine paths: the repository root is cut from everything logged
strip_root() { sed "s|$ROOT/||g"; }
log() { echo "$*" | strip_root | tee -a "$LOG"; }

if [[ -n ${QUICK:-} ]]; then
  DEF_JMH=(-wi 1 -i 2 -w 1 -r 1)
  DEF_TORCH=(--warmup-steps 1 --steps 3 --quiet-max-wait 20)
else
  DEF_JMH=(-wi 2 -i 5 -w 2 -r 2)
  DEF_TORCH=(--warmup-steps 3 --steps 10)
fi
if [[ -n ${JMH_ARGS:-} ]]; then read -r -a DEF_JMH <<< "$JMH_ARGS"; fi
if [[ -n ${TORCH_ARGS:-} ]]; then read -r -a DEF_TORCH <<< "$TORCH_ARGS"; fi

log "# run_steps.sh $(date -Is) -> $OUT; steps: $STEPS ${QUICK:+(QUICK)}"
log "# git: $(git rev-parse --short HEAD 2>/dev/null) ($(git status --porcelain 2>/dev/null | wc -l) uncommitted files)"
log "# cpu: $(awk -F: '/^model name/{print $2; exit}' /proc/cpuinfo), $(nproc) CPUs, $(free -g | awk '/^Mem/{print $2}') GiB"
rc_all=0
for s in $STEPS; do
  log "=== $s $(date -Is), loadavg $(cut -d' ' -f1-3 /proc/loadavg)"
  case $s in
    jmh)
      if [[ -z ${JAVA:-} ]]; then
        JH=$("$ROOT/bench/find_jdk.sh" 25) || { log "# no JDK >= 25 (set JAVA)"; rc_all=1; continue; }
        JAVA=$JH/bin/java
      fi
      if [[ -z ${SKIP_BUILD:-} ]]; then
        log "# building bench/target/benchmarks.jar"
        { mvn -B -q -o -pl bench -am package -DskipTests || mvn -B -q -pl bench -am package -DskipTests; } 2>&1 | strip_root | tee -a "$LOG"
        [[ ${PIPESTATUS[0]} == 0 ]] || { log "# build failed"; rc_all=1; continue; }
      fi
      "$JAVA" --add-modules=jdk.incubator.vector -jar bench/target/benchmarks.jar \
        'dev.metaprune.bench.(PruningNetStepBench|DenseStepBench)' -p threads=1,2 "${DEF_JMH[@]}" \
        -rf json -rff "$OUT/steps-jmh.json" 2>&1 | strip_root | tee "$OUT/steps-jmh.txt"
      rc=${PIPESTATUS[0]}
      log "# jmh rc $rc, loadavg after $(cut -d' ' -f1-3 /proc/loadavg)"
      [[ $rc == 0 ]] || rc_all=1 ;;
    torch)
      rm -f "$OUT/steps-torch.jsonl"
      "$HERE/run_torch_peer.sh" --config best --script torch_pruningnet.py --threads 1 2 \
        --out "$OUT/steps-torch" "${DEF_TORCH[@]}" 2>&1 | strip_root | tee -a "$LOG"
      rc=${PIPESTATUS[0]}
      [[ $rc == 0 ]] || { log "# torch peer rc $rc"; rc_all=1; } ;;
    table)
      files=()
      [[ -s $OUT/steps-jmh.json ]] && files+=("$OUT/steps-jmh.json")
      [[ -s $OUT/steps-torch.jsonl ]] && files+=("$OUT/steps-torch.jsonl")
      if (( ${#files[@]} )); then
        "$PY" "$HERE/steps_table.py" "${files[@]}" | tee "$OUT/steps.md"
      else
        log "# no results to tabulate in $OUT"; rc_all=1
      fi ;;
    *) log "unknown step $s"; rc_all=1 ;;
  esac
done
log "# done $(date -Is): $OUT"
exit $rc_all
