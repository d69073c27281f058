package dev.metaprune.kernels;

/**
 * The geometry of one 2-D convolution as it runs: the <i>used</i> channel counts (which may be
 * smaller than the weight tensor's: a sliced convolution reads the leading
 * {@code [cOut, cIn / groups]} block of a {@code [cOutMax, cInMax / groups, kh, kw]} weight), kernel,
 * stride, padding and groups. Depthwise: {@code groups == cIn == cOut}.
 */
public record Conv2dSpec(int cIn, int cOut, int kh, int kw, int strideH, int strideW, int padH, int padW,
                         int groups) {
    public Conv2dSpec {
        if (cIn <= 0 || cOut <= 0 || kh <= 0 || kw <= 0 || strideH <= 0 || strideW <= 0 || padH < 0 || padW < 0
                || groups <= 0) {
            throw new IllegalArgumentException("invalid convolution " + describe(cIn, cOut, kh, kw, strideH, strideW,
                    padH, padW, groups) + ": sizes, strides and groups must be positive, padding non-negative");
        }
        if (cIn % groups != 0 || cOut % groups != 0) {
            throw new IllegalArgumentException("invalid convolution " + describe(cIn, cOut, kh, kw, strideH, strideW,
                    padH, padW, groups) + ": channels must be divisible by groups");
        }
    }

    /** Square kernel, same stride and padding both ways. */
    public static Conv2dSpec of(int cIn, int cOut, int k, int stride, int pad, int groups) {
        return new Conv2dSpec(cIn, cOut, k, k, stride, stride, pad, pad, groups);
    }

    /** Depthwise {@code k x k} over {@code c} channels. */
    public static Conv2dSpec depthwise(int c, int k, int stride, int pad) {
        return new Conv2dSpec(c, c, k, k, stride, stride, pad, pad, c);
    }

    public int outH(int inH) {
        int o = (inH + 2 * padH - kh) / strideH + 1;
        if (inH + 2 * padH < kh) {
            throw new IllegalArgumentException("input height " + inH + " with padding " + padH
                    + " is smaller than the kernel height " + kh);
        }
        return o;
    }

    public int outW(int inW) {
        if (inW + 2 * padW < kw) {
            throw new IllegalArgumentException("input width " + inW + " with padding " + padW
                    + " is smaller than the kernel width " + kw);
        }
        return (inW + 2 * padW - kw) / strideW + 1;
    }

    public boolean isDepthwise() {
        return groups == cIn && groups == cOut;
    }

    public boolean isPointwise() {
        return kh == 1 && kw == 1 && padH == 0 && padW == 0 && groups == 1;
    }

    /** Multiply-adds per output position times positions: FLOPs in the papers' convention. */
    public long macs(int outH, int outW) {
        return (long) outH * outW * cOut * (cIn / groups) * kh * kw;
    }

    private static String describe(int cIn, int cOut, int kh, int kw, int sh, int sw, int ph, int pw, int g) {
        return cIn + "->" + cOut + " k" + kh + "x" + kw + " s" + sh + "x" + sw + " p" + ph + "x" + pw + " g" + g;
    }

    @Override
    public String toString() {
        return describe(cIn, cOut, kh, kw, strideH, strideW, padH, padW, groups);
    }
}
