package dev.metaprune.nn.arch;

import dev.metaprune.nn.arch.Channels.MultiplierRule;
import dev.metaprune.nn.arch.Op.Activation.Function;
import dev.metaprune.nn.arch.Op.ConvKind;

/**
 * ResNet-50 as MetaPruning runs it ({@code resnet/training/resnet.py}, {@code resnet/searching/model_for_FLOPs.py}):
 * stem 7x7/2 + BN + ReLU + max-pool 3x3/2, four stages of bottlenecks (3, 4, 6, 3 blocks; 1x1 + BN + ReLU, 3x3 + BN +
 * ReLU, 1x1 + BN, add, ReLU), global average pooling, FC. The stride sits on the 3x3 conv (torchvision's "v1.5", which
 * the official code uses); the first block of each stage has a 1x1 downsample conv + BN (stride 2 in stages 2-4).
 *
 * <p>Widths: stem 64; stage outputs 256, 512, 1024, 2048; block mids = stage output / 4. Gene: 20 positions: 0 = stem
 * output, 1-3 = outputs of stages 1-3 (one per stage: every block of a stage shares it), 4-19 = mid widths of the 16
 * blocks in order ({@code layer1.0} .. {@code layer4.2}). Stage 4's output (2048) is fixed.
 *
 * <p>Width multiplier: every width times {@code m}, 2048 included (the README's uniform baselines: 0.75x = 2.3 G,
 * 0.5x = 1.1 G reproduce only so).
 */
final class ResNet50Family {
    static final int[] STAGE_REPEAT = {3, 4, 6, 3};
    static final int[] STAGE_OUT = {256, 512, 1024, 2048};
    static final int STEM = 64;
    private static final int HIDDEN = 32;

    private ResNet50Family() {
    }

    /** @param small CIFAR-style: stem 3x3 stride 1, no max-pool (stages 2-4 keep stride 2: input / 8, 32 -> 4x4) */
    static Architecture build(String name, InputSpec in, boolean small) {
        ArchBuilder b = new ArchBuilder(name, in);
        Channels stem = b.gene("stem.out", STEM, STEM, -1);
        Channels[] stageOut = new Channels[STAGE_OUT.length];
        for (int s = 0; s < STAGE_OUT.length; s++) {
            String label = "layer" + (s + 1) + ".out";
            stageOut[s] = s < STAGE_OUT.length - 1 ? b.gene(label, STAGE_OUT[s], STAGE_OUT[s], -1)
                    : b.fixed(label, STAGE_OUT[s], MultiplierRule.SCALED);
        }
        Channels[][] mid = new Channels[STAGE_OUT.length][];
        for (int s = 0; s < STAGE_OUT.length; s++) {
            mid[s] = new Channels[STAGE_REPEAT[s]];
            for (int r = 0; r < STAGE_REPEAT[s]; r++) {
                mid[s][r] = b.gene("layer" + (s + 1) + "." + r + ".mid", STAGE_OUT[s] / 4, STAGE_OUT[s] / 4, -1);
            }
        }

        int x;
        if (small) {
            x = b.convBnAct("stem.conv", b.image(), ConvKind.GENERAL, stem, 3, 1, 1, HIDDEN, false, Function.RELU, stem);
        } else {
            x = b.convBnAct("stem.conv", b.image(), ConvKind.GENERAL, stem, 7, 2, 3, HIDDEN, false, Function.RELU, stem);
            x = b.maxPool("stem.maxpool", x, 3, 2, 1);
        }
        Channels cin = stem;
        for (int s = 0; s < STAGE_OUT.length; s++) {
            Channels cout = stageOut[s];
            for (int r = 0; r < STAGE_REPEAT[s]; r++) {
                String p = "layer" + (s + 1) + "." + r;
                int stride = r == 0 && s > 0 ? 2 : 1;
                Channels cm = mid[s][r];
                int y = b.convBnAct(p + ".conv1", x, ConvKind.POINTWISE, cm, 1, 1, 0, HIDDEN, false, Function.RELU,
                        cm, cin, cout);
                y = b.convBnAct(p + ".conv2", y, ConvKind.GENERAL, cm, 3, stride, 1, HIDDEN, false, Function.RELU,
                        cm, cin, cout);
                y = b.convBnAct(p + ".conv3", y, ConvKind.POINTWISE, cout, 1, 1, 0, HIDDEN, false, null, cm, cin, cout);
                x = b.residualEnd(p, x, y, r == 0, cout, stride, HIDDEN, cm, cin, cout);
                cin = cout;
            }
        }
        x = b.globalAvgPool("avgpool", x);
        b.linear("fc", x, in.classes());
        String desc = small
                ? "ResNet-50, CIFAR-style: stem 3x3 stride 1, no max-pool, bottlenecks 3-4-6-3 (stride 2 on the 3x3 of"
                        + " stages 2-4: input / 8, 32 -> 4x4). Gene 20 = stem, stage outputs 1-3, 16 block mids;"
                        + " 2048 fixed."
                : "ResNet-50 (MetaPruning, torchvision v1.5 strides): stem 7x7/2 + max-pool, bottlenecks 3-4-6-3,"
                        + " widths 64, 256, 512, 1024, 2048, mids = out / 4. Gene 20 = stem, stage outputs 1-3,"
                        + " 16 block mids; stage-4 output 2048 fixed.";
        return b.build(Architecture.Family.RESNET, desc);
    }
}
