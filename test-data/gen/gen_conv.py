"""Reference outputs for the convolution and pooling kernels.

Run with Debian's Python and python3-torch:  /usr/bin/python3 test-data/gen/gen_conv.py
Writes test-data/ref/conv/<case>.safetensors and test-data/ref/pool/<case>.safetensors.

Conv case tensors (activations NHWC, weights OIHW, see common.py):
  x [N,H,W,cin]  w [coutMax, cinMax/groups, kh, kw] (the full max-width weight)  b [coutMax] (with bias)
  y [N,Ho,Wo,cout]  dy (random upstream gradient, like y)  dx (like x)
  dw (like w; zeros outside the leading [cout, cin/groups] block)  db (like b; zeros past cout)
metadata: cin, cout, kh, kw, stride, pad, groups, bias (0/1).
The sliced convolution is F.conv2d(x, w[:cout, :cin//groups], b[:cout]) and the gradients flow through
the slice by autograd. Everything is computed in float64 from float32 inputs and stored as float32, so a
reference is exact up to one fp32 rounding.

Pool case tensors: maxpool: x, y, dy, dx, argmax (I64: index of the max in the dense NHWC x, PyTorch's
tie rule); metadata k, stride, pad.  avgpool (global): x [N,H,W,C], y [N,C], dy [N,C], dx like x.
"""
import torch
import torch.nn.functional as F

from common import gen, nchw, nhwc, randn, save

# name, N, H, W, cin, cout, k, stride, pad, groups, cinMax, coutMax, bias
CONV_CASES = [
    # MobileNetV2 pointwise (GEMM path)
    ("pw_24_144", 2, 8, 8, 24, 144, 1, 1, 0, 1, 24, 144, False),
    ("pw_144_24_bias", 2, 7, 7, 144, 24, 1, 1, 0, 1, 144, 24, True),
    ("pw_160_960", 2, 4, 4, 160, 960, 1, 1, 0, 1, 160, 960, False),
    # depthwise 3x3 (stencil path), channel counts with and without vector tails, odd sizes
    ("dw3_s1_32_bias", 2, 10, 10, 32, 32, 3, 1, 1, 32, 32, 32, True),
    ("dw3_s2_32", 3, 11, 11, 32, 32, 3, 2, 1, 32, 32, 32, False),
    ("dw3_s1_144", 2, 8, 8, 144, 144, 3, 1, 1, 144, 144, 144, False),
    ("dw3_s2_144", 2, 9, 9, 144, 144, 3, 2, 1, 144, 144, 144, False),
    ("dw3_s1_37_13x11_bias", 2, 13, 11, 37, 37, 3, 1, 1, 37, 37, 37, True),
    ("dw3_s2_19_13x11", 2, 13, 11, 19, 19, 3, 2, 1, 19, 19, 19, False),
    ("dw3_s1_p0_20", 2, 7, 9, 20, 20, 3, 1, 0, 20, 20, 20, False),
    ("dw5_s2_p2_24", 2, 9, 10, 24, 24, 5, 2, 2, 24, 24, 24, False),
    # general (implicit GEMM path)
    ("stem_3x3_s2_3_32", 2, 16, 16, 3, 32, 3, 2, 1, 1, 3, 32, False),
    ("res_3x3_64_64", 2, 8, 8, 64, 64, 3, 1, 1, 1, 64, 64, False),
    ("down_1x1_s2_64_128", 2, 8, 8, 64, 128, 1, 2, 0, 1, 64, 128, False),
    ("k7_s2_p3_3_16_bias", 2, 15, 15, 3, 16, 7, 2, 3, 1, 3, 16, True),
    ("grouped_g4_32_48_bias", 2, 9, 9, 32, 48, 3, 1, 1, 4, 32, 48, True),
    # sliced: the weight is wider than the convolution in both dimensions
    ("slice_pw_24_40_of_48_64", 2, 6, 6, 24, 40, 1, 1, 0, 1, 48, 64, False),
    ("slice_dw3_s2_37_of_64", 2, 9, 9, 37, 37, 3, 2, 1, 37, 64, 64, False),
    ("slice_dw3_s1_21_of_32_bias", 2, 7, 7, 21, 21, 3, 1, 1, 21, 32, 32, True),
    ("slice_3x3_20_28_of_32_40_bias", 2, 7, 7, 20, 28, 3, 1, 1, 1, 32, 40, True),
    ("slice_grouped_g2_s2_16_24_of_24_32", 2, 9, 9, 16, 24, 3, 2, 1, 2, 24, 32, False),
]

