#!/usr/bin/env python3
"""Tables of RESULTS.md from the run folders of scripts/results-mobilenetv2-cifar.sh (no dependencies).

    python3 scripts/results_table.py runs/results
"""
import json
import statistics
import sys
from pathlib import Path

out = Path(sys.argv[1] if len(sys.argv) > 1 else "runs/results")


def load(p):
    p = Path(p)
    return json.loads(p.read_text()) if p.exists() else None


print("| budget | network | MFLOPs | params | seeds | test top-1 per seed | mean | spread (sd) |")
print("|---|---|---|---|---|---|---|---|")
for b in (50, 25):
    res = load(out / f"search-{b}" / "result.json")
    if res is None:
        continue
    for kind in ("searched", "uniform"):
        accs, flops, params = [], None, None
        for seed in (1, 2, 3):
            r = load(out / f"r{b}-{kind}-s{seed}" / "run.json")
            if r and "test_top1" in r:
                accs.append(100 * r["test_top1"])
                flops, params = r["flops"], r["params"]
        if not accs:
            continue
        name = "MetaPruning (searched)" if kind == "searched" else \
            f"uniform x{res['uniform_same_flops']['multiplier']:.4f}"
        sd = statistics.stdev(accs) if len(accs) > 1 else float("nan")
        print(f"| {b} % | {name} | {flops / 1e6:.2f} | {params / 1e6:.3f} M | {len(accs)} | "
              + ", ".join(f"{a:.2f}" for a in accs) + f" | {statistics.mean(accs):.2f} % | {sd:.2f} |")

print()
for b in (50, 25):
    res = load(out / f"search-{b}" / "result.json")
    if res is None:
        continue
    best = res["best"]
    print(f"search {b} %: {res['evaluated']} candidates in {res['seconds_this_session'] / 60:.1f} min; best "
          f"{best['gene_string']}: held-out error {100 * best['heldout_error']:.2f} %, {best['flops'] / 1e6:.2f} M FLOPs "
          f"({100 * best['flops_fraction_of_full']:.1f} % of full), {best['params'] / 1e6:.3f} M params; "
          f"uniform gene in budget: {json.dumps(res.get('uniform_gene_in_budget'))}")
