package dev.metaprune.cuda;

import dev.metaprune.cuda.ffm.MetaPruneNative;
import dev.metaprune.kernels.Conv2dSpec;
import dev.metaprune.kernels.CpuKernels;
import dev.metaprune.kernels.Kernels;
import dev.metaprune.pruningnet.Generator;
import dev.metaprune.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Checks every CUDA kernel against the CPU kernel on fresh random inputs: relative error
 * {@code ||gpu - cpu|| / ||cpu||} (in double) under a bound stated per kernel; outputs are poisoned
 * with NaN before each GPU call, so an element the kernel does not write fails the check. Shapes
 * include sliced weights (the leading block of a wider tensor), channel views (rows {@code ld}
 * apart), odd sizes and MobileNet-like layers. {@code java ... dev.metaprune.cuda.CudaCheck} prints
 * one line per check and exits 1 if any fails (2 if there is no GPU). {@code --no-error-check} leaves out the
 * deliberate illegal-address check (it leaves the context unusable; for compute-sanitizer), {@code --no-training}
 * the PruningNet and dense training steps against the emulated device (minutes under compute-sanitizer).
 */
public final class CudaCheck {
    /** One check's outcome. */
    public record Result(String name, double error, double bound, String note) {
        public boolean passed() {
            return error <= bound;   // false for NaN
        }

        @Override
        public String toString() {
            return String.format("%-4s %-58s rel.err %.2e (bound %.0e)%s", passed() ? "ok" : "FAIL", name, error, bound,
                    note == null ? "" : "  " + note);
        }
    }

    /** Relative error bounds, per kind of kernel (float32 with different summation orders). */
    public static final double GEMM_BOUND = 1e-5;
    public static final double CONV_BOUND = 1e-5;
    public static final double REDUCTION_BOUND = 1e-5;   // BN statistics, weight gradients over many positions
    public static final double EXACT_BOUND = 0;           // element-wise: the same float operations
    public static final double LOSS_BOUND = 1e-6;
    public static final double GENERATOR_BOUND = 1e-5;

    private final CpuKernels cpu = new CpuKernels();
    private final Kernels gpu;
    private final Cuda cuda;
    private final SplittableRandom rnd;
    private final List<Result> results = new ArrayList<>();

    public CudaCheck(Cuda cuda, long seed) {
        this.cuda = cuda;
        this.gpu = new CudaKernels(cuda);
        this.rnd = new SplittableRandom(seed);
    }

    /**
     * Without a GPU, for the harness test: only {@link #resident(Kernels, int, int, int, int, int, int, boolean)} runs
     * (on another backend), and results are not printed.
     */
    CudaCheck(long seed) {
        this.cuda = null;
        this.gpu = null;
        this.rnd = new SplittableRandom(seed);
    }

    List<Result> results() {
        return results;
    }

    // ---- helpers ---------------------------------------------------------------------------------

    Tensor rand(int... shape) {
        Tensor t = Tensor.zeros(shape);
        float[] d = t.data();
        for (int i = 0; i < d.length; i++) {
            d[i] = (float) (rnd.nextDouble() * 2 - 1);
        }
        return t;
    }

    /** A channel view [.., c] at channel offset {@code off} of a random tensor {@code extra} channels wider. */
    Tensor randView(int off, int extra, int... shape) {
        int[] wide = shape.clone();
        wide[wide.length - 1] += extra;
        return rand(wide).channels(off, off + shape[shape.length - 1]);
    }

    /** Same shape and layout (ld, offset), copied data. */
    static Tensor copy(Tensor t) {
        float[] d = t.data().clone();
        return Tensor.view(d, t.offset(), t.ld(), t.shape());
    }

    static Tensor poisoned(Tensor t) {
        Tensor c = copy(t);
        for (int r = 0; r < c.rows(); r++) {
            Arrays.fill(c.data(), c.rowOffset(r), c.rowOffset(r) + c.cols(), Float.NaN);
        }
        return c;
    }

    static double relErr(Tensor got, Tensor want) {
        double num = 0, den = 0;
        for (int r = 0; r < want.rows(); r++) {
            for (int j = 0; j < want.cols(); j++) {
                double a = got.data()[got.rowOffset(r) + j], b = want.data()[want.rowOffset(r) + j];
                num += (a - b) * (a - b);
                den += b * b;
            }
        }
        return den == 0 ? (num == 0 ? 0 : Double.POSITIVE_INFINITY) : Math.sqrt(num / den);
    }

    static double relErr(float[] got, float[] want) {
        return relErr(Tensor.wrap(got, got.length), Tensor.wrap(want, want.length));
    }

    /** Also checks that nothing outside the rows changed (the gaps of views, the weight beyond the slice). */
    static double relErrWhole(Tensor got, Tensor want) {
        double e = relErr(got, want);
        float[] a = got.data(), b = want.data();
        for (int i = 0; i < a.length; i++) {
            if (Float.floatToIntBits(a[i]) != Float.floatToIntBits(b[i]) && !inRows(got, i)) {
                return Double.POSITIVE_INFINITY;   // wrote outside its rows
            }
        }
        return e;
    }

