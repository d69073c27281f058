#!/usr/bin/env bash
# The baselines evidence of RESULTS.md (issue 8): uniform, L1-norm, Network Slimming, AMC and MetaPruning on the
# small-input MobileNetV2 and Fashion-MNIST at two FLOPs budgets, three seeds each; then L1 and Slimming on ResNet-20.
#   scripts/results-baselines.sh [OUT] [RESULTS]     (defaults: runs/baselines, runs/results)
# RESULTS is the folder of scripts/results-mobilenetv2-cifar.sh: its searches' winners set the budgets (every method
# gets the largest network within the MetaPruning winner's FLOPs) and are retrained here.
# Schedule: the dense networks train 200 steps of 64 (4 "epochs" capped at 50 steps: Scratch-B's budget is counted in
# these epochs, so it is exact to 1/4 of the dense run); fine-tuning 100 steps at lr 0.01 cosine; Scratch-B
# round(4 x full / pruned FLOPs) epochs of 50 steps at lr 0.05 cosine, for every method, so that all five are compared
# at the compute of training the dense network. MP overrides the command (default ./metaprune); JOBS runs at a time
# (default 2), each on one kernel thread. Resumable: finished runs (run.json with test_top1) are skipped.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/baselines}
res=${2:-runs/results}
mp=${MP:-./metaprune}
mkdir -p "$out"
common=(--batch 64 --threads 1 --quiet)
dense=(--epochs 4 --max-steps-per-epoch 50 --lr 0.05 --schedule cosine)
finetune=(--epochs 2 --max-steps-per-epoch 50 --lr 0.01)

done_run() { [[ -f "$1/run.json" ]] && grep -q '"test_top1"' "$1/run.json"; }
run() { # DIR command...: a fresh run (a half-done one is started again)
  local d=$1; shift
  done_run "$d" && return 0
  rm -rf "$d"
  echo "$(date +%T) $d"
  $mp "$@" --run "$d" > "$d.log" 2>&1 || echo "FAILED: $d (see $d.log)"
}
budget() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['best']['flops'] / 1e6, end='M')" "$1"; }
pool() { # run each line of stdin as a job, JOBS at a time
  local running=0
  while read -r line; do
    eval "$line" &
    running=$((running + 1))
    if (( running >= ${JOBS:-2} )); then wait -n || true; running=$((running - 1)); fi
  done
  wait
}

mbv2() { # method budget seed
  local m=$1 b=$2 s=$3 f src
  f=$(budget "$res/search-$b/result.json")
  case $m in
    l1|slim|amc)
      src="$out/full"; [[ $m == slim ]] && src="$out/sparse"
      local extra=(); [[ $m == amc ]] && extra=(--warmup 20 --episodes 60)
      run "$out/$m-$b-s$s" prune "$m" --from "$src" --max-flops "$f" "${finetune[@]}" --seed "$s" "${extra[@]}" "${common[@]}"
      run "$out/$m-$b-s$s-scratchb" retrain --from-pruned "$out/$m-$b-s$s" --scratch-b "${dense[@]}" --seed "$s" "${common[@]}" ;;
    mp)  run "$out/mp-$b-s$s-scratchb" retrain --from-search "$res/search-$b" --scratch-b "${dense[@]}" --seed "$s" "${common[@]}" ;;
    uni) run "$out/uni-$b-s$s-scratchb" retrain --from-search "$res/search-$b" --uniform --scratch-b "${dense[@]}" --seed "$s" "${common[@]}" ;;
  esac
}
resnet() { # method budget seed [sb]
  local m=$1 b=$2 s=$3 src="$out/r20-full"
  [[ $m == slim ]] && src="$out/r20-sparse"
  run "$out/r20-$m-$b-s$s" prune "$m" --from "$src" --max-flops "$b%" "${finetune[@]}" --seed "$s" "${common[@]}"
  [[ ${4:-} == sb ]] && run "$out/r20-$m-$b-s$s-scratchb" retrain --from-pruned "$out/r20-$m-$b-s$s" --scratch-b "${dense[@]}" --seed "$s" "${common[@]}"
  return 0
}

# 1. MobileNetV2: one dense network and one trained with Slimming's BN sparsity (1e-4), seed 1.
printf '%s\n' "run $out/full train --full ${dense[*]} --seed 1 ${common[*]}" \
              "run $out/sparse train --full --bn-l1 1e-4 ${dense[*]} --seed 1 ${common[*]}" | pool
# 2. Every method at both budgets, seeds 1-3.
for s in 1 2 3; do for b in 25 50; do for m in amc l1 slim mp uni; do echo "mbv2 $m $b $s"; done; done; done | pool
# 3. ResNet-20: L1 and Slimming at 50 % and 25 %, fine-tuned and Scratch-B, seeds 1-3.
printf '%s\n' "run $out/r20-full train --full --arch resnet20-cifar ${dense[*]} --seed 1 ${common[*]}" \
              "run $out/r20-sparse train --full --arch resnet20-cifar --bn-l1 1e-4 ${dense[*]} --seed 1 ${common[*]}" | pool
for s in 1 2 3; do for b in 50 25; do for m in l1 slim; do echo "resnet $m $b $s"; done; done; done | pool
for s in 1 2 3; do for b in 50 25; do for m in l1 slim; do echo "resnet $m $b $s sb"; done; done; done | pool
# 4. AMC's reconstruction on ResNet-20, an ablation: the same 12 random warm-up episodes (+1) with and without the
#    least-squares refit (the 3x3 convs included); compare the held-out errors per episode in amc.jsonl.
run "$out/r20-amc-rec" prune amc --from "$out/r20-full" --max-flops 50% --warmup 12 --episodes 1 --epochs 1 \
  --max-steps-per-epoch 1 --seed 1 "${common[@]}"
run "$out/r20-amc-norec" prune amc --from "$out/r20-full" --max-flops 50% --warmup 12 --episodes 1 --epochs 1 \
  --max-steps-per-epoch 1 --seed 1 --no-reconstruction "${common[@]}"
python3 scripts/baselines_table.py "$out"
