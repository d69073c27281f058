package dev.metaprune.nn.arch;

import dev.metaprune.nn.arch.Channels.MultiplierRule;
import dev.metaprune.nn.arch.Op.Activation.Function;
import dev.metaprune.nn.arch.Op.ConvKind;

/**
 * MobileNetV1 as MetaPruning runs it ({@code mobilenetv1/training/mobilenet_v1.py}): a 3x3 stem and 13
 * depthwise-separable blocks (3x3 depthwise + BN + ReLU, 1x1 pointwise + BN + ReLU), global average pooling, FC.
 *
 * <p>Output widths (base = 1.0x): stem 32, blocks 64, 128, 128, 256, 256, 512 x 6, 1024, 1024. Gene: 13 positions,
 * position {@code i} = output width of layer {@code i} (0 = stem, 1..12 = blocks 1..12); block 13's output (1024) is
 * fixed. Strides (ImageNet): stem 2, blocks 2, 4, 6 and 12 stride 2: 224 -> 7.
 *
 * <p>PruningNet: generators of hidden size 32, stem input {@code [out]}, block convs {@code [in, out]} (block 13:
 * {@code [in, 1.0]}); BN affine in the stem and depthwise convs, affine-free after pointwise convs.
 */
final class MobileNetV1Family {
    static final int[] BASES = {32, 64, 128, 128, 256, 256, 512, 512, 512, 512, 512, 512, 1024, 1024};
    private static final int HIDDEN = 32;

    private MobileNetV1Family() {
    }

    /**
     * @param small CIFAR-style: stem stride 1 and block 2 stride 1 (strides left at blocks 4, 6, 12: total /8, so 32 ->
     *              4 and 28 -> 4)
     */
    static Architecture build(String name, InputSpec in, boolean small) {
        ArchBuilder b = new ArchBuilder(name, in);
        Channels[] out = new Channels[BASES.length];
        for (int i = 0; i < BASES.length; i++) {
            String label = i == 0 ? "stem.out" : "block" + i + ".out";
            out[i] = i < BASES.length - 1 ? b.gene(label, BASES[i], BASES[i], -1)
                    : b.fixed(label, BASES[i], MultiplierRule.SCALED); // the paper's 0.5x scales the last 1024 too
        }
        int x = b.convBnAct("stem.conv", b.image(), ConvKind.GENERAL, out[0], 3, small ? 1 : 2, 1, HIDDEN, true,
                Function.RELU, out[0]);
        for (int i = 1; i < BASES.length; i++) {
            boolean down = BASES[i] != BASES[i - 1] && BASES[i] != 64;
            int stride = down && !(small && i == 2) ? 2 : 1;
            Channels cin = out[i - 1], cout = out[i];
            String p = "block" + i;
            x = b.conv(p + ".dw", x, ConvKind.DEPTHWISE, cin, 3, stride, 1, HIDDEN, cin, cout);
            x = b.bn(p + ".dw.bn", x, true, cin);
            x = b.act(p + ".dw.relu", x, Function.RELU);
            x = b.convBnAct(p + ".pw", x, ConvKind.POINTWISE, cout, 1, 1, 0, HIDDEN, false, Function.RELU, cin, cout);
        }
        x = b.globalAvgPool("avgpool", x);
        b.linear("fc", x, in.classes());
        String desc = small
                ? "MobileNetV1, CIFAR-style: stem 3x3 stride 1, block 2 stride 1 (blocks 4, 6, 12 keep stride 2:"
                        + " input / 8, 32 -> 4x4), 13 depthwise-separable blocks, widths 32..1024, ReLU."
                : "MobileNetV1 (MetaPruning): stem 3x3/2, 13 depthwise-separable blocks (stride 2 at 2, 4, 6, 12),"
                        + " widths 32, 64, 128x2, 256x2, 512x6, 1024x2, ReLU; gene = outputs of layers 0-12, last 1024"
                        + " fixed.";
        return b.build(Architecture.Family.MOBILENET_V1, desc);
    }
}
