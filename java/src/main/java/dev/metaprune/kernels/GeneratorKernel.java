package dev.metaprune.kernels;

import dev.metaprune.tensor.Tensor;

/**
 * The PruningNet weight generator as backend kernels (the CPU's reference of {@link Kernels#generatorHidden} and the
 * three after it): {@code FC(enc -> hidden)}, ReLU, {@code FC(hidden -> rows)}, one output row per weight element of
 * the widest convolution ({@code [outMax, inMax, kh, kw]}, {@code kk = kh * kw} consecutive rows per (o, i) block).
 *
 * <p>The optimiser step is PyTorch's SGD on the whole generator, eager: rows inside the crop get their gradient,
 * rows outside it a zero gradient (so momentum and weight decay still move them, as in PyTorch). The host's
 * {@code Generator} computes the same step lazily (rows outside the crop caught up when next read), which is the
 * fast way on a CPU; a device computes it eagerly, one pass over the generator's memory. This class is the plain
 * reference both are checked against: scalar loops in a fixed order.
 */
public final class GeneratorKernel {
    private GeneratorKernel() {
    }

    /** The sizes of one generator, from its tensors, checked ({@link IllegalArgumentException} naming them). */
    public record Dims(int encDim, int hidden, int outMax, int inMax, int kk) {
        public int rows() {
            return outMax * inMax * kk;
        }
    }

    public static Dims dims(String op, Tensor w1, Tensor b1, Tensor enc, Tensor h) {
        int hidden = (int) h.numel(), encDim = (int) enc.numel();
        if (!(w1.isContiguous() && b1.isContiguous() && enc.isContiguous() && h.isContiguous()
                && w1.numel() == (long) hidden * encDim && b1.numel() == hidden && hidden > 0 && encDim > 0)) {
            throw new IllegalArgumentException(op + ": w1 " + java.util.Arrays.toString(w1.shape()) + ", b1 "
                    + java.util.Arrays.toString(b1.shape()) + " do not match " + encDim + " inputs and " + hidden
                    + " hidden units (contiguous tensors)");
        }
        return new Dims(encDim, hidden, 0, 0, 0);
    }

    /** Sizes of the second FC from its output layout {@code out [outMax, inMax, kh, kw]}, checked, with the crop. */
    public static Dims dims(String op, Tensor w2, Tensor b2, Tensor h, Tensor out, int co, int ci) {
        if (out.rank() != 4 || !out.isContiguous()) {
            throw new IllegalArgumentException(op + ": the generated weight must be a contiguous [outMax, inMax, kh, kw]"
                    + " tensor, got " + java.util.Arrays.toString(out.shape()));
        }
        int outMax = out.dim(0), inMax = out.dim(1), kk = out.dim(2) * out.dim(3), hidden = (int) h.numel();
        long rows = (long) outMax * inMax * kk;
        if (!(w2.isContiguous() && b2.isContiguous() && h.isContiguous() && w2.numel() == rows * hidden
                && b2.numel() == rows)) {
            throw new IllegalArgumentException(op + ": w2 " + java.util.Arrays.toString(w2.shape()) + ", b2 "
                    + java.util.Arrays.toString(b2.shape()) + " do not hold " + rows + " rows of " + hidden
                    + " (contiguous tensors)");
        }
        if (!(co > 0 && co <= outMax && ci > 0 && ci <= inMax)) {
            throw new IllegalArgumentException(op + ": crop [" + co + ", " + ci + "] is outside the weight ["
                    + outMax + ", " + inMax + "]");
        }
        return new Dims(0, hidden, outMax, inMax, kk);
    }

    static void hidden(Tensor w1, Tensor b1, Tensor enc, Tensor pre, Tensor h) {
        Dims d = dims("generatorHidden", w1, b1, enc, h);
        if (!(pre.isContiguous() && pre.numel() == d.hidden())) {
            throw new IllegalArgumentException("generatorHidden: pre must hold " + d.hidden() + " values");
        }
        float[] w = w1.data(), b = b1.data(), e = enc.data(), p = pre.data(), hv = h.data();
        int wo = w1.offset(), bo = b1.offset(), eo = enc.offset(), po = pre.offset(), ho = h.offset();
        for (int j = 0; j < d.hidden(); j++) {
            float s = b[bo + j];
            for (int k = 0; k < d.encDim(); k++) {
                s += w[wo + j * d.encDim() + k] * e[eo + k];
            }
            p[po + j] = s;
            hv[ho + j] = Math.max(s, 0f);
        }
    }

