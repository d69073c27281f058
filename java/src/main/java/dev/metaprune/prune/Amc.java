package dev.metaprune.prune;

import dev.metaprune.data.HeldBatch;
import dev.metaprune.kernels.Kernels;
import dev.metaprune.nn.Network;
import dev.metaprune.nn.arch.Architecture;
import dev.metaprune.nn.arch.Channels;
import dev.metaprune.nn.arch.Op;
import dev.metaprune.nn.arch.Value;
import dev.metaprune.nn.arch.Widths;
import dev.metaprune.nn.cost.CostCounter;
import dev.metaprune.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * AMC (He et al. 2018, "AMC: AutoML for Model Compression"), the channel-pruning environment with a {@link Ddpg}
 * agent, as the official code runs it: one step per prunable layer (here per {@link ChannelGroups group}, in network
 * order), the state of 10 features (index, kind, input and output channels, stride, kernel, the number of weights
 * of the layer's conv, as the official {@code _build_state_embedding} — min-max normalised over the layers — then
 * FLOPs reduced so far, FLOPs of the layers still to come, the previous action), the action the fraction of channels kept in {@code [lbound, rbound]}, bounded so that the FLOPs target
 * stays reachable with every later layer at {@code lbound}, channels rounded ({@link Pruner#keepCount}) and chosen by
 * weight magnitude ({@link Ranking#consumerL1}), the kept weights refitted by least squares
 * ({@link Reconstruction}), and the reward {@code -error} on the held-out split. Warm-up episodes take uniform random
 * actions; then truncated-normal exploration around the actor, the spread decaying per episode.
 */
public final class Amc {
    /**
     * @param targetFraction FLOPs of the pruned network over the source's (the budget)
     * @param episodes       episodes after the warm-up
     * @param warmup         warm-up episodes with random actions
     * @param lbound         smallest keep fraction per layer (official 0.2)
     * @param rbound         largest (1.0)
     * @param initDelta      exploration spread at the end of the warm-up (official 0.5)
     * @param deltaDecay     its decay per episode (official 0.95)
     * @param updates        agent updates per episode after the warm-up (-1: one per step, as the official code)
     */
    public record Settings(double targetFraction, int episodes, int warmup, double lbound, double rbound,
                           double initDelta, double deltaDecay, int updates, long seed)
            implements java.io.Serializable {
        public Settings {
            if (!(targetFraction > 0) || targetFraction > 1) {
                throw new IllegalArgumentException("the FLOPs target must be in (0, 1] of the source, got "
                        + targetFraction);
            }
            if (episodes < 0 || warmup < 0 || episodes + warmup < 1) {
                throw new IllegalArgumentException("AMC needs at least one episode");
            }
            if (updates < -1) {
                throw new IllegalArgumentException("updates per episode must be >= 0, got " + updates);
            }
            if (!(lbound > 0) || lbound > rbound || rbound > 1) {
                throw new IllegalArgumentException("need 0 < lbound <= rbound <= 1, got " + lbound + ", " + rbound);
            }
        }
    }

    /** One episode's outcome. */
    public record Episode(int index, boolean warmup, double[] actions, long flops, double error, double delta)
            implements java.io.Serializable {
    }

    /**
     * Everything a search needs to continue exactly where it stopped: the settings, the next episode, the best so
     * far, and the agent (networks, optimiser moments, replay memory, random generator).
     */
    public static final class State implements java.io.Serializable {
        private static final long serialVersionUID = 1L;
        final Settings settings;
        final String source;
        int nextEpisode;
        Episode best;
        double[] bestF;
        final Ddpg agent;

        State(Settings settings, String source, Ddpg agent) {
            this.settings = settings;
            this.source = source;
            this.agent = agent;
        }

        public int nextEpisode() {
            return nextEpisode;
        }

        /** Writes the state (temporary file, then rename). */
        public void write(java.nio.file.Path file) throws java.io.IOException {
            java.nio.file.Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            try (var out = new java.io.ObjectOutputStream(new java.io.BufferedOutputStream(
                    java.nio.file.Files.newOutputStream(tmp)))) {
                out.writeObject(this);
            }
            java.nio.file.Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        }

        /** Reads a state written by {@link #write}; refuses one of other settings or another source network. */
        public static State read(java.nio.file.Path file, Settings expected, String source) throws java.io.IOException {
            State st;
            try (var in = new java.io.ObjectInputStream(new java.io.BufferedInputStream(
                    java.nio.file.Files.newInputStream(file)))) {
                st = (State) in.readObject();
            } catch (ClassNotFoundException | ClassCastException | java.io.ObjectStreamException e) {
                throw new java.io.IOException(file + ": not an AMC search state (" + e + ")");
            }
            if (!st.settings.equals(expected) || !st.source.equals(source)) {
                throw new IllegalArgumentException(file + " holds an AMC search of " + st.source + " with "
                        + st.settings + "; this command asks for " + source + " with " + expected
                        + ": give the same options, or another --run");
            }
            return st;
        }
    }

    /** The best episode's plan. */
    public record Result(int[][] keptByGroup, double[] actions, double error, long flops,
                         Map<String, Tensor> reconstructed, int episodes) {
    }

    /** The convs whose weights the reconstruction refits for kept channels per group (names). */
    public List<String> refitted(int[][] keptByGroup) {
        return Reconstruction.refitted(stats, Surgery.keptByDim(groups, src, keptByGroup));
    }

    /** Called after each episode. */
    public interface Listener {
        void episode(Episode e, Episode best);
    }

    private final ChannelGroups groups;
    private final Widths src;
    private final Map<String, Tensor> weights;
    private final List<HeldBatch> val;
    private final Settings s;
    private final List<Reconstruction.Stats> stats;
    private final double[][] scores;
    private final int[] order; // prunable groups in network order
    private final double[][] staticFeatures;
    private final double[] groupFlops;
    private final long fullFlops;
    private final Network evalNet;

    public Amc(ChannelGroups groups, Widths src, Map<String, Tensor> weights, List<HeldBatch> calibration,
               List<HeldBatch> val, int points, Settings s) {
        this.groups = groups;
        this.src = src;
        this.weights = weights;
        this.val = val;
        this.s = s;
        if (val.isEmpty()) {
            throw new IllegalArgumentException("AMC needs a non-empty held-out split for its reward");
        }
        this.scores = Ranking.consumerL1(groups, src, weights);
        this.stats = Reconstruction.sample(groups, src, weights, calibration, points, s.seed());
        Architecture arch = src.architecture();
        List<Integer> ord = new ArrayList<>();
        for (Op.Conv c : arch.convs()) {
            int g = groups.groupOf(c.out());
            if (groups.prunable(g) && !ord.contains(g)) {
                ord.add(g);
            }
        }
        this.order = ord.stream().mapToInt(Integer::intValue).toArray();
        if (order.length == 0) {
            throw new IllegalArgumentException(arch.name() + " has no prunable layer");
        }
        this.fullFlops = CostCounter.count(src).flops();
        this.groupFlops = new double[groups.size()];
        double[][] raw = new double[order.length][];
        for (int t = 0; t < order.length; t++) {
            int g = order[t];
            Op.Conv primary = null;
            boolean depthwise = false;
            double flops = 0;
            for (Op.Conv c : arch.convs()) {
                boolean produces = groups.groupOf(c.out()) == g, reads = groups.groupOf(c.in()) == g;
                if (produces || reads) {
                    Value out = arch.value(c.output());
                    flops += (double) out.height() * out.width() * src.of(c.out())
                            * (c.kind() == Op.ConvKind.DEPTHWISE ? 1 : src.of(c.in())) * c.kernel() * c.kernel();
                }
                if (produces && c.kind() == Op.ConvKind.DEPTHWISE) {
                    depthwise = true;
                }
                if (produces && primary == null && c.kind() != Op.ConvKind.DEPTHWISE) {
                    primary = c;
                }
            }
            if (primary == null) {
                for (Op.Conv c : arch.convs()) {
                    if (groups.groupOf(c.out()) == g) {
                        primary = c;
                        break;
                    }
                }
            }
            groupFlops[g] = flops;
            Channels out = arch.channels().get(groups.members(g)[0]);
            double weightCount = (double) src.of(primary.out()) * (primary.kind() == Op.ConvKind.DEPTHWISE ? 1
                    : src.of(primary.in())) * primary.kernel() * primary.kernel();
            raw[t] = new double[] {t, depthwise ? 1 : 0, src.of(primary.in()), src.of(out), primary.stride(),
                    primary.kernel(), weightCount};
        }
        staticFeatures = new double[order.length][raw[0].length];
        for (int f = 0; f < raw[0].length; f++) {
            double lo = Double.MAX_VALUE, hi = -Double.MAX_VALUE;
            for (double[] r : raw) {
                lo = Math.min(lo, r[f]);
                hi = Math.max(hi, r[f]);
            }
            for (int t = 0; t < order.length; t++) {
                staticFeatures[t][f] = hi > lo ? (raw[t][f] - lo) / (hi - lo) : 0;
            }
        }
        int maxBatch = 1;
        for (HeldBatch b : val) {
            maxBatch = Math.max(maxBatch, b.size());
        }
        this.evalNet = Network.forInference(src.architecture(), maxBatch);
    }

    /** Number of steps (prunable layers) per episode. */
    public int steps() {
        return order.length;
    }

    public long fullFlops() {
        return fullFlops;
    }

    private double[] state(int t, double reduced, double rest, double prev) {
        double[] st = Arrays.copyOf(staticFeatures[t], staticFeatures[t].length + 3);
        st[st.length - 3] = reduced;
        st[st.length - 2] = rest;
        st[st.length - 1] = prev;
        return st;
    }

    /** Widths when group {@code g} keeps fraction {@code f[g]} ({@code NaN}: all). */
    long flopsAt(double[] f) {
        Architecture arch = src.architecture();
        int[] w = new int[arch.channels().size()];
        for (Channels c : arch.channels()) {
            int g = groups.groupOf(c);
            int full = src.of(c);
            w[c.id()] = groups.prunable(g) && !Double.isNaN(f[g]) ? Pruner.keepCount(f[g], full) : full;
        }
        return CostCounter.count(Widths.explicit(arch, w)).flops();
    }

    /**
     * The action bound: the largest keep fraction at step {@code t} (at most {@code a}) with which the target is
     * still reachable when every later layer keeps {@code lbound}.
     */
    double bound(double[] f, int t, double a) {
        long target = (long) Math.floor(s.targetFraction() * fullFlops);
        double[] g = f.clone();
        for (int u = t + 1; u < order.length; u++) {
            g[order[u]] = s.lbound();
        }
        g[order[t]] = a;
        if (flopsAt(g) <= target) {
            return a;
        }
        double lo = s.lbound(), hi = a;
        g[order[t]] = lo;
        if (flopsAt(g) > target) {
            return lo; // not reachable even so: the budget is below what lbound allows (checked before the search)
        }
        for (int it = 0; it < 30; it++) {
            double mid = (lo + hi) / 2;
            g[order[t]] = mid;
            if (flopsAt(g) <= target) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    /** Kept channels per group for keep fractions {@code f}. */
    int[][] kept(double[] f) {
        int[][] k = new int[groups.size()][];
        for (int g : order) {
            k[g] = Ranking.top(scores[g], Pruner.keepCount(f[g], scores[g].length));
        }
        return k;
    }

    /** Prunes (with reconstruction) at keep fractions {@code f} and measures the held-out error. */
    double error(double[] f, Map<String, Tensor>[] reconstructedOut) {
        int[][] byDim = Surgery.keptByDim(groups, src, kept(f));
        Map<String, Tensor> rec = Reconstruction.apply(stats, weights, byDim);
        Surgery.Pruned p = Surgery.apply(src, rec, byDim);
        if (reconstructedOut != null) {
            reconstructedOut[0] = rec;
        }
        NetworkSlots.fill(evalNet, p.weights());
        long correct = 0, seen = 0;
        for (HeldBatch b : val) {
            Tensor logits = evalNet.forward(b.images(), p.widths(), Network.BnMode.EVAL);
            correct += Kernels.get().countTopK(logits, b.labels(), 1);
            seen += b.size();
        }
        return 1 - (double) correct / seen;
    }

    /** Runs the warm-up and the episodes; returns the best (lowest held-out error) plan within the budget. */
    public Result run(Listener listener) {
        return run(listener, newState(""), null, Integer.MAX_VALUE);
    }

    /** A fresh search state (the agent at its seed); {@code source} names the dense network, checked on resume. */
    public State newState(String source) {
        return new State(s, source, new Ddpg(staticFeatures[0].length + 3, 100 * order.length, s.seed()));
    }

    /**
     * Runs the episodes from {@code state.nextEpisode()} on (a fresh state, or one read back after an
     * interruption: the search continues exactly), handing the state to {@code save} every {@code every}
     * episodes and after the last.
     */
    @SuppressWarnings("unchecked")
    public Result run(Listener listener, State state, java.util.function.Consumer<State> save, int every) {
        double[] all = new double[groups.size()];
        Arrays.fill(all, s.lbound());
        long minFlops = flopsAt(all);
        if (minFlops > s.targetFraction() * fullFlops) {
            throw new IllegalArgumentException(String.format(java.util.Locale.ROOT, "the FLOPs target %.1f%% cannot be"
                    + " met: keeping lbound = %.2f of every layer leaves %.1f%%; lower --lbound or raise the target",
                    100 * s.targetFraction(), s.lbound(), 100.0 * minFlops / fullFlops));
        }
        if (!state.settings.equals(s)) {
            throw new IllegalArgumentException("search state of other settings: " + state.settings);
        }
        Ddpg agent = state.agent;
        Episode best = state.best;
        double[] bestF = state.bestF;
        int total = s.warmup() + s.episodes();
        for (int ep = state.nextEpisode; ep < total; ep++) {
            boolean warm = ep < s.warmup();
            double delta = warm ? Double.NaN : s.initDelta() * Math.pow(s.deltaDecay(), ep - s.warmup());
            double[] f = new double[groups.size()];
            Arrays.fill(f, Double.NaN);
            double[] actions = new double[order.length];
            List<double[]> states = new ArrayList<>();
            double prev = 0;
            for (int t = 0; t < order.length; t++) {
                double[] none = f.clone();
                long now = flopsAt(none);
                double reduced = (double) (fullFlops - now) / fullFlops;
                double rest = 0;
                for (int u = t + 1; u < order.length; u++) {
                    rest += groupFlops[order[u]];
                }
                double[] st = state(t, reduced, rest / fullFlops, prev);
                states.add(st);
                double a = warm ? agent.uniform(s.lbound(), s.rbound())
                        : agent.truncatedNormal(agent.act(st), delta, s.lbound(), s.rbound());
                a = bound(f, t, a);
                f[order[t]] = a;
                actions[t] = a;
                prev = a;
            }
            long flops = flopsAt(f);
            double err = error(f, null);
            agent.observeEpisode(states, actions, -err);
            Episode e = new Episode(ep, warm, actions, flops, err, delta);
            if (best == null || err < best.error()) {
                best = e;
                bestF = f.clone();
            }
            if (!warm) {
                for (int u = 0, n = s.updates() < 0 ? order.length : s.updates(); u < n; u++) {
                    agent.update();
                }
            }
            if (listener != null) {
                listener.episode(e, best);
            }
            state.nextEpisode = ep + 1;
            state.best = best;
            state.bestF = bestF;
            if (save != null && (state.nextEpisode % every == 0 || state.nextEpisode == total)) {
                save.accept(state);
            }
        }
        Map<String, Tensor>[] rec = new Map[1];
        double err = error(bestF, rec);
        return new Result(kept(bestF), best.actions(), err, flopsAt(bestF), rec[0], total);
    }
}
