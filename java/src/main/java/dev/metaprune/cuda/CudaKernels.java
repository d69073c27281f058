package dev.metaprune.cuda;

import static dev.metaprune.tensor.Shapes.require;

import dev.metaprune.cuda.ffm.MetaPruneNative;
import dev.metaprune.kernels.Conv2dSpec;
import dev.metaprune.kernels.CpuKernels;
import dev.metaprune.kernels.GeneratorKernel;
import dev.metaprune.kernels.Kernels;
import dev.metaprune.kernels.Residency;
import dev.metaprune.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;

/**
 * The CUDA backend of {@link Kernels}: every operation runs on the GPU through libmetaprune_cuda.
 *
 * <p><b>Where the data lives</b>, three modes:
 * <ul>
 *   <li><b>Staging</b> ({@link #create()}, {@code -Dmetaprune.backend=cuda}): each call copies its operands to the
 *       device, runs the kernel and copies the outputs back (rows only: the gaps of a channel view are never
 *       written). A drop-in switch for the whole library and the reference that proves the kernels against the CPU
 *       on real workloads, but not the fast path: the copies cost more than most kernels.</li>
 *   <li><b>Device-resident and coherent</b> ({@link #coherent()}, {@code -Dmetaprune.backend=cuda-resident}): each
 *       host array a call sees gets one device copy, uploaded the first time and whenever the host declares it
 *       changed ({@link #hostChanged}); what a kernel writes stays on the device until the host asks for it
 *       ({@link #toHost}). Weights, activations, gradients and momentum then live on the device across calls and
 *       steps; only what the host touches moves (the batch, the generated weights, the generators' gradients, the
 *       loss). The bookkeeping is {@link Residency} (tested without a GPU through
 *       {@link dev.metaprune.kernels.EmulatedDeviceKernels}, which runs the same protocol with host memory).</li>
 *   <li><b>Device-resident for timing</b> ({@link #resident()}): as coherent, except that {@link #hostChanged} is
 *       ignored (an input is copied once, the first time) and {@link #releaseDeviceCopies} does not copy outputs
 *       back: a network's pass then costs the kernels and their launches alone, what the latency profiler's
 *       {@code cuda} device times.</li>
 * </ul>
 * In both resident modes a device copy lives as long as its host array, and {@link #releaseDeviceCopies()} frees
 * them all. Max pooling's indices stay on the device (relative to the pooled tensor; the host's {@code argmax} array
 * is not updated), and the backward pass reads them there.
 *
 * <p>{@link #countTopK} is a metric on a few logits: it runs on the CPU (on the host's copy of the logits).
 */
public final class CudaKernels implements Kernels {
    private enum Mode { STAGING, TIMING, COHERENT }

    private final Cuda cuda;
    private final MetaPruneNative lib;
    private final CpuKernels cpu = new CpuKernels();
    private static final MemorySegment NULL = MemorySegment.NULL;
    private static final MemorySegment STREAM = MemorySegment.NULL;   // the default stream
    private final Mode mode;
    /** Resident modes: the device copy of each host array (float[] or int[]); null when staging. */
    private final Residency<DeviceBuffer> residency;

    public CudaKernels(Cuda cuda) {
        this(cuda, Mode.STAGING);
    }

    private CudaKernels(Cuda cuda, Mode mode) {
        this.cuda = cuda;
        this.lib = cuda.lib();
        this.mode = mode;
        this.residency = mode == Mode.STAGING ? null : new Residency<>(new DeviceCopies(cuda));
    }

    /** Device copies of host arrays through libmetaprune_cuda. */
    private record DeviceCopies(Cuda cuda) implements Residency.Device<DeviceBuffer> {
        @Override
        public DeviceBuffer allocate(Object array) {
            return DeviceBuffer.floats(cuda, Math.max(java.lang.reflect.Array.getLength(array), 1));
        }

        @Override
        public void upload(Object array, DeviceBuffer b) {
            if (array instanceof float[] f) {
                b.upload(f);
            } else {
                b.uploadInts((int[]) array);
            }
        }

        @Override
        public void download(DeviceBuffer b, Object array) {
            long bytes = (long) java.lang.reflect.Array.getLength(array) * 4;
            MemorySegment host = array instanceof float[] f ? MemorySegment.ofArray(f) : MemorySegment.ofArray((int[]) array);
            // cudaMemcpy on the default stream: waits for the kernels that wrote it
            cuda.check(cuda.lib().mp_memcpy_dtoh(host, b.ptr(), bytes), "mp_memcpy_dtoh");
        }

        @Override
        public void free(DeviceBuffer b) {
            b.close();
        }
    }

    /** The staging backend on this machine's GPU, or {@link IllegalStateException} saying why there is none. */
    public static CudaKernels create() {
        return new CudaKernels(Cuda.get());
    }

    /**
     * The device-resident backend for timing on this machine's GPU (see the class comment): inputs are copied once,
     * outputs are not copied back on release. {@link IllegalStateException} saying why when there is no GPU.
     */
    public static CudaKernels resident() {
        return new CudaKernels(Cuda.get(), Mode.TIMING);
    }

