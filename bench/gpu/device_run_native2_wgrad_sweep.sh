#!/usr/bin/env bash
# native2 (fourth run): depthwise weight gradient, positions per lane swept with METAPRUNE_DWW_PPL
cd "$(dirname "$0")/.."
source .device/env.sh
SO=/tmp/libmetaprune_cuda.so
for v in 2 4 8 16 32; do
  echo "== dw bench PPL=$v"; export METAPRUNE_DWW_PPL=$v
  PYTHONUNBUFFERED=1 timeout 70 python3 .device/kernels_bench.py $SO $OUT/dw_ppl$v.json --only-dw > $OUT/dw_ppl$v.log 2>&1; echo "rc=$?"
  grep -E "^dw" $OUT/dw_ppl$v.log | sed -E 's/fwd ours.*wgrad/wgrad/' | cut -c1-120
done
