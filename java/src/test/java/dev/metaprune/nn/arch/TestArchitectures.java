package dev.metaprune.nn.arch;

import dev.metaprune.nn.arch.Op.Activation.Function;
import dev.metaprune.nn.arch.Op.ConvKind;

/** Small architectures for tests: the real families' PruningNets have 10^8 generator parameters. */
public final class TestArchitectures {
    private TestArchitectures() {
    }

    /**
     * "toy": a MobileNetV1-style net with three gene positions (bases 16, 24, 32; 31 scales each):
     * stem 3x3, two depthwise-separable blocks (the second stride 2), average pool, classifier;
     * generators with 8 hidden units. About 60 k generator parameters.
     */
    public static Architecture toy(InputSpec in) {
        ArchBuilder b = new ArchBuilder("toy", in);
        Channels c0 = b.gene("stem.out", 16, 16, -1);
        Channels c1 = b.gene("block1.out", 24, 24, -1);
        Channels c2 = b.gene("block2.out", 32, 32, -1);
        int x = b.convBnAct("stem.conv", b.image(), ConvKind.GENERAL, c0, 3, 1, 1, 8, true, Function.RELU, c0);
        x = b.conv("block1.dw", x, ConvKind.DEPTHWISE, c0, 3, 1, 1, 8, c0, c1);
        x = b.bn("block1.dw.bn", x, true, c0);
        x = b.act("block1.dw.relu", x, Function.RELU);
        x = b.convBnAct("block1.pw", x, ConvKind.POINTWISE, c1, 1, 1, 0, 8, false, Function.RELU6, c0, c1);
        x = b.conv("block2.dw", x, ConvKind.DEPTHWISE, c1, 3, 2, 1, 8, c1, c2);
        x = b.bn("block2.dw.bn", x, true, c1);
        x = b.act("block2.dw.relu", x, Function.RELU);
        x = b.convBnAct("block2.pw", x, ConvKind.POINTWISE, c2, 1, 1, 0, 8, false, Function.RELU, c1, c2);
        x = b.globalAvgPool("avgpool", x);
        b.linear("fc", x, in.classes());
        return b.build(Architecture.Family.MOBILENET_V1, "test architecture");
    }

    /**
     * "toy-residual": a ResNet-style net with max pooling and residual adds (one identity shortcut, one projected),
     * three gene positions (bases 16, 24, 32), generators with 8 hidden units: the ops "toy" lacks.
     */
    public static Architecture toyResidual(InputSpec in) {
        ArchBuilder b = new ArchBuilder("toy-residual", in);
        Channels c0 = b.gene("stem.out", 16, 16, -1);
        Channels c1 = b.gene("block1.mid", 24, 24, -1);
        Channels c2 = b.gene("block2.out", 32, 32, -1);
        int x = b.convBnAct("stem.conv", b.image(), ConvKind.GENERAL, c0, 3, 1, 1, 8, true, Function.RELU, c0);
        x = b.maxPool("stem.maxpool", x, 3, 2, 1);
        int y = b.convBnAct("block1.conv1", x, ConvKind.POINTWISE, c1, 1, 1, 0, 8, true, Function.RELU, c0, c1);
        y = b.convBnAct("block1.conv2", y, ConvKind.GENERAL, c0, 3, 1, 1, 8, true, null, c1, c0);
        x = b.residualEnd("block1", x, y, false, c0, 1, 8);
        y = b.convBnAct("block2.conv1", x, ConvKind.GENERAL, c2, 3, 2, 1, 8, true, Function.RELU, c0, c2);
        y = b.convBnAct("block2.conv2", y, ConvKind.POINTWISE, c2, 1, 1, 0, 8, true, null, c2, c2);
        x = b.residualEnd("block2", x, y, true, c2, 2, 8, c0, c2);
        x = b.globalAvgPool("avgpool", x);
        b.linear("fc", x, in.classes());
        return b.build(Architecture.Family.RESNET, "test architecture with max pooling and residual adds");
    }
}