    /**
     * The device-resident, coherent backend on this machine's GPU (see the class comment): training and evaluation
     * with data on the device across calls, the host's copies brought up to date by {@link #toHost}.
     * {@link IllegalStateException} saying why when there is no GPU.
     */
    public static CudaKernels coherent() {
        return new CudaKernels(Cuda.get(), Mode.COHERENT);
    }

    /** Whether this backend keeps its operands on the device ({@link #resident()}, {@link #coherent()}). */
    public boolean isResident() {
        return residency != null;
    }

    /**
     * Frees the device copies of the resident modes (the next call copies its operands again); the coherent mode first
     * copies to the host what kernels wrote there since. Staging: nothing.
     */
    @Override
    public void releaseDeviceCopies() {
        if (residency == null) {
            return;
        }
        cuda.check(lib.mp_device_synchronize(), "mp_device_synchronize");
        synchronized (this) {
            if (lossStage != null) {
                lossStage.close();
                lossStage = null;
            }
        }
        residency.releaseAll(mode == Mode.COHERENT);
    }

    @Override
    public void synchronize() {
        cuda.check(lib.mp_device_synchronize(), "mp_device_synchronize");
    }

    @Override
    public void toHost(Tensor... ts) {
        if (residency == null) {
            return;
        }
        for (Tensor t : ts) {
            if (t != null) {
                residency.toHost(t.data());
            }
        }
    }

    @Override
    public void hostChanged(Tensor... ts) {
        if (mode != Mode.COHERENT) {
            return;   // staging reads the host every call; timing copies an input once on purpose
        }
        for (Tensor t : ts) {
            if (t != null) {
                residency.hostChanged(t.data());
            }
        }
    }

    /** The device copy of a host array (resident modes), made on first sight and current for a kernel to read. */
    private DeviceBuffer copyOf(Object array) {
        return residency.device(array);
    }

    private void requireResident(String fn) {
        if (residency == null) {
            throw new IllegalStateException(fn + ": this backend stages its operands per call; use"
                    + " CudaKernels.resident() or CudaKernels.coherent()");
        }
    }

    /**
     * Resident modes: the device address of {@code t}'s first element, current for a kernel to read (its host array
     * copied to the device on first sight, as every call of this backend does). For another CUDA library working on
     * the same device buffers in this process (the {@code metaprune-cudnn} module's cuDNN convolutions): rows are
     * {@code t.ld()} floats apart, as on the host. {@link IllegalStateException} in the staging mode, where nothing
     * stays on the device.
     */
    public MemorySegment residentAddress(Tensor t) {
        requireResident("residentAddress");
        return copyOf(t.data()).at(t.offset());
    }

    /**
     * As {@link #residentAddress}, for a tensor the caller's kernel is about to write: its host array is marked stale
     * (brought back by {@link #toHost}).
     */
    public MemorySegment residentOutput(Tensor t) {
        MemorySegment p = residentAddress(t);
        residency.deviceWrote(t.data());
        return p;
    }

    /** Resident modes: the labels and the loss of {@link #softmaxCrossEntropy}, kept between calls (no cudaMalloc per step). */
    private DeviceBuffer lossStage;

    private DeviceBuffer lossStage(long floats) {
        if (lossStage == null || lossStage.bytes() < floats * 4) {
            if (lossStage != null) {
                lossStage.close();
            }
            lossStage = DeviceBuffer.floats(cuda, Math.max(floats, 256));
        }
        return lossStage;
    }

    /** Resident modes: host-to-device copies of whole host arrays made so far (0 when staging). */
    public long uploads() {
        return residency == null ? 0 : residency.uploads();
    }

    /** Resident modes: device-to-host copies of whole host arrays made so far (0 when staging). */
    public long downloads() {
        return residency == null ? 0 : residency.downloads();
    }

    /** The CUDA device this backend runs on. */
    public Cuda cuda() {
        return cuda;
    }

    /** Resident modes: the device copy of {@code array} read back (tests); null when it has none. */
    public float[] deviceCopy(float[] array) {
        DeviceBuffer b = residency == null ? null : residency.existing(array);
        if (b == null) {
            return null;
        }
        synchronize();
        return b.download(array.length);
    }

    @Override
    public String name() {
        return "cuda";
    }

    @Override
    public String describe() {
        return "cuda: " + cuda.device() + switch (mode) {
            case STAGING -> " (heap tensors copied per call)";
            case COHERENT -> " (device-resident: data stays on the device across calls, copied when the host reads"
                    + " or writes it)";
            case TIMING -> " (device-resident: each host array copied to the device once; for timing)";
        };
    }

    // ---- staging ---------------------------------------------------------------------------------

    /** One call's device copies: one allocation for all operands, outputs copied back on close. */
    private final class Call implements AutoCloseable {
        final String fn;
        final IdentityHashMap<Tensor, Long> offsets = new IdentityHashMap<>();
        final List<Tensor> tensors = new ArrayList<>();
        final List<Tensor> outs = new ArrayList<>();
        final List<int[]> ints = new ArrayList<>();
        final List<Long> intOffsets = new ArrayList<>();
        long floats;
        DeviceBuffer buf;

        Call(String fn) {
            this.fn = fn;
        }

