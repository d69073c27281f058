package dev.metaprune.nn.arch;

import java.util.List;

/**
 * One operation of an {@link Architecture}, in execution order. Operations read and write {@link Value}s by id (value
 * 0 is the input image): a network executor allocates one buffer per value (or reuses them: every value but a residual
 * branch's input dies at its single consumer) and runs the list front to back. Batch normalisation and activations are
 * separate operations so that an executor may fuse them into the preceding convolution or not.
 */
public sealed interface Op permits Op.Conv, Op.BatchNorm, Op.Activation, Op.Add, Op.MaxPool, Op.GlobalAvgPool,
        Op.Linear {

    /** A unique readable name, e.g. {@code "block3.dw"}, {@code "layer2.0.downsample"}. */
    String name();

    /** Ids of the values read. */
    List<Integer> inputs();

    /** Id of the value written. */
    int output();

    /** What kind of convolution: decides the kernel an executor picks. */
    enum ConvKind {
        /** 1x1, stride 1, no padding, groups 1: a GEMM. (The ResNet downsample 1x1 has stride 2 but is still this kind.) */
        POINTWISE,
        /** k x k with groups = channels; input and output are the same {@link Channels}. */
        DEPTHWISE,
        /** Dense k x k (stems, ResNet 3x3). */
        GENERAL
    }

    /**
     * A bias-free 2-D convolution (every conv in these families is followed by batch norm).
     *
     * @param in        input channel dimension (for a depthwise conv the same object as {@code out})
     * @param out       output channel dimension
     * @param generator the PruningNet generator that produces its weights
     */
    record Conv(String name, int input, int output, ConvKind kind, int kernel, int stride, int padding, Channels in,
                Channels out, GeneratorSpec generator) implements Op {
        public Conv {
            if (kind == ConvKind.DEPTHWISE && in != out) {
                throw new IllegalArgumentException(name + ": a depthwise conv maps a dimension onto itself");
            }
        }

        @Override
        public List<Integer> inputs() {
            return List.of(input);
        }

        /** Groups at a given input width: the width itself for depthwise, else 1. */
        public int groups(int inWidth) {
            return kind == ConvKind.DEPTHWISE ? inWidth : 1;
        }

        /** Shape of the full (maximum) weight: {@code [outBase, inBase / groups, k, k]}. */
        public int[] maxWeightShape() {
            int inPerGroup = kind == ConvKind.DEPTHWISE ? 1 : in.base();
            return new int[] {out.base(), inPerGroup, kernel, kernel};
        }
    }

    /**
     * Batch normalisation over {@code channels}. The retrained (stand-alone) network has the usual affine BN; the
     * PruningNet keeps one set of running statistics per width choice of {@code statsKey} (31 sets when it is a gene
     * dimension, one when fixed) and is affine only where {@code affineInPruningNet}.
     *
     * @param statsKey the dimension whose gene index picks the statistics set: the BN's own channels, except the
     *                 MobileNetV2 last 1x1 conv (1280 fixed) whose statistics the official code keys by its input
     *                 width
     */
    record BatchNorm(String name, int input, int output, Channels channels, boolean affineInPruningNet,
                     Channels statsKey) implements Op {
        @Override
        public List<Integer> inputs() {
            return List.of(input);
        }
    }

    /** Element-wise activation. */
    record Activation(String name, int input, int output, Function function) implements Op {
        public enum Function {
            RELU, RELU6
        }

        @Override
        public List<Integer> inputs() {
            return List.of(input);
        }
    }

    /** Residual addition {@code output = a + b}; both have the same width (stage-tied genes guarantee it). */
    record Add(String name, int a, int b, int output) implements Op {
        @Override
        public List<Integer> inputs() {
            return List.of(a, b);
        }
    }

    /** Max pooling (ResNet stem: 3x3, stride 2, padding 1). */
    record MaxPool(String name, int input, int output, int kernel, int stride, int padding) implements Op {
        @Override
        public List<Integer> inputs() {
            return List.of(input);
        }
    }

    /** Global average pooling to {@code [batch, channels]} (the official {@code AvgPool2d(7)} at 224 input). */
    record GlobalAvgPool(String name, int input, int output) implements Op {
        @Override
        public List<Integer> inputs() {
            return List.of(input);
        }
    }

    /** The classifier: {@code [batch, in] -> [batch, outFeatures]}, with bias; its own parameters (not generated). */
    record Linear(String name, int input, int output, Channels in, int outFeatures) implements Op {
        @Override
        public List<Integer> inputs() {
            return List.of(input);
        }
    }
}
