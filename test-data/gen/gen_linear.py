#!/usr/bin/env python3
"""Reference outputs for GEMM-backed kernels: linear layers with sliced weights.

Each case: x [N, in], the FULL weight w [outMax, inMax] (the layer uses w[:out, :in]), bias b [outMax]
(the layer uses b[:out]), y = x w[:out,:in]^T + b[:out], a random upstream gradient dy, and the
gradients dx, dw (full shape, zero outside the used block), db (full shape). Computed in float64,
stored as float32.  Run: /usr/bin/python3 test-data/gen/gen_linear.py
"""
import torch
import common

CASES = [
    # name, N, in, out, inMax, outMax, bias
    ("n5_in64of80_out37of50", 5, 64, 37, 80, 50, True),
    ("n17_in3_out33_nobias", 17, 3, 33, 3, 33, False),
    ("generator_n1_in64_out1024", 1, 64, 1024, 64, 1024, True),
    ("n64_in100of100_out10of12", 64, 100, 10, 100, 12, True),
]

for i, (name, n, cin, cout, inmax, outmax, bias) in enumerate(CASES):
    g = common.gen(100 + i)
    x = common.randn(g, n, cin).double().requires_grad_()
    w = (common.randn(g, outmax, inmax) / inmax ** 0.5).double().requires_grad_()
    b = common.randn(g, outmax).double().requires_grad_() if bias else None
    y = torch.nn.functional.linear(x, w[:cout, :cin], b[:cout] if bias else None)
    dy = common.randn(g, n, cout).double()
    y.backward(dy)
    t = {"x": x, "w": w, "y": y, "dy": dy, "dx": x.grad, "dw": w.grad}
    if bias:
        t["b"] = b
        t["db"] = b.grad
    common.save(f"linear/{name}.safetensors", {k: v.detach().float() for k, v in t.items()},
                {"n": n, "in": cin, "out": cout, "bias": int(bias), "torch": torch.__version__})
    print("wrote", name)