    static void forward(Tensor w2, Tensor b2, Tensor h, int co, int ci, Tensor out) {
        Dims d = dims("generatorForward", w2, b2, h, out, co, ci);
        float[] w = w2.data(), b = b2.data(), hv = h.data(), o = out.data();
        int wo = w2.offset(), bo = b2.offset(), ho = h.offset(), oo = out.offset(), hid = d.hidden();
        for (int oc = 0; oc < co; oc++) {
            int r0 = oc * d.inMax() * d.kk();
            for (int r = r0; r < r0 + ci * d.kk(); r++) {
                float s = 0f;
                for (int j = 0; j < hid; j++) {
                    s += w[wo + r * hid + j] * hv[ho + j];
                }
                o[oo + r] = s + b[bo + r];
            }
        }
    }

    static void backwardStep(Tensor w2, Tensor b2, Tensor mw2, Tensor mb2, Tensor h, Tensor dOut, int co, int ci,
                             Tensor dh, float lr, float m, float wd, boolean nest) {
        Dims d = dims("generatorBackwardStep", w2, b2, h, dOut, co, ci);
        if (!(mw2.isContiguous() && mb2.isContiguous() && dh.isContiguous() && mw2.numel() == w2.numel()
                && mb2.numel() == b2.numel() && dh.numel() == d.hidden())) {
            throw new IllegalArgumentException("generatorBackwardStep: momentum buffers must match w2 and b2, dh the"
                    + " hidden units");
        }
        float[] w = w2.data(), b = b2.data(), mw = mw2.data(), mb = mb2.data(), hv = h.data(), g = dOut.data();
        float[] dhv = dh.data();
        int wo = w2.offset(), bo = b2.offset(), mwo = mw2.offset(), mbo = mb2.offset(), ho = h.offset();
        int go = dOut.offset(), dho = dh.offset(), hid = d.hidden(), block = d.inMax() * d.kk();
        for (int j = 0; j < hid; j++) {
            dhv[dho + j] = 0f;
        }
        for (int r = 0; r < d.rows(); r++) {
            boolean inCrop = r / block < co && r % block < ci * d.kk();
            float gr = inCrop ? g[go + r] : 0f;
            for (int j = 0; j < hid; j++) {
                float wv = w[wo + r * hid + j];
                if (inCrop) {
                    dhv[dho + j] += gr * wv;   // the old weights
                }
                float grad = gr * hv[ho + j] + wd * wv;
                float buf = m * mw[mwo + r * hid + j] + grad;
                mw[mwo + r * hid + j] = buf;
                w[wo + r * hid + j] = wv - lr * (nest ? grad + m * buf : buf);
            }
            float gb = gr + wd * b[bo + r];
            float buf = m * mb[mbo + r] + gb;
            mb[mbo + r] = buf;
            b[bo + r] -= lr * (nest ? gb + m * buf : buf);
        }
    }

    static void hiddenBackwardStep(Tensor w1, Tensor b1, Tensor mw1, Tensor mb1, Tensor enc, Tensor pre, Tensor dh,
                                   float lr, float m, float wd, boolean nest) {
        Dims d = dims("generatorHiddenBackwardStep", w1, b1, enc, dh);
        if (!(mw1.numel() == w1.numel() && mb1.numel() == b1.numel() && pre.numel() == d.hidden()
                && mw1.isContiguous() && mb1.isContiguous() && pre.isContiguous())) {
            throw new IllegalArgumentException("generatorHiddenBackwardStep: momentum buffers must match w1 and b1,"
                    + " pre the hidden units");
        }
        float[] w = w1.data(), b = b1.data(), mw = mw1.data(), mb = mb1.data(), e = enc.data(), p = pre.data();
        float[] dhv = dh.data();
        int wo = w1.offset(), bo = b1.offset(), mwo = mw1.offset(), mbo = mb1.offset(), eo = enc.offset();
        int po = pre.offset(), dho = dh.offset();
        for (int j = 0; j < d.hidden(); j++) {
            float dpre = p[po + j] > 0f ? dhv[dho + j] : 0f;
            for (int k = 0; k < d.encDim(); k++) {
                int idx = j * d.encDim() + k;
                float gw = dpre * e[eo + k] + wd * w[wo + idx];
                float buf = m * mw[mwo + idx] + gw;
                mw[mwo + idx] = buf;
                w[wo + idx] -= lr * (nest ? gw + m * buf : buf);
            }
            float gb = dpre + wd * b[bo + j];
            float buf = m * mb[mbo + j] + gb;
            mb[mbo + j] = buf;
            b[bo + j] -= lr * (nest ? gb + m * buf : buf);
        }
    }
}
