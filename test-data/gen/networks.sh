#!/usr/bin/env bash
# Writes the graph JSON of each network the executor regression tests use, then the PyTorch references.
# Run from anywhere: bash test-data/gen/networks.sh   (needs ./metaprune, i.e. a JDK >= 25 and Maven, and /usr/bin/python3 with torch)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT="$ROOT/test-data/gen/networks"
mkdir -p "$OUT"
mp() { "$ROOT/metaprune" flops --json --graph "$@" 2>/dev/null; }
mp --arch mobilenetv1-cifar --gene 0,0,0,0,0,0,0,0,0,0,0,0,0 > "$OUT/mobilenetv1-cifar_g0.json"
mp --arch mobilenetv1-cifar --gene 3,1,4,0,2,4,1,0,3,2,1,4,2 > "$OUT/mobilenetv1-cifar_mixed.json"
mp --arch mobilenetv2-cifar --in-channels 1 --input-size 28 \
   --gene 0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0 > "$OUT/mobilenetv2-cifar_g0_28px.json"
mp --arch mobilenetv2-cifar \
   --gene 2,4,1,1,3,3,3,0,0,0,0,2,2,2,1,1,1,4,3,0,2,4,1,3,0,2,4,1,3,0,2,4,1,3,0 > "$OUT/mobilenetv2-cifar_mixed.json"
mp --arch resnet50-cifar --gene 0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0 > "$OUT/resnet50-cifar_g0.json"
mp --arch resnet50-cifar --gene 2,1,2,0,1,0,1,2,0,0,1,2,0,1,0,1,2,0,1,2 > "$OUT/resnet50-cifar_mixed.json"
/usr/bin/python3 "$ROOT/test-data/gen/gen_network.py"