    private static boolean inRows(Tensor t, int i) {
        int rel = i - t.offset();
        if (rel < 0) {
            return false;
        }
        int r = rel / t.ld(), c = rel % t.ld();
        return r < t.rows() && c < t.cols();
    }

    void record(String name, double err, double bound) {
        record(name, err, bound, null);
    }

    void record(String name, double err, double bound, String note) {
        Result r = new Result(name, err, bound, note);
        results.add(r);
        if (cuda != null) {   // the harness test (no GPU) reads its results instead
            System.out.println(r);
        }
    }

    // ---- checks ----------------------------------------------------------------------------------

    void gemm() {
        int[][] sizes = {{37, 53, 29}, {128, 128, 128}, {300, 17, 513}, {8, 40, 4100}, {257, 129, 64}};
        for (int[] s : sizes) {
            for (int t = 0; t < 4; t++) {
                boolean ta = (t & 1) != 0, tb = (t & 2) != 0;
                int m = s[0], n = s[1], k = s[2];
                Tensor a = ta ? randView(1, 3, k, m) : randView(0, 5, m, k);
                Tensor b = tb ? rand(n, k) : randView(2, 2, k, n);
                Tensor c = randView(1, 3, m, n);
                float beta = t == 3 ? 0f : 0.5f;
                Tensor want = copy(c), got = beta == 0 ? poisoned(c) : copy(c);
                cpu.gemm(ta, tb, 1.25f, a, b, beta, want);
                gpu.gemm(ta, tb, 1.25f, a, b, beta, got);
                record("gemm " + (ta ? "T" : "N") + (tb ? "T" : "N") + " " + m + "x" + n + "x" + k + " beta " + beta,
                        relErrWhole(got, want), GEMM_BOUND);
            }
        }
    }

    void linear() {
        int n = 33, in = 70, out = 45;
        Tensor x = randView(0, 3, n, in), w = rand(out + 7, in + 9), bias = rand(out + 7).reshape(out + 7);
        Tensor bUsed = Tensor.view(bias.data(), 0, out, out);
        Tensor y = rand(n, out);
        Tensor want = copy(y), got = poisoned(y);
        cpu.linearForward(x, w, bUsed, want);
        gpu.linearForward(x, w, bUsed, got);
        record("linear forward (sliced weight, bias)", relErrWhole(got, want), GEMM_BOUND);
        Tensor dy = rand(n, out), dx = randView(1, 2, n, in);
        Tensor dxw = copy(dx), dxg = poisoned(dx);
        cpu.linearBackwardInput(dy, w, dxw);
        gpu.linearBackwardInput(dy, w, dxg);
        record("linear backward input", relErrWhole(dxg, dxw), GEMM_BOUND);
        for (boolean acc : new boolean[] {false, true}) {
            Tensor dw = rand(out + 7, in + 9), db = rand(out);
            Tensor dww = copy(dw), dwg = copy(dw), dbw = copy(db), dbg = copy(db);
            cpu.linearBackwardParams(x, dy, dww, dbw, acc);
            gpu.linearBackwardParams(x, dy, dwg, dbg, acc);
            record("linear backward params" + (acc ? " (accumulate)" : ""),
                    Math.max(relErrWhole(dwg, dww), relErr(dbg, dbw)), GEMM_BOUND);
        }
    }

    /** forward, backward input and backward weight (+ bias) of one convolution against the CPU. */
    void conv(String name, int n, int h, int w, Conv2dSpec s, int ciMaxExtra, int coMaxExtra, int viewExtra,
              boolean bias, double bound) {
        int ho = s.outH(h), wo = s.outW(w);
        Tensor x = viewExtra > 0 ? randView(viewExtra / 2, viewExtra, n, h, w, s.cIn()) : rand(n, h, w, s.cIn());
        Tensor wt = rand(s.cOut() + coMaxExtra, s.cIn() / s.groups() + ciMaxExtra, s.kh(), s.kw());
        Tensor b = bias ? rand(s.cOut()) : null;
        Tensor y = viewExtra > 0 ? randView(1, viewExtra, n, ho, wo, s.cOut()) : rand(n, ho, wo, s.cOut());
        Tensor yw = copy(y), yg = poisoned(y);
        cpu.conv2dForward(x, wt, b, yw, s);
        gpu.conv2dForward(x, wt, b, yg, s);
        record(name + " forward", relErrWhole(yg, yw), bound);
        Tensor dy = rand(n, ho, wo, s.cOut());
        Tensor dx = viewExtra > 0 ? randView(0, viewExtra, n, h, w, s.cIn()) : rand(n, h, w, s.cIn());
        Tensor dxw = copy(dx), dxg = poisoned(dx);
        cpu.conv2dBackwardInput(dy, wt, dxw, s);
        gpu.conv2dBackwardInput(dy, wt, dxg, s);
        record(name + " backward input", relErrWhole(dxg, dxw), bound);
        for (boolean acc : new boolean[] {false, true}) {
            Tensor dw = rand(wt.shape()), db = bias ? rand(s.cOut()) : null;
            Tensor dww = copy(dw), dwg = copy(dw);
            Tensor dbw = bias ? copy(db) : null, dbg = bias ? copy(db) : null;
            cpu.conv2dBackwardWeight(x, dy, dww, dbw, s, acc);
            gpu.conv2dBackwardWeight(x, dy, dwg, dbg, s, acc);
            double e = relErrWhole(dwg, dww);
            if (bias) {
                e = Math.max(e, relErr(dbg, dbw));
            }
            record(name + " backward weight" + (acc ? " (accumulate)" : ""), e, REDUCTION_BOUND);
        }
    }

