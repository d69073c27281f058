#!/usr/bin/env bash
# Packing (on the build machine): a jlink JRE (java.base, jdk.incubator.vector, java.logging, jdk.unsupported;
# libjvm stripped) as .device/jre.txz, the runtime jars in .device/lib (metaprune.jar without its data set and
# native/), libmetaprune_cuda.so stripped and xz-compressed as .device/libmetaprune_cuda.so.xz, an env.sh that
# unpacks both with python3 and sets JAVA, CP, JAVA_OPTS, and kernels_bench.py; about 23 MB in all.
cd "$(dirname "$0")/.."
source .device/env.sh
SO=/tmp/libmetaprune_cuda.so
JV=("$JAVA" $JAVA_OPTS -cp "$CP" -Dmetaprune.cuda.library=$SO)
echo "== CudaCheck"; timeout 100 "${JV[@]}" dev.metaprune.cuda.CudaCheck > $OUT/check.log 2>&1; echo "rc=$?"; grep -E "FAIL|checks" $OUT/check.log
echo "== memcheck"; timeout 150 compute-sanitizer --tool memcheck --error-exitcode 9 "${JV[@]}" dev.metaprune.cuda.CudaCheck --no-error-check > $OUT/memcheck.log 2>&1; echo "memcheck rc=$?"; grep -E "ERROR SUMMARY|checks,|FAIL" $OUT/memcheck.log | tail -3
echo "== bench"; PYTHONUNBUFFERED=1 timeout 200 python3 .device/kernels_bench.py $SO $OUT/kernels_bench.json > $OUT/bench.log 2>&1; echo "rc=$?"; cut -c1-120 $OUT/bench.log | grep -E "dw|1x1|measured"
