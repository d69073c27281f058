#!/usr/bin/env python3
"""MetaPrune peer: PyTorch's own CPU kernels on the shapes of MetaPrune's JMH benchmarks.

For every shape in shapes.json (SGEMM, the PruningNet generator FC, MobileNetV2 / ResNet / CIFAR
layers, BatchNorm) and every thread count, times
  fwd : the forward op under torch.no_grad()                       (inference-style)
  bwd : the backward alone, input grad + weight grad               (forward run untimed before each call)
and reports the median over timing windows (after warm-up) in ms, GFLOP/s, and GB/s of minimum traffic
for memory-bound rows. Results go to a JSON-lines file (one line per shape x threads, plus one 'env'
line describing torch, the BLAS it loaded, the allocator) and a Markdown table.

  --config best     channels_last tensors (oneDNN's NHWC kernels, no NCHW<->blocked reorders). The
                    wrapper run_torch_peer.sh also puts OpenBLAS first on LD_LIBRARY_PATH and preloads
                    jemalloc with MALLOC_CONF=oversize_threshold:0,dirty_decay_ms:-1,muzzy_decay_ms:-1;
                    this script only checks and reports what it got.
  --config default  NCHW, as Debian installs torch (reference BLAS, glibc malloc).

Backward is measured with autograd (y.backward(gy) with a fixed gy; grads reset to None before every
call, so nothing accumulates), except the 'onednn' GEMM / linear rows, which call oneDNN's backward
ops directly (aten::mkldnn_linear_backward: dx and dW in one call).

Run it through the wrapper:  bench/peers/run_torch_peer.sh --config best     (see bench/peers/README.md)
Directly:                    /usr/bin/python3 bench/peers/torch_peer.py --help
"""
import argparse
import ctypes
import datetime
import json
import os
import platform
import re
import socket
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer_common as pc  # noqa: E402

# ---------------------------------------------------------------- environment report

_openblas = None


def mapped_libs(patterns=("blas", "lapack", "mkl", "dnnl", "gomp", "iomp", "jemalloc", "tcmalloc")):
    libs = []
    with open("/proc/self/maps") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 6 and parts[-1].startswith("/"):
                p = parts[-1]
                if any(k in os.path.basename(p).lower() for k in patterns) and p not in libs:
                    libs.append(p)
    return libs


def blas_report():
    """Which BLAS library torch resolved libblas.so.3 to (from /proc/self/maps), and OpenBLAS' own
    description of itself when it is OpenBLAS."""
    global _openblas
    libs = mapped_libs(("blas",))
    info = {"blas_libs": libs, "blas_kind": "unknown", "openblas_config": None, "openblas_core": None}
    for p in libs:
        real = os.path.realpath(p)
        if "openblas" in real:
            info["blas_kind"] = "openblas"
            try:
                lib = ctypes.CDLL(p)
                lib.openblas_get_config.restype = ctypes.c_char_p
                lib.openblas_get_corename.restype = ctypes.c_char_p
                info["openblas_config"] = lib.openblas_get_config().decode()
                info["openblas_core"] = lib.openblas_get_corename().decode()
                _openblas = lib
            except (OSError, AttributeError):
                pass
            break
        if "mkl" in real:
            info["blas_kind"] = "mkl"
            break
        if re.search(r"/blas/libblas\.so|libblas\.so\.3", real):
            info["blas_kind"] = "netlib-reference (Debian libblas3)"
    return info


def env_report(args):
    torch.mm(torch.ones(4, 4), torch.ones(4, 4))  # make sure the BLAS is bound
    cfg = torch.__config__.show()
    cap = [ln.strip() for ln in cfg.splitlines() if "CPU capability" in ln]
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for ln in f:
                if ln.startswith("model name"):
                    cpu = ln.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    libs = mapped_libs()
    rep = {
        "type": "env", "peer": "torch", "config": args.config,
        "time": datetime.datetime.now().isoformat(timespec="seconds"),
        "host": socket.gethostname(), "cpu": cpu, "nproc": os.cpu_count(),
        "python": platform.python_version(), "torch": torch.__version__,
        "torch_default_threads": torch.get_num_threads(),
        "cpu_capability": cap[0] if cap else None,
        "mkldnn_available": torch.backends.mkldnn.is_available(),
        "channels_last": args.config == "best",
        "jemalloc_loaded": any("jemalloc" in p for p in libs),
        "MALLOC_CONF": os.environ.get("MALLOC_CONF"),
        "LD_PRELOAD": os.environ.get("LD_PRELOAD"),
        "LD_LIBRARY_PATH": os.environ.get("LD_LIBRARY_PATH"),
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
        "libs": libs,
        "timing": {"warmup_s": args.warmup, "window_s": args.window, "windows": args.windows,
                   "max_foreign_cores": args.max_foreign, "statistic": "median of per-window mean time per call"},
    }
    rep.update(blas_report())
    return rep


