package dev.metaprune.kernels;

import dev.metaprune.tensor.Tensor;

/**
 * The one kernel interface: every layer of MetaPrune (networks, PruningNet, search) computes
 * through it, and other JVM code may call it directly. Implementations: {@link CpuKernels} (Vector
 * API, the default), the CUDA backend ({@code dev.metaprune.cuda.CudaKernels}: staging, or device-resident) and
 * {@link EmulatedDeviceKernels} (the device-resident protocol with host memory, for checking code without a GPU).
 * Pick one with {@link #get()}, or pass one to the network, PruningNet and model constructors.
 *
 * <h2>Conventions</h2>
 * <ul>
 *   <li>float32 throughout. Activations are NHWC {@code [N, H, W, C]}; they may be channel views
 *       ({@link Tensor#channels}), which every kernel reads and writes in place.</li>
 *   <li>Convolution weights are PyTorch's OIHW {@code [cOutMax, cInMax / groups, kh, kw]}; a
 *       {@link Conv2dSpec} with smaller channel counts uses the leading {@code [cOut, cIn / groups]}
 *       block without copying (a "sliced" convolution). Weight gradients are written to the same
 *       leading block of a tensor shaped like the weight; the rest is left untouched.</li>
 *   <li>Linear weights are {@code [outMax, inMax]}; the leading {@code [out, in]} block is used.</li>
 *   <li>{@code accumulate == true} adds into a gradient instead of overwriting it.</li>
 *   <li>Bad shapes are an {@link IllegalArgumentException} naming them, never a wrong result.</li>
 *   <li>Calls are synchronous and not thread-safe with respect to the same output tensor; the CPU
 *       backend parallelises inside each call on {@link Parallel}'s fixed pool.</li>
 *   <li>Where the data is: a device-resident backend keeps what its kernels write on the device; read a tensor on
 *       the host after {@link #toHost}, and declare host writes with {@link #hostChanged}. Both are no-ops on a
 *       backend that computes on the host, so code written this way runs on any backend.</li>
 * </ul>
 */
public interface Kernels {
    /** Backend name ("cpu", "cuda"). */
    String name();

    /** One line: what the backend runs on (vector width, threads, device). */
    String describe();

    /**
     * Waits until every call issued so far has finished. The CPU backend's calls return finished (a no-op); a device
     * backend that queues work returns before it is done, so a timer calls this before it reads its clock.
     */
    default void synchronize() {
    }

    /**
     * Frees what the backend keeps for the operands it has seen (a device-resident backend's copies of host arrays);
     * the next call starts afresh. The CPU backend keeps nothing (a no-op).
     */
    default void releaseDeviceCopies() {
    }

    /**
     * Brings the host arrays of these tensors up to date before the host reads them (null entries are skipped). A
     * device-resident backend ({@code CudaKernels.coherent()}, {@link EmulatedDeviceKernels}) leaves what its kernels
     * write on the device, so code that reads a tensor's {@link Tensor#data()} after a kernel wrote it calls this
     * first; on a backend that computes on the host (the CPU backend, the staging CUDA backend) it does nothing.
     */
    default void toHost(Tensor... ts) {
    }

    /**
     * Declares that the host wrote these tensors' arrays (null entries are skipped): a device-resident backend copies
     * them to the device again before a kernel reads them. Call it after writing; where a kernel may have written the
     * same array since it was last brought to the host, call {@link #toHost} before writing (a device-resident
     * backend refuses the declaration otherwise, since the host's write would be mixed with stale data). Does nothing
     * on a backend that computes on the host.
     */
    default void hostChanged(Tensor... ts) {
    }

    /**
     * Whether this backend keeps what its kernels write on a device between calls ({@link #toHost} moves it back).
     * The PruningNet then runs its generators through this backend too ({@link #generatorHidden} and the three after
     * it) instead of on the host, so that generated weights and their gradients never cross to the host.
     */
    default boolean deviceResident() {
        return false;
    }

