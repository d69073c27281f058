#!/usr/bin/env python3
"""GPU benchmarks of libmetaprune_cuda's kernels against cuDNN / cuBLAS (through PyTorch) at the
MobileNetV2 shapes, batch 32, fp32 (TF32 off everywhere). Also checks each of our kernels against
cuDNN's result on the same inputs (sliced convolutions included).

usage: python3 kernels_bench.py path/to/libmetaprune_cuda.so [--quick]
Times: CUDA events around R launches after warm-up, median of 7 such groups, rotating among
several input sets so that small layers are not timed out of L2 alone.
"""
import ctypes as C
import json
import statistics
import sys

import torch
import torch.nn.functional as F

torch.backends.cudnn.allow_tf32 = False
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.benchmark = True
dev = torch.device("cuda")
lib = C.CDLL(sys.argv[1])
QUICK = "--quick" in sys.argv
ONLY_DW = "--only-dw" in sys.argv   # the copy ceiling and the depthwise section only (tuning runs)
P = C.c_void_p
I = C.c_int
Fl = C.c_float
lib.mp_last_error.restype = C.c_char_p


def sig(name, *args):
    f = getattr(lib, name)
    f.argtypes = list(args)
    f.restype = C.c_int
    return f


conv1x1 = sig("mp_conv1x1_forward", P, I, I, I, P, I, P, I, P, P, I)
conv1x1_bi = sig("mp_conv1x1_backward_input", P, I, I, I, P, I, P, I, P, I)
conv1x1_bw = sig("mp_conv1x1_backward_weight", P, I, I, I, P, I, P, I, P, I, P, I)
dw_fwd = sig("mp_depthwise_forward", P, I, I, I, I, P, I, P, I, I, I, P, P, I, I, I)
dw_bi = sig("mp_depthwise_backward_input", P, I, I, I, I, P, I, P, I, I, I, P, I, I, I)
dw_bw = sig("mp_depthwise_backward_weight", P, I, I, I, I, P, I, P, I, P, P, I, I, I, I, I, I)
conv2d = sig("mp_conv2d_forward", P, I, I, I, I, P, I, P, I, I, I, I, I, I, I, I, I, P, P, I, I, I)
gemm = sig("mp_gemm", P, I, I, I, I, I, Fl, P, I, P, I, Fl, P, I)
gen_fwd = sig("mp_generator_forward", P, I, I, I, I, I, P, P, P, P)
gen_bwd = sig("mp_generator_backward_sgd", P, I, I, I, I, I, P, P, P, P, P, P, P, Fl, Fl, Fl, I)
bn_train = sig("mp_batchnorm_train_forward", P, I, I, P, I, P, P, P, I, P, P, P, P, Fl, Fl)


def ok(st, name):
    if st != 0:
        raise RuntimeError(lib.mp_last_error().decode())


def ptr(t):
    return C.c_void_p(t.data_ptr())


def time_ms(fn, sets, reps=20):
    for s in sets:
        fn(s)
    torch.cuda.synchronize()
    meds = []
    for _ in range(7):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        for i in range(reps):
            fn(sets[i % len(sets)])
        b.record()
        b.synchronize()
        meds.append(a.elapsed_time(b) / reps)
    return statistics.median(meds)


def rel(a, b):
    a = a.double(); b = b.double()
    return ((a - b).norm() / b.norm()).item()