def set_threads(n):
    torch.set_num_threads(n)
    if _openblas is not None:  # a pthread OpenBLAS ignores omp_set_num_threads
        try:
            _openblas.openblas_set_num_threads(n)
        except AttributeError:
            pass


# ---------------------------------------------------------------- cases

class Case:
    """fwd(): timed forward. bwd_setup(): untimed preparation of one backward. bwd(): timed backward.
    Results are kept until the next (untimed) setup, so freeing them is never timed (as in the DJL peer)."""
    backend = None
    out = None

    def fwd_setup(self):
        self.out = None

    def bwd_setup(self):
        self.out = None


def _fmt_tensor(t, cl):
    return t.contiguous(memory_format=torch.channels_last) if (cl and t.dim() == 4) else t.contiguous()


class Autograd(Case):
    """Forward op f(*leaves); backward = y.backward(gy) giving every leaf's gradient."""

    def __init__(self, op, leaves, gy):
        self.op, self.leaves, self.gy, self.y = op, leaves, gy, None
        for t in leaves:
            t.requires_grad_(True)

    def fwd(self):
        with torch.no_grad():
            self.out = self.op(*self.leaves)

    def bwd_setup(self):
        self.out = self.y = None
        for t in self.leaves:
            t.grad = None
        self.y = self.op(*self.leaves)

    def bwd(self):
        self.y.backward(self.gy)


class OneDnnLinear(Case):
    """y = x W^T through oneDNN's inner product (torch._C._nn.mkldnn_linear); backward through
    aten::mkldnn_linear_backward (dx and dW). x, y, gy in oneDNN layout; W kept in both layouts
    (the backward op wants it dense)."""
    backend = "onednn"

    def __init__(self, x, w, gy):
        self.xm, self.wm, self.w, self.gym = x.to_mkldnn(), w.to_mkldnn(), w, gy.to_mkldnn()

    def fwd(self):
        self.out = torch._C._nn.mkldnn_linear(self.xm, self.wm, None)

    def bwd(self):
        self.out = torch.ops.aten.mkldnn_linear_backward(self.xm, self.gym, self.w, [True, True, False])


