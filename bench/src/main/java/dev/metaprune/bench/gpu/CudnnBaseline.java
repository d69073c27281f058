package dev.metaprune.bench.gpu;

import static org.bytedeco.cuda.global.cudart.*;
import static org.bytedeco.cuda.global.cudnn.*;

import dev.metaprune.cuda.Cuda;
import dev.metaprune.cuda.ffm.MetaPruneNative;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Locale;
import java.util.Random;
import org.bytedeco.cuda.cudart.CUevent_st;
import org.bytedeco.cuda.cudart.cudaDeviceProp;
import org.bytedeco.cuda.cudnn.cudnnContext;
import org.bytedeco.cuda.cudnn.cudnnConvolutionBwdDataAlgoPerf_t;
import org.bytedeco.cuda.cudnn.cudnnConvolutionFwdAlgoPerf_t;
import org.bytedeco.cuda.cudnn.cudnnConvolutionStruct;
import org.bytedeco.cuda.cudnn.cudnnFilterStruct;
import org.bytedeco.cuda.cudnn.cudnnTensorStruct;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.SizeTPointer;

/**
 * The Java-side cuDNN baseline (issue 7, item 5): JavaCPP's CUDA presets ({@code org.bytedeco:cuda}) for the
 * device query, CUDA events and cuDNN's depthwise convolution (forward and input gradient, NHWC fp32, FMA math
 * only, i.e. no TF32), beside libmetaprune_cuda's kernels called through the FFM bindings on the same device
 * buffers (one process, one primary context). Every row also checks our output against cuDNN's.
 *
 * <p>Run on a GPU machine with libcudart.so.13 and libcudnn.so.9 on the library path:
 * {@code java -cp metaprune.jar:javacpp.jar:cuda.jar:cuda-linux-x86_64.jar dev.metaprune.bench.gpu.CudnnBaseline}.
 * Times: CUDA events around 20 launches, median of 7 groups, rotating among input sets that together exceed
 * the L2 cache (as {@code bench/gpu/kernels_bench.py} does).
 */
public final class CudnnBaseline {
    private static final int N = 32;
    private static final int[][] SHAPES = { // c, hw, stride
        {32, 112, 1}, {96, 112, 2}, {144, 56, 1}, {144, 56, 2}, {192, 28, 1}, {192, 28, 2}, {384, 14, 1},
        {576, 14, 1}, {576, 14, 2}, {960, 7, 1}};

    private CudnnBaseline() {}

    static void rt(int st, String what) {
        if (st != 0) throw new IllegalStateException(what + ": " + cudaGetErrorString(st).getString());
    }

    static void dnn(int st, String what) {
        if (st != 0) throw new IllegalStateException(what + ": " + cudnnGetErrorString(st).getString());
    }

    static Pointer alloc(long floats) {
        Pointer p = new Pointer();
        rt(cudaMalloc(p, floats * 4), "cudaMalloc");
        return p;
    }

    static Pointer upload(float[] a) {
        Pointer p = alloc(a.length);
        rt(cudaMemcpy(p, new FloatPointer(a), (long) a.length * 4, cudaMemcpyHostToDevice), "cudaMemcpy");
        return p;
    }

    static float[] download(Pointer p, int n) {
        FloatPointer h = new FloatPointer(n);
        rt(cudaMemcpy(h, p, (long) n * 4, cudaMemcpyDeviceToHost), "cudaMemcpy");
        float[] a = new float[n];
        h.get(a);
        h.close();
        return a;
    }

    static MemorySegment seg(Pointer p) {
        return MemorySegment.ofAddress(p.address());
    }

    static float[] random(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
        return a;
    }

    static double rel(float[] a, float[] b) {
        double num = 0, den = 0;
        for (int i = 0; i < a.length; i++) {
            double d = (double) a[i] - b[i];
            num += d * d;
            den += (double) b[i] * b[i];
        }
        return Math.sqrt(num / den);
    }

    /** Median over 7 groups of 20 launches of the per-launch time in ms. */
    static double time(CUevent_st a, CUevent_st b, java.util.function.IntConsumer f, int sets) {
        for (int i = 0; i < sets; i++) f.accept(i);
        rt(cudaDeviceSynchronize(), "sync");
        double[] t = new double[7];
        float[] ms = new float[1];
        for (int g = 0; g < 7; g++) {
            rt(cudaEventRecord(a, null), "record");
            for (int i = 0; i < 20; i++) f.accept(i % sets);
            rt(cudaEventRecord(b, null), "record");
            rt(cudaEventSynchronize(b), "sync");
            rt(cudaEventElapsedTime(ms, a, b), "elapsed");
            t[g] = ms[0] / 20.0;
        }
        Arrays.sort(t);
        return t[3];
    }