        /** Registers an operand (null allowed); output ones are copied back. */
        Call add(Tensor t, boolean out) {
            if (t == null || offsets.containsKey(t)) {
                if (t != null && out && !outs.contains(t)) {
                    outs.add(t);
                }
                return this;
            }
            offsets.put(t, floats);
            tensors.add(t);
            if (out) {
                outs.add(t);
            }
            floats += (span(t) + 3) / 4 * 4;   // keep every operand 16-byte aligned
            return this;
        }

        Call in(Tensor... ts) {
            for (Tensor t : ts) {
                add(t, false);
            }
            return this;
        }

        Call out(Tensor... ts) {
            for (Tensor t : ts) {
                add(t, true);
            }
            return this;
        }

        long addInts(int[] a) {
            if (residency != null) {
                ints.add(a);
                return ints.size() - 1;        // resident: an index into ints, resolved by pInts
            }
            long at = floats;
            ints.add(a);
            intOffsets.add(at);
            floats += (a.length + 3) / 4 * 4;
            return at;
        }

        Call upload() {
            if (residency != null) {
                return this;                   // resident: operands are (or become) device copies in p()
            }
            buf = DeviceBuffer.floats(cuda, Math.max(floats, 4));
            for (Tensor t : tensors) {
                long n = span(t);
                cuda.check(lib.mp_memcpy_htod(buf.at(offsets.get(t)),
                        MemorySegment.ofArray(t.data()).asSlice((long) t.offset() * 4, n * 4), n * 4), "mp_memcpy_htod");
            }
            for (int i = 0; i < ints.size(); i++) {
                int[] a = ints.get(i);
                cuda.check(lib.mp_memcpy_htod(buf.at(intOffsets.get(i)), MemorySegment.ofArray(a), (long) a.length * 4),
                        "mp_memcpy_htod");
            }
            return this;
        }

        MemorySegment p(Tensor t) {
            if (t == null) {
                return NULL;
            }
            return residency != null ? residentAddress(t) : buf.at(offsets.get(t));
        }

        MemorySegment pInts(long at) {
            return residency != null ? copyOf(ints.get((int) at)).ptr() : buf.at(at);
        }

        void check(int status) {
            cuda.check(status, fn);
        }

        @Override
        public void close() {
            if (residency != null) {
                for (Tensor t : outs) {        // what the kernel wrote is newer on the device
                    residency.deviceWrote(t.data());
                }
                return;
            }
            if (buf == null) {
                return;
            }
            try {
                for (Tensor t : outs) {
                    long rowBytes = (long) t.cols() * 4;
                    MemorySegment host = MemorySegment.ofArray(t.data()).asSlice((long) t.offset() * 4, span(t) * 4);
                    cuda.check(lib.mp_memcpy2d_dtoh(host, (long) t.ld() * 4, buf.at(offsets.get(t)), (long) t.ld() * 4,
                            rowBytes, t.rows()), "mp_memcpy2d_dtoh (after " + fn + ")");
                }
            } finally {
                buf.close();
            }
        }
    }

    private static long span(Tensor t) {
        return (long) (t.rows() - 1) * t.ld() + t.cols();
    }

    private static String shape(Tensor t) {
        return Arrays.toString(t.shape());
    }

    // ---- GEMM and linear ----------------------------------------------------------------------

    @Override
    public void gemm(boolean transA, boolean transB, float alpha, Tensor a, Tensor b, float beta, Tensor c) {
        require(a.rank() == 2 && b.rank() == 2 && c.rank() == 2, "gemm: operands must be 2-D");
        int m = c.dim(0), n = c.dim(1);
        int k = transA ? a.dim(0) : a.dim(1);
        if (!((transA ? a.dim(1) : a.dim(0)) == m && (transB ? b.dim(1) : b.dim(0)) == k
                && (transB ? b.dim(0) : b.dim(1)) == n)) {
            throw new IllegalArgumentException("gemm: shapes " + shape(a) + (transA ? "^T" : "") + " x "
                    + shape(b) + (transB ? "^T" : "") + " -> " + shape(c) + " do not match");
        }
        try (Call call = new Call("mp_gemm").in(a, b).out(c).upload()) {
            call.check(lib.mp_gemm(STREAM, transA ? 1 : 0, transB ? 1 : 0, m, n, k, alpha, call.p(a), a.ld(), call.p(b),
                    b.ld(), beta, call.p(c), c.ld()));
        }
    }

    @Override
    public void linearForward(Tensor x, Tensor w, Tensor bias, Tensor y) {
        int n = x.rows(), in = x.cols(), out = y.cols();
        if (!(y.rows() == n && w.rank() == 2 && w.dim(0) >= out && w.dim(1) >= in)) {
            throw new IllegalArgumentException("linearForward: x " + shape(x)
                    + ", w " + shape(w) + ", y " + shape(y) + " do not match");
        }
        try (Call call = new Call("mp_conv1x1_forward").in(x, w, bias).out(y).upload()) {
            call.check(lib.mp_conv1x1_forward(STREAM, n, in, out, call.p(x), x.ld(), call.p(w), w.ld(), call.p(bias),
                    call.p(y), y.ld()));
        }
    }

