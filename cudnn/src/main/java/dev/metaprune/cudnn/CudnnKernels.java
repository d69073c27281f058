package dev.metaprune.cudnn;

import static org.bytedeco.cuda.global.cudart.cudaGetErrorString;
import static org.bytedeco.cuda.global.cudart.cudaMemcpy2DAsync;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyDeviceToDevice;
import static org.bytedeco.cuda.global.cudnn.*;

import dev.metaprune.cuda.CudaException;
import dev.metaprune.cuda.CudaKernels;
import dev.metaprune.cuda.DeviceBuffer;
import dev.metaprune.kernels.Conv2dSpec;
import dev.metaprune.kernels.ForwardingKernels;
import dev.metaprune.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Map;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.cudnn.cudnnContext;
import org.bytedeco.cuda.cudnn.cudnnConvolutionFwdAlgoPerf_t;
import org.bytedeco.cuda.cudnn.cudnnConvolutionStruct;
import org.bytedeco.cuda.cudnn.cudnnFilterStruct;
import org.bytedeco.cuda.cudnn.cudnnTensorStruct;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * cuDNN as a second CUDA backend, for timing: every convolution (sliced 1x1, depthwise, general) runs through
 * {@code cudnnConvolutionForward}, fp32 with FMA math only (no TF32, so it computes what our kernels compute), with the
 * fastest algorithm {@code cudnnFindConvolutionForwardAlgorithm} finds for each shape; everything else runs on
 * libmetaprune_cuda's kernels in {@link CudaKernels#resident() device-resident} mode, on the same device buffers in
 * the same primary context and default stream. Activations are packed NHWC descriptors; a channel view (rows further
 * apart than its channels) is copied into a packed scratch buffer first and the output copied back, since cuDNN's
 * support for strided tensors varies by algorithm (the profiler's and the executor's buffers are packed, so timing
 * never takes that path). It is the latency profiler's {@code cudnn} device: a table taken with
 * it beside one taken with {@code cuda} shows, layer by layer, where our kernels stand against NVIDIA's.
 *
 * <p>Operands are device-resident as in {@link CudaKernels#resident()}: each host array is copied to the device the
 * first time a call sees it, and outputs stay there. A sliced weight block is packed into cuDNN's KRSC layout on the
 * host once per (weight, slice) and kept on the device ({@link CudnnLayout#packFilter}); so weights are read from the
 * host once, which holds for inference and timing, not for training (this backend has no convolution backward).
 * {@link #releaseDeviceCopies()} frees the copies, the packed filters and the workspace.
 *
 * <p>Loading this class loads JavaCPP's cuDNN bindings, which need libcudnn.so.9 and libcudart.so.13 on the library
 * path; {@link CudnnDeviceProvider} checks for a GPU first and turns a library that does not load into a message.
 */
public final class CudnnKernels extends ForwardingKernels {
    private final CudaKernels rest;
    private final cudnnContext handle = new cudnnContext();
    private final Map<String, Plan> plans = new HashMap<>();
    private final IdentityHashMap<float[], Map<String, DeviceBuffer>> filters = new IdentityHashMap<>();
    private final FloatPointer one = new FloatPointer(1f);
    private final FloatPointer zero = new FloatPointer(0f);
    private DeviceBuffer workspace;
    private long workspaceBytes;
    private DeviceBuffer stageX;
    private DeviceBuffer stageY;

    /** One convolution shape's descriptors and algorithm. */
    private record Plan(cudnnTensorStruct x, cudnnFilterStruct w, cudnnConvolutionStruct conv, cudnnTensorStruct y,
                        cudnnTensorStruct bias, int algo, long workspaceBytes) {
    }

    /** A JavaCPP pointer to a device address we allocated (it owns nothing). */
    private static final class At extends Pointer {
        At(MemorySegment address) {
            this.address = address.address();
        }
    }

    private CudnnKernels(CudaKernels rest) {
        super(rest);
        this.rest = rest;
        check(cudnnCreate(handle), "cudnnCreate");
    }

    /** The backend on this machine's GPU ({@link IllegalStateException} without one; see the class comment). */
    public static CudnnKernels create() {
        return new CudnnKernels(CudaKernels.resident());
    }

    /** cuDNN's version as it reports it, e.g. {@code 9.15.0}. */
    public static String cudnnVersion() {
        long v = cudnnGetVersion(); // major * 10000 + minor * 100 + patch since cuDNN 9
        return (v / 10000) + "." + (v / 100 % 100) + "." + (v % 100);
    }

    static void check(int status, String fn) {
        if (status != CUDNN_STATUS_SUCCESS) {
            throw new CudaException(fn, status, 0, fn + ": " + cudnnGetErrorString(status).getString());
        }
    }

    @Override
    public String name() {
        return "cudnn";
    }

    @Override
    public String describe() {
        return "cudnn: convolutions by cuDNN " + cudnnVersion() + " (fp32, FMA math, fastest found algorithm), the rest"
                + " by " + rest.describe();
    }

    // synchronize(): the CUDA backend's cudaDeviceSynchronize covers cuDNN's work on the same context

    @Override
    public void releaseDeviceCopies() {
        rest.releaseDeviceCopies(); // synchronises first
        try {
            for (Map<String, DeviceBuffer> m : filters.values()) {
                for (DeviceBuffer b : m.values()) {
                    b.close();
                }
            }
        } finally {
            filters.clear();
            if (workspace != null) {
                workspace.close();
                workspace = null;
                workspaceBytes = 0;
            }
            for (DeviceBuffer b : new DeviceBuffer[] {stageX, stageY}) {
                if (b != null) {
                    b.close();
                }
            }
            stageX = null;
            stageY = null;
        }
    }

    /** Resident copy of a host array read back (tests): what the device holds for it; null when it holds none. */
    public float[] deviceCopy(float[] array) {
        return rest.deviceCopy(array);
    }

    // ---- convolution: cuDNN ------------------------------------------------------------------

    @Override
    public void conv2dForward(Tensor x, Tensor w, Tensor bias, Tensor y, Conv2dSpec s) {
        CudaKernels.checkConv("conv2dForward", x, w, y, s);
        if (bias != null && bias.numel() < s.cOut()) {
            throw new IllegalArgumentException("conv2dForward: bias " + Arrays.toString(bias.shape()) + " is shorter"
                    + " than " + s.cOut() + " channels");
        }
        String key = CudnnLayout.planKey(x, y, s, bias != null);
        Plan p = plans.get(key);
        if (p == null) {
            p = plan(x, y, s, bias != null);
            plans.put(key, p);
        }
        DeviceBuffer f = filter(w, s);
        ensureWorkspace(p.workspaceBytes());
        // channel views go through packed copies (the profiler's and the executor's buffers are packed already)
        Pointer xPtr = new At(rest.residentAddress(x));
        if (!CudnnLayout.packed(x)) {
            stageX = scratch(stageX, (long) x.rows() * x.cols());
            copy2d(new At(stageX.ptr()), x.cols(), xPtr, x.ld(), x.cols(), x.rows(), "stage x");
            xPtr = new At(stageX.ptr());
        }
        Pointer yOut = new At(rest.residentOutput(y));   // cuDNN writes it: newer on the device
        Pointer yPtr = yOut;
        if (!CudnnLayout.packed(y)) {
            stageY = scratch(stageY, (long) y.rows() * y.cols());
            yPtr = new At(stageY.ptr());
        }
        check(cudnnConvolutionForward(handle, one, p.x(), xPtr, p.w(), new At(f.ptr()), p.conv(), p.algo(),
                workspace == null ? null : new At(workspace.ptr()), workspaceBytes, zero, p.y(), yPtr),
                "cudnnConvolutionForward");
        if (bias != null) {
            check(cudnnAddTensor(handle, one, p.bias(), new At(rest.residentAddress(bias)), one, p.y(), yPtr),
                    "cudnnAddTensor");
        }
        if (yPtr != yOut) {
            copy2d(yOut, y.ld(), yPtr, y.cols(), y.cols(), y.rows(), "unstage y");
        }
    }

    /** Row-by-row device copy of {@code rows} rows of {@code cols} floats, pitches in floats (default stream). */
    private static void copy2d(Pointer dst, int dstLd, Pointer src, int srcLd, int cols, int rows, String what) {
        int st = cudaMemcpy2DAsync(dst, (long) dstLd * 4, src, (long) srcLd * 4, (long) cols * 4, rows,
                cudaMemcpyDeviceToDevice, (CUstream_st) null);
        if (st != 0) {
            throw new CudaException("cudaMemcpy2DAsync", st, st, "cudaMemcpy2DAsync (" + what + "): "
                    + cudaGetErrorString(st).getString());
        }
    }

    private DeviceBuffer scratch(DeviceBuffer b, long floats) {
        if (b != null && b.bytes() >= floats * 4) {
            return b;
        }
        if (b != null) {
            rest.synchronize();
            b.close();
        }
        return DeviceBuffer.floats(rest.cuda(), Math.max(floats, 1));
    }

    /** Descriptors for one shape and the fastest FMA-math algorithm cuDNN finds for it (run once per shape). */
    private Plan plan(Tensor x, Tensor y, Conv2dSpec s, boolean bias) {
        cudnnTensorStruct xd = tensor(x), yd = tensor(y), bd = null;
        cudnnFilterStruct fd = new cudnnFilterStruct();
        check(cudnnCreateFilterDescriptor(fd), "cudnnCreateFilterDescriptor");
        check(cudnnSetFilter4dDescriptor(fd, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NHWC, s.cOut(), s.cIn() / s.groups(),
                s.kh(), s.kw()), "cudnnSetFilter4dDescriptor " + s);
        cudnnConvolutionStruct cd = new cudnnConvolutionStruct();
        check(cudnnCreateConvolutionDescriptor(cd), "cudnnCreateConvolutionDescriptor");
        check(cudnnSetConvolution2dDescriptor(cd, s.padH(), s.padW(), s.strideH(), s.strideW(), 1, 1,
                CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT), "cudnnSetConvolution2dDescriptor " + s);
        check(cudnnSetConvolutionGroupCount(cd, s.groups()), "cudnnSetConvolutionGroupCount");
        check(cudnnSetConvolutionMathType(cd, CUDNN_FMA_MATH), "cudnnSetConvolutionMathType");
        if (bias) {
            bd = new cudnnTensorStruct();
            check(cudnnCreateTensorDescriptor(bd), "cudnnCreateTensorDescriptor");
            check(cudnnSetTensor4dDescriptor(bd, CUDNN_TENSOR_NHWC, CUDNN_DATA_FLOAT, 1, s.cOut(), 1, 1),
                    "cudnnSetTensor4dDescriptor (bias)");
        }
        int n = 8;
        cudnnConvolutionFwdAlgoPerf_t perf = new cudnnConvolutionFwdAlgoPerf_t(n);
        int[] got = new int[1];
        check(cudnnFindConvolutionForwardAlgorithm(handle, xd, fd, cd, yd, n, got, perf),
                "cudnnFindConvolutionForwardAlgorithm " + s);
        for (int i = 0; i < got[0]; i++) { // sorted fastest first
            cudnnConvolutionFwdAlgoPerf_t r = perf.position(i);
            if (r.status() == CUDNN_STATUS_SUCCESS && r.mathType() == CUDNN_FMA_MATH) {
                return new Plan(xd, fd, cd, yd, bd, r.algo(), r.memory());
            }
        }
        throw new IllegalStateException("cuDNN has no fp32 (FMA math) forward algorithm for " + s + " on x "
                + Arrays.toString(x.shape()) + ", y " + Arrays.toString(y.shape()));
    }

    /** A packed NHWC descriptor of {@code t}'s shape (a channel view is staged through a packed copy). */
    private static cudnnTensorStruct tensor(Tensor t) {
        cudnnTensorStruct d = new cudnnTensorStruct();
        check(cudnnCreateTensorDescriptor(d), "cudnnCreateTensorDescriptor");
        check(cudnnSetTensor4dDescriptor(d, CUDNN_TENSOR_NHWC, CUDNN_DATA_FLOAT, t.dim(0), t.dim(3), t.dim(1),
                t.dim(2)), "cudnnSetTensor4dDescriptor " + Arrays.toString(t.shape()));
        return d;
    }

    /** The packed KRSC copy of {@code w}'s leading block on the device, made on first sight. */
    private DeviceBuffer filter(Tensor w, Conv2dSpec s) {
        String key = w.offset() + ":" + s.cOut() + "x" + s.cIn() / s.groups() + "x" + s.kh() + "x" + s.kw();
        Map<String, DeviceBuffer> m = filters.computeIfAbsent(w.data(), a -> new HashMap<>());
        DeviceBuffer b = m.get(key);
        if (b == null) {
            float[] packed = CudnnLayout.packFilter(w, s);
            b = DeviceBuffer.floats(rest.cuda(), packed.length).upload(packed);
            m.put(key, b);
        }
        return b;
    }

    private void ensureWorkspace(long bytes) {
        if (bytes <= workspaceBytes) {
            return;
        }
        if (workspace != null) {
            rest.synchronize();
            workspace.close();
        }
        workspace = new DeviceBuffer(rest.cuda(), bytes);
        workspaceBytes = bytes;
    }

    // ---- everything else: libmetaprune_cuda (resident), through ForwardingKernels ------------

    @Override
    public void conv2dBackwardInput(Tensor dy, Tensor w, Tensor dx, Conv2dSpec spec) {
        throw new UnsupportedOperationException("conv2dBackwardInput: the cudnn backend times inference only");
    }

    @Override
    public void conv2dBackwardWeight(Tensor x, Tensor dy, Tensor dw, Tensor dbias, Conv2dSpec spec,
                                     boolean accumulate) {
        throw new UnsupportedOperationException("conv2dBackwardWeight: the cudnn backend times inference only");
    }
}
