package dev.metaprune.pruningnet;

import java.util.Arrays;

/**
 * Exact lazy SGD-with-momentum for rows that a step did not touch.
 *
 * <p>A row with zero gradient still moves under PyTorch's SGD: with weight decay {@code wd},
 * momentum {@code m} and learning rate {@code lr_t}, one step maps {@code (w, buf)} linearly:
 * {@code buf' = m buf + wd w}, {@code w' = w - lr_t buf'} (or {@code w - lr_t (wd w + m buf')} with
 * Nesterov). That is a 2x2 matrix {@code M_t}, the same for every untouched row. Instead of
 * rewriting every row every step, a block of rows remembers the step after which it was last
 * written; when it is next read (or at a checkpoint) the product of the matrices of the steps it
 * missed is applied once.
 *
 * <p>This class keeps, for every step that is still some block's "last written" step (a live
 * step), that product in double precision and the number of blocks that reference it. Live steps
 * are held in slots, in increasing step order (a step only ever becomes live as the newest one:
 * {@code step - 1} when blocks are caught up, {@code step} when a backward pass writes them), so a
 * lookup is a binary search and an update is an array increment — no boxing, no hashing. Slot
 * indices stay fixed during a step (emptied slots are removed at {@link #endStep}), so parallel
 * callers can tally per slot and merge. Per step the cost is O(live steps) scalar work, nothing per
 * untouched block; per touched block it is O(1) (amortised over runs of blocks with the same step).
 *
 * <p>Steps are numbered from 0. Blocks start as "written after step -1" (their initial value).
 */
final class LazySgd {
    private final float momentum;
    private final float weightDecay;
    private final boolean nesterov;
    private int step;
    /** Live slots: {@code steps[0..size)} ascending; {@code counts} blocks referencing each. */
    private int size;
    private int[] steps = new int[16];
    private long[] counts = new long[16];
    /** Products {a, b, c, d} per slot: (w, buf) <- [[a, b], [c, d]] (w, buf). */
    private double[] prods = new double[64];

    LazySgd(float momentum, float weightDecay, boolean nesterov, long blocksAtStart) {
        this.momentum = momentum;
        this.weightDecay = weightDecay;
        this.nesterov = nesterov;
        resetAt(0, blocksAtStart);
    }

    /** The step being computed now. */
    int step() {
        return step;
    }

    /** Number of live slots (an upper bound on the slot indices valid during this step). */
    int slots() {
        return size;
    }

    /** The slot of live step {@code s}. */
    int slotOf(int s) {
        int i = Arrays.binarySearch(steps, 0, size, s);
        if (i < 0) {
            throw new IllegalStateException("no pending product for step " + s + " at step " + step);
        }
        return i;
    }

    /** Element {@code e} (0..3: a, b, c, d) of a slot's product. */
    double product(int slot, int e) {
        return prods[4 * slot + e];
    }

    /**
     * The slot of step {@code s}, created (identity product, no blocks) when {@code s} is not live;
     * {@code s} must not be older than the newest live step in that case.
     */
    int ensure(int s) {
        if (size > 0 && steps[size - 1] == s) {
            return size - 1;
        }
        if (size > 0 && steps[size - 1] > s) {
            return slotOf(s);
        }
        if (size == steps.length) {
            steps = Arrays.copyOf(steps, size * 2);
            counts = Arrays.copyOf(counts, size * 2);
            prods = Arrays.copyOf(prods, size * 8);
        }
        steps[size] = s;
        counts[size] = 0;
        prods[4 * size] = 1;
        prods[4 * size + 1] = 0;
        prods[4 * size + 2] = 0;
        prods[4 * size + 3] = 1;
        return size++;
    }

    /** Moves {@code blocks} blocks out of a slot (their last-written step changed). */
    void release(int slot, long blocks) {
        long left = counts[slot] - blocks;
        if (left < 0) {
            throw new IllegalStateException("block accounting broken at step " + steps[slot]);
        }
        counts[slot] = left;
    }

    /** Moves {@code blocks} blocks into a slot. */
    void acquire(int slot, long blocks) {
        counts[slot] += blocks;
    }

    /**
     * Records that {@code blocks} blocks moved from last-written step {@code from} to {@code to}
     * (the current step when written by a backward pass, the previous one when caught up).
     */
    void moved(int from, int to, long blocks) {
        if (from == to || blocks == 0) {
            return;
        }
        release(slotOf(from), blocks);
        acquire(ensure(to), blocks);
    }

    /** Closes the current step, run with learning rate {@code lr}: every pending product absorbs it. */
    void endStep(float lr) {
        // M for a zero-gradient row, computed as the float update rule does it, in double
        double buf1 = weightDecay, w1 = 1 - lr * (nesterov ? weightDecay + momentum * buf1 : buf1);
        double buf2 = momentum, w2 = -lr * (nesterov ? momentum * buf2 : buf2);
        double a = w1, b = w2, c = buf1, d = buf2;
        int kept = 0;
        for (int i = 0; i < size; i++) {
            if (counts[i] == 0) {
                continue;
            }
            int o = 4 * i, q = 4 * kept;
            double p0 = prods[o], p1 = prods[o + 1], p2 = prods[o + 2], p3 = prods[o + 3];
            if (steps[i] != step) {
                double pa = a * p0 + b * p2, pb = a * p1 + b * p3;
                double pc = c * p0 + d * p2, pd = c * p1 + d * p3;
                p0 = pa;
                p1 = pb;
                p2 = pc;
                p3 = pd;
            }
            steps[kept] = steps[i];
            counts[kept] = counts[i];
            prods[q] = p0;
            prods[q + 1] = p1;
            prods[q + 2] = p2;
            prods[q + 3] = p3;
            kept++;
        }
        size = kept;
        step++;
    }

    /** Restores the step counter (checkpoint resume): all blocks must have been flushed (current). */
    void resetAt(int newStep, long blocks) {
        size = 0;
        step = newStep;
        acquire(ensure(newStep - 1), blocks);
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