# name, N, H, W, C, k, stride, pad, ties
MAXPOOL_CASES = [
    ("max3_s2_p1_9x9", 2, 9, 9, 20, 3, 2, 1, False),
    ("max3_s2_p1_8x8", 2, 8, 8, 16, 3, 2, 1, False),
    ("max3_s2_p1_7x10_ties", 2, 7, 10, 37, 3, 2, 1, True),
    ("max2_s2_p0_6x6", 1, 6, 6, 8, 2, 2, 0, False),
]

# name, N, H, W, C
AVGPOOL_CASES = [
    ("gap_7x7_37", 2, 7, 7, 37),
    ("gap_4x4_160", 3, 4, 4, 160),
]


def conv_case(seed, name, n, h, w, cin, cout, k, stride, pad, groups, cin_max, cout_max, bias):
    g = gen(seed)
    x = randn(g, n, h, w, cin)
    fan_in = (cin // groups) * k * k
    wt = randn(g, cout_max, cin_max // groups, k, k, scale=fan_in ** -0.5)
    b = randn(g, cout_max, scale=0.5) if bias else None
    xd = nchw(x).double().requires_grad_()
    wd = wt.double().requires_grad_()
    bd = b.double().requires_grad_() if bias else None
    y = F.conv2d(xd, wd[:cout, :cin // groups], bd[:cout] if bias else None, stride=stride, padding=pad,
                 groups=groups)
    dy = randn(g, y.shape[0], y.shape[2], y.shape[3], cout)
    y.backward(nchw(dy).double())
    t = {"x": x, "w": wt}
    if bias:
        t["b"] = b
    t.update({"y": nhwc(y.detach()), "dy": dy, "dx": nhwc(xd.grad), "dw": wd.grad})
    if bias:
        t["db"] = bd.grad
    meta = {"cin": cin, "cout": cout, "kh": k, "kw": k, "stride": stride, "pad": pad, "groups": groups,
            "bias": int(bias)}
    return save(f"conv/{name}.safetensors", t, meta)


def maxpool_case(seed, name, n, h, w, c, k, stride, pad, ties):
    g = gen(seed)
    x = randn(g, n, h, w, c)
    if ties:
        x = torch.round(x * 2) / 2  # many equal values: exercises the first-maximum rule
    xd = nchw(x).double().requires_grad_()
    y, idx = F.max_pool2d(xd, k, stride, pad, return_indices=True)
    dy = randn(g, y.shape[0], y.shape[2], y.shape[3], c)
    y.backward(nchw(dy).double())
    # idx is h*W + w within each (n, c) plane: turn it into an index into the dense NHWC x
    ni = torch.arange(n).view(n, 1, 1, 1)
    ci = torch.arange(c).view(1, c, 1, 1)
    flat = (ni * (h * w) + idx) * c + ci
    t = {"x": x, "y": nhwc(y.detach()), "dy": dy, "dx": nhwc(xd.grad), "argmax": nhwc(flat)}
    return save(f"pool/{name}.safetensors", t, {"k": k, "stride": stride, "pad": pad})


def avgpool_case(seed, name, n, h, w, c):
    g = gen(seed)
    x = randn(g, n, h, w, c)
    xd = nchw(x).double().requires_grad_()
    y = F.adaptive_avg_pool2d(xd, 1).flatten(1)
    dy = randn(g, n, c)
    y.backward(dy.double())
    t = {"x": x, "y": y.detach(), "dy": dy, "dx": nhwc(xd.grad)}
    return save(f"pool/{name}.safetensors", t, {})


def main():
    seed = 1000
    for case in CONV_CASES:
        print(conv_case(seed, *case))
        seed += 1
    for case in MAXPOOL_CASES:
        print(maxpool_case(seed, *case))
        seed += 1
    for case in AVGPOOL_CASES:
        print(avgpool_case(seed, *case))
        seed += 1


if __name__ == "__main__":
    main()