    void convs() {
        // MobileNetV2-like sliced 1x1 (expansion and projection), channel views, odd widths
        conv("1x1 sliced 24->144 @28 (cIn/cOut < max)", 4, 28, 28, Conv2dSpec.of(24, 144, 1, 1, 0, 1), 8, 16, 0, false, CONV_BOUND);
        conv("1x1 sliced 37->19 @9 views, bias", 3, 9, 9, Conv2dSpec.of(37, 19, 1, 1, 0, 1), 3, 5, 6, true, CONV_BOUND);
        conv("depthwise 3x3 s1 c=96 @14", 4, 14, 14, Conv2dSpec.depthwise(96, 3, 1, 1), 0, 32, 0, false, CONV_BOUND);
        conv("depthwise 3x3 s2 c=144 @28", 4, 28, 28, Conv2dSpec.depthwise(144, 3, 2, 1), 0, 0, 0, true, CONV_BOUND);
        conv("depthwise 3x3 s2 c=21 @15 views (scalar path)", 2, 15, 15, Conv2dSpec.depthwise(21, 3, 2, 1), 0, 3, 5, false, CONV_BOUND);
        conv("depthwise 5x5 s1 c=8 @7 (any k)", 2, 7, 7, Conv2dSpec.depthwise(8, 5, 1, 2), 0, 0, 0, false, CONV_BOUND);
        // the channel-chunked 3x3 kernels: several chunks, uneven chunks, 1/2/4 outputs per thread, scalar path,
        // and the stride-1 input gradient run as a forward with rotated weights (pad 1, 0 and 2)
        conv("depthwise 3x3 s1 c=960 @7 (8 channel chunks), bias", 2, 7, 7, Conv2dSpec.depthwise(960, 3, 1, 1), 0, 8, 0, true, CONV_BOUND);
        conv("depthwise 3x3 s2 c=576 @14 (5 chunks of 29 quads)", 2, 14, 14, Conv2dSpec.depthwise(576, 3, 2, 1), 0, 0, 0, false, CONV_BOUND);
        conv("depthwise 3x3 s1 c=144 @56 N24 (4 outputs per thread)", 24, 56, 56, Conv2dSpec.depthwise(144, 3, 1, 1), 0, 0, 0, true, CONV_BOUND);
        conv("depthwise 3x3 s1 c=21 @13 views (scalar path, odd width), bias", 2, 13, 13, Conv2dSpec.depthwise(21, 3, 1, 1), 0, 3, 5, true, CONV_BOUND);
        conv("depthwise 3x3 s1 pad 0 c=40 @9", 3, 9, 9, Conv2dSpec.depthwise(40, 3, 1, 0), 0, 0, 0, false, CONV_BOUND);
        conv("depthwise 3x3 s1 pad 2 c=8 @6", 2, 6, 6, Conv2dSpec.depthwise(8, 3, 1, 2), 0, 0, 0, false, CONV_BOUND);
        conv("conv 3x3 s2 stem 3->32 @32", 4, 32, 32, Conv2dSpec.of(3, 32, 3, 2, 1, 1), 0, 8, 0, false, CONV_BOUND);
        conv("conv 3x3 s1 ResNet 64->64 @14 sliced", 2, 14, 14, Conv2dSpec.of(48, 40, 3, 1, 1, 1), 16, 24, 0, true, CONV_BOUND);
        conv("conv 3x3 s1 grouped g=2 16->24 @8", 2, 8, 8, Conv2dSpec.of(16, 24, 3, 1, 1, 2), 0, 0, 0, false, CONV_BOUND);
        conv("conv 1x1 s2 downsample 32->64 @16", 2, 16, 16, Conv2dSpec.of(32, 64, 1, 2, 0, 1), 0, 0, 0, false, CONV_BOUND);
        conv("conv 7x7 s2 p3 3->16 @23", 2, 23, 23, new Conv2dSpec(3, 16, 7, 7, 2, 2, 3, 3, 1), 0, 0, 0, false, CONV_BOUND);
    }

