#!/usr/bin/env python3
"""Merge peer JSON-lines files (torch_peer.py, the DJL peer) into one Markdown table.

  /usr/bin/python3 bench/peers/make_table.py bench/peers/out/*.jsonl [--probe bench/probe/out/probe.jsonl]
      [--peak-source fma_peak.c|JavaPeak.java] [--sort shape|file] > table.md

Rows are grouped by shape (in shapes.json order), then backend, threads, peer/config, so the peers'
figures for one shape sit together. With --probe, '% peak' columns use the probe's best FMA GFLOP/s
(compute rows) or triad GB/s (memory-bound rows) at the same thread count. Standard library only.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer_common as pc  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="+")
    ap.add_argument("--probe", default=None, help="run_probe.sh JSON lines: adds %% peak columns")
    ap.add_argument("--peak-source", default="fma_peak.c", choices=["fma_peak.c", "JavaPeak.java"],
                    help="hardware limit (C) or the JVM's Vector API limit (Java) as the 100%%")
    ap.add_argument("--sort", choices=["shape", "file"], default="shape")
    args = ap.parse_args()
    rows, envs = [], []
    for fn in args.files:
        with open(fn) as f:
            for line in f:
                line = line.strip()
                if not line.startswith("{"):
                    continue
                r = json.loads(line)
                if r.get("type") == "result":
                    rows.append(r)
                elif r.get("type") == "env":
                    envs.append(r)
    if args.sort == "shape":
        order = {s["id"]: i for i, s in enumerate(pc.load_shapes())}
        rows.sort(key=lambda r: (order.get(r["id"], 1 << 20), r.get("backend") or "", r["threads"],
                                 r["peer"], r["config"]))
    for e in envs:
        print(f"- {e['peer']} / {e['config']} ({e.get('time')}, {e.get('host')}): "
              + ", ".join(f"{k}={e.get(k)}" for k in ("torch", "pytorch", "djl", "blas_kind", "jemalloc_loaded",
                                                      "channels_last", "java") if e.get(k) is not None))
    print()
    peak = pc.read_probe_peak(args.probe, args.peak_source) if args.probe else None
    if peak:
        print(f"% peak against {peak['source']}: FMA GFLOP/s {peak['fma']}, triad GB/s {peak['bw']}\n")
    print(pc.markdown_table(rows, peak))


if __name__ == "__main__":
    main()
