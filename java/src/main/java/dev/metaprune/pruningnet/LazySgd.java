package dev.metaprune.pruningnet;

/**
 * Exact lazy SGD-with-momentum for rows that a step did not touch.
 *
 * <p>A row with zero gradient still moves under PyTorch's SGD: with weight decay {@code wd},
 * momentum {@code m} and learning rate {@code lr_t}, one step maps {@code (w, buf)} linearly:
 * {@code buf' = m buf + wd w}, {@code w' = w - lr_t buf'} (or {@code w - lr_t (wd w + m buf')} with
 * Nesterov). That is a 2x2 matrix {@code M_t}, the same for every untouched row. Instead of
 * rewriting every row every step, a row remembers the step after which it was last written; when it
 * is next read (or at a checkpoint) the product of the matrices of the steps it missed is applied
 * once. This class keeps, for every step that is still some row's "last written" step, that
 * product (in double precision), updating them all at the end of each step: O(live steps) scalar
 * work per step, nothing per untouched row.
 *
 * <p>Steps are numbered from 0. Rows start as "written after step -1" (their initial value).
 */
final class LazySgd {
    private final float momentum;
    private final float weightDecay;
    private final boolean nesterov;
    /** Products for each live last-step s, as {a, b, c, d}: (w, buf) <- [[a, b], [c, d]] (w, buf). */
    private final java.util.HashMap<Integer, double[]> products = new java.util.HashMap<>();
    private final java.util.HashMap<Integer, Integer> live = new java.util.HashMap<>();
    private int step;

    LazySgd(float momentum, float weightDecay, boolean nesterov, int rowsAtStart) {
        this.momentum = momentum;
        this.weightDecay = weightDecay;
        this.nesterov = nesterov;
        products.put(-1, new double[] {1, 0, 0, 1});
        live.put(-1, rowsAtStart);
    }

    /** The step being computed now. */
    int step() {
        return step;
    }

    /**
     * The matrix that brings a row last written after step {@code last} up to date for the current
     * step, or null when it is already current (identity).
     */
    double[] catchUp(int last) {
        if (last == step - 1) {
            return null;
        }
        double[] p = products.get(last);
        if (p == null) {
            throw new IllegalStateException("no pending product for step " + last + " at step " + step);
        }
        return p;
    }

    /**
     * Records that {@code rows} rows moved from last-written step {@code from} to {@code to}
     * (the current step when written by a backward pass, the previous one when caught up).
     */
    void moved(int from, int to, int rows) {
        if (from == to) {
            return;
        }
        int left = live.merge(from, -rows, Integer::sum);
        if (left < 0) {
            throw new IllegalStateException("row accounting broken at step " + from);
        }
        if (left == 0) {
            live.remove(from);
            products.remove(from);
        }
        live.merge(to, rows, Integer::sum);
        products.computeIfAbsent(to, k -> new double[] {1, 0, 0, 1});
    }

    /** Closes the current step, run with learning rate {@code lr}: every pending product absorbs it. */
    void endStep(float lr) {
        // M for a zero-gradient row, computed as the float update rule does it, in double
        double a, b, c, d;
        // column for (w=1, buf=0)
        double buf1 = weightDecay, w1 = 1 - lr * (nesterov ? weightDecay + momentum * buf1 : buf1);
        // column for (w=0, buf=1)
        double buf2 = momentum, w2 = -lr * (nesterov ? momentum * buf2 : buf2);
        a = w1;
        b = w2;
        c = buf1;
        d = buf2;
        for (var e : products.entrySet()) {
            if (e.getKey() == step) {
                continue;
            }
            double[] p = e.getValue();
            double pa = a * p[0] + b * p[2], pb = a * p[1] + b * p[3];
            double pc = c * p[0] + d * p[2], pd = c * p[1] + d * p[3];
            p[0] = pa;
            p[1] = pb;
            p[2] = pc;
            p[3] = pd;
        }
        step++;
    }

    /** Restores the step counter (checkpoint resume): all rows must have been flushed (current). */
    void resetAt(int newStep, int rows) {
        products.clear();
        live.clear();
        step = newStep;
        products.put(newStep - 1, new double[] {1, 0, 0, 1});
        live.put(newStep - 1, rows);
    }

    float momentum() {
        return momentum;
    }

    float weightDecay() {
        return weightDecay;
    }

    boolean nesterov() {
        return nesterov;
    }
}