    /** {@code dst = src} on tensors of the same rows and columns (views allowed), where the backend keeps them. */
    default void copy(Tensor src, Tensor dst) {
        dst.copyFrom(src);
    }

    /** Sets every element of {@code t} (a view: only its elements) to zero, where the backend keeps it. */
    default void zero(Tensor t) {
        t.fill(0f);
    }

    /** The backend selected by {@link #select} or {@code -Dmetaprune.backend} (default {@code cpu}). */
    static Kernels get() {
        return Backends.selected();
    }

    /**
     * Selects the process's backend by name ({@code cpu}, {@code cuda}, {@code cuda-resident}, {@code cuda-verify},
     * {@code emulated-device}) before its first use; the command line's {@code --backend}. Unknown names and backends
     * that cannot run here are an {@link IllegalArgumentException} saying why; a different backend already in use an
     * {@link IllegalStateException}.
     */
    static Kernels select(String name) {
        return Backends.select(name);
    }

    // ---- GEMM and linear layers -------------------------------------------------------------

    /** {@code c = alpha * op(a) * op(b) + beta * c} on 2-D tensors (views allowed). */
    void gemm(boolean transA, boolean transB, float alpha, Tensor a, Tensor b, float beta, Tensor c);

    /** {@code y[N, out] = x[N, in] * w[:out, :in]^T + bias[:out]}; {@code bias} may be null. */
    void linearForward(Tensor x, Tensor w, Tensor bias, Tensor y);

    /** {@code dx[N, in] = dy[N, out] * w[:out, :in]}. */
    void linearBackwardInput(Tensor dy, Tensor w, Tensor dx);

    /** {@code dw[:out, :in] (+)= dy^T x}, {@code dbias[:out] (+)= sum_n dy}; {@code dbias} may be null. */
    void linearBackwardParams(Tensor x, Tensor dy, Tensor dw, Tensor dbias, boolean accumulate);

    // ---- Convolution ------------------------------------------------------------------------

    /** {@code y[N, Ho, Wo, cOut] = conv(x[N, H, W, cIn], w) + bias}; {@code bias} may be null. */
    void conv2dForward(Tensor x, Tensor w, Tensor bias, Tensor y, Conv2dSpec spec);

    /** {@code dx[N, H, W, cIn]} from {@code dy[N, Ho, Wo, cOut]} (overwrites dx). */
    void conv2dBackwardInput(Tensor dy, Tensor w, Tensor dx, Conv2dSpec spec);

    /** Weight (and bias, may be null) gradient into the leading block of {@code dw}. */
    void conv2dBackwardWeight(Tensor x, Tensor dy, Tensor dw, Tensor dbias, Conv2dSpec spec, boolean accumulate);

    // ---- BatchNorm (per channel over N*H*W) -------------------------------------------------

    /**
     * Training-mode batch normalisation. {@code gamma}/{@code beta} null means affine-free. Saves
     * the batch mean and {@code 1/sqrt(var + eps)} for the backward pass, and updates the running
     * statistics (if non-null) as {@code run = (1 - f) * run + f * batch}, with the unbiased batch
     * variance (PyTorch's rule): {@code f = momentum} (0.1), or {@code f = 1 / (k + 1)} for the
     * exact cumulative average over the {@code k + 1}-th batch (BN recalibration).
     */
    void batchNormTrainForward(Tensor x, Tensor gamma, Tensor beta, Tensor y, Tensor saveMean, Tensor saveInvStd,
                               Tensor runMean, Tensor runVar, float averageFactor, float eps);

    /** Inference-mode batch normalisation with running statistics. */
    void batchNormInferenceForward(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar, float eps,
                                   Tensor y);