    public static void main(String[] args) {
        try {
            run();
        } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
            // no driver (libcuda.so.1), no libcudart.so.13 / libcudnn.so.9 on the library path, or a JNI library
            // missing from the class path: say so in one line (JavaCPP throws the first, then the second)
            System.out.println("CUDA / cuDNN through JavaCPP unavailable: " + e);
            System.exit(2);
        }
    }

    static void run() {
        // device query through JavaCPP's cudart
        int[] count = new int[1];
        rt(cudaGetDeviceCount(count), "cudaGetDeviceCount");
        int[] drv = new int[1], rtv = new int[1];
        rt(cudaDriverGetVersion(drv), "cudaDriverGetVersion");
        rt(cudaRuntimeGetVersion(rtv), "cudaRuntimeGetVersion");
        cudaDeviceProp prop = new cudaDeviceProp();
        rt(cudaGetDeviceProperties(prop, 0), "cudaGetDeviceProperties");
        System.out.printf(Locale.ROOT, "devices %d: %s, sm_%d%d, %d SMs, %.1f GiB, L2 %d MB, bus %d bit; driver %d, "
                        + "runtime %d (JavaCPP cudart), cuDNN %d%n", count[0], prop.name().getString(), prop.major(),
                prop.minor(), prop.multiProcessorCount(), prop.totalGlobalMem() / (double) (1L << 30),
                prop.l2CacheSize() >> 20, prop.memoryBusWidth(), drv[0], rtv[0], cudnnGetVersion());
        MetaPruneNative lib = Cuda.get().lib();
        System.out.println("libmetaprune_cuda: " + Cuda.get().device());

        cudnnContext h = new cudnnContext();
        dnn(cudnnCreate(h), "cudnnCreate");
        CUevent_st e0 = new CUevent_st(), e1 = new CUevent_st();
        rt(cudaEventCreate(e0), "event");
        rt(cudaEventCreate(e1), "event");
        Random rnd = new Random(7);
        double sumOurs = 0, sumDnn = 0, sumOursBi = 0, sumDnnBi = 0;
        System.out.println("layer | ours fwd ms | cuDNN fwd ms | cuDNN/ours | ours dgrad ms | cuDNN dgrad ms | err fwd | err dgrad | cuDNN algos");
        for (int[] sh : SHAPES) {
            int c = sh[0], hw = sh[1], s = sh[2], ho = (hw + 2 - 3) / s + 1;
            int nx = N * hw * hw * c, ny = N * ho * ho * c;
            int sets = (int) Math.max(1, Math.min(8, 120e6 / ((nx + ny) * 4.0)));
            Pointer[] xs = new Pointer[sets], ys = new Pointer[sets], rs = new Pointer[sets];
            Pointer[] dys = new Pointer[sets], dxs = new Pointer[sets], rdxs = new Pointer[sets];
            for (int i = 0; i < sets; i++) {
                xs[i] = upload(random(rnd, nx));
                dys[i] = upload(random(rnd, ny));
                ys[i] = alloc(ny);
                rs[i] = alloc(ny);
                dxs[i] = alloc(nx);
                rdxs[i] = alloc(nx);
            }
            Pointer w = upload(random(rnd, c * 9));
            cudnnTensorStruct xd = new cudnnTensorStruct(), yd = new cudnnTensorStruct();
            cudnnFilterStruct fd = new cudnnFilterStruct();
            cudnnConvolutionStruct cd = new cudnnConvolutionStruct();
            dnn(cudnnCreateTensorDescriptor(xd), "desc");
            dnn(cudnnCreateTensorDescriptor(yd), "desc");
            dnn(cudnnCreateFilterDescriptor(fd), "desc");
            dnn(cudnnCreateConvolutionDescriptor(cd), "desc");
            dnn(cudnnSetTensor4dDescriptor(xd, CUDNN_TENSOR_NHWC, CUDNN_DATA_FLOAT, N, c, hw, hw), "x desc");
            dnn(cudnnSetTensor4dDescriptor(yd, CUDNN_TENSOR_NHWC, CUDNN_DATA_FLOAT, N, c, ho, ho), "y desc");
            // [c, 1, 3, 3]: KRSC and KCRS are the same memory with one input channel per group
            dnn(cudnnSetFilter4dDescriptor(fd, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NHWC, c, 1, 3, 3), "w desc");
            dnn(cudnnSetConvolution2dDescriptor(cd, 1, 1, s, s, 1, 1, CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT), "conv");
            dnn(cudnnSetConvolutionGroupCount(cd, c), "groups");
            dnn(cudnnSetConvolutionMathType(cd, CUDNN_FMA_MATH), "math");
            cudnnConvolutionFwdAlgoPerf_t fp = new cudnnConvolutionFwdAlgoPerf_t(8);
            int[] got = new int[1];
            dnn(cudnnFindConvolutionForwardAlgorithm(h, xd, fd, cd, yd, 8, got, fp), "find fwd");
            int fAlgo = fp.position(0).algo();
            cudnnConvolutionBwdDataAlgoPerf_t bp = new cudnnConvolutionBwdDataAlgoPerf_t(8);
            dnn(cudnnFindConvolutionBackwardDataAlgorithm(h, fd, yd, cd, xd, 8, got, bp), "find bwd data");
            int bAlgo = bp.position(0).algo();
            SizeTPointer ws = new SizeTPointer(1);
            dnn(cudnnGetConvolutionForwardWorkspaceSize(h, xd, fd, cd, yd, fAlgo, ws), "ws");
            long wsF = ws.get();
            dnn(cudnnGetConvolutionBackwardDataWorkspaceSize(h, fd, yd, cd, xd, bAlgo, ws), "ws");
            long wsB = ws.get();
            long wsBytes = Math.max(4, Math.max(wsF, wsB));
            Pointer work = alloc((wsBytes + 3) / 4);
            FloatPointer one = new FloatPointer(1f), zero = new FloatPointer(0f);
            MemorySegment wSeg = seg(w);
            java.util.function.IntConsumer ours = i -> Cuda.check(lib, lib.mp_depthwise_forward(MemorySegment.NULL, N,
                    hw, hw, c, seg(xs[i]), c, wSeg, 3, s, 1, MemorySegment.NULL, seg(ys[i]), ho, ho, c), "dw fwd");
            java.util.function.IntConsumer ref = i -> dnn(cudnnConvolutionForward(h, one, xd, xs[i], fd, w, cd, fAlgo,
                    work, wsBytes, zero, yd, rs[i]), "cudnnConvolutionForward");
            java.util.function.IntConsumer oursBi = i -> Cuda.check(lib, lib.mp_depthwise_backward_input(
                    MemorySegment.NULL, N, hw, hw, c, seg(dys[i]), c, wSeg, 3, s, 1, seg(dxs[i]), ho, ho, c), "dw bi");
            java.util.function.IntConsumer refBi = i -> dnn(cudnnConvolutionBackwardData(h, one, fd, w, yd, dys[i], cd,
                    bAlgo, work, wsBytes, zero, xd, rdxs[i]), "cudnnConvolutionBackwardData");
            double tOurs = time(e0, e1, ours, sets), tRef = time(e0, e1, ref, sets);
            double tOursBi = time(e0, e1, oursBi, sets), tRefBi = time(e0, e1, refBi, sets);
            ours.accept(0);
            ref.accept(0);
            oursBi.accept(0);
            refBi.accept(0);
            rt(cudaDeviceSynchronize(), "sync");
            double err = rel(download(ys[0], ny), download(rs[0], ny));
            double errBi = rel(download(dxs[0], nx), download(rdxs[0], nx));
            sumOurs += tOurs;
            sumDnn += tRef;
            sumOursBi += tOursBi;
            sumDnnBi += tRefBi;
            System.out.printf(Locale.ROOT, "c%d %dx%d s%d | %.4f | %.4f | %.2f | %.4f | %.4f | %.1e | %.1e | fwd %d, bwd-data %d%n",
                    c, hw, hw, s, tOurs, tRef, tRef / tOurs, tOursBi, tRefBi, err, errBi, fAlgo, bAlgo);
            for (Pointer[] ps : new Pointer[][] {xs, ys, rs, dys, dxs, rdxs}) for (Pointer p : ps) cudaFree(p);
            cudaFree(w);
            cudaFree(work);
            cudnnDestroyTensorDescriptor(xd);
            cudnnDestroyTensorDescriptor(yd);
            cudnnDestroyFilterDescriptor(fd);
            cudnnDestroyConvolutionDescriptor(cd);
        }
        System.out.printf(Locale.ROOT, "sum | %.4f | %.4f | %.2f | %.4f | %.4f%n", sumOurs, sumDnn, sumDnn / sumOurs,
                sumOursBi, sumDnnBi);
        cudnnDestroy(h);
    }
}
