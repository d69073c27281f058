#!/usr/bin/env python3
"""MetaPrune peer: whole training steps in PyTorch, beside MetaPrune's PruningNetStepBench / DenseStepBench.

Cases (ids shared with the JMH benchmarks' parameters, so bench/peers/steps_table.py can pair them):
  pruningnet-random  PruningNet of the small-input MobileNetV2 (mobilenetv2-cifar), 1x28x28, 10 classes,
                     batch 128, a fresh random gene every step (fixed-seed sequence, the same in every run)
  pruningnet-full    the same PruningNet, every step at the widest gene (all scales 1.00)
  cifar-b128         plain MobileNetV2 with its own weights: mobilenetv2-cifar at full width (1.4x bases),
                     1x28x28, 10 classes, batch 128
  imagenet-b32       plain MobileNetV2, MetaPruning layout at full width (1.4x bases), 3x224x224, 1000
                     classes, batch 32

One step = everything a training loop does per batch: zero the gradients, (PruningNet: run every weight
generator and crop), forward, label-smoothed cross-entropy (0.1), backward, SGD step (momentum 0.9,
weight decay 0: the official MobileNetV2 PruningNet setting). Timed per step with perf_counter after
warm-up steps; the reported figure is the median over the timed steps during which other processes used
at most --max-foreign cores (all steps, flagged noisy, when fewer than half are clean); images/s =
batch / median step time. Every case runs in both memory formats (channels_last, contiguous) and at each
thread count; "best" is the faster format.

The network follows MetaPruning's description (Liu et al., ICCV 2019) and this project's layer list
(./metaprune flops --arch mobilenetv2-cifar --in-channels 1 --input-size 28 --layers -g 30,...,30):
  stem 3x3 conv (stride 2; small input: 1) -> BN -> ReLU6; 17 inverted residual blocks, base widths
  [44, 22, 33 x2, 44 x3, 88 x4, 132 x3, 224 x3, 448] (the 1.4x ones), stage_repeat [1,1,2,3,4,3,3,1];
  each block: 1x1 expand (ratio 1 for block 1, which still has the conv; 6 otherwise) -> BN -> ReLU6,
  3x3 depthwise (stride 2 at blocks 2, 4, 7, 14; small input: block 2 stride 1) -> BN -> ReLU6, 1x1
  project -> BN, residual add where the block's base input and output widths agree (blocks 3, 5, 6, 8-10,
  12, 13, 15, 16); 1x1 conv to 1280 -> BN -> ReLU6, global average pool, Linear(1280, classes).
PruningNet: a gene is 35 scale indices (0..30, scale (10 + 3 i) / 100): 18 output widths tied per stage
(stem, blocks 1-17), then 17 block mid widths; width = int(base * scale). Every conv has a generator
Linear(k -> hidden) -> ReLU -> Linear(hidden -> max weight count) whose input is the layer's scales
([mid, in, out] for a block's three convs, [out] for the stem, [in] for the last conv); hidden 32 for the
stem and the last conv, 64 in the blocks. The output, viewed as the full [out, in/groups, k, k] weight, is
cropped to [:c_out, :c_in] (--gen full, as the paper describes it), or only the crop's rows of the second
Linear are computed (--gen crop: the rows are gathered with a strided view of its weight; its gradient is
still a full-size tensor in PyTorch). BatchNorm is affine-free, normalises with the batch statistics and
keeps running statistics per width choice (31 sets per BN, selected by the gene position that sets its
width; the last conv's BN by its input width).

Run it through the wrapper (OpenBLAS + jemalloc, like the kernel peer's "best" set-up):
  bench/peers/run_torch_peer.sh --script torch_pruningnet.py [options]
Directly: /usr/bin/python3 bench/peers/torch_pruningnet.py --help
"""
import argparse
import datetime
import json
import os
import random
import re
import socket
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer_common as pc  # noqa: E402
import torch_peer as tp  # noqa: E402  (environment report, thread setting)

SCALES = [(10 + 3 * i) / 100 for i in range(31)]
OUT_BASES = [44, 22, 33, 33, 44, 44, 44, 88, 88, 88, 88, 132, 132, 132, 224, 224, 224, 448]
STAGE_REPEAT = [1, 1, 2, 3, 4, 3, 3, 1]
LAST = 1280
HIDDEN_BLOCK, HIDDEN_END = 64, 32
GENE_LEN = 35
FULL_GENE = [30] * GENE_LEN


# ---------------------------------------------------------------- the architecture