    /** Backward of {@link #batchNormTrainForward}; {@code dGamma}/{@code dBeta} null when affine-free. */
    void batchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd, Tensor dx,
                           Tensor dGamma, Tensor dBeta, boolean accumulate);

    // ---- Element-wise -----------------------------------------------------------------------

    void relu(Tensor x, Tensor y);

    /** {@code dx = x <= 0 ? 0 : dy} (PyTorch's rule: a NaN input passes the gradient). */
    void reluBackward(Tensor x, Tensor dy, Tensor dx);

    void relu6(Tensor x, Tensor y);

    /** {@code dx = (x <= 0 || x >= 6) ? 0 : dy} (PyTorch's hardtanh rule). */
    void relu6Backward(Tensor x, Tensor dy, Tensor dx);

    /** {@code y = a + b} (residual add; {@code y} may alias either). */
    void add(Tensor a, Tensor b, Tensor y);

    // ---- Pooling ----------------------------------------------------------------------------

    /** Max pooling {@code k x k}, stride, padding (padding never wins); {@code argmax} per output. */
    void maxPoolForward(Tensor x, Tensor y, int[] argmax, int k, int stride, int pad);

    /** Routes {@code dy} to the recorded maxima; overwrites {@code dx}. */
    void maxPoolBackward(Tensor dy, int[] argmax, Tensor dx);

    /** {@code [N, H, W, C] -> [N, C]}. */
    void globalAvgPoolForward(Tensor x, Tensor y);

    void globalAvgPoolBackward(Tensor dy, Tensor dx);

    // ---- Loss and metrics -------------------------------------------------------------------

    /**
     * Mean softmax cross-entropy with label smoothing {@code eps} (PyTorch's definition: the
     * target is {@code (1 - eps) * onehot + eps / K}). Writes {@code dLogits} (gradient of the mean)
     * unless null. Returns the loss.
     */
    float softmaxCrossEntropy(Tensor logits, int[] labels, float smoothing, Tensor dLogits);

    /** Number of rows whose label is among the {@code k} largest logits (ties count against). */
    int countTopK(Tensor logits, int[] labels, int k);

    // ---- PruningNet weight generator (see GeneratorKernel) ------------------------------------

    /** {@code pre = w1 enc + b1}, {@code h = relu(pre)}: {@code w1 [hidden, encDim]}, the rest vectors. */
    void generatorHidden(Tensor w1, Tensor b1, Tensor enc, Tensor pre, Tensor h);

    /**
     * The crop {@code out[:co, :ci, :, :]} of the generated weight {@code out [outMax, inMax, kh, kw]}: each of its
     * elements (a row {@code r} of the second FC) is {@code w2[r] . h + b2[r]}, {@code w2 [rows, hidden]}. Elements
     * outside the crop are not written.
     */
    void generatorForward(Tensor w2, Tensor b2, Tensor h, int co, int ci, Tensor out);

    /**
     * Backward of {@link #generatorForward} given {@code dOut} (the loss's gradient for the generated weight, read in
     * the crop only), fused with PyTorch's SGD step on the whole second FC: crop rows with their gradient
     * {@code dOut[r] h} (and {@code dOut[r]} for the bias), every other row with a zero gradient (momentum and weight
     * decay still move it). Writes {@code dh = sum over the crop of dOut[r] w2[r]} with the weights before the step.
     */
    void generatorBackwardStep(Tensor w2, Tensor b2, Tensor mw2, Tensor mb2, Tensor h, Tensor dOut, int co, int ci,
                               Tensor dh, float lr, float momentum, float weightDecay, boolean nesterov);

    /** Backward of {@link #generatorHidden} given {@code dh}, fused with the SGD step on {@code w1} and {@code b1}. */
    void generatorHiddenBackwardStep(Tensor w1, Tensor b1, Tensor mw1, Tensor mb1, Tensor enc, Tensor pre, Tensor dh,
                                     float lr, float momentum, float weightDecay, boolean nesterov);

    // ---- Optimiser --------------------------------------------------------------------------

    /**
     * One SGD step, PyTorch's rule with dampening 0: {@code d = g + wd * p};
     * {@code buf = momentum * buf + d}; {@code d = nesterov ? d + momentum * buf : buf};
     * {@code p -= lr * d}. {@code buf} starts at zero (equal to PyTorch's first step).
     */
    void sgdStep(Tensor param, Tensor grad, Tensor momentumBuf, float lr, float momentum, float weightDecay,
                 boolean nesterov);
}
