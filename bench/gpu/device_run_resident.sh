#!/usr/bin/env bash
# On the lent GPU machine, after bench/gpu/pack.sh here (it writes .device/, about 26 MB): the device-resident
# training path of issue 7.
#   1. CudaCheck, which now includes the coherent backend's checks (the whole generator step, every row, against the
#      CPU reference; a copy between channel views; a declared host write), and compute-sanitizer memcheck over it.
#   2. CudaTrainCheck: PruningNet steps of mobilenetv2-cifar (1x28x28, 10 classes, batch 128, random genes, lr 0.01)
#      on cuda-resident (everything on the GPU, generators included), emulated-device (the same protocol and the same
#      eager generator step on the CPU kernels: the loss to compare with) and cpu; the median step time.
#   3. The same case in PyTorch on the same GPU (bench/peers/torch_pruningnet.py --device cuda: fp32, TF32 off,
#      cuDNN autotuned), both generator modes and memory formats.
#   device tool: carry [".device"], command: bash bench/gpu/device_run_resident.sh
cd "$(dirname "$0")/../.."
source .device/env.sh
SO=/tmp/libmetaprune_cuda.so
JV=("$JAVA" $JAVA_OPTS -Xmx32g -cp "$CP" -Dmetaprune.cuda.library=$SO)
echo "== CudaCheck"; timeout 120 "${JV[@]}" dev.metaprune.cuda.CudaCheck > $OUT/check.log 2>&1; echo "rc=$?"
grep -E "FAIL|checks|resident" $OUT/check.log | cut -c1-200
echo "== memcheck"; timeout 240 compute-sanitizer --tool memcheck --error-exitcode 9 "${JV[@]}" \
    dev.metaprune.cuda.CudaCheck --no-error-check --no-training > $OUT/memcheck.log 2>&1; echo "memcheck rc=$?"
grep -E "ERROR SUMMARY|checks,|FAIL" $OUT/memcheck.log | tail -3
for b in cuda-resident emulated-device cpu; do
  steps=20; [[ $b != cuda-resident ]] && steps=4
  echo "== PruningNet step on $b"
  timeout 240 "${JV[@]}" -Dmetaprune.backend=$b dev.metaprune.cuda.CudaTrainCheck mobilenetv2-cifar 128 $steps 0.01 \
      1 28 10 > $OUT/train-$b.log 2>&1; echo "rc=$?"
  grep -E "^backend|^loss [0-3] |eval-error|step-median" $OUT/train-$b.log
done
echo "== PyTorch PruningNet step on the GPU"
timeout 240 python3 bench/peers/torch_pruningnet.py --device cuda --only pruningnet-random --threads 1 \
    --formats channels_last contiguous --gen crop full --warmup-steps 3 --steps 20 --quiet-max-wait 1 \
    --out $OUT/torch-pruningnet > $OUT/torch.log 2>&1; echo "rc=$?"; tail -6 $OUT/torch.log
