"""Reference outputs for the non-convolution kernels: BatchNorm, ReLU / ReLU6, add, softmax
cross-entropy with label smoothing, top-k counts, and SGD with momentum.

Run with Debian's PyTorch:  /usr/bin/python3 test-data/gen/gen_nnops.py
Writes test-data/ref/nnops/*.safetensors (activations NHWC). Inputs are float32 drawn from seeded
generators; every reference is computed in float64 from those float32 inputs, then stored as float32.
"""
import torch
import torch.nn.functional as F

from common import gen, nchw, nhwc, randn, save

EPS = 1e-5
MOMENTUM = 0.1
CUM = float(torch.tensor(1.0 / 3.0, dtype=torch.float32))  # averageFactor for the 3rd batch, as a float32


def bn_case(name, n, h, w, c, seed, offset_scale, spread):
    g = gen(seed)
    # per-channel offsets and spreads, so that the statistics differ across channels
    off = randn(g, c, scale=offset_scale)
    sd = spread * (0.5 + torch.rand(c, generator=g))
    x = (off + sd * randn(g, n, h, w, c)).float()       # NHWC
    dy = randn(g, n, h, w, c)
    gamma = (1.0 + randn(g, c, scale=0.3)).float()
    beta = randn(g, c, scale=0.2)
    rm0 = randn(g, c, scale=0.5)
    rv0 = (0.5 + torch.rand(c, generator=g)).float()

    x64 = nchw(x.double()).requires_grad_(True)
    dy64 = nchw(dy.double())
    g64 = gamma.double().requires_grad_(True)
    b64 = beta.double().requires_grad_(True)
    out = {"x": x, "dy": dy, "gamma": gamma, "beta": beta, "run_mean0": rm0, "run_var0": rv0}

    # saved statistics
    xd = x.double().reshape(-1, c)
    mean = xd.mean(0)
    var_b = xd.var(0, unbiased=False)
    out["save_mean"] = mean
    out["save_invstd"] = 1.0 / torch.sqrt(var_b + EPS)

    # affine training forward + running stats with momentum 0.1 and with the cumulative factor 1/3
    for tag, f in (("m01", MOMENTUM), ("cum", CUM)):
        rm, rv = rm0.double().clone(), rv0.double().clone()
        y = F.batch_norm(x64, rm, rv, g64, b64, training=True, momentum=f, eps=EPS)
        out["run_mean_" + tag] = rm
        out["run_var_" + tag] = rv
    y.backward(dy64)
    out["y"] = nhwc(y.detach())
    out["dx"] = nhwc(x64.grad)
    out["dgamma"] = g64.grad
    out["dbeta"] = b64.grad

    # affine-free
    x64.grad = None
    y = F.batch_norm(x64, None, None, None, None, training=True, eps=EPS)
    y.backward(dy64)
    out["y_noaffine"] = nhwc(y.detach())
    out["dx_noaffine"] = nhwc(x64.grad)

    # inference with the initial running statistics
    with torch.no_grad():
        xi = nchw(x.double())
        out["y_infer"] = nhwc(F.batch_norm(xi, rm0.double(), rv0.double(), gamma.double(), beta.double(),
                                           training=False, eps=EPS))
        out["y_infer_noaffine"] = nhwc(F.batch_norm(xi, rm0.double(), rv0.double(), None, None,
                                                    training=False, eps=EPS))
    save("nnops/%s.safetensors" % name, out,
         {"eps": EPS, "momentum": MOMENTUM, "cumulative_factor": CUM, "shape_nhwc": [n, h, w, c],
          "generator": "gen_nnops.py"})


def elementwise_case():
    g = gen(101)
    shape = (2, 3, 5, 19)
    x = randn(g, *shape, scale=4.0) + 2.0
    flat = x.view(-1)
    # exact boundary values and their neighbours
    specials = [0.0, -0.0, 6.0, 6.0, 0.0,
                float(torch.nextafter(torch.tensor(6.0), torch.tensor(7.0))),
                float(torch.nextafter(torch.tensor(6.0), torch.tensor(5.0))),
                float(torch.nextafter(torch.tensor(0.0), torch.tensor(1.0))),
                float(torch.nextafter(torch.tensor(0.0), torch.tensor(-1.0)))]
    for i, v in enumerate(specials):
        flat[7 * i + 3] = v
    dy = randn(g, *shape)
    a = randn(g, *shape)
    b = randn(g, *shape)
    x64 = x.double().requires_grad_(True)
    y = torch.relu(x64)
    y.backward(dy.double())
    out = {"x": x, "dy": dy, "a": a, "b": b, "relu": y.detach(), "relu_bwd": x64.grad.clone()}
    x64.grad = None
    y6 = F.relu6(x64)
    y6.backward(dy.double())
    out["relu6"] = y6.detach()
    out["relu6_bwd"] = x64.grad.clone()
    out["add"] = a.double() + b.double()
    save("nnops/elementwise.safetensors", out, {"generator": "gen_nnops.py", "specials": specials})


