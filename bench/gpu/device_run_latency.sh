#!/usr/bin/env bash
# On the lent GPU machine (after bench/gpu/pack.sh here, which also packs the cudnn module and JavaCPP's CUDA
# presets): CUDA latency tables for issue 6 at the paper's setting (224x224, batch 32), sampled, each validated on 20
# random networks, on our kernels (cuda) and with cuDNN's convolutions beside them (cudnn). Tables and logs go to
# $OUT. cuDNN itself comes from the machine's Python wheels (device_env.sh puts them on LD_LIBRARY_PATH).
#   device tool: carry [".device"], command: bash bench/gpu/device_run_latency.sh
cd "$(dirname "$0")/../.."
source .device/env.sh
SO=/tmp/libmetaprune_cuda.so
JV=("$JAVA" $JAVA_OPTS -Xmx24g -cp "$CP" -Dmetaprune.cuda.library=$SO)
for dev in cuda cudnn; do
  for arch in mobilenetv2 mobilenetv1; do
    echo "== $arch b32 $dev"
    timeout 240 "${JV[@]}" dev.metaprune.cli.Main profile --arch $arch --batch 32 --device $dev --sampled 5 \
        --max-reps 20 --no-progress --validate 20 --out $OUT/$arch-224-b32-$dev-s5.json > $OUT/$arch-224-b32-$dev-s5.log 2>&1
    echo "rc=$?"; grep -E "device:|done in|sum of layers|leave-one-out|no overhead|stored" $OUT/$arch-224-b32-$dev-s5.log
  done
done
# layer by layer, cuDNN's convolutions against ours
for arch in mobilenetv2 mobilenetv1; do
  [[ -f $OUT/$arch-224-b32-cudnn-s5.json ]] && "${JV[@]}" dev.metaprune.cli.Main profile \
      --table $OUT/$arch-224-b32-cuda-s5.json --compare $OUT/$arch-224-b32-cudnn-s5.json > $OUT/$arch-cuda-vs-cudnn.txt 2>&1
done
