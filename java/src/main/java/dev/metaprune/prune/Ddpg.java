package dev.metaprune.prune;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The DDPG agent of AMC (He et al. 2018; the official {@code mit-han-lab/amc}): actor {@code s -> 300 -> 300 -> a}
 * (sigmoid), critic {@code (s, a) -> 300 -> 300 -> Q}, target networks with soft updates ({@code tau = 0.01}), Adam
 * (actor 1e-4, critic 1e-3), discount 1, a replay memory, mini-batches of 64, and rewards taken relative to a moving
 * average (the official {@code moving_alpha = 0.5}). Exploration: truncated-normal around the actor's action with a
 * spread that decays per episode after the warm-up.
 */
public final class Ddpg implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    /** One transition; the reward is the episode's, given to every step. */
    record Transition(double[] s, double a, double r, double[] s2, boolean done) implements java.io.Serializable {
    }

    public static final int HIDDEN = 300;
    private final Mlp actor, actorTarget, critic, criticTarget;
    private final Random rnd;
    private final List<Transition> memory = new ArrayList<>();
    private final int capacity;
    private int next;
    private final double tau = 0.01, lrActor = 1e-4, lrCritic = 1e-3, movingAlpha = 0.5;
    private final int batch = 64;
    private double movingAverage;
    private boolean haveAverage;

    public Ddpg(int stateDim, int capacity, long seed) {
        this.rnd = new Random(seed);
        this.capacity = capacity;
        actor = new Mlp(rnd, true, stateDim, HIDDEN, HIDDEN, 1);
        actorTarget = new Mlp(rnd, true, stateDim, HIDDEN, HIDDEN, 1);
        critic = new Mlp(rnd, false, stateDim + 1, HIDDEN, HIDDEN, 1);
        criticTarget = new Mlp(rnd, false, stateDim + 1, HIDDEN, HIDDEN, 1);
        actorTarget.softUpdate(actor, 1);
        criticTarget.softUpdate(critic, 1);
    }

    /** The actor's action for a state, in (0, 1). */
    public double act(double[] s) {
        return actor.output(s)[0];
    }

    /** A draw from the normal {@code N(mean, sigma)} truncated to {@code [lo, hi]} (rejection, then clipping). */
    public double truncatedNormal(double mean, double sigma, double lo, double hi) {
        for (int i = 0; i < 100; i++) {
            double x = mean + sigma * rnd.nextGaussian();
            if (x >= lo && x <= hi) {
                return x;
            }
        }
        return Math.min(hi, Math.max(lo, mean));
    }

    public double uniform(double lo, double hi) {
        return lo + (hi - lo) * rnd.nextDouble();
    }

    /** Stores an episode: every step gets the episode's reward; updates the moving average of rewards. */
    public void observeEpisode(List<double[]> states, double[] actions, double reward) {
        if (!haveAverage) {
            movingAverage = reward;
            haveAverage = true;
        } else {
            movingAverage += movingAlpha * (reward - movingAverage);
        }
        for (int t = 0; t < actions.length; t++) {
            boolean done = t == actions.length - 1;
            Transition tr = new Transition(states.get(t), actions[t], reward, done ? states.get(t) : states.get(t + 1),
                    done);
            if (memory.size() < capacity) {
                memory.add(tr);
            } else {
                memory.set(next, tr);
                next = (next + 1) % capacity;
            }
        }
    }

    /** One update of critic and actor on a mini-batch, then the soft target updates; returns the critic loss. */
    public double update() {
        if (memory.isEmpty()) {
            return Double.NaN;
        }
        int n = Math.min(batch, memory.size());
        double loss = 0;
        List<Transition> b = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            b.add(memory.get(rnd.nextInt(memory.size())));
        }
        // critic: (Q(s, a) - (r - baseline + (1 - done) Q'(s', mu'(s'))))^2
        for (Transition tr : b) {
            double y = tr.r() - movingAverage;
            if (!tr.done()) {
                double a2 = actorTarget.output(tr.s2())[0];
                y += criticTarget.output(concat(tr.s2(), a2))[0];
            }
            double[][] acts = critic.forward(concat(tr.s(), tr.a()));
            double q = acts[acts.length - 1][0];
            loss += (q - y) * (q - y) / n;
            critic.backward(acts, new double[] {2 * (q - y) / n}, true);
        }
        critic.adam(lrCritic);
        // actor: maximise Q(s, mu(s))
        for (Transition tr : b) {
            double[][] aa = actor.forward(tr.s());
            double a = aa[aa.length - 1][0];
            double[][] ca = critic.forward(concat(tr.s(), a));
            double[] dIn = critic.backward(ca, new double[] {-1.0 / n}, false);
            actor.backward(aa, new double[] {dIn[dIn.length - 1]}, true);
        }
        actor.adam(lrActor);
        actorTarget.softUpdate(actor, tau);
        criticTarget.softUpdate(critic, tau);
        return loss;
    }

    /** The critic's value of an action (for tests). */
    double q(double[] s, double a) {
        return critic.output(concat(s, a))[0];
    }

    private static double[] concat(double[] s, double a) {
        double[] x = java.util.Arrays.copyOf(s, s.length + 1);
        x[s.length] = a;
        return x;
    }
}