def tie_groups():
    """Gene positions sharing one draw: the output widths of a stage, then each mid alone."""
    groups, pos = [], 0
    for r in STAGE_REPEAT:
        groups.append(list(range(pos, pos + r)))
        pos += r
    return groups + [[18 + j] for j in range(17)]


def random_gene(rnd):
    g = [0] * GENE_LEN
    for grp in tie_groups():
        v = rnd.randrange(31)
        for p in grp:
            g[p] = v
    return g


def width(base, index):
    return int(base * SCALES[index])  # Python's int(base * scale), as the official code


def blocks(small):
    """Per block i = 1..17: (base in, base mid, base out, stride, residual, gene positions of in, mid, out)."""
    out = []
    for i in range(1, 18):
        bi, bo = OUT_BASES[i - 1], OUT_BASES[i]
        bm = (1 if i == 1 else 6) * bi
        down = bi != bo and i not in (1, 11, 17)
        stride = 2 if down and not (small and i == 2) else 1
        out.append(dict(i=i, cin=bi, mid=bm, cout=bo, stride=stride, residual=(bi == bo and i > 1),
                        p_in=i - 1, p_mid=17 + i, p_out=i))
    return out


def conv_list(in_ch, small):
    """Every conv in order: name, max weight shape [out, in/groups, k, k], groups (None: depthwise, runs
    at its width), stride, padding, generator input positions, hidden, the gene positions of its output
    and input widths (None: fixed), and the BN statistics key."""
    L = [dict(name="stem.conv", shape=(OUT_BASES[0], in_ch, 3, 3), dw=False, stride=1 if small else 2, pad=1,
              enc=[0], hidden=HIDDEN_END, p_out=0, p_in=None, bn_key=0)]
    for b in blocks(small):
        enc = [b["p_mid"], b["p_in"], b["p_out"]]
        n = f"block{b['i']}"
        L.append(dict(name=n + ".expand", shape=(b["mid"], b["cin"], 1, 1), dw=False, stride=1, pad=0, enc=enc,
                      hidden=HIDDEN_BLOCK, p_out=b["p_mid"], p_in=b["p_in"], bn_key=b["p_mid"]))
        L.append(dict(name=n + ".dw", shape=(b["mid"], 1, 3, 3), dw=True, stride=b["stride"], pad=1, enc=enc,
                      hidden=HIDDEN_BLOCK, p_out=b["p_mid"], p_in=None, bn_key=b["p_mid"]))
        L.append(dict(name=n + ".project", shape=(b["cout"], b["mid"], 1, 1), dw=False, stride=1, pad=0, enc=enc,
                      hidden=HIDDEN_BLOCK, p_out=b["p_out"], p_in=b["p_mid"], bn_key=b["p_out"],
                      residual=b["residual"]))
    L.append(dict(name="last.conv", shape=(LAST, OUT_BASES[-1], 1, 1), dw=False, stride=1, pad=0, enc=[17],
                  hidden=HIDDEN_END, p_out=None, p_in=17, bn_key=17))
    return L


def conv_widths(c, gene):
    co = c["shape"][0] if c["p_out"] is None else width(c["shape"][0], gene[c["p_out"]])
    ci = 1 if c["dw"] else (c["shape"][1] if c["p_in"] is None else width(c["shape"][1], gene[c["p_in"]]))
    return co, ci


def run_layers(x, convs, weight_of, bn_of):
    """The shared forward: x -> logits' features (before the classifier). weight_of(j) gives conv j's
    weight, bn_of(j, t) applies its BatchNorm."""
    block_in = None
    for j, c in enumerate(convs):
        if c["name"].endswith(".expand"):
            block_in = x
        w = weight_of(j)
        x = F.conv2d(x, w, None, c["stride"], c["pad"], 1, w.shape[0] if c["dw"] else 1)
        x = bn_of(j, x)
        if c["name"].endswith(".project"):
            if c.get("residual"):
                x = x + block_in
        else:
            x = F.hardtanh(x, 0.0, 6.0, inplace=True)  # ReLU6, in place as torchvision does
    return x.mean((2, 3))


