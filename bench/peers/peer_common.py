"""Shared helpers of the Python peers: shape list, cost model, quiet-machine wait, Markdown table.

Used by torch_peer.py and make_table.py. Standard library only (no torch import here).
"""
import json
import os
import statistics
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SHAPES_FILE = os.path.join(HERE, "shapes.json")
F32 = 4


def load_shapes(path=SHAPES_FILE):
    with open(path) as f:
        return json.load(f)["shapes"]


def conv_out(s):
    ho = (s["h"] + 2 * s["pad"] - s["k"]) // s["stride"] + 1
    wo = (s["w"] + 2 * s["pad"] - s["k"]) // s["stride"] + 1
    return ho, wo


def cost(s):
    """FLOPs and minimum bytes (each tensor read or written once) of forward and backward.

    backward = input gradient + weight gradient (gemm: dA and dB), so 2x the forward FLOPs.
    BatchNorm FLOPs are not counted (None): it is judged in GB/s only.
    """
    k = s["kind"]
    if k == "gemm":
        m, n, kk = s["m"], s["n"], s["k"]
        f = 2.0 * m * n * kk
        a, b, c = m * kk, kk * n, m * n
        return dict(fwd_flop=f, bwd_flop=2 * f, fwd_bytes=F32 * (a + b + c), bwd_bytes=F32 * (c + a + b + a + b))
    if k == "linear":
        bt, i, o = s["batch"], s["in"], s["out"]
        f = 2.0 * bt * i * o
        x, w, y = bt * i, o * i, bt * o
        return dict(fwd_flop=f, bwd_flop=2 * f, fwd_bytes=F32 * (x + w + y), bwd_bytes=F32 * (y + x + w + x + w))
    if k == "conv":
        ho, wo = conv_out(s)
        x = s["n"] * s["cin"] * s["h"] * s["w"]
        y = s["n"] * s["cout"] * ho * wo
        w = s["cout"] * (s["cin"] // s["groups"]) * s["k"] * s["k"]
        f = 2.0 * s["n"] * s["cout"] * ho * wo * (s["cin"] // s["groups"]) * s["k"] * s["k"]
        return dict(fwd_flop=f, bwd_flop=2 * f, fwd_bytes=F32 * (x + w + y), bwd_bytes=F32 * (y + x + w + x + w))
    if k == "bn":
        x = s["n"] * s["c"] * s["h"] * s["w"]
        return dict(fwd_flop=None, bwd_flop=None, fwd_bytes=F32 * 2 * x, bwd_bytes=F32 * 3 * x)
    raise ValueError(f"unknown kind {k}")


def describe(s):
    k = s["kind"]
    if k == "gemm":
        return f"M{s['m']} N{s['n']} K{s['k']}"
    if k == "linear":
        return f"batch {s['batch']}, {s['in']} -> {s['out']}" + (" +bias" if s.get("bias") else "")
    if k == "conv":
        ho, wo = conv_out(s)
        return (f"N{s['n']} {s['cin']}x{s['h']}x{s['w']} -> {s['cout']}x{ho}x{wo} "
                f"k{s['k']} s{s['stride']} p{s['pad']} g{s['groups']}")
    if k == "bn":
        return f"N{s['n']} {s['c']}x{s['h']}x{s['w']}" + (" affine" if s.get("affine") else "")
    return ""


# ---------------------------------------------------------------- machine load

_HZ = os.sysconf("SC_CLK_TCK")


def machine_busy_s():
    """Busy CPU seconds of the whole machine (user nice system irq softirq steal) from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    return (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / _HZ


def self_cpu_s():
    t = os.times()
    return t.user + t.system


class LoadMeter:
    """Cores used by OTHER processes between start() and stop(): machine busy time minus ours."""

    def start(self):
        self.b0, self.c0, self.w0 = machine_busy_s(), self_cpu_s(), time.perf_counter()

    def stop(self):
        w = time.perf_counter() - self.w0
        if w <= 0:
            return 0.0
        return max(0.0, ((machine_busy_s() - self.b0) - (self_cpu_s() - self.c0)) / w)


def wait_quiet(threshold=0.15, max_wait=60.0, sample=0.5):
    """Block until other processes use < threshold cores over a `sample`-second probe, at most
    max_wait seconds. Returns (waited_s, foreign_cores_at_exit, quiet_reached)."""
    t0 = time.perf_counter()
    m = LoadMeter()
    while True:
        m.start()
        time.sleep(sample)
        f = m.stop()
        waited = time.perf_counter() - t0
        if f < threshold:
            return waited, f, True
        if waited >= max_wait:
            return waited, f, False


# ---------------------------------------------------------------- tables

def _fmt(v, nd=1):
    if v is None:
        return "-"
    if v >= 100:
        return f"{v:.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.{nd + 1}f}"


def markdown_table(rows, peak=None):
    """rows: result dicts (JSON lines of type 'result'). peak: optional {'fma': {threads: GFLOP/s},
    'bw': {threads: GB/s}} from the probe; adds a '% peak' column (FMA peak for compute rows,
    triad bandwidth for memory-bound rows)."""
    out = []
    hdr = ["peer / config", "shape", "backend", "thr", "fwd ms", "fwd GFLOP/s", "fwd GB/s",
           "bwd ms", "bwd GFLOP/s", "bwd GB/s"]
    if peak:
        hdr += ["fwd % peak", "bwd % peak"]
    out.append("| " + " | ".join(hdr) + " |")
    out.append("|" + "---|" * len(hdr))
    for r in rows:
        mem = r.get("bound") == "memory"
        cells = [f"{r['peer']} / {r['config']}", r["label"], r.get("backend") or "-", str(r["threads"]),
                 _fmt(r.get("fwd_ms"), 2), _fmt(r.get("fwd_gflops")), _fmt(r.get("fwd_gbs")) if mem else "",
                 _fmt(r.get("bwd_ms"), 2), _fmt(r.get("bwd_gflops")), _fmt(r.get("bwd_gbs")) if mem else ""]
        if peak:
            for d in ("fwd", "bwd"):
                if mem:
                    p = peak.get("bw", {}).get(r["threads"])
                    v = r.get(f"{d}_gbs")
                else:
                    p = peak.get("fma", {}).get(r["threads"])
                    v = r.get(f"{d}_gflops")
                cells.append(f"{100 * v / p:.0f}%" if (p and v) else "-")
        if r.get("noisy"):
            cells[1] += " (noisy)"
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def read_probe_peak(path, source="fma_peak.c"):
    """Last probe line of `source` (fma_peak.c = the hardware, JavaPeak.java = the JVM's Vector API)
    in a run_probe.sh JSON-lines file -> {'fma': {threads: best GFLOP/s over ISAs / kernels},
    'bw': {threads: triad best GB/s}}, or None."""
    last = None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line.startswith("{"):
                continue
            try:
                r = json.loads(line)
            except json.JSONDecodeError:
                continue  # a truncated / damaged line: skip it
            r = r.get("result", r)
            if r.get("probe") == source and "fma" in r:
                last = r
    if last is None:
        return None
    fma, bw = {}, {}
    for e in last.get("fma", []):
        fma[e["threads"]] = max(fma.get(e["threads"], 0), e["gflops_best"])
    for e in last.get("bw", []):
        if e["kernel"] == "triad":
            bw[e["threads"]] = e["gbs_best"]
    return {"fma": fma, "bw": bw, "source": source}


def median(v):
    return statistics.median(v) if v else None
