#!/usr/bin/env bash
# native2 (third run): depthwise weight gradient with channel chunks: CudaCheck, dw bench, memcheck
# (run twice: run3-wgrad with 16 positions per lane everywhere, run5-final with the final rule: 32 / 4)
cd "$(dirname "$0")/.."
source .device/env.sh
SO=/tmp/libmetaprune_cuda.so
JV=("$JAVA" $JAVA_OPTS -cp "$CP" -Dmetaprune.cuda.library=$SO)
echo "== CudaCheck"; timeout 100 "${JV[@]}" dev.metaprune.cuda.CudaCheck > $OUT/check.log 2>&1; echo "rc=$?"; grep -E "FAIL|checks|depthwise.*backward weight" $OUT/check.log | cut -c1-150
echo "== dw bench"; PYTHONUNBUFFERED=1 timeout 80 python3 .device/kernels_bench.py $SO $OUT/dw_default.json --only-dw > $OUT/dw_default.log 2>&1; echo "rc=$?"
grep -E "^dw|measured" $OUT/dw_default.log | cut -c1-175
echo "== memcheck"; timeout 130 compute-sanitizer --tool memcheck --error-exitcode 9 "${JV[@]}" dev.metaprune.cuda.CudaCheck --no-error-check > $OUT/memcheck.log 2>&1; echo "memcheck rc=$?"; grep -E "ERROR SUMMARY|checks,|FAIL" $OUT/memcheck.log | tail -3