class PruningNet(nn.Module):
    def __init__(self, in_ch, classes, small, gen_mode, memory_format):
        super().__init__()
        self.convs = conv_list(in_ch, small)
        self.gen_mode, self.fmt = gen_mode, memory_format
        self.fc1 = nn.ModuleList(nn.Linear(len(c["enc"]), c["hidden"]) for c in self.convs)
        self.fc2 = nn.ModuleList(nn.Linear(c["hidden"], c["shape"][0] * c["shape"][1] * c["shape"][2] * c["shape"][3])
                                 for c in self.convs)
        for j, c in enumerate(self.convs):  # 31 sets of running statistics per BN, max width
            self.register_buffer(f"rm{j}", torch.zeros(31, c["shape"][0]))
            self.register_buffer(f"rv{j}", torch.ones(31, c["shape"][0]))
        self.fc = nn.Linear(LAST, classes)
        self.gene = None

    def weight(self, j):
        c, g = self.convs[j], self.gene
        co, ci = conv_widths(c, g)
        s = torch.tensor([SCALES[g[p]] for p in c["enc"]], device=self.fc.weight.device)
        h = F.relu(self.fc1[j](s))
        o, i, kh, kw = c["shape"]
        fc2 = self.fc2[j]
        if self.gen_mode == "full":  # the whole weight, then the crop
            w = fc2(h).view(o, i, kh, kw)[:co, :ci]
        else:  # only the crop's rows: co runs of ci*kh*kw rows of the second Linear
            w2 = fc2.weight.view(o, i * kh * kw, -1)[:co, :ci * kh * kw]
            b2 = fc2.bias.view(o, i * kh * kw)[:co, :ci * kh * kw]
            w = (torch.matmul(w2, h) + b2).view(co, ci, kh, kw)
        return w.contiguous(memory_format=self.fmt)

    def bn(self, j, x):
        c = self.convs[j]
        k = self.gene[c["bn_key"]]
        n = x.shape[1]
        return F.batch_norm(x, getattr(self, f"rm{j}")[k, :n], getattr(self, f"rv{j}")[k, :n], None, None,
                            True, 0.1, 1e-5)

    def forward(self, x, gene):
        self.gene = gene
        return self.fc(run_layers(x, self.convs, self.weight, self.bn))


class DenseNet(nn.Module):
    """The same network with its own weights at one width configuration; BN affine, as usual."""

    def __init__(self, in_ch, classes, small, gene):
        super().__init__()
        self.convs = conv_list(in_ch, small)
        self.w = nn.ParameterList()
        self.bns = nn.ModuleList()
        for c in self.convs:
            co, ci = conv_widths(c, gene)
            w = torch.empty(co, ci, c["shape"][2], c["shape"][3])
            nn.init.kaiming_normal_(w, mode="fan_out")
            self.w.append(nn.Parameter(w))
            self.bns.append(nn.BatchNorm2d(co))
        self.fc = nn.Linear(LAST, classes)
        nn.init.normal_(self.fc.weight, 0, 0.01)
        nn.init.zeros_(self.fc.bias)

    def forward(self, x, gene=None):
        return self.fc(run_layers(x, self.convs, lambda j: self.w[j], lambda j, t: self.bns[j](t)))


CASES = {
    # id: (kind, in_ch, size, classes, small, batch, gene)
    "pruningnet-random": ("pruningnet", 1, 28, 10, True, 128, "random"),
    "pruningnet-full": ("pruningnet", 1, 28, 10, True, 128, "full"),
    "cifar-b128": ("dense", 1, 28, 10, True, 128, "full"),
    "imagenet-b32": ("dense", 3, 224, 1000, False, 32, "full"),
}
LABELS = {
    "pruningnet-random": "PruningNet step, mobilenetv2-cifar 1x28x28, b128, random gene",
    "pruningnet-full": "PruningNet step, mobilenetv2-cifar 1x28x28, b128, full-width gene",
    "cifar-b128": "dense step, mobilenetv2-cifar full width 1x28x28, b128",
    "imagenet-b32": "dense step, mobilenetv2 (1.4x bases) 3x224x224, b32",
}


# ---------------------------------------------------------------- timing

def build(case, fmt_name, gen_mode, seed, device="cpu", batch_override=None):
    kind, in_ch, size, classes, small, batch, gene_kind = CASES[case]
    batch = batch_override or batch
    fmt = torch.channels_last if fmt_name == "channels_last" else torch.contiguous_format
    torch.manual_seed(seed)
    if kind == "pruningnet":
        model = PruningNet(in_ch, classes, small, gen_mode, fmt)
    else:
        model = DenseNet(in_ch, classes, small, FULL_GENE).to(memory_format=fmt)
    model = model.to(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=0.0)
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, in_ch, size, size, generator=g).contiguous(memory_format=fmt).to(device)
    y = torch.randint(0, classes, (batch,), generator=g).to(device)
    return model, opt, x, y, batch, gene_kind


