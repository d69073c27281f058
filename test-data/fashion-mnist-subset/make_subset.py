#!/usr/bin/env python3
"""Make the class-balanced Fashion-MNIST subset shipped in test-data/fashion-mnist-subset/.

Selection rule (deterministic, no randomness): walk each split of the full Fashion-MNIST in file
order and keep an image when fewer than PER_CLASS images of its class were kept so far; kept images
stay in file order. Training: the first 1,000 of each class of the 60,000 (10,000 images); test:
the first 200 of each class of the 10,000 (2,000 images).

Output: gzip IDX files with the standard names, written with mtime 0, no file name in the gzip
header and compression level 9, so that running this script again gives byte-identical files.

Usage:
    python3 make_subset.py [SOURCE_DIR [OUT_DIR]]
SOURCE_DIR defaults to /usr/share/datasets/fashion-mnist (Debian: apt-get install
dataset-fashion-mnist); OUT_DIR defaults to this script's folder. Only the standard library is used.
"""
import gzip
import hashlib
import os
import struct
import sys

SPLITS = [  # (images, labels, images kept per class)
    ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", 1000),
    ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", 200),
]
CLASSES = 10


def read(path):
    """Bytes of an IDX file, gzip or not (told apart by the gzip magic 1f 8b)."""
    with open(path, "rb") as f:
        data = f.read()
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


def find(src, name):
    for candidate in (name + ".gz", name):
        p = os.path.join(src, candidate)
        if os.path.exists(p):
            return p
    sys.exit(f"{name}(.gz) not found in {src} (apt-get install dataset-fashion-mnist)")


def write_gz(path, payload):
    with open(path, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", compresslevel=9, fileobj=raw, mtime=0) as gz:
            gz.write(payload)


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/datasets/fashion-mnist"
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.dirname(os.path.abspath(__file__))
    for img_name, lbl_name, per_class in SPLITS:
        img = read(find(src, img_name))
        lbl = read(find(src, lbl_name))
        magic, n, rows, cols = struct.unpack(">IIII", img[:16])
        lmagic, ln = struct.unpack(">II", lbl[:8])
        assert magic == 0x00000803 and lmagic == 0x00000801 and n == ln, (img_name, magic, lmagic, n, ln)
        size = rows * cols
        assert len(img) == 16 + n * size and len(lbl) == 8 + n
        kept, counts = [], [0] * CLASSES
        for i in range(n):
            c = lbl[8 + i]
            if counts[c] < per_class:
                counts[c] += 1
                kept.append(i)
        assert counts == [per_class] * CLASSES, counts
        m = len(kept)
        images = bytearray(struct.pack(">IIII", 0x00000803, m, rows, cols))
        labels = bytearray(struct.pack(">II", 0x00000801, m))
        for i in kept:
            images += img[16 + i * size: 16 + (i + 1) * size]
            labels.append(lbl[8 + i])
        for name, payload in ((img_name, images), (lbl_name, labels)):
            path = os.path.join(out, name + ".gz")
            write_gz(path, bytes(payload))
            with open(path, "rb") as f:
                digest = hashlib.sha256(f.read()).hexdigest()
            print(f"{name}.gz  {os.path.getsize(path):>9} bytes  sha256 {digest}")
        print(f"  {m} images ({per_class} per class); last source index kept: {kept[-1]}")


if __name__ == "__main__":
    main()
