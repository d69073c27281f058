package dev.metaprune.kernels;

import static dev.metaprune.kernels.Vec.F;
import static dev.metaprune.kernels.Vec.L;

import dev.metaprune.tensor.Tensor;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;

/**
 * One fused SGD step (PyTorch's {@code torch.optim.SGD} rule, dampening 0) in a single pass over
 * parameter, gradient and momentum buffer:
 * <pre>
 *   d   = g + wd * p
 *   buf = momentum * buf + d                      (skipped when momentum == 0)
 *   d   = nesterov ? d + momentum * buf : buf     (d itself when momentum == 0)
 *   p   = p - lr * d
 * </pre>
 * A zero buffer gives PyTorch's first step ({@code buf = d}). Every line is one fused multiply-add
 * ({@code Math.fma} semantics in the vector body and the scalar tail alike), so the result does not
 * depend on the vector width or the thread count. Tensors of one call have the same shape; views
 * are walked row by row, contiguous tensors as one flat run split into at most
 * {@link Parallel#threads()} parts.
 */
public final class SgdKernel {
    private SgdKernel() {
    }

    /** Elements per parallel part. */
    static final long MIN_PER_PART = 1 << 16;

    /** See the class comment; {@code momentumBuf} may be null only when {@code momentum == 0}. */
    public static void step(Tensor param, Tensor grad, Tensor momentumBuf, float lr, float momentum, float weightDecay,
                            boolean nesterov) {
        String op = "sgdStep";
        if (!(param != null && grad != null)) {
            throw new IllegalArgumentException(op + ": param and grad must not be null");
        }
        if (!(Arrays.equals(param.shape(), grad.shape()))) {
            throw new IllegalArgumentException(op + ": grad " + Arrays.toString(grad.shape())
                    + " must have the shape of param " + Arrays.toString(param.shape()));
        }
        boolean useBuf = momentum != 0f;
        if (useBuf) {
            if (momentumBuf == null) {
                throw new IllegalArgumentException(op + ": momentumBuf is null but momentum is " + momentum);
            }
            if (!(Arrays.equals(param.shape(), momentumBuf.shape()))) {
                throw new IllegalArgumentException(op + ": momentumBuf "
                        + Arrays.toString(momentumBuf.shape()) + " must have the shape of param "
                        + Arrays.toString(param.shape()));
            }
        }
        if (!(Float.isFinite(lr) && lr >= 0)) {
            throw new IllegalArgumentException(op + ": lr must be finite and >= 0, got " + lr);
        }
        if (!(Float.isFinite(momentum) && momentum >= 0)) {
            throw new IllegalArgumentException(op + ": momentum must be finite and >= 0, got " + momentum);
        }
        if (!(Float.isFinite(weightDecay) && weightDecay >= 0)) {
            throw new IllegalArgumentException(op + ": weightDecay must be finite and >= 0, got "
                    + weightDecay);
        }
        if (!(!nesterov || momentum > 0)) {
            throw new IllegalArgumentException(op + ": Nesterov momentum requires momentum > 0");
        }

        Tensor buf = useBuf ? momentumBuf : null;
        boolean flat = param.isContiguous() && grad.isContiguous() && (buf == null || buf.isContiguous());
        int rows = flat ? 1 : param.rows();
        int cols = flat ? (int) param.numel() : param.cols();
        float[] pd = param.data(), gd = grad.data(), bd = buf == null ? null : buf.data();
        int po = param.offset(), go = grad.offset(), bo = buf == null ? 0 : buf.offset();
        int pld = param.ld(), gld = grad.ld(), bld = buf == null ? 0 : buf.ld();
        int parts = (int) Math.min(Parallel.threadCount(), Math.max(1, param.numel() / MIN_PER_PART));
        if (!flat) {
            parts = Math.min(parts, rows);
        }
        Parallel.get().run(parts, (p, np) -> {
            if (flat) {
                int blocks = (cols + L - 1) / L;
                int from = Math.min(cols, Parallel.split(blocks, np, p) * L);
                int to = Math.min(cols, Parallel.split(blocks, np, p + 1) * L);
                if (from < to) {
                    span(pd, po + from, gd, go + from, bd, bo + from, to - from, lr, momentum, weightDecay, nesterov);
                }
            } else {
                for (int r = Parallel.split(rows, np, p), r1 = Parallel.split(rows, np, p + 1); r < r1; r++) {
                    span(pd, po + r * pld, gd, go + r * gld, bd, bo + r * bld, cols, lr, momentum, weightDecay,
                            nesterov);
                }
            }
        });
    }

    private static void span(float[] p, int pi, float[] g, int gi, float[] b, int bi, int len, float lr, float mom,
                             float wd, boolean nesterov) {
        FloatVector vwd = FloatVector.broadcast(F, wd), vmom = FloatVector.broadcast(F, mom);
        FloatVector vlr = FloatVector.broadcast(F, -lr);
        int full = len - len % L, j = 0;
        if (b == null) {
            for (; j < full; j += L) {
                FloatVector pv = FloatVector.fromArray(F, p, pi + j);
                FloatVector d = pv.fma(vwd, FloatVector.fromArray(F, g, gi + j));
                d.fma(vlr, pv).intoArray(p, pi + j);
            }
            for (; j < len; j++) {
                float pv = p[pi + j];
                float d = Math.fma(pv, wd, g[gi + j]);
                p[pi + j] = Math.fma(d, -lr, pv);
            }
            return;
        }
        for (; j < full; j += L) {
            FloatVector pv = FloatVector.fromArray(F, p, pi + j);
            FloatVector d = pv.fma(vwd, FloatVector.fromArray(F, g, gi + j));
            FloatVector bv = FloatVector.fromArray(F, b, bi + j).fma(vmom, d);
            bv.intoArray(b, bi + j);
            d = nesterov ? bv.fma(vmom, d) : bv;
            d.fma(vlr, pv).intoArray(p, pi + j);
        }
        for (; j < len; j++) {
            float pv = p[pi + j];
            float d = Math.fma(pv, wd, g[gi + j]);
            float bv = Math.fma(b[bi + j], mom, d);
            b[bi + j] = bv;
            d = nesterov ? Math.fma(bv, mom, d) : bv;
            p[pi + j] = Math.fma(d, -lr, pv);
        }
    }
}
