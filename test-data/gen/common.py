"""Shared helpers for the reference-output generators (run with Debian's /usr/bin/python3 and python3-torch).

Conventions (the Java side relies on them):
- Activations are stored NHWC ([N, H, W, C]); PyTorch computes in NCHW and we permute on write.
- Conv weights keep PyTorch's OIHW layout; linear weights [out, in].
- Every file is safetensors: F32 tensors, I64 integer tensors (labels), string metadata.
- Inputs are drawn from a seeded torch.Generator, so a re-run reproduces the files bit for bit.
"""
import json
import os
import struct

import torch

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "ref")


def nhwc(t):
    """NCHW -> NHWC, contiguous."""
    return t.permute(0, 2, 3, 1).contiguous()


def nchw(t):
    return t.permute(0, 3, 1, 2).contiguous()


def gen(seed):
    g = torch.Generator()
    g.manual_seed(seed)
    return g


def randn(g, *shape, scale=1.0):
    return torch.randn(*shape, generator=g, dtype=torch.float32) * scale


def save(relpath, tensors, meta):
    """Writes tensors (dict name -> torch tensor; float -> F32, integer -> I64) and metadata (values -> str)."""
    path = os.path.join(ROOT, relpath)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    header = {}
    blobs = []
    off = 0
    for name, t in tensors.items():
        t = t.detach().contiguous()
        if t.is_floating_point():
            t = t.to(torch.float32)
            dtype, raw = "F32", t.numpy().astype("<f4").tobytes()
        else:
            t = t.to(torch.int64)
            dtype, raw = "I64", t.numpy().astype("<i8").tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    header["__metadata__"] = {k: (v if isinstance(v, str) else json.dumps(v)) for k, v in meta.items()}
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)
    return path
