package dev.metaprune.nn.arch;

import dev.metaprune.nn.arch.Channels.MultiplierRule;
import dev.metaprune.nn.arch.Op.Activation.Function;
import dev.metaprune.nn.arch.Op.ConvKind;

/**
 * MobileNetV2 as MetaPruning runs it ({@code mobilenetv2/training/mobilenet_v2.py}): 3x3 stem, 17 inverted-residual
 * blocks (1x1 expand + BN + ReLU6, 3x3 depthwise + BN + ReLU6, 1x1 project + BN, residual add where the block's base
 * input and output widths agree), 1x1 conv to 1280 + BN + ReLU6, global average pooling, FC.
 *
 * <p>Base (maximum) widths are the official 1.4x ones: stem 44, block outputs 22, 33 x 2, 44 x 3, 88 x 4, 132 x 3,
 * 224 x 3, 448; block mids = expand ratio x base input (block 1: ratio 1, mid base 44, and unlike torchvision it keeps
 * its 1x1 expand conv; others: 6 x). The last 1x1 outputs 1280, fixed.
 *
 * <p>Gene: 35 positions. Positions 0-17: output widths of the stem (0) and of blocks 1..17 (1..17), tied per stage
 * ({@code stage_repeat = [1, 1, 2, 3, 4, 3, 3, 1]}: {0}, {1}, {2, 3}, {4, 5, 6}, {7..10}, {11..13}, {14..16}, {17}).
 * Positions 18-34: mid widths of blocks 1..17 (position 17 + j is block j's mid). This is the order of the official
 * search ({@code ids[:18]} overall, {@code ids[18:]} mid) and of {@code model_for_FLOPs.adapt_channel}.
 *
 * <p>Width multiplier: the paper's 1.0x widths (32, 16, 24, 32, 64, 96, 160, 320; mids = ratio x reference input) times
 * {@code m}, truncated; 1280 kept unless {@code m > 1}. So {@code m = 1.0} is the 1.0x network in this layout
 * (313.6 M multiply-adds), which no gene reaches exactly (160 and 320 are not {@code int(224 s)}, {@code int(448 s)}).
 */
final class MobileNetV2Family {
    static final int[] OUT_BASES = {44, 22, 33, 33, 44, 44, 44, 88, 88, 88, 88, 132, 132, 132, 224, 224, 224, 448};
    static final int[] OUT_REFS = {32, 16, 24, 24, 32, 32, 32, 64, 64, 64, 64, 96, 96, 96, 160, 160, 160, 320};
    static final int[] STAGE_REPEAT = {1, 1, 2, 3, 4, 3, 3, 1};
    static final int LAST = 1280;
    private static final int HIDDEN_BLOCK = 64, HIDDEN_END = 32;

    private MobileNetV2Family() {
    }

    /**
     * @param small       CIFAR-style: stem stride 1 and block 2 stride 1 (blocks 4, 7, 14 keep stride 2: input / 8)
     * @param torchvision the torchvision layout at 1.0x widths: block 1 has no expand conv (its depthwise runs on the
     *                    stem output), bases = references = 32, 16, 24, ...; gene 18 + 16 (no block-1 mid)
     */
    static Architecture build(String name, InputSpec in, boolean small, boolean torchvision) {
        int[] bases = torchvision ? OUT_REFS : OUT_BASES;
        ArchBuilder b = new ArchBuilder(name, in);
        Channels[] out = new Channels[bases.length];
        int pos = 0;
        for (int s = 0; s < STAGE_REPEAT.length; s++) {
            int leader = pos;
            for (int r = 0; r < STAGE_REPEAT[s]; r++, pos++) {
                out[pos] = b.gene(pos == 0 ? "stem.out" : "block" + pos + ".out", bases[pos], OUT_REFS[pos],
                        r == 0 ? -1 : leader);
            }
        }
        Channels[] mid = new Channels[bases.length];
        for (int i = 1; i < bases.length; i++) {
            if (i == 1 && torchvision) {
                mid[i] = out[0];
            } else {
                int ratio = i == 1 ? 1 : 6;
                mid[i] = b.gene("block" + i + ".mid", ratio * bases[i - 1], ratio * OUT_REFS[i - 1], -1);
            }
        }
        Channels last = b.fixed("last.out", LAST, MultiplierRule.FIXED_UNLESS_WIDER);

        int x = b.convBnAct("stem.conv", b.image(), ConvKind.GENERAL, out[0], 3, small ? 1 : 2, 1, HIDDEN_END, false,
                Function.RELU6, out[0]);
        for (int i = 1; i < bases.length; i++) {
            boolean down = bases[i - 1] != bases[i] && i != 1 && i != 11 && i != 17; // 22->33, 33->44, 44->88, 132->224
            int stride = down && !(small && i == 2) ? 2 : 1;
            Channels cin = out[i - 1], cm = mid[i], cout = out[i];
            String p = "block" + i;
            int blockIn = x;
            if (cm != cin) {
                x = b.convBnAct(p + ".expand", x, ConvKind.POINTWISE, cm, 1, 1, 0, HIDDEN_BLOCK, false, Function.RELU6,
                        cm, cin, cout);
            }
            x = b.conv(p + ".dw", x, ConvKind.DEPTHWISE, cm, 3, stride, 1, HIDDEN_BLOCK, cm, cin, cout);
            x = b.bn(p + ".dw.bn", x, false, cm);
            x = b.act(p + ".dw.relu6", x, Function.RELU6);
            x = b.convBnAct(p + ".project", x, ConvKind.POINTWISE, cout, 1, 1, 0, HIDDEN_BLOCK, false, null, cm, cin,
                    cout);
            if (bases[i - 1] == bases[i] && i > 1) { // official training code: residual iff base in == base out
                x = b.add(p + ".add", blockIn, x);
            }
        }
        x = b.conv("last.conv", x, ConvKind.POINTWISE, last, 1, 1, 0, HIDDEN_END, out[bases.length - 1]);
        x = b.bn("last.conv.bn", x, false, out[bases.length - 1]); // statistics keyed by the input width, as official
        x = b.act("last.conv.relu6", x, Function.RELU6);
        x = b.globalAvgPool("avgpool", x);
        b.linear("fc", x, in.classes());
        String desc;
        if (torchvision) {
            desc = "MobileNetV2, torchvision layout at 1.0x widths (32, 16, 24, 32, 64, 96, 160, 320, 1280; block 1"
                    + " without expand conv); for checking the 300.8 M figure. Gene 34 = 18 stage-tied outputs +"
                    + " 16 mids (blocks 2-17), bases = the 1.0x widths (not an official encoding).";
        } else if (small) {
            desc = "MobileNetV2 (MetaPruning layout, 1.4x bases), CIFAR-style: stem stride 1, block 2 stride 1"
                    + " (blocks 4, 7, 14 keep stride 2: input / 8, 32 -> 4x4). Gene 35 = 18 stage-tied outputs +"
                    + " 17 mids.";
        } else {
            desc = "MobileNetV2 (MetaPruning): stem 3x3/2, 17 inverted residuals (block 1 keeps a 1x1 expand, ratio 1),"
                    + " 1x1 to 1280 (fixed), ReLU6; base widths 1.4x (44, 22, 33, 44, 88, 132, 224, 448). Gene 35 ="
                    + " 18 stage-tied outputs (stem, blocks 1-17) + 17 mids (blocks 1-17). Width multiplier m"
                    + " scales the 1.0x widths (32, 16, 24, ...): m = 1.0 gives 313.6 M.";
        }
        return b.build(Architecture.Family.MOBILENET_V2, desc);
    }
}
