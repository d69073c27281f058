package dev.metaprune.kernels;

import static dev.metaprune.testing.Refs.U;
import static dev.metaprune.testing.Refs.assertPaddingUntouched;
import static dev.metaprune.testing.Refs.assertSameBits;
import static dev.metaprune.testing.Refs.maxAbs;
import static dev.metaprune.testing.Refs.strided;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaprune.optim.Sgd;
import dev.metaprune.tensor.SafeTensors;
import dev.metaprune.tensor.Tensor;
import dev.metaprune.testing.Refs;
import java.lang.reflect.Proxy;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The fused SGD kernel and the {@link Sgd} optimiser against {@code torch.optim.SGD} (float64,
 * momentum 0.9, dampening 0, weight decay 4e-5 and 0, Nesterov on and off, 5 steps with changing
 * lr) and, bit for bit, against a scalar {@code Math.fma} transcription of the documented rule.
 *
 * <p>Tolerance against PyTorch: each step rounds p and buf to float once or twice per operation,
 * and the errors carry over (momentum 0.9 multiplies, does not amplify): after 5 steps the error
 * is a few U of the values involved; allowed {@code 4U * max|ref| + 4U * |ref|} (measured: under 0.4 of that).
 */
class SgdTest {
    /** A backend whose sgdStep is {@link SgdKernel#step} (the optimiser is tested independently of the wiring). */
    static Kernels sgdOnly() {
        return (Kernels) Proxy.newProxyInstance(Kernels.class.getClassLoader(), new Class<?>[] {Kernels.class},
                (proxy, m, args) -> switch (m.getName()) {
                    case "sgdStep" -> {
                        SgdKernel.step((Tensor) args[0], (Tensor) args[1], (Tensor) args[2], (float) args[3],
                                (float) args[4], (float) args[5], (boolean) args[6]);
                        yield null;
                    }
                    case "zero" -> {
                        ((Tensor) args[0]).fill(0f);
                        yield null;
                    }
                    case "name" -> "sgd-test";
                    case "toString" -> "sgd-test backend";
                    default -> throw new UnsupportedOperationException(m.getName());
                });
    }

    static void close(String what, Tensor got, Tensor want) {
        Refs.assertClose(what, got, want, 4 * U * maxAbs(want), 4 * U);
    }

    static Tensor step(Tensor stacked, int t) {
        int per = (int) (stacked.numel() / stacked.dim(0));
        int[] shape = java.util.Arrays.copyOfRange(stacked.shape(), 1, stacked.rank());
        Tensor out = Tensor.zeros(shape);
        System.arraycopy(stacked.data(), t * per, out.data(), 0, per);
        return out;
    }

    @Test
    void kernelMatchesTorchOptimSgd() {
        SafeTensors.File f = Refs.load("nnops/sgd");
        Tensor lrs = f.get("lrs");
        int steps = lrs.dim(0);
        float[] wd = {4e-5f, 0f};
        float[] mult = {1f, 0.5f};
        for (boolean nesterov : new boolean[] {false, true}) {
            String tag = nesterov ? "nesterov" : "plain";
            for (int i = 0; i < 2; i++) {
                Tensor p = f.get("p0_" + i).copy(), buf = Tensor.zeros(p.shape());
                Tensor grads = f.get("grads_" + i), want = f.get("p_" + tag + "_" + i);
                for (int t = 0; t < steps; t++) {
                    SgdKernel.step(p, step(grads, t), buf, lrs.get(t) * mult[i], 0.9f, wd[i], nesterov);
                    close(tag + " param " + i + " after step " + t, p, step(want, t));
                }
                close(tag + " momentum buffer " + i, buf, f.get("buf_" + tag + "_" + i));
            }
        }
    }

    @Test
    void optimiserMatchesTorchOptimSgd() {
        SafeTensors.File f = Refs.load("nnops/sgd");
        Tensor lrs = f.get("lrs");
        for (boolean nesterov : new boolean[] {false, true}) {
            String tag = nesterov ? "nesterov" : "plain";
            Sgd opt = new Sgd(sgdOnly(), 0.9f, nesterov);
            Tensor w = f.get("p0_0").copy(), gw = Tensor.zeros(w.shape());
            Tensor bn = f.get("p0_1").copy(), gbn = Tensor.zeros(bn.shape());
            opt.addGroup("weights", 4e-5f, 1f).add("conv.w", w, gw);
            opt.addGroup("bn", 0f, 0.5f).add("bn.gamma", bn, gbn);
            for (int t = 0; t < lrs.dim(0); t++) {
                opt.zeroGrad();
                assertEquals(0f, gw.get(3, 2));
                gw.copyFrom(step(f.get("grads_0"), t));
                gbn.copyFrom(step(f.get("grads_1"), t));
                opt.step(lrs.get(t));
            }
            close(tag + " optimiser weights", w, step(f.get("p_" + tag + "_0"), lrs.dim(0) - 1));
            close(tag + " optimiser bn", bn, step(f.get("p_" + tag + "_1"), lrs.dim(0) - 1));
            close(tag + " buffer by name", opt.momentumBuffer("conv.w"), f.get("buf_" + tag + "_0"));
            close(tag + " buffer by index", opt.momentumBuffer(1), f.get("buf_" + tag + "_1"));
            assertSame(opt.momentumBuffer(0), opt.param("conv.w").momentumBuffer());
            opt.resetMomentum();
            assertEquals(0.0, maxAbs(opt.momentumBuffer(0)));
        }
    }

