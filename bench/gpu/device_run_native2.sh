#!/usr/bin/env bash
# native2 (second run): CudaCheck, depthwise bench (default, then 2 rows per thread), JavaCPP cuDNN baseline, memcheck
cd "$(dirname "$0")/.."
source .device/env.sh
site=$(python3 -c 'import torch, os; print(os.path.dirname(os.path.dirname(torch.__file__)))')
extra=$(find "$site" \( -name 'libcudart.so.13*' -o -name 'libcublas.so.13*' -o -name 'libcublasLt.so.13*' -o -name 'libcudnn.so.9*' \) -printf '%h\n' 2>/dev/null | sort -u | paste -sd:)
export LD_LIBRARY_PATH="$extra:${LD_LIBRARY_PATH:-}"; echo "added: $extra"
SO=/tmp/libmetaprune_cuda.so
JV=("$JAVA" $JAVA_OPTS -cp "$CP" -Dmetaprune.cuda.library=$SO)
echo "== CudaCheck"; timeout 100 "${JV[@]}" dev.metaprune.cuda.CudaCheck > $OUT/check.log 2>&1; echo "rc=$?"; grep -E "FAIL|checks" $OUT/check.log | cut -c1-150
for v in default oy2; do
  echo "== dw bench $v"
  if [[ $v == oy2 ]]; then export METAPRUNE_DW3_OY=2; fi
  PYTHONUNBUFFERED=1 timeout 80 python3 .device/kernels_bench.py $SO $OUT/dw_$v.json --only-dw > $OUT/dw_$v.log 2>&1; echo "rc=$?"
  grep -E "^dw|measured" $OUT/dw_$v.log | cut -c1-175
done
unset METAPRUNE_DW3_OY
echo "== JavaCPP cuDNN baseline"
J=("$JAVA" $JAVA_OPTS -Dorg.bytedeco.javacpp.cachedir=/tmp/jcpcache -cp "$CP:$PWD/.device/jcp/*" -Dmetaprune.cuda.library=$SO)
timeout 100 "${J[@]}" dev.metaprune.bench.gpu.CudnnBaseline > $OUT/cudnn_java.log 2>&1; rc=$?; echo "rc=$rc"; tail -16 $OUT/cudnn_java.log | cut -c1-220
if [[ $rc != 0 ]]; then timeout 60 "${J[@]}" -Dorg.bytedeco.javacpp.logger.debug=true dev.metaprune.bench.gpu.CudnnBaseline > $OUT/cudnn_java_debug.log 2>&1; grep -iE "error|cannot|fail" $OUT/cudnn_java_debug.log | head -8 | cut -c1-250; fi
echo "== memcheck"; timeout 130 compute-sanitizer --tool memcheck --error-exitcode 9 "${JV[@]}" dev.metaprune.cuda.CudaCheck --no-error-check > $OUT/memcheck.log 2>&1; echo "memcheck rc=$?"; grep -E "ERROR SUMMARY|checks,|FAIL" $OUT/memcheck.log | tail -3
