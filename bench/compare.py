#!/usr/bin/env python3
"""Side-by-side table: MetaPrune's JMH results next to the PyTorch peers (bench/peers/), same shapes.

usage: bench/compare.py JMH.json PEERS.jsonl [PEERS.jsonl ...] [--peak1 G --peak2 G --bw1 G --bw2 G]

"bwd" is the input gradient plus the weight gradient (MetaPrune: ConvBench.backwardInput +
backwardWeight; the peers time both in one backward call). Ratios > 1 mean MetaPrune is faster.
"""
import argparse
import json
import sys

# peer shape id -> (JMH class, param name, param value)
MAP = {
    "sgemm_256": ("GemmBench", "n", "256"), "sgemm_512": ("GemmBench", "n", "512"),
    "sgemm_1024": ("GemmBench", "n", "1024"), "sgemm_2048": ("GemmBench", "n", "2048"),
    "gen_fc2_64_200704": ("GemmBench.Generator", "out", "200704"),
    "mbv2_stem_3_32_s224": ("ConvBench", "layer", "stem3x3s2_3-32@224_n32"),
    "mbv2_dw_96_s112_st2": ("ConvBench", "layer", "dw3x3s2_96@112_n32"),
    "mbv2_pw_24_144_s56": ("ConvBench", "layer", "pw_24-144@56_n32"),
    "mbv2_dw_144_s56": ("ConvBench", "layer", "dw3x3s1_144@56_n32"),
    "mbv2_dw_144_s56_st2": ("ConvBench", "layer", "dw3x3s2_144@56_n32"),
    "mbv2_pw_144_24_s56": ("ConvBench", "layer", "pw_144-24@56_n32"),
    "mbv2_pw_160_960_s7": ("ConvBench", "layer", "pw_160-960@7_n32"),
    "mbv2_dw_960_s7": ("ConvBench", "layer", "dw3x3s1_960@7_n32"),
    "mbv2_pw_320_1280_s7": ("ConvBench", "layer", "pw_320-1280@7_n32"),
    "resnet_3x3_64_s56": ("ConvBench", "layer", "conv3x3_64-64@56_n32"),
    "cifar_stem_3_32_s32": ("ConvBench", "layer", "stem3x3s1_3-32@32_n128"),
    "cifar_pw_24_144_s32": ("ConvBench", "layer", "pw_24-144@32_n128"),
    "cifar_dw_144_s32": ("ConvBench", "layer", "dw3x3s1_144@32_n128"),
    "cifar_pw_144_24_s32": ("ConvBench", "layer", "pw_144-24@32_n128"),
    "bn_144_s56": ("BatchNormBench", "shape", "32,56,144"),
    "bn_960_s7": ("BatchNormBench", "shape", "32,7,960"),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("jmh")
    ap.add_argument("peers", nargs="+")
    a = ap.parse_args()
    ours = {}
    for r in json.load(open(a.jmh)):
        name = r["benchmark"].split("bench.")[-1]
        cls, meth = name.rsplit(".", 1)
        p = r["params"]
        ours[(cls, meth, tuple(sorted(p.items())))] = r["primaryMetric"]["score"]

    def our(cls, key, val, thr, meth):
        for (c, m, params), v in ours.items():
            d = dict(params)
            if c == cls and m == meth and d.get(key) == val and d.get("threads") == str(thr):
                return v
        return None

    peers = {}
    labels = {}
    for f in a.peers:
        for line in open(f):
            d = json.loads(line)
            if d.get("type") != "result":
                continue
            # columns: PyTorch 1.13 best set-up (oneDNN for GEMM / linear and convs), the same with its
            # BLAS (OpenBLAS) for GEMM / linear, and PyTorch 2.7 through DJL
            if d["peer"] == "djl":
                tag = "DJL (PyTorch 2.7)"
            elif d.get("backend") == "blas":
                tag = "PyTorch 1.13 OpenBLAS"
            else:
                tag = "PyTorch 1.13 best"
            peers[(d["id"], d["threads"], tag)] = d
            labels[d["id"]] = d["label"]
    tags = [t for t in ("PyTorch 1.13 best", "PyTorch 1.13 OpenBLAS", "DJL (PyTorch 2.7)") if any(k[2] == t for k in peers)]
    print("| shape | thr | MetaPrune fwd ms | " + " | ".join(f"{t} fwd ms" for t in tags)
          + " | MetaPrune bwd ms | " + " | ".join(f"{t} bwd ms" for t in tags) + " | fwd x vs best peer | bwd x vs best peer |")
    print("|" + "---|" * (5 + 2 * len(tags)))
    for pid, (cls, key, val) in MAP.items():
        for thr in (1, 2):
            if cls == "GemmBench":
                f = our(cls, key, val, thr, "sgemm")
                b = None
            elif cls == "GemmBench.Generator":
                f = our(cls, key, val, thr, "forward")
                b = our(cls, key, val, thr, "backward")
            elif cls == "BatchNormBench":
                f = our(cls, key, val, thr, "trainForward")
                b = our(cls, key, val, thr, "backward")
            else:
                f = our(cls, key, val, thr, "forward")
                bi, bw = our(cls, key, val, thr, "backwardInput"), our(cls, key, val, thr, "backwardWeight")
                b = bi + bw if bi is not None and bw is not None else None
            pf = [peers.get((pid, thr, t), {}).get("fwd_ms") for t in tags]
            pb = [peers.get((pid, thr, t), {}).get("bwd_ms") for t in tags]
            if cls == "GemmBench":
                pb = [None] * len(tags)
            noisy = any(peers.get((pid, thr, t), {}).get("noisy") for t in tags)
            fmt = lambda x: "" if x is None else (f"{x:.3f}" if x < 10 else f"{x:.1f}")
            best_f = min([x for x in pf if x], default=None)
            best_b = min([x for x in pb if x], default=None)
            rf = f"{best_f / f:.2f}" if f and best_f else ""
            rb = f"{best_b / b:.2f}" if b and best_b else ""
            print(f"| {labels.get(pid, pid)}{' (peer noisy)' if noisy else ''} | {thr} | {fmt(f)} | "
                  + " | ".join(fmt(x) for x in pf) + f" | {fmt(b)} | " + " | ".join(fmt(x) for x in pb)
                  + f" | {rf} | {rb} |")


if __name__ == "__main__":
    main()
