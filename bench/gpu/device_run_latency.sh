#!/usr/bin/env bash
# On the lent GPU machine (after the packing described in device_run_final.sh): CUDA latency tables for issue 6 at
# the paper's setting (224x224, batch 32), sampled, each validated on 20 random networks, plus the GPU test of the
# device-resident backend the profiler uses. Tables and logs go to $OUT.
#   device tool: carry [".device"], command: bash bench/gpu/device_run_latency.sh
cd "$(dirname "$0")/../.."
source .device/env.sh
SO=/tmp/libmetaprune_cuda.so
JV=("$JAVA" $JAVA_OPTS -Xmx24g -cp "$CP" -Dmetaprune.cuda.library=$SO)
for arch in mobilenetv2 mobilenetv1; do
  echo "== $arch b32 cuda"
  timeout 240 "${JV[@]}" dev.metaprune.cli.Main profile --arch $arch --batch 32 --device cuda --sampled 5 \
      --max-reps 20 --no-progress --validate 20 --out $OUT/$arch-224-b32-cuda-s5.json > $OUT/$arch-224-b32-cuda-s5.log 2>&1
  echo "rc=$?"; grep -E "device:|done in|sum of layers|leave-one-out|no overhead|stored" $OUT/$arch-224-b32-cuda-s5.log
done