    void batchNorm() {
        for (int variant = 0; variant < 3; variant++) {
            boolean affine = variant == 0;
            int rows = variant == 2 ? 32 * 32 * 32 : 4 * 14 * 14, c = variant == 2 ? 52 : 96;
            Tensor x = randView(3, 8, rows, c);
            for (int i = 0; i < x.rows(); i++) {   // an offset so the shifted sums matter
                for (int j = 0; j < c; j++) {
                    x.data()[x.rowOffset(i) + j] = x.data()[x.rowOffset(i) + j] * 2 + 3;
                }
            }
            Tensor g = affine ? rand(c) : null, b = affine ? rand(c) : null;
            Tensor y = rand(rows, c), sm = rand(c), si = rand(c), rm = rand(c), rv = rand(c);
            for (int j = 0; j < c; j++) {
                rv.data()[j] = Math.abs(rv.data()[j]) + 0.5f;
            }
            Tensor yw = copy(y), yg = poisoned(y), smw = copy(sm), smg = poisoned(sm), siw = copy(si), sig = poisoned(si);
            Tensor rmw = copy(rm), rmg = copy(rm), rvw = copy(rv), rvg = copy(rv);
            cpu.batchNormTrainForward(x, g, b, yw, smw, siw, rmw, rvw, 0.1f, 1e-5f);
            gpu.batchNormTrainForward(x, g, b, yg, smg, sig, rmg, rvg, 0.1f, 1e-5f);
            String a = (affine ? "" : " affine-free") + (variant == 2 ? " 32768x52" : "");
            record("batchnorm train forward" + a, Math.max(relErr(yg, yw), Math.max(relErr(smg, smw), relErr(sig, siw))),
                    REDUCTION_BOUND);
            record("batchnorm running stats" + a, Math.max(relErr(rmg, rmw), relErr(rvg, rvw)), REDUCTION_BOUND);
            Tensor yi = rand(rows, c), yiw = copy(yi), yig = poisoned(yi);
            cpu.batchNormInferenceForward(x, g, b, rm, rv, 1e-5f, yiw);
            gpu.batchNormInferenceForward(x, g, b, rm, rv, 1e-5f, yig);
            record("batchnorm inference" + a, relErr(yig, yiw), REDUCTION_BOUND);
            Tensor dy = rand(rows, c), dx = rand(rows, c), dgm = rand(c), dbt = rand(c);
            for (boolean acc : new boolean[] {false, true}) {
                Tensor dxw = copy(dx), dxg = poisoned(dx);
                Tensor dgw = affine ? copy(dgm) : null, dgg = affine ? copy(dgm) : null;
                Tensor dbw = affine ? copy(dbt) : null, dbg = affine ? copy(dbt) : null;
                cpu.batchNormBackward(x, dy, g, smw, siw, dxw, dgw, dbw, acc);
                gpu.batchNormBackward(x, dy, g, smw, siw, dxg, dgg, dbg, acc);
                double e = relErr(dxg, dxw);
                if (affine) {
                    e = Math.max(e, Math.max(relErr(dgg, dgw), relErr(dbg, dbw)));
                }
                record("batchnorm backward" + a + (acc ? " (accumulate)" : ""), e, REDUCTION_BOUND);
            }
        }
    }

    void elementwise() {
        Tensor x = randView(2, 5, 3, 7, 7, 45);
        for (int i = 0; i < x.data().length; i += 7) {
            x.data()[i] *= 8;   // values above 6 for ReLU6
        }
        Tensor dy = rand(3, 7, 7, 45);
        for (int kind = 0; kind < 2; kind++) {
            Tensor y = rand(3, 7, 7, 45), yw = copy(y), yg = poisoned(y);
            Tensor dx = rand(3, 7, 7, 45), dxw = copy(dx), dxg = poisoned(dx);
            if (kind == 0) {
                cpu.relu(x, yw);
                gpu.relu(x, yg);
                cpu.reluBackward(x, dy, dxw);
                gpu.reluBackward(x, dy, dxg);
            } else {
                cpu.relu6(x, yw);
                gpu.relu6(x, yg);
                cpu.relu6Backward(x, dy, dxw);
                gpu.relu6Backward(x, dy, dxg);
            }
            String nm = kind == 0 ? "relu" : "relu6";
            record(nm + " forward", relErrWhole(yg, yw), EXACT_BOUND);
            record(nm + " backward", relErrWhole(dxg, dxw), EXACT_BOUND);
        }
        Tensor a = randView(1, 3, 5, 9, 33), b = rand(5, 9, 33), y = rand(5, 9, 33);
        Tensor yw = copy(y), yg = poisoned(y);
        cpu.add(a, b, yw);
        gpu.add(a, b, yg);
        record("residual add", relErrWhole(yg, yw), EXACT_BOUND);
    }

