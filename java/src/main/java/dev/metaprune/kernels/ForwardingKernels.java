package dev.metaprune.kernels;

import dev.metaprune.tensor.Tensor;

/**
 * A {@link Kernels} that passes every call to another backend: extend it and override the operations a new backend
 * does differently (the {@code metaprune-cudnn} module's backend overrides the convolution forward and sends the rest
 * to the CUDA backend), or wrap a backend to count or trace its calls.
 */
public abstract class ForwardingKernels implements Kernels {
    private final Kernels delegate;

    protected ForwardingKernels(Kernels delegate) {
        this.delegate = java.util.Objects.requireNonNull(delegate, "delegate");
    }

    /** The backend the calls go to. */
    protected Kernels delegate() {
        return delegate;
    }

    @Override
    public String name() {
        return delegate.name();
    }

    @Override
    public String describe() {
        return delegate.describe();
    }

    @Override
    public void synchronize() {
        delegate.synchronize();
    }

    @Override
    public void releaseDeviceCopies() {
        delegate.releaseDeviceCopies();
    }

    @Override
    public void toHost(Tensor... ts) {
        delegate.toHost(ts);
    }

    @Override
    public void hostChanged(Tensor... ts) {
        delegate.hostChanged(ts);
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        delegate.copy(src, dst);
    }

    @Override
    public void zero(Tensor t) {
        delegate.zero(t);
    }

    @Override
    public void gemm(boolean transA, boolean transB, float alpha, Tensor a, Tensor b, float beta, Tensor c) {
        delegate.gemm(transA, transB, alpha, a, b, beta, c);
    }

    @Override
    public void linearForward(Tensor x, Tensor w, Tensor bias, Tensor y) {
        delegate.linearForward(x, w, bias, y);
    }

    @Override
    public void linearBackwardInput(Tensor dy, Tensor w, Tensor dx) {
        delegate.linearBackwardInput(dy, w, dx);
    }

    @Override
    public void linearBackwardParams(Tensor x, Tensor dy, Tensor dw, Tensor dbias, boolean accumulate) {
        delegate.linearBackwardParams(x, dy, dw, dbias, accumulate);
    }

    @Override
    public void conv2dForward(Tensor x, Tensor w, Tensor bias, Tensor y, Conv2dSpec spec) {
        delegate.conv2dForward(x, w, bias, y, spec);
    }

    @Override
    public void conv2dBackwardInput(Tensor dy, Tensor w, Tensor dx, Conv2dSpec spec) {
        delegate.conv2dBackwardInput(dy, w, dx, spec);
    }

    @Override
    public void conv2dBackwardWeight(Tensor x, Tensor dy, Tensor dw, Tensor dbias, Conv2dSpec spec,
                                     boolean accumulate) {
        delegate.conv2dBackwardWeight(x, dy, dw, dbias, spec, accumulate);
    }

    @Override
    public void batchNormTrainForward(Tensor x, Tensor gamma, Tensor beta, Tensor y, Tensor saveMean,
                                      Tensor saveInvStd, Tensor runMean, Tensor runVar, float averageFactor, float eps) {
        delegate.batchNormTrainForward(x, gamma, beta, y, saveMean, saveInvStd, runMean, runVar, averageFactor, eps);
    }

    @Override
    public void batchNormInferenceForward(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar,
                                          float eps, Tensor y) {
        delegate.batchNormInferenceForward(x, gamma, beta, runMean, runVar, eps, y);
    }

    @Override
    public void batchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd, Tensor dx,
                                  Tensor dGamma, Tensor dBeta, boolean accumulate) {
        delegate.batchNormBackward(x, dy, gamma, saveMean, saveInvStd, dx, dGamma, dBeta, accumulate);
    }

    @Override
    public void relu(Tensor x, Tensor y) {
        delegate.relu(x, y);
    }

    @Override
    public void reluBackward(Tensor x, Tensor dy, Tensor dx) {
        delegate.reluBackward(x, dy, dx);
    }

    @Override
    public void relu6(Tensor x, Tensor y) {
        delegate.relu6(x, y);
    }

    @Override
    public void relu6Backward(Tensor x, Tensor dy, Tensor dx) {
        delegate.relu6Backward(x, dy, dx);
    }

    @Override
    public void add(Tensor a, Tensor b, Tensor y) {
        delegate.add(a, b, y);
    }

    @Override
    public void maxPoolForward(Tensor x, Tensor y, int[] argmax, int k, int stride, int pad) {
        delegate.maxPoolForward(x, y, argmax, k, stride, pad);
    }

    @Override
    public void maxPoolBackward(Tensor dy, int[] argmax, Tensor dx) {
        delegate.maxPoolBackward(dy, argmax, dx);
    }

    @Override
    public void globalAvgPoolForward(Tensor x, Tensor y) {
        delegate.globalAvgPoolForward(x, y);
    }

    @Override
    public void globalAvgPoolBackward(Tensor dy, Tensor dx) {
        delegate.globalAvgPoolBackward(dy, dx);
    }

    @Override
    public float softmaxCrossEntropy(Tensor logits, int[] labels, float smoothing, Tensor dLogits) {
        return delegate.softmaxCrossEntropy(logits, labels, smoothing, dLogits);
    }

    @Override
    public int countTopK(Tensor logits, int[] labels, int k) {
        return delegate.countTopK(logits, labels, k);
    }

    @Override
    public void sgdStep(Tensor param, Tensor grad, Tensor momentumBuf, float lr, float momentum, float weightDecay,
                        boolean nesterov) {
        delegate.sgdStep(param, grad, momentumBuf, lr, momentum, weightDecay, nesterov);
    }

    @Override
    public boolean deviceResident() {
        return delegate.deviceResident();
    }

    @Override
    public void generatorHidden(Tensor w1, Tensor b1, Tensor enc, Tensor pre, Tensor h) {
        delegate.generatorHidden(w1, b1, enc, pre, h);
    }

    @Override
    public void generatorForward(Tensor w2, Tensor b2, Tensor h, int co, int ci, Tensor out) {
        delegate.generatorForward(w2, b2, h, co, ci, out);
    }

    @Override
    public void generatorBackwardStep(Tensor w2, Tensor b2, Tensor mw2, Tensor mb2, Tensor h, Tensor dOut, int co,
                                      int ci, Tensor dh, float lr, float momentum, float weightDecay, boolean nesterov) {
        delegate.generatorBackwardStep(w2, b2, mw2, mb2, h, dOut, co, ci, dh, lr, momentum, weightDecay, nesterov);
    }

    @Override
    public void generatorHiddenBackwardStep(Tensor w1, Tensor b1, Tensor mw1, Tensor mb1, Tensor enc, Tensor pre,
                                            Tensor dh, float lr, float momentum, float weightDecay, boolean nesterov) {
        delegate.generatorHiddenBackwardStep(w1, b1, mw1, mb1, enc, pre, dh, lr, momentum, weightDecay, nesterov);
    }
}