    @Override
    public void linearBackwardInput(Tensor dy, Tensor w, Tensor dx) {
        int n = dy.rows(), out = dy.cols(), in = dx.cols();
        require(dx.rows() == n && w.dim(0) >= out && w.dim(1) >= in, "linearBackwardInput: shapes do not match");
        try (Call call = new Call("mp_conv1x1_backward_input").in(dy, w).out(dx).upload()) {
            call.check(lib.mp_conv1x1_backward_input(STREAM, n, in, out, call.p(dy), dy.ld(), call.p(w), w.ld(),
                    call.p(dx), dx.ld()));
        }
    }

    @Override
    public void linearBackwardParams(Tensor x, Tensor dy, Tensor dw, Tensor dbias, boolean accumulate) {
        int n = x.rows(), in = x.cols(), out = dy.cols();
        require(dy.rows() == n && dw.dim(0) >= out && dw.dim(1) >= in, "linearBackwardParams: shapes do not match");
        try (Call call = new Call("mp_conv1x1_backward_weight").in(x, dy).out(dw, dbias).upload()) {
            call.check(lib.mp_conv1x1_backward_weight(STREAM, n, in, out, call.p(x), x.ld(), call.p(dy), dy.ld(),
                    call.p(dw), dw.ld(), call.p(dbias), accumulate ? 1 : 0));
        }
    }

    // ---- convolution --------------------------------------------------------------------------

    private static boolean plain1x1(Conv2dSpec s) {
        return s.isPointwise() && s.strideH() == 1 && s.strideW() == 1;
    }

    private static boolean depthwiseSquare(Conv2dSpec s) {
        return s.isDepthwise() && s.kh() == s.kw() && s.strideH() == s.strideW() && s.padH() == s.padW();
    }

    /**
     * The shape checks every convolution call of a CUDA backend makes: 4-D NHWC {@code x}, {@code y} matching the
     * spec, and a contiguous OIHW weight holding its leading block. {@link IllegalArgumentException} naming them.
     */
    public static void checkConv(String op, Tensor x, Tensor w, Tensor y, Conv2dSpec s) {
        if (!(x.rank() == 4 && y.rank() == 4 && w.rank() == 4)) {
            throw new IllegalArgumentException(op + ": x, w, y must be 4-D");
        }
        if (!(x.dim(3) == s.cIn() && y.dim(3) == s.cOut() && x.dim(0) == y.dim(0) && y.dim(1) == s.outH(x.dim(1))
                && y.dim(2) == s.outW(x.dim(2)))) {
            throw new IllegalArgumentException(op + ": x " + shape(x) + ", y "
                    + shape(y) + " do not match " + s);
        }
        if (!(w.dim(0) >= s.cOut() && w.dim(1) >= s.cIn() / s.groups() && w.dim(2) == s.kh() && w.dim(3) == s.kw()
                && w.isContiguous())) {
            throw new IllegalArgumentException(op + ": weight " + shape(w) + " does not hold " + s);
        }
    }

    @Override
    public void conv2dForward(Tensor x, Tensor w, Tensor bias, Tensor y, Conv2dSpec s) {
        checkConv("conv2dForward", x, w, y, s);
        int n = x.dim(0), h = x.dim(1), wd = x.dim(2), ho = y.dim(1), wo = y.dim(2);
        if (plain1x1(s)) {
            try (Call call = new Call("mp_conv1x1_forward").in(x, w, bias).out(y).upload()) {
                call.check(lib.mp_conv1x1_forward(STREAM, n * h * wd, s.cIn(), s.cOut(), call.p(x), x.ld(), call.p(w),
                        w.dim(1), call.p(bias), call.p(y), y.ld()));
            }
        } else if (depthwiseSquare(s)) {
            try (Call call = new Call("mp_depthwise_forward").in(x, w, bias).out(y).upload()) {
                call.check(lib.mp_depthwise_forward(STREAM, n, h, wd, s.cIn(), call.p(x), x.ld(), call.p(w), s.kh(),
                        s.strideH(), s.padH(), call.p(bias), call.p(y), ho, wo, y.ld()));
            }
        } else {
            try (Call call = new Call("mp_conv2d_forward").in(x, w, bias).out(y).upload()) {
                call.check(lib.mp_conv2d_forward(STREAM, n, h, wd, s.cIn(), call.p(x), x.ld(), call.p(w), w.dim(1),
                        s.cOut(), s.kh(), s.kw(), s.strideH(), s.strideW(), s.padH(), s.padW(), s.groups(), call.p(bias),
                        call.p(y), ho, wo, y.ld()));
            }
        }
    }

