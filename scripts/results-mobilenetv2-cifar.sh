#!/usr/bin/env bash
# The MetaPruning evidence of RESULTS.md: a PruningNet for the small-input MobileNetV2 on Fashion-MNIST,
# searches at 50 % and 25 % of the full network's FLOPs, and each winner and the uniform network of the
# same FLOPs retrained from scratch with seeds 1-3. Every stage is resumable: run the script again after
# a kill and it continues (finished runs are kept, a half-done one is resumed).
#   scripts/results-mobilenetv2-cifar.sh [OUT]      (default OUT: runs/results)
# MP overrides the command (default: ./metaprune). Sizes are set for a 2-core machine (about 1.5 h).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/results}
mp=${MP:-./metaprune}
mkdir -p "$out"

done_run() { [[ -f "$1/run.json" ]] && grep -q "\"$2\"" "$1/run.json"; }

# 1. PruningNet: 2,000 steps of 64 (about 2.2 epochs of the 59,500 training images), lr 0.03 cosine.
if [[ ! -f "$out/pn/.done" ]]; then
  if [[ -f "$out/pn/checkpoint.safetensors" ]]; then $mp train --resume "$out/pn"
  else $mp train --epochs 4 --max-steps-per-epoch 500 --batch 64 --lr 0.03 --schedule cosine --recal-batches 10 --run "$out/pn"; fi
  touch "$out/pn/.done"
fi

# 2. Searches: population 24, 6 iterations (144 candidates), BN recalibrated on 8 x 64 training images,
#    scored on the 500 held-out images.
for b in 50 25; do
  s="$out/search-$b"
  if [[ ! -f "$s/result.json" ]]; then
    if [[ -f "$s/search.json" ]]; then $mp search --resume "$s"
    else $mp search --checkpoint "$out/pn" --max-flops "$b%" --population 24 --top-k 6 --mutations 8 --crossovers 8 \
           --iterations 6 --recal-batches 8 --val-images 500 --seed 1 --run "$s"; fi
  fi
done

# 3. Retraining from scratch: 600 steps of 64, lr 0.05 cosine, seeds 1-3, searched and uniform alike.
#    JOBS runs (default 2) at a time, each on THREADS kernel threads (default 1): on a shared 2-core machine two
#    1-thread runs finish sooner than one 2-thread run after another (no thread waits on a descheduled partner).
retrain() { # budget kind seed
  local r="$out/r$1-$2-s$3"
  done_run "$r" test_top1 && return 0
  if [[ -f "$r/checkpoint.safetensors" ]]; then $mp retrain --resume "$r" --threads "${THREADS:-1}" --quiet; return; fi
  local extra=(); [[ $2 == uniform ]] && extra=(--uniform)
  $mp retrain --from-search "$out/search-$1" "${extra[@]}" --epochs 1 --max-steps-per-epoch 600 --batch 64 \
    --lr 0.05 --schedule cosine --seed "$3" --threads "${THREADS:-1}" --quiet --run "$r" > "$r.log" 2>&1
}
running=0
for seed in 1 2 3; do
  for b in 50 25; do
    for kind in searched uniform; do
      retrain "$b" "$kind" "$seed" &
      running=$((running + 1))
      if (( running >= ${JOBS:-2} )); then wait -n || true; running=$((running - 1)); fi
    done
  done
done
wait
python3 scripts/results_table.py "$out"