    void pooling() {
        int n = 2, h = 13, w = 13, c = 20;
        Tensor x = randView(2, 4, n, h, w, c);
        int ho = (h + 2 - 3) / 2 + 1, wo = (w + 2 - 3) / 2 + 1;
        Tensor y = rand(n, ho, wo, c), yw = copy(y), yg = poisoned(y);
        int[] aw = new int[(int) y.numel()], ag = new int[aw.length];
        cpu.maxPoolForward(x, yw, aw, 3, 2, 1);
        gpu.maxPoolForward(x, yg, ag, 3, 2, 1);
        record("max pool 3x3 s2 p1 forward", relErrWhole(yg, yw), EXACT_BOUND,
                Arrays.equals(aw, ag) ? "argmax equal" : "ARGMAX DIFFERS");
        if (!Arrays.equals(aw, ag)) {
            record("max pool argmax", Double.POSITIVE_INFINITY, 0);
        }
        Tensor dy = rand(n, ho, wo, c), dx = randView(2, 4, n, h, w, c);
        Tensor dxw = copy(dx), dxg = poisoned(dx);
        cpu.maxPoolBackward(dy, aw, dxw);
        gpu.maxPoolBackward(dy, aw, dxg);
        record("max pool backward", relErrWhole(dxg, dxw), 1e-7);
        Tensor g = rand(n, c), gw = copy(g), gg = poisoned(g);
        cpu.globalAvgPoolForward(x, gw);
        gpu.globalAvgPoolForward(x, gg);
        record("global average pool forward", relErr(gg, gw), REDUCTION_BOUND);
        Tensor d2 = rand(n, h, w, c), d2w = copy(d2), d2g = poisoned(d2);
        cpu.globalAvgPoolBackward(g, d2w);
        gpu.globalAvgPoolBackward(g, d2g);
        record("global average pool backward", relErr(d2g, d2w), 1e-7);
    }

    void loss() {
        for (float eps : new float[] {0f, 0.1f}) {
            int n = 37, k = 1000;
            Tensor z = rand(n, k);
            for (int i = 0; i < z.data().length; i++) {
                z.data()[i] *= 6;
            }
            int[] labels = new int[n];
            for (int i = 0; i < n; i++) {
                labels[i] = rnd.nextInt(k);
            }
            Tensor d = rand(n, k), dw = copy(d), dg = poisoned(d);
            float lw = cpu.softmaxCrossEntropy(z, labels, eps, dw);
            float lg = gpu.softmaxCrossEntropy(z, labels, eps, dg);
            record("softmax cross-entropy loss, smoothing " + eps, Math.abs(lg - lw) / Math.abs(lw), LOSS_BOUND);
            record("softmax cross-entropy gradient, smoothing " + eps, relErr(dg, dw), LOSS_BOUND * 10);
        }
    }

    void sgd() {
        for (boolean nest : new boolean[] {false, true}) {
            Tensor p = rand(1003), g = rand(1003), b = rand(1003);
            Tensor pw = copy(p), pg = copy(p), bw = copy(b), bg = copy(b);
            cpu.sgdStep(pw, g, bw, 0.05f, 0.9f, 4e-5f, nest);
            gpu.sgdStep(pg, g, bg, 0.05f, 0.9f, 4e-5f, nest);
            record("sgd step" + (nest ? " nesterov" : ""), Math.max(relErr(pg, pw), relErr(bg, bw)), 1e-7);
        }
    }