    @Override
    public void conv2dBackwardInput(Tensor dy, Tensor w, Tensor dx, Conv2dSpec s) {
        checkConv("conv2dBackwardInput", dx, w, dy, s);
        int n = dx.dim(0), h = dx.dim(1), wd = dx.dim(2), ho = dy.dim(1), wo = dy.dim(2);
        if (plain1x1(s)) {
            try (Call call = new Call("mp_conv1x1_backward_input").in(dy, w).out(dx).upload()) {
                call.check(lib.mp_conv1x1_backward_input(STREAM, n * h * wd, s.cIn(), s.cOut(), call.p(dy), dy.ld(),
                        call.p(w), w.dim(1), call.p(dx), dx.ld()));
            }
        } else if (depthwiseSquare(s)) {
            try (Call call = new Call("mp_depthwise_backward_input").in(dy, w).out(dx).upload()) {
                call.check(lib.mp_depthwise_backward_input(STREAM, n, h, wd, s.cIn(), call.p(dy), dy.ld(), call.p(w),
                        s.kh(), s.strideH(), s.padH(), call.p(dx), ho, wo, dx.ld()));
            }
        } else {
            try (Call call = new Call("mp_conv2d_backward_input").in(dy, w).out(dx).upload()) {
                call.check(lib.mp_conv2d_backward_input(STREAM, n, h, wd, s.cIn(), call.p(dx), dx.ld(), call.p(w),
                        w.dim(1), s.cOut(), s.kh(), s.kw(), s.strideH(), s.strideW(), s.padH(), s.padW(), s.groups(),
                        call.p(dy), ho, wo, dy.ld()));
            }
        }
    }

    @Override
    public void conv2dBackwardWeight(Tensor x, Tensor dy, Tensor dw, Tensor dbias, Conv2dSpec s, boolean accumulate) {
        checkConv("conv2dBackwardWeight", x, dw, dy, s);
        int n = x.dim(0), h = x.dim(1), wd = x.dim(2), ho = dy.dim(1), wo = dy.dim(2);
        int acc = accumulate ? 1 : 0;
        if (plain1x1(s)) {
            try (Call call = new Call("mp_conv1x1_backward_weight").in(x, dy).out(dw, dbias).upload()) {
                call.check(lib.mp_conv1x1_backward_weight(STREAM, n * h * wd, s.cIn(), s.cOut(), call.p(x), x.ld(),
                        call.p(dy), dy.ld(), call.p(dw), dw.dim(1), call.p(dbias), acc));
            }
        } else if (depthwiseSquare(s) && dw.dim(1) == 1) {
            try (Call call = new Call("mp_depthwise_backward_weight").in(x, dy).out(dw, dbias).upload()) {
                call.check(lib.mp_depthwise_backward_weight(STREAM, n, h, wd, s.cIn(), call.p(x), x.ld(), call.p(dy),
                        dy.ld(), call.p(dw), call.p(dbias), s.kh(), s.strideH(), s.padH(), ho, wo, acc));
            }
        } else {
            try (Call call = new Call("mp_conv2d_backward_weight").in(x, dy).out(dw, dbias).upload()) {
                call.check(lib.mp_conv2d_backward_weight(STREAM, n, h, wd, s.cIn(), call.p(x), x.ld(), call.p(dw),
                        w1(dw), s.cOut(), s.kh(), s.kw(), s.strideH(), s.strideW(), s.padH(), s.padW(), s.groups(),
                        call.p(dy), ho, wo, dy.ld(), call.p(dbias), acc));
            }
        }
    }

    private static int w1(Tensor w) {
        return w.dim(1);
    }

    // ---- BatchNorm ----------------------------------------------------------------------------

    @Override
    public void batchNormTrainForward(Tensor x, Tensor gamma, Tensor beta, Tensor y, Tensor saveMean,
                                      Tensor saveInvStd, Tensor runMean, Tensor runVar, float averageFactor, float eps) {
        int rows = x.rows(), c = x.cols();
        if (!(y.rows() == rows && y.cols() == c && rows > 1)) {
            throw new IllegalArgumentException("batchNormTrainForward: x " + shape(x) + ", y " + shape(y));
        }
        try (Call call = new Call("mp_batchnorm_train_forward").in(x, gamma, beta)
                .out(y, saveMean, saveInvStd, runMean, runVar).upload()) {
            call.check(lib.mp_batchnorm_train_forward(STREAM, rows, c, call.p(x), x.ld(), call.p(gamma), call.p(beta),
                    call.p(y), y.ld(), call.p(saveMean), call.p(saveInvStd), call.p(runMean), call.p(runVar),
                    averageFactor, eps));
        }
    }

    @Override
    public void batchNormInferenceForward(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar, float eps,
                                          Tensor y) {
        int rows = x.rows(), c = x.cols();
        if (!(y.rows() == rows && y.cols() == c)) {
            throw new IllegalArgumentException("batchNormInferenceForward: x " + shape(x) + ", y " + shape(y));
        }
        try (Call call = new Call("mp_batchnorm_inference_forward").in(x, gamma, beta, runMean, runVar).out(y).upload()) {
            call.check(lib.mp_batchnorm_inference_forward(STREAM, rows, c, call.p(x), x.ld(), call.p(gamma), call.p(beta),
                    call.p(runMean), call.p(runVar), eps, call.p(y), y.ld()));
        }
    }

