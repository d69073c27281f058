package dev.metaprune.optim;

import dev.metaprune.kernels.Kernels;
import dev.metaprune.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * SGD with momentum (PyTorch's {@code torch.optim.SGD}, dampening 0) over parameter groups.
 *
 * <p>Each {@link Group} has its own weight decay and a learning-rate multiplier (the group's lr is
 * {@code lr * lrMultiplier}; MetaPruning decays only the conv / FC weights, so BN parameters go
 * into a group with weight decay 0). Parameters are registered as (parameter, gradient) tensor
 * pairs under unique names; the optimiser owns one zero-initialised momentum buffer per parameter
 * (none when momentum is 0), reachable by name or registration index for checkpointing.
 * {@link #step(float)} runs one fused {@link Kernels#sgdStep} per parameter on the backend given at
 * construction (by default {@link Kernels#get()}).
 *
 * <p>Not thread-safe: one training loop drives one optimiser.
 */
public final class Sgd {
    /** A registered parameter, its gradient and its momentum buffer (null when momentum is 0). */
    public record Param(String name, Tensor param, Tensor grad, Tensor momentumBuffer, Group group) {
    }

    /** A parameter group: weight decay and lr multiplier shared by its parameters. */
    public final class Group {
        private final String name;
        private final float weightDecay;
        private final float lrMultiplier;
        private final List<Param> params = new ArrayList<>();

        private Group(String name, float weightDecay, float lrMultiplier) {
            this.name = name;
            this.weightDecay = weightDecay;
            this.lrMultiplier = lrMultiplier;
        }

        public String name() {
            return name;
        }

        public float weightDecay() {
            return weightDecay;
        }

        public float lrMultiplier() {
            return lrMultiplier;
        }

        /** The group's parameters, in registration order. */
        public List<Param> params() {
            return Collections.unmodifiableList(params);
        }

        /**
         * Registers a parameter and its gradient (same shape; views allowed) under a name unique in
         * the optimiser; allocates its momentum buffer. Returns this group, for chaining.
         */
        public Group add(String paramName, Tensor param, Tensor grad) {
            if (paramName == null || paramName.isEmpty()) {
                throw new IllegalArgumentException("Sgd: a parameter needs a non-empty name");
            }
            if (byName.containsKey(paramName)) {
                throw new IllegalArgumentException("Sgd: parameter '" + paramName + "' is already registered");
            }
            if (param == null || grad == null) {
                throw new IllegalArgumentException("Sgd: parameter '" + paramName + "': param and grad must not be null");
            }
            if (!Arrays.equals(param.shape(), grad.shape())) {
                throw new IllegalArgumentException("Sgd: parameter '" + paramName + "': grad "
                        + Arrays.toString(grad.shape()) + " must have the shape of param "
                        + Arrays.toString(param.shape()));
            }
            Tensor buf = momentum == 0f ? null : Tensor.zeros(param.shape());
            Param p = new Param(paramName, param, grad, buf, this);
            params.add(p);
            all.add(p);
            byName.put(paramName, p);
            return this;
        }
    }

    private final Kernels kernels;
    private final float momentum;
    private final boolean nesterov;
    private final List<Group> groups = new ArrayList<>();
    private final List<Param> all = new ArrayList<>();
    private final Map<String, Param> byName = new LinkedHashMap<>();

    /** An optimiser on the default backend ({@link Kernels#get()}). */
    public Sgd(float momentum, boolean nesterov) {
        this(Kernels.get(), momentum, nesterov);
    }

    /** An optimiser on a given backend. {@code momentum >= 0}; Nesterov needs {@code momentum > 0}. */
    public Sgd(Kernels kernels, float momentum, boolean nesterov) {
        if (kernels == null) {
            throw new IllegalArgumentException("Sgd: kernels is null");
        }
        if (!(momentum >= 0) || !Float.isFinite(momentum)) {
            throw new IllegalArgumentException("Sgd: momentum must be finite and >= 0, got " + momentum);
        }
        if (nesterov && momentum == 0f) {
            throw new IllegalArgumentException("Sgd: Nesterov momentum requires momentum > 0");
        }
        this.kernels = kernels;
        this.momentum = momentum;
        this.nesterov = nesterov;
    }

    /** Adds a parameter group ({@code weightDecay >= 0}, {@code lrMultiplier >= 0}, both finite). */
    public Group addGroup(String name, float weightDecay, float lrMultiplier) {
        if (!(weightDecay >= 0) || !Float.isFinite(weightDecay)) {
            throw new IllegalArgumentException("Sgd: group '" + name + "': weight decay must be finite and >= 0, got "
                    + weightDecay);
        }
        if (!(lrMultiplier >= 0) || !Float.isFinite(lrMultiplier)) {
            throw new IllegalArgumentException("Sgd: group '" + name + "': lr multiplier must be finite and >= 0, got "
                    + lrMultiplier);
        }
        Group g = new Group(name, weightDecay, lrMultiplier);
        groups.add(g);
        return g;
    }

    public float momentum() {
        return momentum;
    }

    public boolean nesterov() {
        return nesterov;
    }

    public List<Group> groups() {
        return Collections.unmodifiableList(groups);
    }

    /** Every parameter in registration order (the index used by {@link #momentumBuffer(int)}). */
    public List<Param> params() {
        return Collections.unmodifiableList(all);
    }

    /** Number of registered parameters. */
    public int size() {
        return all.size();
    }

    /** The parameter registered under {@code name}. */
    public Param param(String name) {
        Param p = byName.get(name);
        if (p == null) {
            throw new IllegalArgumentException("Sgd: no parameter '" + name + "'");
        }
        return p;
    }

    /**
     * The momentum buffer of a parameter (read it to checkpoint, write it to restore); null when
     * momentum is 0.
     */
    public Tensor momentumBuffer(String name) {
        return param(name).momentumBuffer();
    }

    /** The momentum buffer of the {@code index}-th registered parameter. */
    public Tensor momentumBuffer(int index) {
        if (index < 0 || index >= all.size()) {
            throw new IllegalArgumentException("Sgd: parameter index " + index + " is outside [0, " + all.size() + ")");
        }
        return all.get(index).momentumBuffer();
    }

    /** One step with base learning rate {@code lr} (each group uses {@code lr * lrMultiplier}). */
    public void step(float lr) {
        if (!(lr >= 0) || !Float.isFinite(lr)) {
            throw new IllegalArgumentException("Sgd: lr must be finite and >= 0, got " + lr);
        }
        for (Group g : groups) {
            float glr = lr * g.lrMultiplier;
            for (Param p : g.params) {
                kernels.sgdStep(p.param(), p.grad(), p.momentumBuffer(), glr, momentum, g.weightDecay, nesterov);
            }
        }
    }

    /** Sets every registered gradient to zero. */
    public void zeroGrad() {
        for (Param p : all) {
            kernels.zero(p.grad());
        }
    }

    /** Sets every momentum buffer to zero (a fresh start, e.g. for a retrain). */
    public void resetMomentum() {
        for (Param p : all) {
            if (p.momentumBuffer() != null) {
                kernels.zero(p.momentumBuffer());
            }
        }
    }
}
