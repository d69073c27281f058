package dev.metaprune.kernels;

import dev.metaprune.tensor.Tensor;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * A device-resident backend with the host standing in for the device ({@code -Dmetaprune.backend=emulated-device}):
 * each host array gets a "device copy" (another Java array), the CPU kernels compute on those copies, and the
 * {@link Residency} bookkeeping decides when to copy, exactly as {@code CudaKernels.coherent()} does with device
 * memory. Its use: checking, on a machine without a GPU, that code calls {@link Kernels#toHost} before it reads what
 * a kernel wrote and {@link Kernels#hostChanged} after it writes what a kernel reads. To make a missed call show, a
 * host array whose device copy a kernel wrote is <b>poisoned</b> (NaN, or {@link Integer#MIN_VALUE} for indices)
 * until {@link #toHost} brings it back: code that reads it early computes NaN, and code that writes into it without
 * {@code toHost} is refused by {@link Residency#hostChanged}. Computes exactly what {@link CpuKernels} computes.
 *
 * <p>Each method names its outputs the way the CUDA backend does: inputs are brought to the device and stay
 * current on both sides; outputs (including accumulated gradients and in-place updates) become device-newer.
 */
public final class EmulatedDeviceKernels implements Kernels {
    private final CpuKernels cpu = new CpuKernels();
    private final Residency<Object> residency = new Residency<>(new Residency.Device<>() {
        @Override
        public Object allocate(Object array) {
            return array instanceof float[] f ? new float[f.length] : new int[((int[]) array).length];
        }

        @Override
        public void upload(Object array, Object buffer) {
            System.arraycopy(array, 0, buffer, 0, java.lang.reflect.Array.getLength(array));
        }

        @Override
        public void download(Object buffer, Object array) {
            System.arraycopy(buffer, 0, array, 0, java.lang.reflect.Array.getLength(array));
        }

        @Override
        public void free(Object buffer) {
        }

        @Override
        public void hostStale(Object array) {
            if (array instanceof float[] f) {
                Arrays.fill(f, Float.NaN);
            } else {
                Arrays.fill((int[]) array, Integer.MIN_VALUE);
            }
        }
    });

    @Override
    public String name() {
        return "emulated-device";
    }

    @Override
    public String describe() {
        return "emulated-device: the CPU kernels on device copies kept in host memory (checks toHost/hostChanged"
                + " calls; host arrays a kernel wrote read NaN until toHost)";
    }

    /** The bookkeeping (tests read its copy counts). */
    public Residency<Object> residency() {
        return residency;
    }

    /** One call's operands mapped to their device copies; outputs marked device-newer by {@link #done()}. */
    private final class Call {
        private final Map<Object, Boolean> outs = new IdentityHashMap<>();

        Tensor in(Tensor t) {
            return t == null ? null : Tensor.view((float[]) residency.device(t.data()), t.offset(), t.ld(), t.shape());
        }

        Tensor out(Tensor t) {
            if (t == null) {
                return null;
            }
            outs.put(t.data(), Boolean.TRUE);
            return in(t);
        }

        int[] in(int[] a) {
            return (int[]) residency.device(a);
        }

        int[] out(int[] a) {
            outs.put(a, Boolean.TRUE);
            return in(a);
        }

        void done() {
            for (Object a : outs.keySet()) {
                residency.deviceWrote(a);
            }
        }
    }

    @Override
    public void toHost(Tensor... ts) {
        for (Tensor t : ts) {
            if (t != null) {
                residency.toHost(t.data());
            }
        }
    }

    @Override
    public void hostChanged(Tensor... ts) {
        for (Tensor t : ts) {
            if (t != null) {
                residency.hostChanged(t.data());
            }
        }
    }

    /** Brings every host array a kernel wrote up to date, then drops the device copies. */
    @Override
    public void releaseDeviceCopies() {
        residency.releaseAll(true);
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        Call c = new Call();
        cpu.copy(c.in(src), c.out(dst));
        c.done();
    }

    @Override
    public void zero(Tensor t) {
        Call c = new Call();
        cpu.zero(c.out(t));
        c.done();
    }

    @Override
    public void gemm(boolean transA, boolean transB, float alpha, Tensor a, Tensor b, float beta, Tensor cc) {
        Call c = new Call();
        cpu.gemm(transA, transB, alpha, c.in(a), c.in(b), beta, c.out(cc));
        c.done();
    }

    @Override
    public void linearForward(Tensor x, Tensor w, Tensor bias, Tensor y) {
        Call c = new Call();
        cpu.linearForward(c.in(x), c.in(w), c.in(bias), c.out(y));
        c.done();
    }

    @Override
    public void linearBackwardInput(Tensor dy, Tensor w, Tensor dx) {
        Call c = new Call();
        cpu.linearBackwardInput(c.in(dy), c.in(w), c.out(dx));
        c.done();
    }

    @Override
    public void linearBackwardParams(Tensor x, Tensor dy, Tensor dw, Tensor dbias, boolean accumulate) {
        Call c = new Call();
        cpu.linearBackwardParams(c.in(x), c.in(dy), c.out(dw), c.out(dbias), accumulate);
        c.done();
    }

    @Override
    public void conv2dForward(Tensor x, Tensor w, Tensor bias, Tensor y, Conv2dSpec spec) {
        Call c = new Call();
        cpu.conv2dForward(c.in(x), c.in(w), c.in(bias), c.out(y), spec);
        c.done();
    }

    @Override
    public void conv2dBackwardInput(Tensor dy, Tensor w, Tensor dx, Conv2dSpec spec) {
        Call c = new Call();
        cpu.conv2dBackwardInput(c.in(dy), c.in(w), c.out(dx), spec);
        c.done();
    }

    @Override
    public void conv2dBackwardWeight(Tensor x, Tensor dy, Tensor dw, Tensor dbias, Conv2dSpec spec,
                                     boolean accumulate) {
        Call c = new Call();
        cpu.conv2dBackwardWeight(c.in(x), c.in(dy), c.out(dw), c.out(dbias), spec, accumulate);
        c.done();
    }

    @Override
    public void batchNormTrainForward(Tensor x, Tensor gamma, Tensor beta, Tensor y, Tensor saveMean,
                                      Tensor saveInvStd, Tensor runMean, Tensor runVar, float averageFactor,
                                      float eps) {
        Call c = new Call();
        cpu.batchNormTrainForward(c.in(x), c.in(gamma), c.in(beta), c.out(y), c.out(saveMean), c.out(saveInvStd),
                c.out(runMean), c.out(runVar), averageFactor, eps);
        c.done();
    }

    @Override
    public void batchNormInferenceForward(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar,
                                          float eps, Tensor y) {
        Call c = new Call();
        cpu.batchNormInferenceForward(c.in(x), c.in(gamma), c.in(beta), c.in(runMean), c.in(runVar), eps, c.out(y));
        c.done();
    }

    @Override
    public void batchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd, Tensor dx,
                                  Tensor dGamma, Tensor dBeta, boolean accumulate) {
        Call c = new Call();
        cpu.batchNormBackward(c.in(x), c.in(dy), c.in(gamma), c.in(saveMean), c.in(saveInvStd), c.out(dx),
                c.out(dGamma), c.out(dBeta), accumulate);
        c.done();
    }

    @Override
    public void relu(Tensor x, Tensor y) {
        Call c = new Call();
        cpu.relu(c.in(x), c.out(y));
        c.done();
    }

    @Override
    public void reluBackward(Tensor x, Tensor dy, Tensor dx) {
        Call c = new Call();
        cpu.reluBackward(c.in(x), c.in(dy), c.out(dx));
        c.done();
    }

    @Override
    public void relu6(Tensor x, Tensor y) {
        Call c = new Call();
        cpu.relu6(c.in(x), c.out(y));
        c.done();
    }

    @Override
    public void relu6Backward(Tensor x, Tensor dy, Tensor dx) {
        Call c = new Call();
        cpu.relu6Backward(c.in(x), c.in(dy), c.out(dx));
        c.done();
    }

    @Override
    public void add(Tensor a, Tensor b, Tensor y) {
        Call c = new Call();
        cpu.add(c.in(a), c.in(b), c.out(y));
        c.done();
    }

    @Override
    public void maxPoolForward(Tensor x, Tensor y, int[] argmax, int k, int stride, int pad) {
        Call c = new Call();
        // the indices point into x's array; its device copy has the same layout, so they carry over unchanged
        cpu.maxPoolForward(c.in(x), c.out(y), c.out(argmax), k, stride, pad);
        c.done();
    }

    @Override
    public void maxPoolBackward(Tensor dy, int[] argmax, Tensor dx) {
        Call c = new Call();
        cpu.maxPoolBackward(c.in(dy), c.in(argmax), c.out(dx));
        c.done();
    }

    @Override
    public void globalAvgPoolForward(Tensor x, Tensor y) {
        Call c = new Call();
        cpu.globalAvgPoolForward(c.in(x), c.out(y));
        c.done();
    }

    @Override
    public void globalAvgPoolBackward(Tensor dy, Tensor dx) {
        Call c = new Call();
        cpu.globalAvgPoolBackward(c.in(dy), c.out(dx));
        c.done();
    }

    /** Labels are read from the host on every call (a few ints), as the CUDA backend stages them; the loss returns. */
    @Override
    public float softmaxCrossEntropy(Tensor logits, int[] labels, float smoothing, Tensor dLogits) {
        Call c = new Call();
        float loss = cpu.softmaxCrossEntropy(c.in(logits), labels.clone(), smoothing, c.out(dLogits));
        c.done();
        return loss;
    }

    /** A metric the host computes: the logits are brought to the host first. */
    @Override
    public int countTopK(Tensor logits, int[] labels, int k) {
        toHost(logits);
        return cpu.countTopK(logits, labels, k);
    }

    @Override
    public void sgdStep(Tensor param, Tensor grad, Tensor momentumBuf, float lr, float momentum, float weightDecay,
                        boolean nesterov) {
        Call c = new Call();
        cpu.sgdStep(c.out(param), c.in(grad), c.out(momentumBuf), lr, momentum, weightDecay, nesterov);
        c.done();
    }

    /** Yes: the PruningNet runs its generators through this backend, as on a GPU. */
    @Override
    public boolean deviceResident() {
        return true;
    }

    @Override
    public void generatorHidden(Tensor w1, Tensor b1, Tensor enc, Tensor pre, Tensor h) {
        Call c = new Call();
        cpu.generatorHidden(c.in(w1), c.in(b1), c.in(enc), c.out(pre), c.out(h));
        c.done();
    }

    @Override
    public void generatorForward(Tensor w2, Tensor b2, Tensor h, int co, int ci, Tensor out) {
        Call c = new Call();
        cpu.generatorForward(c.in(w2), c.in(b2), c.in(h), co, ci, c.out(out));
        c.done();
    }

    @Override
    public void generatorBackwardStep(Tensor w2, Tensor b2, Tensor mw2, Tensor mb2, Tensor h, Tensor dOut, int co,
                                      int ci, Tensor dh, float lr, float momentum, float weightDecay, boolean nesterov) {
        Call c = new Call();
        cpu.generatorBackwardStep(c.out(w2), c.out(b2), c.out(mw2), c.out(mb2), c.in(h), c.in(dOut), co, ci, c.out(dh),
                lr, momentum, weightDecay, nesterov);
        c.done();
    }

    @Override
    public void generatorHiddenBackwardStep(Tensor w1, Tensor b1, Tensor mw1, Tensor mb1, Tensor enc, Tensor pre,
                                            Tensor dh, float lr, float momentum, float weightDecay, boolean nesterov) {
        Call c = new Call();
        cpu.generatorHiddenBackwardStep(c.out(w1), c.out(b1), c.out(mw1), c.out(mb1), c.in(enc), c.in(pre), c.in(dh),
                lr, momentum, weightDecay, nesterov);
        c.done();
    }
}