def ce_case(name, n, k, seed, boosts):
    g = gen(seed)
    logits = randn(g, n, k, scale=3.0)
    labels = torch.randint(0, k, (n,), generator=g)
    # make some rows confident and correct, and one row huge (exp would overflow without the max shift)
    for i, boost in boosts.items():
        logits[i, labels[i]] += boost
    logits[n // 2] += 100.0
    out = {"logits": logits, "labels": labels}
    for tag, s in (("s0", 0.0), ("s01", 0.1)):
        z = logits.double().requires_grad_(True)
        loss = F.cross_entropy(z, labels, label_smoothing=s)
        loss.backward()
        out["loss_" + tag] = loss.detach().reshape(1)
        out["grad_" + tag] = z.grad
    for kk in (1, 5):
        kk = min(kk, k)
        top = torch.topk(logits, kk, dim=1).indices
        out["top%d" % kk] = (top == labels[:, None]).any(dim=1).sum().reshape(1)
    save("nnops/%s.safetensors" % name, out, {"generator": "gen_nnops.py", "reduction": "mean"})


def sgd_case():
    g = gen(301)
    steps = 5
    lrs = [0.1, 0.1, 0.05, 0.05, 0.02]
    shapes = [(37, 5), (11,)]
    wds = [4e-5, 0.0]
    lr_mult = [1.0, 0.5]
    p0 = [randn(g, *s) for s in shapes]
    grads = [[randn(g, *s) for _ in range(steps)] for s in shapes]
    out = {"lrs": torch.tensor(lrs, dtype=torch.float64)}
    for i in range(len(shapes)):
        out["p0_%d" % i] = p0[i]
        out["grads_%d" % i] = torch.stack(grads[i])
    for nest in (False, True):
        params = [p.double().clone().requires_grad_(True) for p in p0]
        opt = torch.optim.SGD([{"params": [params[i]], "weight_decay": wds[i]} for i in range(len(shapes))],
                              lr=lrs[0], momentum=0.9, dampening=0, nesterov=nest)
        traj = [[] for _ in shapes]
        for t in range(steps):
            for i, grp in enumerate(opt.param_groups):
                grp["lr"] = lrs[t] * lr_mult[i]
            for i, p in enumerate(params):
                p.grad = grads[i][t].double()
            opt.step()
            for i, p in enumerate(params):
                traj[i].append(p.detach().clone())
        tag = "nesterov" if nest else "plain"
        for i, p in enumerate(params):
            out["p_%s_%d" % (tag, i)] = torch.stack(traj[i])
            out["buf_%s_%d" % (tag, i)] = opt.state[p]["momentum_buffer"]
    save("nnops/sgd.safetensors", out,
         {"generator": "gen_nnops.py", "momentum": 0.9, "weight_decay": wds, "lr_multiplier": lr_mult,
          "steps": steps, "dampening": 0})


def main():
    bn_case("bn_n4_h7_w7_c24", 4, 7, 7, 24, seed=11, offset_scale=2.0, spread=1.0)
    # large offsets against small spread: mean / std up to ~300 (catastrophic cancellation test)
    bn_case("bn_n2_h5_w3_c37", 2, 5, 3, 37, seed=12, offset_scale=60.0, spread=0.3)
    bn_case("bn_n8_h1_w1_c160", 8, 1, 1, 160, seed=13, offset_scale=1.0, spread=2.0)
    elementwise_case()
    ce_case("ce_n7_k10", 7, 10, seed=201, boosts={0: 6.0, 2: 6.0, 4: 6.0, 6: 6.0})
    ce_case("ce_n3_k1000", 3, 1000, seed=202, boosts={0: 20.0, 2: 7.0})
    sgd_case()


if __name__ == "__main__":
    main()
