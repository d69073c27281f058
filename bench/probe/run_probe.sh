#!/usr/bin/env bash
# MetaPrune hardware probe: fp32 FMA peak and memory bandwidth, from C (the hardware's limit) and from
# Java's Vector API (the JVM's limit), 1 and 2 threads by default.
#
#   bench/probe/run_probe.sh [--no-java] [--no-c] [--smoke] [-- options for both programs]
#     options (both programs): --threads 1,2  --seconds 0.25  --reps 7  --mib 256  --no-bw  --no-fma
#     --smoke = --seconds 0.05 --reps 3 --mib 64 (checks the scripts; numbers mean nothing)
#
# Builds fma_peak.c with `${CC:-gcc} -O3 -march=native -fopenmp`, waits (bounded) for the machine to be
# quiet, runs it, then runs JavaPeak.java with the newest JDK >= 25 found by ../find_jdk.sh.
# Prints a human table per program and one JSON line per program (machine facts + results), also
# appended to bench/probe/out/probe.jsonl (kept out of git).
# Environment: QUIET_THRESHOLD (cores, default 0.15), QUIET_MAX_WAIT (s, default 120), CC, JAVA_HOME,
#              PROBE_OUT (JSON-lines file to append to, default bench/probe/out/probe.jsonl).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=$HERE/out
PROBE_OUT=${PROBE_OUT:-$OUT/probe.jsonl}
mkdir -p "$OUT" "$(dirname "$PROBE_OUT")"
DO_C=1 DO_JAVA=1 ARGS=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --no-java) DO_JAVA=0; shift ;;
    --no-c) DO_C=0; shift ;;
    --smoke) ARGS+=(--seconds 0.05 --reps 3 --mib 64); shift ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    --) shift; ARGS+=("$@"); break ;;
    *) ARGS+=("$1"); shift ;;
  esac
done

# ---- machine facts -------------------------------------------------------------------------
jstr() { printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g'; }
cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
cpu_fam=$(sed -n 's/^cpu family[[:space:]]*: //p' /proc/cpuinfo | head -1)
cpu_mod=$(sed -n 's/^model[[:space:]]*: //p' /proc/cpuinfo | head -1)
flags=$(sed -n 's/^flags[[:space:]]*: //p' /proc/cpuinfo | head -1 | tr ' ' '\n' |
        grep -E '^(fma|avx2|avx512f|avx512bw|avx512vl|avx512_bf16|avx512_vnni|avx_vnni|amx_tile)$' | tr '\n' ' ' | sed 's/ $//')
# cache sizes as the CPU reports them (getconf = cpuid). NB: on AMD EPYC the L3 figure can be the whole
# socket's; one core only ever uses its own CCD's L3 (32 MiB on Zen 4 / Zen 5).
cache() { local v; v=$(getconf "$1" 2>/dev/null || true); [[ $v =~ ^[0-9]+$ && $v -gt 0 ]] && echo "$((v / 1024))K" || echo "?"; }
l1d=$(cache LEVEL1_DCACHE_SIZE) l2=$(cache LEVEL2_CACHE_SIZE) l3=$(cache LEVEL3_CACHE_SIZE)
mem_gib=$(awk '/MemTotal/{printf "%.1f", $2/1048576}' /proc/meminfo)
if virt=$(systemd-detect-virt 2>/dev/null); then :;
elif grep -qw hypervisor /proc/cpuinfo; then virt=hypervisor; else virt=none; fi
grep -qw hypervisor /proc/cpuinfo && [[ $virt != *hypervisor* ]] && virt="$virt, hypervisor flag set"
facts_at_start="\"host\":\"$(jstr "$(hostname)")\",\"cpu\":\"$(jstr "$cpu_model")\",\"cpu_family\":\"$cpu_fam\",\"cpu_model\":\"$cpu_mod\",\"nproc\":$(nproc),\"flags\":\"$flags\",\"l1d\":\"$l1d\",\"l2\":\"$l2\",\"l3\":\"$l3\",\"mem_gib\":$mem_gib,\"virt\":\"$(jstr "$virt")\",\"kernel\":\"$(uname -r)\""
facts() { echo "\"time\":\"$(date -Is)\",$facts_at_start"; }
echo "# $cpu_model (family $cpu_fam model $cpu_mod), $(nproc) CPUs, L1d $l1d L2 $l2 L3 $l3 (per cpu0), ${mem_gib} GiB, virt: $virt"
echo "# flags: $flags"

# ---- quiet wait ----------------------------------------------------------------------------
HZ=$(getconf CLK_TCK)
busy() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9; exit}' /proc/stat; }
wait_quiet() {  # sets WAITED and LOAD (cores used by others during the last 0.5 s sample)
  local thr=${QUIET_THRESHOLD:-0.15} max=${QUIET_MAX_WAIT:-120} t0 b0 b1
  t0=$(date +%s.%N)
  while :; do
    b0=$(busy); sleep 0.5; b1=$(busy)
    LOAD=$(awk -v a="$b0" -v b="$b1" -v hz="$HZ" 'BEGIN{printf "%.2f", (b-a)/hz/0.5}')
    WAITED=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')
    awk -v l="$LOAD" -v t="$thr" 'BEGIN{exit !(l < t)}' && return 0
    awk -v w="$WAITED" -v m="$max" 'BEGIN{exit !(w >= m)}' && { echo "# WARNING: machine not quiet after ${WAITED}s (other load ${LOAD} cores): figures may be low" >&2; return 0; }
  done
}

run_one() {  # $1 = label, rest = command; JSON from stdout, table from stderr
  local label=$1; shift
  wait_quiet
  echo "# $label: waited ${WAITED}s for quiet, other load ${LOAD} cores"
  local json
  json=$("$@" "${ARGS[@]}")
  local line="{\"type\":\"probe\",$(facts),\"quiet_wait_s\":$WAITED,\"foreign_cores_before\":$LOAD,\"result\":$json}"
  echo "$line" >> "$PROBE_OUT"
  echo "$line"
}

if [[ $DO_C == 1 ]]; then
  CC=${CC:-gcc}
  $CC -O3 -march=native -fopenmp -Wall -o "$OUT/fma_peak" "$HERE/fma_peak.c"
  echo "# built $OUT/fma_peak with $($CC --version | head -1) -O3 -march=native -fopenmp"
  # OMP: threads are chosen per measurement by the program; keep them from migrating around.
  OMP_PROC_BIND=${OMP_PROC_BIND:-spread} OMP_PLACES=${OMP_PLACES:-cores} run_one "fma_peak.c" "$OUT/fma_peak"
fi

if [[ $DO_JAVA == 1 ]]; then
  if JH=$("$HERE/../find_jdk.sh" 25); then
    echo "# Java: $JH"
    run_one "JavaPeak.java" "$JH/bin/java" --add-modules jdk.incubator.vector -Xmx2g -XX:+UseParallelGC -Xbatch \
      "$HERE/JavaPeak.java"
  else
    echo "# skipping JavaPeak.java: no JDK >= 25" >&2
  fi
fi
echo "# appended to $PROBE_OUT"