    /** The documented rule, one Math.fma per line. */
    static void reference(float[] p, float[] g, float[] b, float lr, float m, float wd, boolean nesterov) {
        for (int i = 0; i < p.length; i++) {
            float d = Math.fma(p[i], wd, g[i]);
            if (m != 0f) {
                b[i] = Math.fma(b[i], m, d);
                d = nesterov ? Math.fma(b[i], m, d) : b[i];
            }
            p[i] = Math.fma(d, -lr, p[i]);
        }
    }

    /** Bit-identical to the scalar rule on every size (vector tails, parallel split, views). */
    @Test
    void bitIdenticalToScalarRule() {
        SplittableRandom r = new SplittableRandom(21);
        for (int[] shape : new int[][] {{1}, {7}, {33, 3}, {64, 3, 3, 3}, {3, 200000}, {1000, 257}}) {
            for (int cfg = 0; cfg < 4; cfg++) {
                float m = cfg == 0 ? 0f : 0.9f, wd = cfg == 3 ? 0f : 1e-4f;
                boolean nesterov = cfg == 2;
                Tensor p = Refs.gaussian(r, 0, 1, shape), buf = Refs.gaussian(r, 0, 0.1, shape);
                float[] pw = p.data().clone(), bw = buf.data().clone();
                for (int t = 0; t < 3; t++) {
                    Tensor g = Refs.gaussian(r, 0, 1, shape);
                    Tensor pv = strided(p, 1, 2), bv = strided(buf, 0, 3), gv = strided(g, 2, 0);
                    SgdKernel.step(p, g, m == 0 ? null : buf, 0.05f, m, wd, nesterov);
                    SgdKernel.step(pv, gv, m == 0 ? null : bv, 0.05f, m, wd, nesterov);
                    reference(pw, g.data(), bw, 0.05f, m, wd, nesterov);
                    String what = java.util.Arrays.toString(shape) + " cfg " + cfg + " step " + t;
                    assertSameBits(what, p, Tensor.wrap(pw, shape));
                    assertSameBits(what + " view", pv, p);
                    assertPaddingUntouched(what + " param view", pv);
                    if (m != 0) {
                        assertSameBits(what + " buffer", buf, Tensor.wrap(bw, shape));
                        assertSameBits(what + " buffer view", bv, buf);
                    }
                }
            }
        }
    }

    @Test
    void rejectsBadInput() {
        Tensor p = Tensor.zeros(4, 5), g = Tensor.zeros(4, 5), b = Tensor.zeros(4, 5);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SgdKernel.step(p, Tensor.zeros(5, 4), b, 0.1f, 0.9f, 0f, false));
        assertTrue(e.getMessage().contains("[5, 4]") && e.getMessage().contains("[4, 5]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> SgdKernel.step(p, g, Tensor.zeros(20), 0.1f, 0.9f, 0f, false));
        assertTrue(e.getMessage().contains("[20]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SgdKernel.step(p, g, null, 0.1f, 0.9f, 0f, false));
        assertThrows(IllegalArgumentException.class, () -> SgdKernel.step(p, g, b, 0.1f, 0f, 0f, true));
        assertThrows(IllegalArgumentException.class, () -> SgdKernel.step(p, g, b, -0.1f, 0.9f, 0f, false));
        assertThrows(IllegalArgumentException.class, () -> SgdKernel.step(p, g, b, Float.NaN, 0.9f, 0f, false));
        assertThrows(IllegalArgumentException.class, () -> SgdKernel.step(p, g, b, 0.1f, 0.9f, -1f, false));

        Sgd opt = new Sgd(sgdOnly(), 0.9f, false);
        Sgd.Group grp = opt.addGroup("w", 0f, 1f).add("a", p, g);
        e = assertThrows(IllegalArgumentException.class, () -> grp.add("a", Tensor.zeros(2), Tensor.zeros(2)));
        assertTrue(e.getMessage().contains("'a'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> grp.add("b", Tensor.zeros(2, 3), Tensor.zeros(3, 2)));
        assertTrue(e.getMessage().contains("[3, 2]") && e.getMessage().contains("[2, 3]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> opt.momentumBuffer("nope"));
        assertThrows(IllegalArgumentException.class, () -> opt.momentumBuffer(1));
        assertThrows(IllegalArgumentException.class, () -> opt.addGroup("x", -1f, 1f));
        assertThrows(IllegalArgumentException.class, () -> opt.addGroup("x", 0f, Float.NaN));
        assertThrows(IllegalArgumentException.class, () -> opt.step(-1f));
        assertThrows(IllegalArgumentException.class, () -> new Sgd(sgdOnly(), 0f, true));
        assertThrows(IllegalArgumentException.class, () -> new Sgd(sgdOnly(), -0.5f, false));
        Sgd plain = new Sgd(sgdOnly(), 0f, false);
        plain.addGroup("w", 0f, 1f).add("a", Tensor.zeros(3), Tensor.zeros(3).fill(1f));
        assertNull(plain.momentumBuffer(0), "no buffer without momentum");
        plain.step(0.5f);
        assertEquals(-0.5f, plain.params().get(0).param().get(1));
    }
}