def nsets(bytes_each):
    # enough input sets to exceed L2 (50 MB on H100) where the layer is small
    return max(1, min(8, int(120e6 // max(bytes_each, 1))))


results = {"gpu": torch.cuda.get_device_name(), "torch": torch.__version__,
           "cudnn": torch.backends.cudnn.version(), "rows": []}
print("GPU:", results["gpu"], "torch", torch.__version__, "cuDNN", results["cudnn"])

# ---- measured memory bandwidth: device-to-device copy, bytes read + written
big = torch.empty(1 << 28, device=dev)   # 1 GiB
big2 = torch.empty_like(big)
t = time_ms(lambda s: big2.copy_(big), [0], reps=10)
bw = 2 * big.numel() * 4 / (t * 1e-3) / 1e9
results["copy_bandwidth_GBps"] = bw
print(f"measured copy bandwidth: {bw:.0f} GB/s (read + write)")
del big, big2
# fp32 GEMM ceiling (no TF32)
if not ONLY_DW:
    A = torch.randn(8192, 8192, device=dev); B = torch.randn(8192, 8192, device=dev)
    t = time_ms(lambda s: torch.mm(A, B), [0], reps=3)
    results["sgemm_TFLOPs"] = 2 * 8192 ** 3 / (t * 1e-3) / 1e12
    print(f"cuBLAS SGEMM 8192^3: {results['sgemm_TFLOPs']:.1f} TFLOP/s")
    del A, B

N = 32
# ---- depthwise 3x3 (MobileNetV2 at 224)
dw_shapes = [(32, 112, 1), (96, 112, 2), (144, 56, 1), (144, 56, 2), (192, 28, 1), (192, 28, 2), (384, 14, 1),
             (576, 14, 1), (576, 14, 2), (960, 7, 1)]
if QUICK:
    dw_shapes = dw_shapes[:3]
print("\n== depthwise 3x3, batch 32, NHWC fp32: ours vs cuDNN (channels_last) ==")
for c, hw, s in dw_shapes:
    ho = (hw + 2 - 3) // s + 1
    byts = (N * hw * hw * c + N * ho * ho * c) * 4
    ns = nsets(byts)
    xs = [torch.randn(N, hw, hw, c, device=dev) for _ in range(ns)]
    w = torch.randn(c, 1, 3, 3, device=dev)
    ys = [torch.empty(N, ho, ho, c, device=dev) for _ in range(ns)]
    xt = [x.permute(0, 3, 1, 2) for x in xs]   # NCHW view of NHWC memory = channels_last
    f_ours = lambda i: ok(dw_fwd(None, N, hw, hw, c, ptr(xs[i]), c, ptr(w), 3, s, 1, None, ptr(ys[i]), ho, ho, c), "dw")
    f_ref = lambda i: F.conv2d(xt[i], w, stride=s, padding=1, groups=c)
    t_ours = time_ms(f_ours, list(range(ns)))
    t_ref = time_ms(f_ref, list(range(ns)))
    ref = f_ref(0).permute(0, 2, 3, 1)
    f_ours(0); torch.cuda.synchronize()
    err = rel(ys[0], ref)
    # backward input and weight vs cuDNN
    dys = [torch.randn(N, ho, ho, c, device=dev) for _ in range(ns)]
    dxs = [torch.empty(N, hw, hw, c, device=dev) for _ in range(ns)]
    dwt = torch.empty(c, 1, 3, 3, device=dev)
    f_bi = lambda i: ok(dw_bi(None, N, hw, hw, c, ptr(dys[i]), c, ptr(w), 3, s, 1, ptr(dxs[i]), ho, ho, c), "dwbi")
    f_bw = lambda i: ok(dw_bw(None, N, hw, hw, c, ptr(xs[i]), c, ptr(dys[i]), c, ptr(dwt), None, 3, s, 1, ho, ho, 0), "dwbw")
    dyt = [d.permute(0, 3, 1, 2) for d in dys]
    r_bi = lambda i: torch.ops.aten.convolution_backward(dyt[i], xt[i], w, None, [s, s], [1, 1], [1, 1], False, [0, 0], c, [True, False, False])
    r_bw = lambda i: torch.ops.aten.convolution_backward(dyt[i], xt[i], w, None, [s, s], [1, 1], [1, 1], False, [0, 0], c, [False, True, False])
    t_bi, t_rbi = time_ms(f_bi, list(range(ns))), time_ms(r_bi, list(range(ns)))
    t_bw, t_rbw = time_ms(f_bw, list(range(ns))), time_ms(r_bw, list(range(ns)))
    f_bi(0); f_bw(0); torch.cuda.synchronize()
    e_bi = rel(dxs[0], r_bi(0)[0].permute(0, 2, 3, 1))
    e_bw = rel(dwt, r_bw(0)[1])
    gbs = byts / (t_ours * 1e-3) / 1e9
    row = dict(kernel="depthwise3x3", shape=f"c{c} {hw}x{hw} s{s}", ours_ms=t_ours, ref_ms=t_ref, ref="cuDNN",
               GBps=gbs, pct_bw=100 * gbs / bw, err=err, bi_ms=t_bi, ref_bi_ms=t_rbi, bw_ms=t_bw, ref_bw_ms=t_rbw,
               err_bi=e_bi, err_bw=e_bw)
    results["rows"].append(row)
    print(f"dw c{c:4d} {hw:3d} s{s}: fwd ours {t_ours:.4f} ms cuDNN {t_ref:.4f} ms ({t_ref / t_ours:.2f}x) "
          f"{gbs:.0f} GB/s = {100 * gbs / bw:.0f}% of copy | dgrad {t_bi:.4f} vs {t_rbi:.4f} | wgrad {t_bw:.4f} vs "
          f"{t_rbw:.4f} | err {err:.1e} {e_bi:.1e} {e_bw:.1e}")
    del xs, ys, dys, dxs, xt, dyt

tot = {k: sum(r[k] for r in results["rows"]) for k in ("ours_ms", "ref_ms", "bi_ms", "ref_bi_ms", "bw_ms", "ref_bw_ms")}
print("dw sum: fwd ours %.4f cuDNN %.4f | dgrad %.4f vs %.4f | wgrad %.4f vs %.4f" % tuple(tot.values()))
if ONLY_DW:
    json.dump(results, open(sys.argv[2], "w"), indent=1)
    sys.exit(0)

# ---- sliced 1x1 conv (MobileNetV2 pointwise at 224), plus sliced variants (the leading block of a wider weight)
pw_shapes = [(32, 16, 112, 1.0), (16, 96, 112, 1.0), (96, 24, 56, 1.0), (24, 144, 56, 1.0), (144, 24, 56, 1.0),
             (144, 32, 28, 1.0), (192, 32, 28, 1.0), (32, 192, 28, 1.0), (64, 384, 14, 1.0), (384, 64, 14, 1.0),
             (576, 96, 14, 1.0), (96, 576, 14, 1.0), (960, 160, 7, 1.0), (160, 960, 7, 1.0), (320, 1280, 7, 1.0),
             (144, 24, 56, 0.5), (576, 96, 14, 0.5), (960, 160, 7, 0.7)]
if QUICK:
    pw_shapes = pw_shapes[:3] + pw_shapes[-1:]
print("\n== sliced 1x1 conv, batch 32: ours vs cuDNN (channels_last) and cuBLAS (mm on a contiguous weight copy) ==")
for cin_max, cout_max, hw, frac in pw_shapes:
    cin, cout = max(1, int(cin_max * frac)), max(1, int(cout_max * frac))
    p = N * hw * hw
    byts = (p * cin + p * cout + cin * cout) * 4
    ns = nsets(byts)
    xs = [torch.randn(N, hw, hw, cin, device=dev) for _ in range(ns)]
    wfull = torch.randn(cout_max, cin_max, 1, 1, device=dev)
    wsl = wfull[:cout, :cin].contiguous()          # the baselines get the slice as a contiguous tensor
    ys = [torch.empty(N, hw, hw, cout, device=dev) for _ in range(ns)]
    xt = [x.permute(0, 3, 1, 2) for x in xs]
    f_ours = lambda i: ok(conv1x1(None, p, cin, cout, ptr(xs[i]), cin, ptr(wfull), cin_max, None, ptr(ys[i]), cout), "pw")
    f_dnn = lambda i: F.conv2d(xt[i], wsl)
    wmat = wsl.view(cout, cin).t()
    f_blas = lambda i: torch.mm(xs[i].view(p, cin), wmat)
    t_ours, t_dnn, t_blas = (time_ms(f, list(range(ns))) for f in (f_ours, f_dnn, f_blas))
    f_ours(0); torch.cuda.synchronize()
    err = rel(ys[0], f_dnn(0).permute(0, 2, 3, 1))
    # backward: input and weight gradients vs cuDNN
    dys = [torch.randn(N, hw, hw, cout, device=dev) for _ in range(ns)]
    dxs = [torch.empty(N, hw, hw, cin, device=dev) for _ in range(ns)]
    dwf = torch.zeros_like(wfull)
    f_bi = lambda i: ok(conv1x1_bi(None, p, cin, cout, ptr(dys[i]), cout, ptr(wfull), cin_max, ptr(dxs[i]), cin), "pwbi")
    f_bw = lambda i: ok(conv1x1_bw(None, p, cin, cout, ptr(xs[i]), cin, ptr(dys[i]), cout, ptr(dwf), cin_max, None, 0), "pwbw")
    dyt = [d.permute(0, 3, 1, 2) for d in dys]
    r_bi = lambda i: torch.ops.aten.convolution_backward(dyt[i], xt[i], wsl, None, [1, 1], [0, 0], [1, 1], False, [0, 0], 1, [True, False, False])
    r_bw = lambda i: torch.ops.aten.convolution_backward(dyt[i], xt[i], wsl, None, [1, 1], [0, 0], [1, 1], False, [0, 0], 1, [False, True, False])
    t_bi, t_rbi = time_ms(f_bi, list(range(ns))), time_ms(r_bi, list(range(ns)))
    t_bw, t_rbw = time_ms(f_bw, list(range(ns))), time_ms(r_bw, list(range(ns)))
    f_bi(0); f_bw(0); torch.cuda.synchronize()
    e_bi = rel(dxs[0], r_bi(0)[0].permute(0, 2, 3, 1))
    e_bw = rel(dwf[:cout, :cin], r_bw(0)[1])
    best = min(t_dnn, t_blas)
    row = dict(kernel="conv1x1", shape=f"{cin}->{cout} {hw}x{hw}" + (f" (slice of {cin_max}->{cout_max})" if frac < 1 else ""),
               ours_ms=t_ours, cudnn_ms=t_dnn, cublas_ms=t_blas, ratio_vs_best=t_ours / best,
               TFLOPs=2 * p * cin * cout / (t_ours * 1e-3) / 1e12, err=err, bi_ms=t_bi, ref_bi_ms=t_rbi, bw_ms=t_bw,
               ref_bw_ms=t_rbw, err_bi=e_bi, err_bw=e_bw)
    results["rows"].append(row)
    print(f"1x1 {row['shape']:34s}: ours {t_ours:.4f} cuDNN {t_dnn:.4f} cuBLAS {t_blas:.4f} ms -> {t_ours / best:.2f}x of best "
          f"| dgrad {t_bi:.4f} vs {t_rbi:.4f} | wgrad {t_bw:.4f} vs {t_rbw:.4f} | err {err:.1e} {e_bi:.1e} {e_bw:.1e}")
    del xs, ys, dys, dxs, xt, dyt

# ---- general conv: the stem 3->32 3x3 s2 at 224
print("\n== general conv (implicit GEMM) ==")
for cin, cout, hw, k, s in [(3, 32, 224, 3, 2), (64, 64, 56, 3, 1)]:
    pad = k // 2
    ho = (hw + 2 * pad - k) // s + 1
    x = torch.randn(N, hw, hw, cin, device=dev)
    w = torch.randn(cout, cin, k, k, device=dev)
    y = torch.empty(N, ho, ho, cout, device=dev)
    xt = x.permute(0, 3, 1, 2)
    f_ours = lambda i: ok(conv2d(None, N, hw, hw, cin, ptr(x), cin, ptr(w), cin, cout, k, k, s, s, pad, pad, 1, None, ptr(y), ho, ho, cout), "conv")
    f_ref = lambda i: F.conv2d(xt, w, stride=s, padding=pad)
    t_ours, t_ref = time_ms(f_ours, [0]), time_ms(f_ref, [0])
    f_ours(0); torch.cuda.synchronize()
    err = rel(y, f_ref(0).permute(0, 2, 3, 1))
    row = dict(kernel="conv", shape=f"{cin}->{cout} k{k} s{s} {hw}x{hw}", ours_ms=t_ours, ref_ms=t_ref, ref="cuDNN", err=err)
    results["rows"].append(row)
    print(f"conv {row['shape']}: ours {t_ours:.4f} cuDNN {t_ref:.4f} ms ({t_ours / t_ref:.2f}x) err {err:.1e}")

# ---- generator FC: the crop rows of W2 [rows, hidden] times h (hidden 32, official), vs cuBLAS gemv on the crop
print("\n== generator FC (crop rows only) vs cuBLAS gemv over the same rows; backward+SGD fused vs PyTorch ops ==")
for (co, ci, out_max, in_max, kk, hidden) in [(960, 160, 960, 160, 1, 32), (672, 112, 960, 160, 1, 32),
                                               (1280, 320, 1280, 320, 1, 32), (960, 1, 960, 1, 9, 32),
                                               (960, 160, 960, 160, 1, 64)]:
    rows_all = out_max * in_max * kk
    w2 = torch.randn(rows_all, hidden, device=dev) * 0.1
    b2 = torch.randn(rows_all, device=dev)
    h = torch.randn(hidden, device=dev).relu()
    out = torch.full((rows_all,), float("nan"), device=dev)
    f_ours = lambda i: ok(gen_fwd(None, hidden, in_max, kk, co, ci, ptr(w2), ptr(b2), ptr(h), ptr(out)), "gen")
    w3 = w2.view(out_max, in_max * kk, hidden)
    b3 = b2.view(out_max, in_max * kk)
    if ci == in_max:
        wc = w2[: co * in_max * kk]
        f_ref = lambda i: torch.addmv(b2[: co * in_max * kk], wc, h)
        refv = f_ref(0).view(co, ci * kk)
    else:
        wc = w3[:co, : ci * kk]   # strided crop: torch needs a copy or a batched product
        f_ref = lambda i: torch.baddbmm(b3[:co, : ci * kk].unsqueeze(2), wc, h.view(1, hidden, 1).expand(co, hidden, 1))
        refv = f_ref(0).view(co, ci * kk)
    t_ours, t_ref = time_ms(f_ours, [0], reps=50), time_ms(f_ref, [0], reps=50)
    f_ours(0); torch.cuda.synchronize()
    err = rel(out.view(out_max, in_max * kk)[:co, : ci * kk], refv)
    byts = co * ci * kk * (hidden + 2) * 4
    # backward + SGD
    m2 = torch.zeros_like(w2); mb = torch.zeros_like(b2); dh = torch.empty(hidden, device=dev)
    g = torch.randn(rows_all, device=dev)
    f_bwd = lambda i: ok(gen_bwd(None, hidden, in_max, kk, co, ci, ptr(w2), ptr(b2), ptr(m2), ptr(mb), ptr(h), ptr(g), ptr(dh), 0.0, 0.9, 4e-5, 0), "genb")
    # PyTorch: the same step over the crop rows (lr 0 keeps the weights fixed across repetitions)
    rws = co * ci * kk
    W = w3[:co, : ci * kk].reshape(-1, hidden) if ci != in_max else w2[:rws]
    M = torch.zeros_like(W)
    gg = g[:rws]
    def torch_bwd(i):
        dhh = gg @ W
        grad = torch.outer(gg, h).add_(W, alpha=4e-5)
        M.mul_(0.9).add_(grad)
        W.sub_(M, alpha=0.0)
        return dhh
    t_bwd, t_rbwd = time_ms(f_bwd, [0], reps=50), time_ms(torch_bwd, [0], reps=50)
    bbytes = rws * hidden * 4 * 4
    row = dict(kernel="generator", shape=f"crop {co}x{ci}x{kk} of {out_max}x{in_max}x{kk}, hidden {hidden}", ours_ms=t_ours,
               ref_ms=t_ref, ref="cuBLAS gemv" if ci == in_max else "cuBLAS batched", GBps=byts / (t_ours * 1e-3) / 1e9,
               err=err, bwd_sgd_ms=t_bwd, ref_bwd_sgd_ms=t_rbwd, bwd_GBps=bbytes / (t_bwd * 1e-3) / 1e9)
    results["rows"].append(row)
    print(f"gen {row['shape']}: fwd ours {t_ours:.4f} {row['ref']} {t_ref:.4f} ms ({t_ours / t_ref:.2f}x, {row['GBps']:.0f} GB/s) "
          f"| bwd+SGD ours {t_bwd:.4f} torch {t_rbwd:.4f} ms ({row['bwd_GBps']:.0f} GB/s) | err {err:.1e}")

# ---- BatchNorm training forward (the largest MobileNetV2 activation)
print("\n== BatchNorm training forward ==")
for c, hw in [(96, 112), (144, 56), (960, 7)]:
    rows = N * hw * hw
    x = torch.randn(rows, c, device=dev)
    gm, bt = torch.randn(c, device=dev), torch.randn(c, device=dev)
    y = torch.empty_like(x); sm = torch.empty(c, device=dev); si = torch.empty(c, device=dev)
    f_ours = lambda i: ok(bn_train(None, rows, c, ptr(x), c, ptr(gm), ptr(bt), ptr(y), c, ptr(sm), ptr(si), None, None, 0.1, 1e-5), "bn")
    xt = x.view(N, hw, hw, c).permute(0, 3, 1, 2)
    f_ref = lambda i: F.batch_norm(xt, None, None, gm, bt, training=True)
    t_ours, t_ref = time_ms(f_ours, [0]), time_ms(f_ref, [0])
    f_ours(0); torch.cuda.synchronize()
    err = rel(y, f_ref(0).permute(0, 2, 3, 1).reshape(rows, c))
    row = dict(kernel="batchnorm-train", shape=f"c{c} {hw}x{hw}", ours_ms=t_ours, ref_ms=t_ref, ref="PyTorch (cuDNN/native)", err=err,
               GBps=3 * rows * c * 4 / (t_ours * 1e-3) / 1e9)
    results["rows"].append(row)
    print(f"bn c{c} {hw}: ours {t_ours:.4f} torch {t_ref:.4f} ms ({t_ours / t_ref:.2f}x, {row['GBps']:.0f} GB/s) err {err:.1e}")

# ---- a whole training step in PyTorch on this GPU, for the train-step comparison: torchvision's MobileNetV2
# (10 classes) at 32x32, batch 32, SGD momentum, fp32, channels_last; and at 224x224 (ImageNet shape)
try:
    import torchvision
    for size in (32, 224):
        net = torchvision.models.mobilenet_v2(num_classes=10 if size == 32 else 1000).to(dev).to(memory_format=torch.channels_last)
        opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, weight_decay=4e-5)
        xb = torch.randn(32, 3, size, size, device=dev).to(memory_format=torch.channels_last)
        yb = torch.randint(0, 10, (32,), device=dev)
        def step(i):
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(net(xb), yb, label_smoothing=0.1)
            loss.backward()
            opt.step()
        t = time_ms(step, [0], reps=10)
        results[f"torch_mobilenetv2_step_ms_{size}"] = t
        print(f"PyTorch MobileNetV2 train step, batch 32, {size}x{size}: {t:.2f} ms")
except Exception as e:   # torchvision missing: say so
    print("PyTorch train step not measured:", e)

out = sys.argv[2] if len(sys.argv) > 2 and not sys.argv[2].startswith("--") else "kernels_bench.json"
with open(out, "w") as f:
    json.dump(results, f, indent=1)
print("wrote", out)
