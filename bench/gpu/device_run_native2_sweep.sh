#!/usr/bin/env bash
# native2: CudaCheck, depthwise tuning sweep (METAPRUNE_DW3_OX), Java-side cuDNN baseline (JavaCPP), memcheck
# NOTE: this sweep ran against the first chunked version (its default then chose 2 outputs along x on small
# stride-1 layers, and METAPRUNE_DW3_OX=4 at stride 2 launched a mismatched grid: those rows are invalid, since fixed).
cd "$(dirname "$0")/.."
source .device/env.sh
SO=/tmp/libmetaprune_cuda.so
JV=("$JAVA" $JAVA_OPTS -cp "$CP" -Dmetaprune.cuda.library=$SO)
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm,clocks.max.mem --format=csv,noheader
echo "== CudaCheck"; timeout 100 "${JV[@]}" dev.metaprune.cuda.CudaCheck > $OUT/check.log 2>&1; echo "rc=$?"; grep -E "FAIL|checks|depthwise 3x3 s1 c=960|N24" $OUT/check.log | cut -c1-150
for v in default 1 2 4; do
  echo "== dw bench OX=$v"
  if [[ $v == default ]]; then unset METAPRUNE_DW3_OX; else export METAPRUNE_DW3_OX=$v; fi
  PYTHONUNBUFFERED=1 timeout 80 python3 .device/kernels_bench.py $SO $OUT/dw_ox$v.json --only-dw > $OUT/dw_ox$v.log 2>&1; echo "rc=$?"
  grep -E "^dw|measured" $OUT/dw_ox$v.log | cut -c1-175
done
unset METAPRUNE_DW3_OX
echo "== JavaCPP cuDNN baseline"
timeout 100 "$JAVA" $JAVA_OPTS -Dorg.bytedeco.javacpp.cachedir=/tmp/jcpcache -cp "$CP:$PWD/.device/jcp/*" -Dmetaprune.cuda.library=$SO dev.metaprune.bench.gpu.CudnnBaseline > $OUT/cudnn_java.log 2>&1; echo "rc=$?"; tail -25 $OUT/cudnn_java.log | cut -c1-220
echo "== memcheck"; timeout 150 compute-sanitizer --tool memcheck --error-exitcode 9 "${JV[@]}" dev.metaprune.cuda.CudaCheck --no-error-check > $OUT/memcheck.log 2>&1; echo "memcheck rc=$?"; grep -E "ERROR SUMMARY|checks,|FAIL" $OUT/memcheck.log | tail -3