    /** The generator kernels on device-resident buffers against {@link Generator} (one training step). */
    void generator(int outMax, int inMax, int k, int co, int ci, int hidden) {
        MetaPruneNative lib = cuda.lib();
        int enc = 2;
        float lr = 0.05f, m = 0.9f, wd = 4e-5f;
        Generator ref = new Generator(enc, hidden, outMax, inMax, k, k, m, wd, false).initDefault(rnd.nextLong());
        Map<String, float[]> st0 = ref.state();
        float[] w1 = st0.get("fc1.weight").clone(), b1 = st0.get("fc1.bias").clone();
        float[] w2 = st0.get("fc2.weight").clone(), b2 = st0.get("fc2.bias").clone();
        float[] encoding = {(float) co / outMax, (float) ci / inMax};
        int kk = k * k, rows = outMax * inMax * kk;
        Tensor outRef = Tensor.zeros(outMax, inMax, k, k);
        ref.forward(encoding, co, ci, outRef);
        Tensor dOut = rand(outMax, inMax, k, k);
        ref.backwardAndStep(dOut, lr);
        Map<String, float[]> st1 = ref.state();
        try (DeviceBuffer dw1 = DeviceBuffer.floats(cuda, w1.length).upload(w1);
             DeviceBuffer db1 = DeviceBuffer.floats(cuda, b1.length).upload(b1);
             DeviceBuffer dw2 = DeviceBuffer.floats(cuda, w2.length).upload(w2);
             DeviceBuffer db2 = DeviceBuffer.floats(cuda, b2.length).upload(b2);
             DeviceBuffer mw1 = DeviceBuffer.floats(cuda, w1.length).upload(new float[w1.length]);
             DeviceBuffer mb1 = DeviceBuffer.floats(cuda, b1.length).upload(new float[b1.length]);
             DeviceBuffer mw2 = DeviceBuffer.floats(cuda, w2.length).upload(new float[w2.length]);
             DeviceBuffer mb2 = DeviceBuffer.floats(cuda, b2.length).upload(new float[b2.length]);
             DeviceBuffer denc = DeviceBuffer.floats(cuda, enc).upload(encoding);
             DeviceBuffer pre = DeviceBuffer.floats(cuda, hidden);
             DeviceBuffer h = DeviceBuffer.floats(cuda, hidden);
             DeviceBuffer dh = DeviceBuffer.floats(cuda, hidden);
             DeviceBuffer out = DeviceBuffer.floats(cuda, rows);
             DeviceBuffer dout = DeviceBuffer.floats(cuda, rows).upload(dOut.data())) {
            float[] nan = new float[rows];
            Arrays.fill(nan, Float.NaN);
            out.upload(nan);
            MemorySegment s = MemorySegment.NULL;
            cuda.check(lib.mp_generator_hidden(s, enc, hidden, dw1.ptr(), db1.ptr(), denc.ptr(), pre.ptr(), h.ptr()),
                    "mp_generator_hidden");
            cuda.check(lib.mp_generator_forward(s, hidden, inMax, kk, co, ci, dw2.ptr(), db2.ptr(), h.ptr(), out.ptr()),
                    "mp_generator_forward");
            float[] got = out.download(rows);
            cuda.check(lib.mp_generator_backward_sgd(s, hidden, inMax, kk, co, ci, dw2.ptr(), db2.ptr(), mw2.ptr(),
                    mb2.ptr(), h.ptr(), dout.ptr(), dh.ptr(), lr, m, wd, 0), "mp_generator_backward_sgd");
            cuda.check(lib.mp_generator_hidden_backward_sgd(s, enc, hidden, dw1.ptr(), db1.ptr(), mw1.ptr(), mb1.ptr(),
                    denc.ptr(), pre.ptr(), dh.ptr(), lr, m, wd, 0), "mp_generator_hidden_backward_sgd");
            // compare the crop rows only (rows outside it are the lazy rows: untouched on the GPU)
            List<Integer> crop = new ArrayList<>();
            for (int o = 0; o < co; o++) {
                for (int r = 0; r < ci * kk; r++) {
                    crop.add(o * inMax * kk + r);
                }
            }
            float[] gOut = pick(got, crop, 1), wOut = pick(outRef.data(), crop, 1);
            boolean outsideUntouched = true;
            for (int r = 0; r < rows; r++) {
                int o = r / (inMax * kk), rem = r % (inMax * kk);
                if ((o >= co || rem >= ci * kk) && !Float.isNaN(got[r])) {
                    outsideUntouched = false;
                }
            }
            String nm = "generator " + outMax + "x" + inMax + "x" + k + "x" + k + " crop " + co + "x" + ci + " hidden "
                    + hidden;
            record(nm + " forward", outsideUntouched ? relErr(gOut, wOut) : Double.POSITIVE_INFINITY, GENERATOR_BOUND,
                    outsideUntouched ? "rows outside the crop not written" : "WROTE OUTSIDE THE CROP");
            float[] w2g = dw2.download(w2.length), mw2g = mw2.download(w2.length), b2g = db2.download(b2.length);
            double e2 = Math.max(relErr(pick(w2g, crop, hidden), pick(st1.get("fc2.weight"), crop, hidden)),
                    relErr(pick(mw2g, crop, hidden), pick(st1.get("fc2.weight.momentum"), crop, hidden)));
            e2 = Math.max(e2, relErr(pick(b2g, crop, 1), pick(st1.get("fc2.bias"), crop, 1)));
            record(nm + " backward+SGD (W2, b2, momentum)", e2, GENERATOR_BOUND);
            double e1 = Math.max(relErr(dw1.download(w1.length), st1.get("fc1.weight")),
                    relErr(mw1.download(w1.length), st1.get("fc1.weight.momentum")));
            e1 = Math.max(e1, relErr(db1.download(b1.length), st1.get("fc1.bias")));
            record(nm + " backward+SGD (W1, b1)", e1, GENERATOR_BOUND);
        }
    }

    private static float[] pick(float[] a, List<Integer> rows, int width) {
        float[] out = new float[rows.size() * width];
        for (int i = 0; i < rows.size(); i++) {
            System.arraycopy(a, rows.get(i) * width, out, i * width, width);
        }
        return out;
    }

    /**
     * The device-resident (coherent) backend through the {@link Kernels} API: two steps of the whole generator (the
     * crop rows, and with {@code mp_generator_decay_outside} every other row) against the CPU reference
     * ({@code GeneratorKernel}), every parameter and momentum array compared after {@code toHost}; then a copy
     * between channel views ({@code mp_memcpy2d_dtod}), zeroing a view ({@code mp_memset2d}) and a host write
     * declared with {@code hostChanged}.
     */
    void resident(int outMax, int inMax, int k, int co, int ci, int hidden, boolean nesterov) {
        resident(CudaKernels.coherent(), outMax, inMax, k, co, ci, hidden, nesterov);
    }

