#!/usr/bin/env bash
# Runs MetaPrune's JMH benchmarks and writes JSON + a Markdown table under bench/results/<stamp>/.
#
#   bench/run.sh                 # every benchmark (GEMM, generator FC, conv layers, BatchNorm, layout study,
#                                # steps, inference, the resident backend's bookkeeping)
#   bench/run.sh 'ConvBench' -p threads=1   # a subset: any JMH arguments pass through
#
# Environment: JAVA (a JDK >= 25 java binary; found automatically otherwise), PEAK1/PEAK2 (FMA peak
# GFLOP/s, 1/2 threads) and BW1/BW2 (memory bandwidth GB/s) for the "% of limit" columns; when
# unset, bench/probe/run_probe.sh is run first if present.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
if [[ -z "${JAVA:-}" ]]; then
  for j in "${JAVA_HOME:-/nonexistent}/bin/java" /usr/lib/jvm/*/bin/java "$(command -v java || true)"; do
    [[ -x "$j" ]] || continue
    v="$("$j" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = \([0-9]*\).*/\1/p')"
    [[ -n "$v" && "$v" -ge 25 ]] && { JAVA="$j"; break; }
  done
fi
[[ -n "${JAVA:-}" ]] || { echo "bench/run.sh: no JDK >= 25 found; set JAVA=/path/to/java" >&2; exit 1; }
mvn -B -q -DskipTests package
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
OUT="bench/results/$STAMP"
mkdir -p "$OUT"
if [[ -z "${PEAK1:-}" && -x bench/probe/run_probe.sh ]]; then
  bench/probe/run_probe.sh | tee "$OUT/probe.txt" || true
fi
ARGS=("$@")
[[ ${#ARGS[@]} -eq 0 ]] && ARGS=('dev.metaprune.bench.*')
"$JAVA" --add-modules=jdk.incubator.vector -jar bench/target/benchmarks.jar "${ARGS[@]}" \
  -rf json -rff "$OUT/jmh.json" | tee "$OUT/jmh.txt"
python3 bench/jmh_report.py "$OUT/jmh.json" ${PEAK1:+--peak1 "$PEAK1"} ${PEAK2:+--peak2 "$PEAK2"} \
  ${BW1:+--bw1 "$BW1"} ${BW2:+--bw2 "$BW2"} | tee "$OUT/table.md"
echo "results in $OUT"
