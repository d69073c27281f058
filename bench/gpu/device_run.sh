#!/usr/bin/env bash
# Packing (on the build machine): a jlink JRE (java.base, jdk.incubator.vector, java.logging, jdk.unsupported;
# libjvm stripped) as .device/jre.txz, the runtime jars in .device/lib (metaprune.jar without its data set and
# native/), libmetaprune_cuda.so stripped and xz-compressed as .device/libmetaprune_cuda.so.xz, an env.sh that
# unpacks both with python3 and sets JAVA, CP, JAVA_OPTS, and kernels_bench.py; about 23 MB in all.
cd "$(dirname "$0")/.."
source .device/env.sh
SO=/tmp/libmetaprune_cuda.so
JV=("$JAVA" $JAVA_OPTS -cp "$CP" -Dmetaprune.cuda.library=$SO)
echo "== CudaCheck"; timeout 100 "${JV[@]}" dev.metaprune.cuda.CudaCheck > $OUT/check.log 2>&1; echo "rc=$?"; grep -E "FAIL|checks|error mapping" $OUT/check.log | cut -c1-300
echo "== memcheck"; timeout 150 compute-sanitizer --tool memcheck --error-exitcode 9 "${JV[@]}" dev.metaprune.cuda.CudaCheck --no-error-check > $OUT/memcheck.log 2>&1; echo "memcheck rc=$?"; grep -E "ERROR SUMMARY|checks,|FAIL" $OUT/memcheck.log | tail -3
for lr in 0.05 0.001; do for b in cpu cuda cuda; do echo "== train $b lr $lr"; timeout 60 "${JV[@]}" -Dmetaprune.backend=$b dev.metaprune.cuda.CudaTrainCheck mobilenetv2-cifar 32 3 $lr 2>&1 | grep -v WARN | tee -a $OUT/train.log | grep -E "loss|eval"; done; done
echo "== bench"; PYTHONUNBUFFERED=1 timeout 200 python3 .device/kernels_bench.py $SO $OUT/kernels_bench.json > $OUT/bench.log 2>&1; echo "rc=$?"; cut -c1-200 $OUT/bench.log | grep -E "dw|1x1|gen|conv|bn|PyTorch|measured"
