package dev.metaprune.nn.arch;

import dev.metaprune.nn.arch.Op.Activation.Function;
import dev.metaprune.nn.arch.Op.ConvKind;

/**
 * The small CIFAR ResNets of He et al. 2016 (section 4.2), depth {@code 6n + 2}: ResNet-20 ({@code n = 3}) and
 * ResNet-56 ({@code n = 9}), the networks the L1-norm (Li et al. 2017) and Network Slimming papers prune on CIFAR. Stem
 * 3x3 conv 16 + BN + ReLU; three stages of {@code n} basic blocks (3x3 + BN + ReLU, 3x3 + BN, add, ReLU) at 16, 32 and
 * 64 channels, stride 2 on the first 3x3 of stages 2 and 3; global average pooling; FC.
 *
 * <p>Shortcuts: identity inside a stage; where the shape changes (the first block of stages 2 and 3) a 1x1 conv + BN
 * with stride 2, the paper's option B. The paper's CIFAR networks use option A (a parameter-free zero-padded identity);
 * B costs 0.26 M FLOPs and 2.7 k parameters more on ResNet-20 and lets a pruned stage keep any channel set.
 *
 * <p>Gene, {@code 3 + 3n} positions: 0 = the stem's output, which stage 1's identity shortcuts carry, so it is also
 * stage 1's output (base 16); 1, 2 = outputs of stages 2 and 3 (bases 32, 64; shared by every block of the stage);
 * then the mid width (first conv's output) of every block in order ({@code layer1.0} .. {@code layer3.<n-1>}), bases 16,
 * 32, 64. Every width is a gene position, so every dimension is prunable. A width multiplier scales every layer.
 */
final class ResNetCifarFamily {
    static final int[] STAGE_OUT = {16, 32, 64};
    private static final int HIDDEN = 32;

    private ResNetCifarFamily() {
    }

    /** @param n basic blocks per stage (depth {@code 6n + 2}) */
    static Architecture build(String name, InputSpec in, int n) {
        if (n < 1) {
            throw new IllegalArgumentException("blocks per stage must be positive, got " + n);
        }
        ArchBuilder b = new ArchBuilder(name, in);
        Channels[] stageOut = new Channels[STAGE_OUT.length];
        stageOut[0] = b.gene("stem.out", STAGE_OUT[0], STAGE_OUT[0], -1); // stage 1's output: its identities carry it
        for (int s = 1; s < STAGE_OUT.length; s++) {
            stageOut[s] = b.gene("layer" + (s + 1) + ".out", STAGE_OUT[s], STAGE_OUT[s], -1);
        }
        Channels[][] mid = new Channels[STAGE_OUT.length][n];
        for (int s = 0; s < STAGE_OUT.length; s++) {
            for (int r = 0; r < n; r++) {
                mid[s][r] = b.gene("layer" + (s + 1) + "." + r + ".mid", STAGE_OUT[s], STAGE_OUT[s], -1);
            }
        }
        Channels cin = stageOut[0];
        int x = b.convBnAct("stem.conv", b.image(), ConvKind.GENERAL, cin, 3, 1, 1, HIDDEN, false, Function.RELU, cin);
        for (int s = 0; s < STAGE_OUT.length; s++) {
            Channels cout = stageOut[s];
            for (int r = 0; r < n; r++) {
                String p = "layer" + (s + 1) + "." + r;
                int stride = r == 0 && s > 0 ? 2 : 1;
                Channels cm = mid[s][r];
                int y = b.convBnAct(p + ".conv1", x, ConvKind.GENERAL, cm, 3, stride, 1, HIDDEN, false, Function.RELU,
                        cm, cin, cout);
                y = b.convBnAct(p + ".conv2", y, ConvKind.GENERAL, cout, 3, 1, 1, HIDDEN, false, null, cm, cin, cout);
                x = b.residualEnd(p, x, y, cin != cout || stride != 1, cout, stride, HIDDEN, cm, cin, cout);
                cin = cout;
            }
        }
        x = b.globalAvgPool("avgpool", x);
        b.linear("fc", x, in.classes());
        String desc = "ResNet-" + (6 * n + 2) + " (He et al. 2016, CIFAR): stem 3x3 16, three stages of " + n
                + " basic blocks at 16, 32, 64 channels (stride 2 into stages 2 and 3: input / 4, 32 -> 8x8), 1x1"
                + " projection shortcuts where the shape changes. Gene " + (3 + 3 * n)
                + " = stem/stage-1 output, stage 2 and 3 outputs, " + 3 * n + " block mids.";
        return b.build(Architecture.Family.RESNET, desc);
    }
}