    /** {@link #resident(int, int, int, int, int, int, boolean)} on a given device-resident backend. */
    void resident(Kernels dev, int outMax, int inMax, int k, int co, int ci, int hidden, boolean nesterov) {
        int rows = outMax * inMax * k * k, enc = 3;
        float lr = 0.05f, m = 0.9f, wd = 4e-3f;
        // W1 b1 W2 b2, their momentum (non-zero: its update shows), encoding, pre, h, dh, the generated weight
        Tensor[] g = {rand(hidden, enc), rand(hidden), rand(rows, hidden), rand(rows), rand(hidden, enc), rand(hidden),
                rand(rows, hidden), rand(rows), rand(enc), Tensor.zeros(hidden), Tensor.zeros(hidden),
                Tensor.zeros(hidden), rand(outMax, inMax, k, k)};
        Tensor[] c = new Tensor[g.length];
        for (int i = 0; i < g.length; i++) {
            c[i] = copy(g[i]);
        }
        String nm = "resident generator " + outMax + "x" + inMax + "x" + k + "x" + k + " crop " + co + "x" + ci
                + " hidden " + hidden + (nesterov ? " nesterov" : "");
        for (int[] crop : new int[][] {{co, ci}, {Math.max(1, co / 2), inMax}}) {
            Tensor dOut = rand(outMax, inMax, k, k);
            for (Tensor[] t : new Tensor[][] {g, c}) {
                Kernels on = t == g ? dev : cpu;
                on.generatorHidden(t[0], t[1], t[8], t[9], t[10]);
                on.generatorForward(t[2], t[3], t[10], crop[0], crop[1], t[12]);
                on.generatorBackwardStep(t[2], t[3], t[6], t[7], t[10], dOut, crop[0], crop[1], t[11], lr, m, wd,
                        nesterov);
                on.generatorHiddenBackwardStep(t[0], t[1], t[4], t[5], t[8], t[9], t[11], lr, m, wd, nesterov);
            }
        }
        dev.toHost(g);
        record(nm + " forward (2 steps)", relErr(g[12].data(), c[12].data()), GENERATOR_BOUND);
        record(nm + " step, every row (W2, b2, momentum)", worst(g, c, 2, 3, 6, 7), GENERATOR_BOUND);
        record(nm + " step (W1, b1, momentum, dh)", worst(g, c, 0, 1, 4, 5, 11), GENERATOR_BOUND);

        Tensor src = randView(2, 3, 6, 7), dst = rand(6, 12), want = copy(dst);
        dev.copy(src, dst.channels(4, 11));
        want.channels(4, 11).copyFrom(src);
        dev.toHost(dst);
        record("resident copy between channel views", relErr(dst.data(), want.data()), EXACT_BOUND);

        Tensor z = rand(4, 10), zc = copy(z);
        dev.zero(z.channels(3, 8));
        zc.channels(3, 8).fill(0f);
        dev.toHost(z);
        record("resident zero of a channel view", relErr(z.data(), zc.data()), EXACT_BOUND);

        Tensor x = rand(5, 9), y = Tensor.zeros(5, 9), yc = Tensor.zeros(5, 9);
        dev.relu(x, y);
        for (int i = 0; i < x.data().length; i++) {
            x.data()[i] = -x.data()[i];
        }
        dev.hostChanged(x);
        dev.relu(x, y);
        dev.toHost(y);
        cpu.relu(x, yc);
        record("resident host write declared (hostChanged)", relErr(y.data(), yc.data()), EXACT_BOUND);
        dev.releaseDeviceCopies();
    }

    /**
     * Training on the device-resident (coherent) backend against the emulated device, which runs the same protocol
     * and the same eager generator step on the CPU kernels: one PruningNet step of mobilenetv2-cifar (1x28x28, batch
     * 8, full width; generators on the GPU) and one dense-model step at width 0.75, loss and every state array after
     * one step (later steps amplify rounding differences on random data: bench/RESULTS.md); then that a full-width
     * PruningNet step with statistics already resident copies the batch and the encodings up and nothing down.
     */
    void residentTraining() {
        CudaKernels gpu = CudaKernels.coherent();
        residentTraining(gpu, gpu::uploads, gpu::downloads,
                dev.metaprune.nn.arch.Architectures.get("mobilenetv2-cifar", 1, 28, 10));
    }

