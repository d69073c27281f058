#!/usr/bin/env python3
"""The baselines table of RESULTS.md from run folders of scripts/results-baselines.sh (no dependencies).

    python3 scripts/baselines_table.py runs/baselines [more folders...]

Every sub-folder named METHOD-BUDGET-sSEED[-scratchb] (optionally prefixed r20-) with a finished run.json counts;
rows are grouped by architecture, budget and the run's recorded method, with mean and sample standard deviation over
seeds and each network's exact FLOPs (they differ between seeds for AMC and MetaPruning's uniform twin).
"""
import json
import re
import statistics
import sys
from collections import defaultdict
from pathlib import Path

NAME = re.compile(r"^(?:r20-)?(\w+)-(\d+)-s(\d+)(-scratchb)?$")
ORDER = ["uniform-scratch-b", "metapruning-scratch-b", "l1-finetune", "l1-scratch-b", "slimming-finetune",
         "slimming-scratch-b", "amc-finetune", "amc-scratch-b"]
LABEL = {"uniform-scratch-b": "uniform (from scratch, Scratch-B budget)",
         "metapruning-scratch-b": "MetaPruning (searched, from scratch, Scratch-B budget)",
         "l1-finetune": "L1-norm, fine-tuned", "l1-scratch-b": "L1-norm structure, Scratch-B",
         "slimming-finetune": "Network Slimming, fine-tuned", "slimming-scratch-b": "Network Slimming structure, Scratch-B",
         "amc-finetune": "AMC, fine-tuned", "amc-scratch-b": "AMC structure, Scratch-B"}

rows = defaultdict(list)
dense = {}
for folder in sys.argv[1:] or ["runs/baselines"]:
    for d in sorted(Path(folder).iterdir()):
        rj = d / "run.json"
        if not rj.is_file():
            continue
        r = json.loads(rj.read_text())
        if "test_top1" not in r:
            continue
        arch = r.get("config", {}).get("arch", "?")
        if d.name in ("full", "sparse", "r20-full", "r20-sparse"):
            dense[(arch, r.get("method", d.name))] = r
            continue
        m = NAME.match(d.name)
        if not m:
            continue
        rows[(arch, int(m.group(2)), r.get("method", "?"))].append((int(m.group(3)), r))

for (arch, method), r in sorted(dense.items()):
    steps = sum(1 for _ in r.get("epochs", [])) * r["config"].get("maxStepsPerEpoch", 0)
    print(f"dense {arch} {method}: {r['flops'] / 1e6:.2f} MFLOPs, {steps} steps, test top-1 {100 * r['test_top1']:.2f} %")
print()
print("| network | budget | method | MFLOPs (per seed) | params | steps | test top-1 per seed | mean | sd |")
print("|---|---|---|---|---|---|---|---|---|")
for key in sorted(rows, key=lambda k: (k[0], -k[1], ORDER.index(k[2]) if k[2] in ORDER else 99)):
    arch, budget, method = key
    runs = sorted(rows[key], key=lambda t: t[0])
    accs = [100 * r["test_top1"] for _, r in runs]
    flops = sorted({round(r["flops"] / 1e6, 2) for _, r in runs})
    params = sorted({round(r["params"] / 1e6, 3) for _, r in runs})
    steps = sorted({len(r.get("epochs", [])) * r["config"].get("maxStepsPerEpoch", 0) for _, r in runs})
    sd = f"{statistics.stdev(accs):.2f}" if len(accs) > 1 else "-"
    print(f"| {arch} | {budget} % | {LABEL.get(method, method)} | {', '.join(f'{f:.2f}' for f in flops)} | "
          f"{', '.join(f'{p:.3f}' for p in params)} M | {', '.join(map(str, steps))} | "
          f"{', '.join(f'{a:.2f}' for a in accs)} | {statistics.mean(accs):.2f} % | {sd} |")
