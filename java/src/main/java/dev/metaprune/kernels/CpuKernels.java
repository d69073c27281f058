package dev.metaprune.kernels;

import static dev.metaprune.tensor.Shapes.requireRank;

import dev.metaprune.tensor.Tensor;
import java.util.Arrays;

/** The CPU backend: Vector API kernels on {@link Parallel}'s fixed pool. */
public final class CpuKernels implements Kernels {
    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public String describe() {
        return "cpu: " + Vec.describe() + ", " + Parallel.threadCount() + " thread(s), JDK "
                + Runtime.version();
    }

    // ---- GEMM / linear ----

    @Override
    public void gemm(boolean transA, boolean transB, float alpha, Tensor a, Tensor b, float beta, Tensor c) {
        requireRank("gemm", "a", a, 2);
        requireRank("gemm", "b", b, 2);
        requireRank("gemm", "c", c, 2);
        int m = transA ? a.dim(1) : a.dim(0), ka = transA ? a.dim(0) : a.dim(1);
        int kb = transB ? b.dim(1) : b.dim(0), n = transB ? b.dim(0) : b.dim(1);
        if (!(ka == kb && c.dim(0) == m && c.dim(1) == n)) {
            throw new IllegalArgumentException("gemm: op(a) is " + m + "x" + ka + ", op(b) is " + kb
                    + "x" + n + ", c is " + Arrays.toString(c.shape()) + ": shapes do not chain");
        }
        Gemm.sgemm(transA, transB, m, n, ka, alpha, a.data(), a.offset(), a.ld(), b.data(), b.offset(), b.ld(), beta,
                c.data(), c.offset(), c.ld());
    }

    @Override
    public void linearForward(Tensor x, Tensor w, Tensor bias, Tensor y) {
        Linear.forward(x, w, bias, y);
    }

    @Override
    public void linearBackwardInput(Tensor dy, Tensor w, Tensor dx) {
        Linear.backwardInput(dy, w, dx);
    }

    @Override
    public void linearBackwardParams(Tensor x, Tensor dy, Tensor dw, Tensor dbias, boolean accumulate) {
        Linear.backwardParams(x, dy, dw, dbias, accumulate);
    }

    // ---- convolution, BatchNorm, element-wise, pooling, loss, optimiser ----

    @Override
    public void conv2dForward(Tensor x, Tensor w, Tensor bias, Tensor y, Conv2dSpec spec) {
        Conv2d.forward(x, w, bias, y, spec);
    }

    @Override
    public void conv2dBackwardInput(Tensor dy, Tensor w, Tensor dx, Conv2dSpec spec) {
        Conv2d.backwardInput(dy, w, dx, spec);
    }

    @Override
    public void conv2dBackwardWeight(Tensor x, Tensor dy, Tensor dw, Tensor dbias, Conv2dSpec spec,
                                     boolean accumulate) {
        Conv2d.backwardWeight(x, dy, dw, dbias, spec, accumulate);
    }

    @Override
    public void batchNormTrainForward(Tensor x, Tensor gamma, Tensor beta, Tensor y, Tensor saveMean,
                                      Tensor saveInvStd, Tensor runMean, Tensor runVar, float averageFactor,
                                      float eps) {
        BatchNorm.trainForward(x, gamma, beta, y, saveMean, saveInvStd, runMean, runVar, averageFactor, eps);
    }

    @Override
    public void batchNormInferenceForward(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar,
                                          float eps, Tensor y) {
        BatchNorm.inferenceForward(x, gamma, beta, runMean, runVar, eps, y);
    }

    @Override
    public void batchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd, Tensor dx,
                                  Tensor dGamma, Tensor dBeta, boolean accumulate) {
        BatchNorm.backward(x, dy, gamma, saveMean, saveInvStd, dx, dGamma, dBeta, accumulate);
    }

    @Override
    public void relu(Tensor x, Tensor y) {
        Elementwise.relu(x, y);
    }

    @Override
    public void reluBackward(Tensor x, Tensor dy, Tensor dx) {
        Elementwise.reluBackward(x, dy, dx);
    }

    @Override
    public void relu6(Tensor x, Tensor y) {
        Elementwise.relu6(x, y);
    }

    @Override
    public void relu6Backward(Tensor x, Tensor dy, Tensor dx) {
        Elementwise.relu6Backward(x, dy, dx);
    }

    @Override
    public void add(Tensor a, Tensor b, Tensor y) {
        Elementwise.add(a, b, y);
    }

    @Override
    public void maxPoolForward(Tensor x, Tensor y, int[] argmax, int k, int stride, int pad) {
        Pooling.maxPoolForward(x, y, argmax, k, stride, pad);
    }

    @Override
    public void maxPoolBackward(Tensor dy, int[] argmax, Tensor dx) {
        Pooling.maxPoolBackward(dy, argmax, dx);
    }

    @Override
    public void globalAvgPoolForward(Tensor x, Tensor y) {
        Pooling.globalAvgPoolForward(x, y);
    }

    @Override
    public void globalAvgPoolBackward(Tensor dy, Tensor dx) {
        Pooling.globalAvgPoolBackward(dy, dx);
    }

    @Override
    public float softmaxCrossEntropy(Tensor logits, int[] labels, float smoothing, Tensor dLogits) {
        return Loss.softmaxCrossEntropy(logits, labels, smoothing, dLogits);
    }

    @Override
    public int countTopK(Tensor logits, int[] labels, int k) {
        return Loss.countTopK(logits, labels, k);
    }

    @Override
    public void sgdStep(Tensor param, Tensor grad, Tensor momentumBuf, float lr, float momentum, float weightDecay,
                        boolean nesterov) {
        SgdKernel.step(param, grad, momentumBuf, lr, momentum, weightDecay, nesterov);
    }

    @Override
    public void generatorHidden(Tensor w1, Tensor b1, Tensor enc, Tensor pre, Tensor h) {
        GeneratorKernel.hidden(w1, b1, enc, pre, h);
    }

    @Override
    public void generatorForward(Tensor w2, Tensor b2, Tensor h, int co, int ci, Tensor out) {
        GeneratorKernel.forward(w2, b2, h, co, ci, out);
    }

    @Override
    public void generatorBackwardStep(Tensor w2, Tensor b2, Tensor mw2, Tensor mb2, Tensor h, Tensor dOut, int co,
                                      int ci, Tensor dh, float lr, float momentum, float weightDecay, boolean nesterov) {
        GeneratorKernel.backwardStep(w2, b2, mw2, mb2, h, dOut, co, ci, dh, lr, momentum, weightDecay, nesterov);
    }

    @Override
    public void generatorHiddenBackwardStep(Tensor w1, Tensor b1, Tensor mw1, Tensor mb1, Tensor enc, Tensor pre,
                                            Tensor dh, float lr, float momentum, float weightDecay, boolean nesterov) {
        GeneratorKernel.hiddenBackwardStep(w1, b1, mw1, mb1, enc, pre, dh, lr, momentum, weightDecay, nesterov);
    }
}
