package dev.metaprune.cudnn;

import dev.metaprune.kernels.Conv2dSpec;
import dev.metaprune.tensor.Tensor;

/**
 * How MetaPrune's tensors map onto cuDNN's descriptors (pure Java; no CUDA needed to use or test it).
 *
 * <ul>
 *   <li>Activations are NHWC with rows (pixels) {@code ld} floats apart; a packed one ({@code ld == C}, {@link
 *       #packed}) is a {@code CUDNN_TENSOR_NHWC} descriptor as it is, a channel view ({@code ld > C}) is staged
 *       through a packed copy by {@link CudnnKernels}.</li>
 *   <li>Weights are OIHW {@code [cOutMax, cInMax/groups, kh, kw]} and a sliced convolution uses the leading
 *       {@code [cOut, cIn/groups]} block in place. cuDNN's filter descriptors describe packed filters only, so the
 *       block is packed into KRSC ({@code CUDNN_TENSOR_NHWC} filter format, matching the NHWC activations):
 *       {@link #packFilter}.</li>
 * </ul>
 */
public final class CudnnLayout {
    private CudnnLayout() {
    }

    /** Whether {@code x} is packed NHWC (its rows exactly {@code C} floats apart). */
    public static boolean packed(Tensor x) {
        return x.ld() == x.dim(3);
    }

    /**
     * The leading {@code [cOut, cIn/groups, kh, kw]} block of an OIHW weight {@code w}, packed as KRSC
     * ({@code [cOut][kh][kw][cIn/groups]}): what a {@code CUDNN_TENSOR_NHWC} filter descriptor of
     * {@code (cOut, cIn/groups, kh, kw)} reads.
     */
    public static float[] packFilter(Tensor w, Conv2dSpec s) {
        int cinG = s.cIn() / s.groups(), kh = s.kh(), kw = s.kw(), cout = s.cOut();
        if (!(w.rank() == 4 && w.dim(0) >= cout && w.dim(1) >= cinG && w.dim(2) == kh && w.dim(3) == kw
                && w.isContiguous())) {
            throw new IllegalArgumentException("weight " + java.util.Arrays.toString(w.shape()) + " does not hold "
                    + s);
        }
        int inMax = w.dim(1);
        float[] src = w.data();
        int base = w.offset();
        float[] out = new float[cout * kh * kw * cinG];
        int o = 0;
        for (int k = 0; k < cout; k++) {
            for (int r = 0; r < kh; r++) {
                for (int c = 0; c < kw; c++) {
                    int at = base + ((k * inMax) * kh + r) * kw + c;
                    for (int i = 0; i < cinG; i++) {
                        out[o++] = src[at + i * kh * kw];
                    }
                }
            }
        }
        return out;
    }

    /** A key naming a convolution's shapes: equal keys share one cuDNN plan (packed descriptors, algorithm). */
    static String planKey(Tensor x, Tensor y, Conv2dSpec s, boolean bias) {
        return x.dim(0) + "x" + x.dim(1) + "x" + x.dim(2) + "x" + x.dim(3) + " -> " + y.dim(1) + "x" + y.dim(2) + "x"
                + y.dim(3) + " " + s + (bias ? " +b" : "");
    }
}
