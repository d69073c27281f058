package dev.metaprune.kernels;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed pool of worker threads for the CPU kernels, with coarse static partitions.
 *
 * <p>A kernel calls {@link #run(int, Body)} with a number of parts; part {@code i} runs on worker
 * {@code i} (part 0 on the calling thread), so a kernel can keep per-part scratch buffers and
 * never allocate in its loops. Hand-offs cost a few microseconds (spin, then park), which is why
 * kernels split work into at most {@link #threads()} coarse parts rather than many small tasks.
 * A call made from inside a part runs serially on that thread (no nested parallelism).
 *
 * <p>The size comes from {@code -Dmetaprune.threads=N} (default: available processors) and can be
 * changed with {@link #setThreads(int)} between kernel calls.
 */
public final class Parallel {
    /** Work for one part. */
    @FunctionalInterface
    public interface Body {
        void run(int part, int parts);
    }

    private static final int SPIN = 20_000;
    private static volatile Parallel global;

    private final int threads;
    private final Worker[] workers;
    private final AtomicInteger pending = new AtomicInteger();
    private volatile Thread waiter;
    private final ThreadLocal<Boolean> inside = ThreadLocal.withInitial(() -> Boolean.FALSE);
    private static final ThreadLocal<Boolean> SERIAL = ThreadLocal.withInitial(() -> Boolean.FALSE);

    private Parallel(int threads) {
        this.threads = threads;
        this.workers = new Worker[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker(i + 1);
            workers[i].start();
        }
    }

    /** The shared pool. */
    public static Parallel get() {
        Parallel p = global;
        if (p == null) {
            synchronized (Parallel.class) {
                p = global;
                if (p == null) {
                    global = p = new Parallel(defaultThreads());
                }
            }
        }
        return p;
    }

    static int defaultThreads() {
        String s = System.getProperty("metaprune.threads");
        int n = Runtime.getRuntime().availableProcessors();
        if (s != null && !s.isBlank()) {
            try {
                n = Integer.parseInt(s.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("metaprune.threads must be a positive integer, got '" + s + "'");
            }
        }
        if (n < 1) {
            throw new IllegalArgumentException("metaprune.threads must be a positive integer, got " + n);
        }
        return n;
    }

    /** Replaces the shared pool with one of {@code n} threads (call between kernel calls only). */
    public static synchronized void setThreads(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("thread count must be positive, got " + n);
        }
        Parallel old = global;
        if (old != null && old.threads == n) {
            return;
        }
        global = new Parallel(n);
        if (old != null) {
            old.shutdown();
        }
    }

    /**
     * Runs {@code work} with every kernel call it makes serial on the calling thread (all parts in
     * order, no hand-off to the pool): for callers that are themselves parallel at a coarser grain,
     * such as the search evaluating one candidate per thread. Results are the same as with the pool,
     * since a kernel's parts and their order do not depend on who runs them.
     */
    public static <T> T serially(java.util.function.Supplier<T> work) {
        Boolean before = SERIAL.get();
        SERIAL.set(Boolean.TRUE);
        try {
            return work.get();
        } finally {
            SERIAL.set(before);
        }
    }

    /** Number of threads (parts a kernel should split into). */
    public int threads() {
        return threads;
    }

    /** Convenience: the shared pool's thread count. */
    public static int threadCount() {
        return get().threads;
    }

    /**
     * Runs {@code parts} parts ({@code 1 <= parts}); with more parts than threads, worker {@code w}
     * runs parts {@code w, w + threads, ...}. Returns when all parts are done; rethrows the first
     * failure.
     */
    public void run(int parts, Body body) {
        if (parts <= 0) {
            return;
        }
        if (parts == 1 || threads == 1 || inside.get() || SERIAL.get()) {
            for (int p = 0; p < parts; p++) {
                body.run(p, parts);
            }
            return;
        }
        synchronized (this) {
            int used = Math.min(parts, threads);
            pending.set(used - 1);
            waiter = Thread.currentThread();
            for (int w = 1; w < used; w++) {
                workers[w - 1].submit(body, parts);
            }
            Throwable failure = null;
            inside.set(Boolean.TRUE);
            try {
                for (int p = 0; p < parts; p += threads) {
                    body.run(p, parts);
                }
            } catch (Throwable t) {
                failure = t;
            } finally {
                inside.set(Boolean.FALSE);
            }
            int spins = 0;
            while (pending.get() > 0) {
                if (++spins < SPIN) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.parkNanos(this, 50_000);
                }
            }
            for (int w = 1; w < used; w++) {
                Throwable t = workers[w - 1].takeFailure();
                if (t != null && failure == null) {
                    failure = t;
                }
            }
            if (failure instanceof RuntimeException re) {
                throw re;
            }
            if (failure instanceof Error err) {
                throw err;
            }
            if (failure != null) {
                throw new RuntimeException(failure);
            }
        }
    }

    /** Splits {@code [0, n)} into {@code parts} near-equal contiguous ranges; returns range start of part p. */
    public static int split(int n, int parts, int p) {
        return (int) ((long) n * p / parts);
    }

    private void shutdown() {
        for (Worker w : workers) {
            w.stopNow();
        }
    }

    private final class Worker extends Thread {
        private final int index;
        private volatile Body body;
        private volatile int parts;
        private volatile boolean stop;
        private Throwable failure;

        Worker(int index) {
            super("metaprune-kernel-" + index);
            this.index = index;
            setDaemon(true);
        }

        void submit(Body b, int n) {
            parts = n;
            body = b;
            LockSupport.unpark(this);
        }

        Throwable takeFailure() {
            Throwable t = failure;
            failure = null;
            return t;
        }

        void stopNow() {
            stop = true;
            LockSupport.unpark(this);
        }

        @Override
        public void run() {
            inside.set(Boolean.TRUE);
            int spins = 0;
            while (!stop) {
                Body b = body;
                if (b == null) {
                    if (++spins < SPIN) {
                        Thread.onSpinWait();
                    } else {
                        LockSupport.park(this);
                    }
                    continue;
                }
                spins = 0;
                body = null;
                int n = parts;
                try {
                    for (int p = index; p < n; p += threads) {
                        b.run(p, n);
                    }
                } catch (Throwable t) {
                    failure = t;
                }
                if (pending.decrementAndGet() == 0) {
                    Thread w = waiter;
                    if (w != null) {
                        LockSupport.unpark(w);
                    }
                }
            }
        }
    }
}