def make_case(s, backend, cl, gen):
    def rnd(*shape):
        return torch.randn(*shape, generator=gen)

    k = s["kind"]
    if k == "gemm":
        m, n, kk = s["m"], s["n"], s["k"]
        if backend == "onednn":
            return OneDnnLinear(rnd(m, kk), rnd(n, kk), rnd(m, n))  # C = A (B^T)^T
        c = Autograd(torch.mm, [rnd(m, kk), rnd(kk, n)], rnd(m, n))
        c.backend = "blas"
        return c
    if k == "linear":
        bt, i, o = s["batch"], s["in"], s["out"]
        x, w, gy = rnd(bt, i), rnd(o, i) * (1.0 / i ** 0.5), rnd(bt, o)
        if backend == "onednn":
            if s.get("bias"):
                raise ValueError("onednn linear case has no bias")
            return OneDnnLinear(x, w, gy)
        leaves = [x, w] + ([rnd(o)] if s.get("bias") else [])
        c = Autograd(F.linear, leaves, gy)
        c.backend = "blas"
        return c
    if k == "conv":
        ho, wo = pc.conv_out(s)
        x = _fmt_tensor(rnd(s["n"], s["cin"], s["h"], s["w"]), cl)
        w = _fmt_tensor(rnd(s["cout"], s["cin"] // s["groups"], s["k"], s["k"]) * 0.1, cl)
        gy = _fmt_tensor(rnd(s["n"], s["cout"], ho, wo), cl)
        st, pd, g = s["stride"], s["pad"], s["groups"]
        return Autograd(lambda xx, ww: F.conv2d(xx, ww, None, st, pd, 1, g), [x, w], gy)
    if k == "bn":
        c = s["c"]
        x = _fmt_tensor(rnd(s["n"], c, s["h"], s["w"]), cl)
        gy = _fmt_tensor(rnd(s["n"], c, s["h"], s["w"]), cl)
        rm, rv = torch.zeros(c), torch.ones(c)
        if s.get("affine"):
            return Autograd(lambda xx, g_, b_: F.batch_norm(xx, rm, rv, g_, b_, True, 0.1, 1e-5),
                            [x, torch.ones(c), torch.zeros(c)], gy)
        return Autograd(lambda xx: F.batch_norm(xx, rm, rv, None, None, True, 0.1, 1e-5), [x], gy)
    raise ValueError(k)


# ---------------------------------------------------------------- timing

def check_grads(case):
    """Once, untimed: the backward must give every input a gradient of its shape (dx and dW)."""
    case.bwd_setup()
    case.bwd()
    out = case.out
    if isinstance(case, OneDnnLinear):
        got = [out[0].to_dense(), out[1]]
        want = [case.xm.to_dense(), case.w]
    else:
        got = [t.grad for t in case.leaves]
        want = case.leaves
    shapes = []
    for g, t in zip(got, want):
        if g is None or g.shape != t.shape or float(g.abs().sum()) == 0.0:
            raise RuntimeError(f"bad gradient: {None if g is None else tuple(g.shape)} for {tuple(t.shape)}")
        shapes.append(list(g.shape))
    for t in getattr(case, "leaves", []):
        t.grad = None
    case.out = None
    case.y = None
    return shapes


def time_op(run, setup, args):
    """Warm-up, then `windows` windows of >= window seconds each. Returns per-window mean seconds per
    call, per-window foreign load (cores), calls per window."""
    t_end = time.perf_counter() + args.warmup
    n = 0
    while n < 2 or time.perf_counter() < t_end:
        setup()
        run()
        n += 1
    per, foreign, calls = [], [], []
    meter = pc.LoadMeter()
    for _ in range(args.windows):
        meter.start()
        t0 = time.perf_counter()
        timed, n = 0.0, 0
        while n == 0 or time.perf_counter() - t0 < args.window:
            setup()
            ta = time.perf_counter()
            run()
            timed += time.perf_counter() - ta
            n += 1
        per.append(timed / n)
        foreign.append(meter.stop())
        calls.append(n)
    return per, foreign, calls


def summarize(per, foreign, args):
    clean = [p for p, f in zip(per, foreign) if f <= args.max_foreign]
    noisy = len(clean) < max(1, (len(per) + 1) // 2)
    use = per if noisy else clean
    return pc.median(use), noisy, len(clean)


def measure(s, case, threads, args, cst):
    set_threads(threads)
    waited, load, quiet = pc.wait_quiet(args.quiet_threshold, args.quiet_max_wait)
    rec = {"type": "result", "peer": "torch", "torch": torch.__version__, "config": args.config,
           "id": s["id"], "group": s["group"], "kind": s["kind"], "label": s["label"], "shape": pc.describe(s),
           "backend": case.backend, "bound": s.get("bound", "compute"), "threads": threads,
           "torch_threads": torch.get_num_threads(),
           "quiet_wait_s": round(waited, 1), "foreign_cores_before": round(load, 2), "quiet_reached": quiet}
    rec["grads_checked"] = check_grads(case)
    noisy_any = False
    for d, run, setup in (("fwd", case.fwd, case.fwd_setup), ("bwd", case.bwd, case.bwd_setup)):
        per, foreign, calls = time_op(run, setup, args)
        t, noisy, nclean = summarize(per, foreign, args)
        noisy_any |= noisy
        flop, byt = cst[f"{d}_flop"], cst[f"{d}_bytes"]
        rec[f"{d}_ms"] = round(t * 1e3, 4)
        rec[f"{d}_gflops"] = round(flop / t * 1e-9, 2) if flop else None
        rec[f"{d}_gbs"] = round(byt / t * 1e-9, 2)
        rec[f"{d}_windows_ms"] = [round(p * 1e3, 4) for p in per]
        rec[f"{d}_windows_foreign_cores"] = [round(f, 2) for f in foreign]
        rec[f"{d}_calls_per_window"] = calls
        rec[f"{d}_clean_windows"] = nclean
        case.out = None
        if hasattr(case, "y"):
            case.y = None
    rec["flop_fwd"], rec["flop_bwd"] = cst["fwd_flop"], cst["bwd_flop"]
    rec["bytes_fwd_min"], rec["bytes_bwd_min"] = cst["fwd_bytes"], cst["bwd_bytes"]
    rec["noisy"] = noisy_any
    rec["time"] = datetime.datetime.now().isoformat(timespec="seconds")
    return rec


def fmt_line(r):
    def g(d):
        rate = f"{r[d + '_gflops']:8.1f} GFLOP/s" if r.get(d + "_gflops") else " " * 16
        return f"{d} {r[d + '_ms']:9.3f} ms {rate} {r[d + '_gbs']:7.1f} GB/s"
    flag = "  NOISY" if r["noisy"] else ""
    return (f"{r['label'][:44]:44s} {(r['backend'] or ''):6s} T{r['threads']}  {g('fwd')}  |  {g('bwd')}"
            f"  (waited {r['quiet_wait_s']:.0f}s, load {r['foreign_cores_before']:.2f}){flag}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", choices=["best", "default"], default="best")
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--only", default=None, help="regex on shape id (e.g. 'sgemm|gen')")
    ap.add_argument("--groups", nargs="+", default=None, help="sgemm generator mbv2_n32 cifar_n128")
    ap.add_argument("--backends", nargs="+", default=["onednn", "blas"], help="for gemm / linear rows")
    ap.add_argument("--warmup", type=float, default=1.0, help="warm-up seconds per (shape, threads, fwd|bwd)")
    ap.add_argument("--window", type=float, default=0.3, help="seconds per timing window")
    ap.add_argument("--windows", type=int, default=9, help="timing windows; the median is reported")
    ap.add_argument("--max-foreign", type=float, default=0.3,
                    help="windows during which other processes used more cores than this are dropped "
                         "(if fewer than half stay, all are used and the row is flagged noisy)")
    ap.add_argument("--quiet-threshold", type=float, default=0.15,
                    help="before each measurement wait until other processes use fewer cores than this")
    ap.add_argument("--quiet-max-wait", type=float, default=60.0, help="... but at most this many seconds")
    ap.add_argument("--smoke", action="store_true", help="tiny iteration counts, to test the script only")
    ap.add_argument("--out", default=None, help="output prefix (default bench/peers/out/torch-<config>-<time>)")
    ap.add_argument("--probe", default=None, help="probe JSON-lines file: adds '%% peak' columns to the table")
    ap.add_argument("--shapes", default=pc.SHAPES_FILE)
    args = ap.parse_args()
    if args.smoke:
        args.warmup, args.window, args.windows, args.quiet_max_wait = 0.02, 0.01, 3, 1.0

    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    prefix = args.out or os.path.join(pc.HERE, "out", f"torch-{args.config}-{stamp}")
    os.makedirs(os.path.dirname(os.path.abspath(prefix)), exist_ok=True)
    jpath, mpath = prefix + ".jsonl", prefix + ".md"

    env = env_report(args)
    print(f"# torch {env['torch']}  config={args.config}  channels_last={env['channels_last']}  "
          f"default threads={env['torch_default_threads']}  {env['cpu_capability']}")
    print(f"# BLAS loaded: {env['blas_kind']}: {', '.join(env['blas_libs']) or 'none mapped'}"
          + (f"  [{env['openblas_config']}; core {env['openblas_core']}]" if env["openblas_config"] else ""))
    print(f"# allocator: {'jemalloc' if env['jemalloc_loaded'] else 'glibc malloc'}"
          f"  MALLOC_CONF={env['MALLOC_CONF']}")
    if args.config == "best" and (env["blas_kind"] != "openblas" or not env["jemalloc_loaded"]):
        print("# WARNING: config 'best' without OpenBLAS and/or jemalloc: run through run_torch_peer.sh",
              file=sys.stderr)
    print(f"# writing {jpath} and {mpath}", flush=True)

    shapes = pc.load_shapes(args.shapes)
    if args.only:
        shapes = [s for s in shapes if re.search(args.only, s["id"])]
    if args.groups:
        shapes = [s for s in shapes if s["group"] in args.groups]

    cl = args.config == "best"
    gen = torch.Generator().manual_seed(1234)
    rows = []
    with open(jpath, "a") as jf:
        jf.write(json.dumps(env) + "\n")
        for s in shapes:
            cst = pc.cost(s)
            backends = [b for b in s.get("backends", [None]) if b is None or b in args.backends]
            for b in backends:
                if b == "onednn" and not torch.backends.mkldnn.is_available():
                    continue
                case = make_case(s, b, cl, gen)
                for t in args.threads:
                    r = measure(s, case, t, args, cst)
                    rows.append(r)
                    jf.write(json.dumps(r) + "\n")
                    jf.flush()
                    print(fmt_line(r), flush=True)
                del case
    peak = pc.read_probe_peak(args.probe) if args.probe else None
    with open(mpath, "w") as mf:
        mf.write(f"# PyTorch {env['torch']} peer, config `{args.config}` ({env['time']}, {env['host']})\n\n")
        mf.write(f"BLAS: {env['blas_kind']} ({', '.join(env['blas_libs'])}); allocator: "
                 f"{'jemalloc ' + str(env['MALLOC_CONF']) if env['jemalloc_loaded'] else 'glibc'}; "
                 f"channels_last: {env['channels_last']}; {env['cpu_capability']}.\n"
                 f"fwd = forward under no_grad; bwd = input grad + weight grad. Median of {args.windows} windows "
                 f"of >= {args.window} s after {args.warmup} s warm-up. GB/s = minimum traffic (memory-bound rows).\n\n")
        mf.write(pc.markdown_table(rows, peak) + "\n")
    print(f"# done: {len(rows)} rows -> {jpath}, {mpath}")


if __name__ == "__main__":
    main()
