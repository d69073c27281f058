#!/usr/bin/env python3
"""Pairs MetaPrune's training-step benchmarks (JMH JSON of PruningNetStepBench / DenseStepBench) with the
PyTorch steps peer (torch_pruningnet.py JSON lines) and prints one Markdown table in images/s.

usage: bench/peers/steps_table.py JMH.json TORCH.jsonl [...]

Ours: images/s = batch / (JMH ms/op) x 1000 (the +- is JMH's 99.9 % error, converted the same way).
PyTorch best: the fastest of its set-ups measured (memory format channels_last / contiguous; for the
PruningNet also the generator mode: full weight then crop, or crop rows only), named in the table.
Ratio = ours / PyTorch best (> 1: MetaPrune faster). Rows of the peer measured under foreign load are
marked (noisy).
"""
import json
import sys

CASES = [  # (case id, label, batch)
    ("pruningnet-random", "(a) PruningNet step, mobilenetv2-cifar 1x28x28, b128, random gene", 128),
    ("pruningnet-full", "(a') PruningNet step, same, full-width gene", 128),
    ("cifar-b128", "(b) dense step, mobilenetv2-cifar full width, 1x28x28, b128", 128),
    ("imagenet-b32", "(c) dense step, mobilenetv2 (1.4x) 3x224x224, b32", 32),
]


def jmh_case(r):
    b, p = r["benchmark"], r.get("params", {})
    if b.endswith("PruningNetStepBench.trainStep"):
        return "pruningnet-" + p["gene"]
    if b.endswith("DenseStepBench.trainStep"):
        return p["net"]
    return None


def main(argv):
    if len(argv) < 2 or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 2
    ours, torch = {}, {}
    for f in argv:
        if f.endswith(".json"):
            for r in json.load(open(f)):
                c = jmh_case(r)
                if c:
                    m = r["primaryMetric"]
                    assert m["scoreUnit"] == "ms/op", m["scoreUnit"]
                    ours[(c, int(r["params"]["threads"]))] = (m["score"], m.get("scoreError"))
        else:
            for line in open(f):
                if not line.startswith("{"):
                    continue
                r = json.loads(line)
                if r.get("type") != "result":
                    continue
                k = (r["id"], r["threads"])
                if k not in torch or r["images_per_s"] > torch[k]["images_per_s"]:
                    torch[k] = r
    print("| step | thr | MetaPrune ms/step | MetaPrune img/s | PyTorch 1.13 best ms/step | PyTorch best img/s "
          "| PyTorch set-up | MetaPrune / PyTorch |")
    print("|---|---|---|---|---|---|---|---|")
    for case, label, batch in CASES:
        for t in (1, 2):
            o, p = ours.get((case, t)), torch.get((case, t))
            if not o and not p:
                continue
            cells = [label, str(t)]
            if o:
                ms, err = o
                ips = batch * 1000 / ms
                cells += [f"{ms:.0f}", f"{ips:.1f}"]
            else:
                cells += ["", ""]
                ips = None
            if p:
                setup = p["memory_format"] + (f", gen {p['gen']}" if p.get("gen") else "")
                cells += [f"{p['step_ms']:.0f}" + (" (noisy)" if p["noisy"] else ""), f"{p['images_per_s']:.1f}", setup]
                cells.append(f"{ips / p['images_per_s']:.2f}" if ips else "")
            else:
                cells += ["", "", "", ""]
            print("| " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