    @Override
    public void batchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd, Tensor dx,
                                  Tensor dGamma, Tensor dBeta, boolean accumulate) {
        int rows = x.rows(), c = x.cols();
        require(dy.rows() == rows && dx.rows() == rows && dy.cols() == c && dx.cols() == c, "batchNormBackward: shapes");
        try (Call call = new Call("mp_batchnorm_backward").in(x, dy, gamma, saveMean, saveInvStd)
                .out(dx, dGamma, dBeta).upload()) {
            call.check(lib.mp_batchnorm_backward(STREAM, rows, c, call.p(x), x.ld(), call.p(dy), dy.ld(), call.p(gamma),
                    call.p(saveMean), call.p(saveInvStd), call.p(dx), dx.ld(), call.p(dGamma), call.p(dBeta),
                    accumulate ? 1 : 0));
        }
    }

    // ---- element-wise -------------------------------------------------------------------------

    private void act(int kind, Tensor x, Tensor y) {
        if (!(x.rows() == y.rows() && x.cols() == y.cols())) {
            throw new IllegalArgumentException("activation: x " + shape(x) + ", y " + shape(y));
        }
        try (Call call = new Call("mp_activation_forward").in(x).out(y).upload()) {
            call.check(lib.mp_activation_forward(STREAM, kind, x.rows(), x.cols(), call.p(x), x.ld(), call.p(y), y.ld()));
        }
    }

    private void actBackward(int kind, Tensor x, Tensor dy, Tensor dx) {
        require(x.rows() == dy.rows() && x.cols() == dy.cols() && dx.rows() == x.rows() && dx.cols() == x.cols(),
                "activation backward: shapes");
        try (Call call = new Call("mp_activation_backward").in(x, dy).out(dx).upload()) {
            call.check(lib.mp_activation_backward(STREAM, kind, x.rows(), x.cols(), call.p(x), x.ld(), call.p(dy),
                    dy.ld(), call.p(dx), dx.ld()));
        }
    }

    @Override
    public void relu(Tensor x, Tensor y) {
        act(0, x, y);
    }

    @Override
    public void reluBackward(Tensor x, Tensor dy, Tensor dx) {
        actBackward(0, x, dy, dx);
    }

    @Override
    public void relu6(Tensor x, Tensor y) {
        act(1, x, y);
    }

    @Override
    public void relu6Backward(Tensor x, Tensor dy, Tensor dx) {
        actBackward(1, x, dy, dx);
    }

    @Override
    public void add(Tensor a, Tensor b, Tensor y) {
        if (!(a.rows() == b.rows() && a.cols() == b.cols() && y.rows() == a.rows() && y.cols() == a.cols())) {
            throw new IllegalArgumentException("add: shapes " + shape(a) + ", " + shape(b) + ", " + shape(y));
        }
        try (Call call = new Call("mp_add").in(a, b).out(y).upload()) {
            call.check(lib.mp_add(STREAM, a.rows(), a.cols(), call.p(a), a.ld(), call.p(b), b.ld(), call.p(y), y.ld()));
        }
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        if (!(src.rows() == dst.rows() && src.cols() == dst.cols())) {
            throw new IllegalArgumentException("copy: shapes " + shape(src) + " and " + shape(dst) + " differ");
        }
        if (residency == null) {
            dst.copyFrom(src);   // staging: the operands live on the host
            return;
        }
        try (Call call = new Call("mp_memcpy2d_dtod").in(src).out(dst).upload()) {
            call.check(lib.mp_memcpy2d_dtod(call.p(dst), (long) dst.ld() * 4, call.p(src), (long) src.ld() * 4,
                    (long) src.cols() * 4, src.rows(), STREAM));
        }
    }

    @Override
    public void zero(Tensor t) {
        if (residency == null) {
            t.fill(0f);   // staging: the tensor lives on the host
            return;
        }
        try (Call call = new Call("mp_memset2d").out(t).upload()) {
            call.check(lib.mp_memset2d(call.p(t), (long) t.ld() * 4, 0, (long) t.cols() * 4, t.rows(), STREAM));
        }
    }

    // ---- pooling ------------------------------------------------------------------------------

    @Override
    public void maxPoolForward(Tensor x, Tensor y, int[] argmax, int k, int stride, int pad) {
        require(x.rank() == 4 && y.rank() == 4 && argmax.length >= y.numel(), "maxPoolForward: shapes");
        int n = x.dim(0), h = x.dim(1), w = x.dim(2), c = x.dim(3), ho = y.dim(1), wo = y.dim(2);
        int count = (int) y.numel();
        if (residency != null) { // resident: the indices stay on the device, relative to x; the backward reads them there
            try (Call call = new Call("mp_maxpool_forward")) {
                call.in(x).out(y);
                long at = call.addInts(argmax);
                call.check(lib.mp_maxpool_forward(STREAM, n, h, w, c, call.p(x), x.ld(), call.p(y), y.ld(),
                        call.pInts(at), ho, wo, k, stride, pad));
            }
            return;
        }
        try (Call call = new Call("mp_maxpool_forward")) {
            call.in(x).out(y);
            long at = call.addInts(new int[count]);
            call.upload();
            call.check(lib.mp_maxpool_forward(STREAM, n, h, w, c, call.p(x), x.ld(), call.p(y), y.ld(), call.pInts(at),
                    ho, wo, k, stride, pad));
            cuda.check(lib.mp_memcpy_dtoh(MemorySegment.ofArray(argmax), call.pInts(at), (long) count * 4),
                    "mp_memcpy_dtoh");
        }
        for (int i = 0; i < count; i++) {
            argmax[i] += x.offset();
        }
    }

    @Override
    public void maxPoolBackward(Tensor dy, int[] argmax, Tensor dx) {
        int n = dx.dim(0), h = dx.dim(1), w = dx.dim(2), c = dx.dim(3), ho = dy.dim(1), wo = dy.dim(2);
        int count = (int) dy.numel();
        if (residency != null) {
            if (residency.existing(argmax) == null) {
                throw new IllegalArgumentException("maxPoolBackward: the indices were not written by this backend's"
                        + " maxPoolForward (a device-resident backend keeps them on the device)");
            }
            require(argmax.length >= count, "maxPoolBackward: argmax is shorter than dy");
            try (Call call = new Call("mp_maxpool_backward")) {
                call.in(dy).out(dx);
                long at = call.addInts(argmax);
                call.check(lib.mp_maxpool_backward(STREAM, n, h, w, c, call.p(dy), dy.ld(), call.pInts(at), ho, wo,
                        call.p(dx), dx.ld()));
            }
            return;
        }
        int[] rel = new int[count];
        long lo = dx.offset(), hi = dx.offset() + span(dx);
        for (int i = 0; i < count; i++) {
            if (!(argmax[i] >= lo && argmax[i] < hi)) {
                throw new IllegalArgumentException("maxPoolBackward: argmax[" + i + "] = " + argmax[i]
                        + " is outside dx");
            }
            rel[i] = argmax[i] - dx.offset();
        }
        try (Call call = new Call("mp_maxpool_backward")) {
            call.in(dy).out(dx);
            long at = call.addInts(rel);
            call.upload();
            call.check(lib.mp_maxpool_backward(STREAM, n, h, w, c, call.p(dy), dy.ld(), call.pInts(at), ho, wo,
                    call.p(dx), dx.ld()));
        }
    }

    @Override
    public void globalAvgPoolForward(Tensor x, Tensor y) {
        int n = x.dim(0), hw = x.dim(1) * x.dim(2), c = x.dim(3);
        if (!(y.rows() == n && y.cols() == c)) {
            throw new IllegalArgumentException("globalAvgPoolForward: x " + shape(x) + ", y " + shape(y));
        }
        try (Call call = new Call("mp_global_avgpool_forward").in(x).out(y).upload()) {
            call.check(lib.mp_global_avgpool_forward(STREAM, n, hw, c, call.p(x), x.ld(), call.p(y), y.ld()));
        }
    }

    @Override
    public void globalAvgPoolBackward(Tensor dy, Tensor dx) {
        int n = dx.dim(0), hw = dx.dim(1) * dx.dim(2), c = dx.dim(3);
        if (!(dy.rows() == n && dy.cols() == c)) {
            throw new IllegalArgumentException("globalAvgPoolBackward: dy " + shape(dy) + ", dx " + shape(dx));
        }
        try (Call call = new Call("mp_global_avgpool_backward").in(dy).out(dx).upload()) {
            call.check(lib.mp_global_avgpool_backward(STREAM, n, hw, c, call.p(dy), dy.ld(), call.p(dx), dx.ld()));
        }
    }

    // ---- loss ---------------------------------------------------------------------------------

    @Override
    public float softmaxCrossEntropy(Tensor logits, int[] labels, float smoothing, Tensor dLogits) {
        if (!(logits.rank() == 2 && labels.length == logits.dim(0))) {
            throw new IllegalArgumentException("softmaxCrossEntropy: logits " + shape(logits)
                    + " and " + labels.length + " labels");
        }
        int n = logits.dim(0), k = logits.dim(1);
        for (int i = 0; i < n; i++) {
            if (!(labels[i] >= 0 && labels[i] < k)) {
                throw new IllegalArgumentException("softmaxCrossEntropy: label " + labels[i] + " of row " + i
                        + " is outside [0, " + k + ")");
            }
        }
        if (!(smoothing >= 0 && smoothing <= 1)) {
            throw new IllegalArgumentException("softmaxCrossEntropy: smoothing must be in [0, 1], got " + smoothing);
        }
        float[] loss = new float[1];
        if (residency != null) {  // logits and gradient resident; the labels (new every step) and the loss staged
            synchronized (this) {
                DeviceBuffer staged = lossStage(labels.length + 1L).uploadInts(labels);
                try (Call call = new Call("mp_softmax_cross_entropy")) {
                    call.in(logits).out(dLogits);
                    call.check(lib.mp_softmax_cross_entropy(STREAM, n, k, call.p(logits), logits.ld(), staged.ptr(),
                            smoothing, staged.at(labels.length), call.p(dLogits), dLogits == null ? k : dLogits.ld()));
                }
                cuda.check(lib.mp_memcpy_dtoh(MemorySegment.ofArray(loss), staged.at(labels.length), 4),
                        "mp_memcpy_dtoh");
            }
            return loss[0];
        }
        try (Call call = new Call("mp_softmax_cross_entropy")) {
            call.in(logits).out(dLogits);
            long lab = call.addInts(labels);
            long lossAt = call.addInts(new int[1]);
            call.upload();
            call.check(lib.mp_softmax_cross_entropy(STREAM, n, k, call.p(logits), logits.ld(), call.pInts(lab), smoothing,
                    call.pInts(lossAt), call.p(dLogits), dLogits == null ? k : dLogits.ld()));
            cuda.check(lib.mp_memcpy_dtoh(MemorySegment.ofArray(loss), call.pInts(lossAt), 4), "mp_memcpy_dtoh");
        }
        return loss[0];
    }

    @Override
    public int countTopK(Tensor logits, int[] labels, int k) {
        toHost(logits);
        return cpu.countTopK(logits, labels, k);
    }

    // ---- optimiser ----------------------------------------------------------------------------

    @Override
    public void sgdStep(Tensor param, Tensor grad, Tensor momentumBuf, float lr, float momentum, float weightDecay,
                        boolean nesterov) {
        require(param.isContiguous() && grad.isContiguous() && momentumBuf.isContiguous()
                && param.numel() == grad.numel() && param.numel() == momentumBuf.numel(),
                "sgdStep: param, grad and momentum must be contiguous and the same size");
        try (Call call = new Call("mp_sgd_step").in(grad).out(param, momentumBuf).upload()) {
            call.check(lib.mp_sgd_step(STREAM, param.numel(), call.p(param), call.p(grad), call.p(momentumBuf), lr,
                    momentum, weightDecay, nesterov ? 1 : 0));
        }
    }

    // ---- PruningNet weight generator ------------------------------------------------------------

    /** The coherent mode: the PruningNet's generators run here too (the timing mode is not for training). */
    @Override
    public boolean deviceResident() {
        return mode == Mode.COHERENT;
    }

    @Override
    public void generatorHidden(Tensor w1, Tensor b1, Tensor enc, Tensor pre, Tensor h) {
        GeneratorKernel.Dims d = GeneratorKernel.dims("generatorHidden", w1, b1, enc, h);
        require(pre.isContiguous() && pre.numel() == d.hidden(), "generatorHidden: pre must hold the hidden units");
        try (Call call = new Call("mp_generator_hidden").in(w1, b1, enc).out(pre, h).upload()) {
            call.check(lib.mp_generator_hidden(STREAM, d.encDim(), d.hidden(), call.p(w1), call.p(b1), call.p(enc),
                    call.p(pre), call.p(h)));
        }
    }

    @Override
    public void generatorForward(Tensor w2, Tensor b2, Tensor h, int co, int ci, Tensor out) {
        GeneratorKernel.Dims d = GeneratorKernel.dims("generatorForward", w2, b2, h, out, co, ci);
        try (Call call = new Call("mp_generator_forward").in(w2, b2, h).out(out).upload()) {
            call.check(lib.mp_generator_forward(STREAM, d.hidden(), d.inMax(), d.kk(), co, ci, call.p(w2), call.p(b2),
                    call.p(h), call.p(out)));
        }
    }

    @Override
    public void generatorBackwardStep(Tensor w2, Tensor b2, Tensor mw2, Tensor mb2, Tensor h, Tensor dOut, int co,
                                      int ci, Tensor dh, float lr, float momentum, float weightDecay, boolean nesterov) {
        GeneratorKernel.Dims d = GeneratorKernel.dims("generatorBackwardStep", w2, b2, h, dOut, co, ci);
        require(mw2.isContiguous() && mb2.isContiguous() && dh.isContiguous() && mw2.numel() == w2.numel()
                && mb2.numel() == b2.numel() && dh.numel() == d.hidden(),
                "generatorBackwardStep: momentum buffers must match w2 and b2, dh the hidden units");
        int nest = nesterov ? 1 : 0;
        try (Call call = new Call("mp_generator_backward_sgd").in(h, dOut).out(w2, b2, mw2, mb2, dh).upload()) {
            // rows outside the crop: the step with a zero gradient (disjoint from the crop rows the next call updates)
            call.check(lib.mp_generator_decay_outside(STREAM, d.hidden(), d.outMax(), d.inMax(), d.kk(), co, ci,
                    call.p(w2), call.p(b2), call.p(mw2), call.p(mb2), lr, momentum, weightDecay, nest));
            call.check(lib.mp_generator_backward_sgd(STREAM, d.hidden(), d.inMax(), d.kk(), co, ci, call.p(w2),
                    call.p(b2), call.p(mw2), call.p(mb2), call.p(h), call.p(dOut), call.p(dh), lr, momentum,
                    weightDecay, nest));
        }
    }

    @Override
    public void generatorHiddenBackwardStep(Tensor w1, Tensor b1, Tensor mw1, Tensor mb1, Tensor enc, Tensor pre,
                                            Tensor dh, float lr, float momentum, float weightDecay, boolean nesterov) {
        GeneratorKernel.Dims d = GeneratorKernel.dims("generatorHiddenBackwardStep", w1, b1, enc, dh);
        require(mw1.numel() == w1.numel() && mb1.numel() == b1.numel() && pre.numel() == d.hidden()
                && mw1.isContiguous() && mb1.isContiguous() && pre.isContiguous(),
                "generatorHiddenBackwardStep: momentum buffers must match w1 and b1, pre the hidden units");
        try (Call call = new Call("mp_generator_hidden_backward_sgd").in(enc, pre, dh).out(w1, b1, mw1, mb1).upload()) {
            call.check(lib.mp_generator_hidden_backward_sgd(STREAM, d.encDim(), d.hidden(), call.p(w1), call.p(b1),
                    call.p(mw1), call.p(mb1), call.p(enc), call.p(pre), call.p(dh), lr, momentum, weightDecay,
                    nesterov ? 1 : 0));
        }
    }
}