def step(model, opt, x, y, gene):
    opt.zero_grad(set_to_none=True)
    loss = F.cross_entropy(model(x, gene), y, label_smoothing=0.1)
    loss.backward()
    opt.step()
    return loss


def measure(case, fmt_name, gen_mode, threads, args):
    tp.set_threads(threads)
    model, opt, x, y, batch, gene_kind = build(case, fmt_name, gen_mode, args.seed, args.device, args.batch)
    cuda = args.device.startswith("cuda")
    waited, load, quiet = pc.wait_quiet(args.quiet_threshold, args.quiet_max_wait)
    rnd = random.Random(args.gene_seed)  # the same gene sequence in every measurement

    def next_gene():
        return random_gene(rnd) if gene_kind == "random" else FULL_GENE

    for _ in range(args.warmup_steps):
        step(model, opt, x, y, next_gene())
    per, foreign, losses = [], [], []
    meter = pc.LoadMeter()
    for _ in range(args.steps):
        gene = next_gene()
        meter.start()
        if cuda:
            torch.cuda.synchronize()   # a step's time is its kernels', not the launch queue's
        t0 = time.perf_counter()
        loss = step(model, opt, x, y, gene)
        if cuda:
            torch.cuda.synchronize()
        per.append(time.perf_counter() - t0)
        foreign.append(meter.stop())
        losses.append(float(loss))
    if not all(v == v and abs(v) != float("inf") for v in losses):
        raise RuntimeError(f"{case}: non-finite loss {losses}")
    clean = [p for p, f in zip(per, foreign) if f <= args.max_foreign]
    noisy = len(clean) < max(1, (len(per) + 1) // 2)
    t = pc.median(per if noisy else clean)
    del model, opt
    return {"type": "result", "peer": "torch", "torch": torch.__version__, "config": args.config,
            "id": case, "label": re.sub(r"\bb\d+\b", f"b{batch}", LABELS[case]) + ("" if args.device == "cpu"
                                                                                  else f", {args.device}"),
            "memory_format": fmt_name, "device": args.device,
            "gen": gen_mode if CASES[case][0] == "pruningnet" else None,
            "batch": batch, "threads": threads, "torch_threads": torch.get_num_threads(),
            "step_ms": round(t * 1e3, 2), "images_per_s": round(batch / t, 2),
            "steps_ms": [round(p * 1e3, 2) for p in per], "steps_foreign_cores": [round(f, 2) for f in foreign],
            "clean_steps": len(clean), "warmup_steps": args.warmup_steps, "noisy": noisy,
            "loss_first_last": [round(losses[0], 4), round(losses[-1], 4)],
            "quiet_wait_s": round(waited, 1), "foreign_cores_before": round(load, 2), "quiet_reached": quiet,
            "time": datetime.datetime.now().isoformat(timespec="seconds")}


def env_line(args):
    torch.mm(torch.ones(4, 4), torch.ones(4, 4))  # bind the BLAS
    libs = tp.mapped_libs()
    cap = [ln.strip() for ln in torch.__config__.show().splitlines() if "CPU capability" in ln]
    rep = {"type": "env", "peer": "torch", "program": "torch_pruningnet.py", "config": args.config,
           "time": datetime.datetime.now().isoformat(timespec="seconds"), "host": socket.gethostname(),
           "nproc": os.cpu_count(), "torch": torch.__version__, "cpu_capability": cap[0] if cap else None,
           "jemalloc_loaded": any("jemalloc" in p for p in libs), "MALLOC_CONF": os.environ.get("MALLOC_CONF"),
           "libs": libs, "cases": args.cases, "formats": args.formats, "gen_modes": args.gen,
           "timing": {"warmup_steps": args.warmup_steps, "steps": args.steps, "max_foreign_cores": args.max_foreign,
                      "statistic": "median step time over clean steps; images/s = batch / median"}}
    rep.update(tp.blas_report())
    return rep


def check_structure():
    """The layer list must give the FLOPs MetaPrune's counter gives (./metaprune flops ... -g 30,...):
    mobilenetv2-cifar 1x28x28 full width 134,947,408 multiply-adds; mobilenetv2 224 569,521,240."""
    for small, in_ch, size, classes, want in ((True, 1, 28, 10, 134_947_408), (False, 3, 224, 1000, 569_521_240)):
        h = size
        macs = 0
        for c in conv_list(in_ch, small):
            co, ci = conv_widths(c, FULL_GENE)
            h = (h + 2 * c["pad"] - c["shape"][2]) // c["stride"] + 1
            macs += h * h * co * ci * c["shape"][2] * c["shape"][3]
        macs += LAST * classes
        if macs != want:
            raise AssertionError(f"layer list gives {macs} multiply-adds, MetaPrune counts {want}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", choices=["best", "default"], default="best",
                    help="recorded only: the environment (OpenBLAS, jemalloc) is set by run_torch_peer.sh")
    ap.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    ap.add_argument("--formats", nargs="+", default=["channels_last", "contiguous"],
                    choices=["channels_last", "contiguous"])
    ap.add_argument("--gen", nargs="+", default=["full", "crop"], choices=["full", "crop"],
                    help="PruningNet generator modes (full weight then crop, or only the crop's rows)")
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--warmup-steps", type=int, default=3)
    ap.add_argument("--steps", type=int, default=10, help="timed steps; the median is reported")
    ap.add_argument("--seed", type=int, default=7, help="weights and data")
    ap.add_argument("--gene-seed", type=int, default=20190101, help="the random gene sequence")
    ap.add_argument("--max-foreign", type=float, default=0.3)
    ap.add_argument("--quiet-threshold", type=float, default=0.15)
    ap.add_argument("--quiet-max-wait", type=float, default=60.0)
    ap.add_argument("--smoke", action="store_true", help="1 warm-up + 2 timed steps, short quiet wait")
    ap.add_argument("--out", default=None, help="output prefix (default bench/peers/out/torch-steps-<time>)")
    ap.add_argument("--only", default=None, help="regex on case ids")
    ap.add_argument("--device", default="cpu", help="cpu (default) or cuda: the GPU comparison of issue 7 (fp32,"
                    " TF32 off, cuDNN autotuned; steps timed between torch.cuda.synchronize calls)")
    ap.add_argument("--batch", type=int, default=None, help="override the cases' batch size")
    args = ap.parse_args()
    if args.device.startswith("cuda"):
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cudnn.benchmark = True
    if args.smoke:
        args.warmup_steps, args.steps, args.quiet_max_wait = 1, 2, 1.0
    if args.only:
        args.cases = [c for c in args.cases if re.search(args.only, c)]
    check_structure()

    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    prefix = args.out or os.path.join(pc.HERE, "out", f"torch-steps-{stamp}")
    os.makedirs(os.path.dirname(os.path.abspath(prefix)), exist_ok=True)
    jpath, mpath = prefix + ".jsonl", prefix + ".md"
    env = env_line(args)
    print(f"# torch {env['torch']} steps peer, config={args.config}, BLAS {env['blas_kind']}, "
          f"{'jemalloc' if env['jemalloc_loaded'] else 'glibc malloc'}; writing {jpath}", flush=True)
    rows = []
    with open(jpath, "a") as jf:
        jf.write(json.dumps(env) + "\n")
        for case in args.cases:
            gens = args.gen if CASES[case][0] == "pruningnet" else [None]
            for gm in gens:
                for fmt in args.formats:
                    for t in args.threads:
                        r = measure(case, fmt, gm, t, args)
                        rows.append(r)
                        jf.write(json.dumps(r) + "\n")
                        jf.flush()
                        print(f"{r['label'][:62]:62s} {fmt:13s} gen={gm or '-':4s} T{t}  "
                              f"{r['step_ms']:9.1f} ms/step  {r['images_per_s']:8.1f} img/s"
                              f"{'  NOISY' if r['noisy'] else ''}", flush=True)
    with open(mpath, "w") as mf:
        mf.write(f"# PyTorch {env['torch']} training steps, config `{args.config}` ({env['time']}, {env['host']})\n\n")
        mf.write(f"BLAS: {env['blas_kind']}; allocator: {'jemalloc' if env['jemalloc_loaded'] else 'glibc'}. "
                 f"Median of {args.steps} steps after {args.warmup_steps} warm-up steps.\n\n")
        mf.write("| case | memory format | generator | thr | ms / step | images/s |\n|---|---|---|---|---|---|\n")
        for r in rows:
            mf.write(f"| {r['label']}{' (noisy)' if r['noisy'] else ''} | {r['memory_format']} | {r['gen'] or '-'} "
                     f"| {r['threads']} | {r['step_ms']:.1f} | {r['images_per_s']:.1f} |\n")
    print(f"# done: {len(rows)} rows -> {jpath}, {mpath}")


if __name__ == "__main__":
    main()