    /** {@link #residentTraining()} on a given device-resident backend and its copy counters, for an architecture. */
    void residentTraining(Kernels gpu, java.util.function.LongSupplier uploads,
                          java.util.function.LongSupplier downloads, dev.metaprune.nn.arch.Architecture arch) {
        var hyper = dev.metaprune.pruningnet.PruningNet.Hyper.official(4e-5f);
        var emu = new dev.metaprune.kernels.EmulatedDeviceKernels();
        var in = arch.input();
        Tensor x = rand(8, in.size(), in.size(), in.channels());
        int[] labels = new int[8];
        for (int i = 0; i < 8; i++) {
            labels[i] = i % in.classes();
        }
        int[] full = new int[arch.geneSpace().length()];
        Arrays.fill(full, 30);
        var onGpu = new dev.metaprune.pruningnet.PruningNet(arch, 8, hyper, 5, true, gpu);
        var onEmu = new dev.metaprune.pruningnet.PruningNet(arch, 8, hyper, 5, true, emu);
        float lg = onGpu.trainStep(x, labels, full, 0.01f), le = onEmu.trainStep(x, labels, full, 0.01f);
        record("resident PruningNet step: loss", Math.abs(lg - le) / Math.abs(le), LOSS_BOUND * 10,
                "gpu " + lg + ", emulated device " + le);
        record("resident PruningNet step: every state array", worstState(onGpu.state(), onEmu.state()), 1e-4);
        onGpu.trainStep(x, labels, dev.metaprune.nn.gene.Gene.random(arch.geneSpace(), rnd).indices(), 0.01f);
        long u0 = uploads.getAsLong(), d0 = downloads.getAsLong();
        float l2 = onGpu.trainStep(x, labels, full, 0.01f);
        long up = uploads.getAsLong() - u0, down = downloads.getAsLong() - d0;
        record("resident PruningNet step: arrays copied (full width)", up == 2 && down == 0 && Float.isFinite(l2) ? 0
                : Double.POSITIVE_INFINITY, 0, up + " up (want 2: the batch, the encodings), " + down + " down (want 0)");
        gpu.releaseDeviceCopies();

        var widths = arch.widthsForMultiplier(0.75);
        var dg = new dev.metaprune.nn.DenseModel(widths, 8, 0.9f, 4e-5f, false, 0.1f, 3, gpu);
        var de = new dev.metaprune.nn.DenseModel(widths, 8, 0.9f, 4e-5f, false, 0.1f, 3, emu);
        dg.setBnL1(1e-4f);
        de.setBnL1(1e-4f);
        float dlg = dg.trainStep(x, labels, 0.05f), dle = de.trainStep(x, labels, 0.05f);
        record("resident dense step (BN sparsity): loss", Math.abs(dlg - dle) / Math.abs(dle), LOSS_BOUND * 10,
                "gpu " + dlg + ", emulated device " + dle);
        record("resident dense step: every state array", worstState(dg.state(), de.state()), 1e-4);
        gpu.releaseDeviceCopies();
    }

    /** The largest relative error over the listed positions of two tensor arrays. */
    private static double worst(Tensor[] got, Tensor[] want, int... at) {
        double w = 0;
        for (int i : at) {
            w = Math.max(w, relErr(got[i].data(), want[i].data()));
        }
        return w;
    }

    private static double worstState(Map<String, Tensor> got, Map<String, Tensor> want) {
        double worst = 0;
        for (var e : want.entrySet()) {
            Tensor g = got.get(e.getKey());
            worst = Math.max(worst, g == null ? Double.POSITIVE_INFINITY : relErr(g.toArray(), e.getValue().toArray()));
        }
        return worst;
    }

    void errors() {
        // a CUDA error comes back as an exception naming the kernel and the CUDA error string
        try {
            cuda.check(cuda.lib().mp_depthwise_forward(MemorySegment.NULL, 1, 4, 4, 4, MemorySegment.ofAddress(16),
                    4, MemorySegment.ofAddress(16), 3, 1, 1, MemorySegment.NULL, MemorySegment.ofAddress(16), 4, 4, 4),
                    "mp_depthwise_forward");
            cuda.check(cuda.lib().mp_device_synchronize(), "mp_device_synchronize");
            record("error mapping (bad pointer)", Double.POSITIVE_INFINITY, 0, "no exception");
        } catch (CudaException e) {
            record("error mapping (bad pointer)", 0, 0, e.getMessage());
        }
    }

    /** Runs every check; returns the results. */
    public List<Result> runAll(boolean includeErrors) {
        return runAll(includeErrors, true);
    }

    /** Runs every check, the training comparison ({@link #residentTraining()}) only with {@code training}. */
    public List<Result> runAll(boolean includeErrors, boolean training) {
        gemm();
        linear();
        convs();
        batchNorm();
        elementwise();
        pooling();
        loss();
        sgd();
        generator(32, 16, 3, 32, 16, 32);     // full crop
        generator(96, 1, 3, 72, 1, 32);      // depthwise generator, cropped
        generator(160, 96, 1, 120, 64, 64);  // pointwise, cropped in both
        generator(24, 8, 3, 17, 5, 30);      // hidden not a multiple of 4 (scalar path)
        resident(32, 16, 3, 20, 9, 32, false);   // float4 path of the rows outside the crop
        resident(24, 8, 3, 17, 5, 30, true);     // scalar path, Nesterov
        resident(96, 1, 3, 96, 1, 32, false);    // full first crop: nothing outside it, then half
        if (training) {
            residentTraining();
        }
        if (includeErrors) {
            errors();   // leaves the context unusable: last
        }
        return results;
    }

    public static void main(String[] args) {
        Cuda.Availability a = Cuda.availability();
        System.out.println(a);
        if (!a.available()) {
            System.exit(2);
        }
        boolean errors = !Arrays.asList(args).contains("--no-error-check");
        boolean training = !Arrays.asList(args).contains("--no-training");   // memcheck: minutes per training step
        List<Result> rs = new CudaCheck(Cuda.get(), 20261124L).runAll(errors, training);
        long failed = rs.stream().filter(r -> !r.passed()).count();
        System.out.println(rs.size() + " checks, " + failed + " failed");
        System.exit(failed == 0 ? 0 : 1);
    }
}
