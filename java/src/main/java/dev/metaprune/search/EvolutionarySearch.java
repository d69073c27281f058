package dev.metaprune.search;

import dev.metaprune.kernels.Parallel;
import dev.metaprune.nn.arch.GeneSpace;
import dev.metaprune.nn.arch.Scales;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Supplier;

/**
 * The evolutionary search of MetaPruning (the paper's Algorithm 1, with the official code's
 * defaults): an initial population of random genes that meet the constraint; then each iteration
 * evaluates the population, takes the {@code topK} best genes evaluated so far as parents, and
 * builds the next population from {@code mutations} mutated parents, {@code crossovers} crossed
 * pairs and random genes for the rest. Every child must meet the constraint and be new (a gene is
 * never evaluated twice: the cache holds every result); tied gene positions (MobileNetV2's stage
 * widths) mutate and cross over together.
 *
 * <p><b>Determinism and resume.</b> The population of iteration {@code t + 1} is a function of the
 * seed, {@code t} and the set of results so far, and is handed to the {@link Store} before it is
 * evaluated; every result is handed to the store as it arrives. A search killed at any point and
 * restarted with {@link #preload} of the stored results and the stored population continues
 * exactly where it stopped, re-evaluating nothing. Candidates are evaluated in parallel by
 * {@code workers} threads, each with its own {@link Evaluator}.
 */
public final class EvolutionarySearch {
    /** Scores a gene: top-1 error (fraction) on the held-out split. One instance per worker thread. */
    @FunctionalInterface
    public interface Evaluator {
        double error(int[] gene);
    }

    /** Progress callbacks (called from the search's thread, except {@link #evaluated}: from workers, serialised). */
    public interface Listener {
        default void iterationStarted(int iteration, int toEvaluate, int alreadyKnown) {
        }

        default void evaluated(Candidate c) {
        }

        default void iterationDone(int iteration, List<Candidate> top) {
        }
    }

    /** Where results and the population go (a run folder; or nothing, in memory). */
    public interface Store {
        /** A result, as soon as it is known. */
        void candidate(Candidate c) throws IOException;

        /** The population iteration {@code iteration} evaluates, before it starts. */
        void population(int iteration, List<int[]> genes) throws IOException;

        Store NONE = new Store() {
            @Override
            public void candidate(Candidate c) {
            }

            @Override
            public void population(int iteration, List<int[]> genes) {
            }
        };
    }

    /** Best first: lower error, then lower cost, then the gene text. */
    public static final Comparator<Candidate> BEST_FIRST = Comparator.comparingDouble(Candidate::error)
            .thenComparingDouble(Candidate::cost).thenComparing(Candidate::key);

    private final GeneSpace space;
    private final Constraint constraint;
    private final SearchConfig cfg;
    private final List<List<Integer>> groups;
    private final Map<String, Candidate> cache = new LinkedHashMap<>();

    public EvolutionarySearch(GeneSpace space, Constraint constraint, SearchConfig cfg) {
        this.space = space;
        this.constraint = constraint;
        this.cfg = cfg;
        this.groups = space.tieGroups();
    }

    /** Results known from an earlier (interrupted) run: never evaluated again. */
    public void preload(Collection<Candidate> known) {
        for (Candidate c : known) {
            space.validate(c.gene());
            cache.putIfAbsent(c.key(), c);
        }
    }

    /** Every result so far, in the order they arrived. */
    public List<Candidate> results() {
        return List.copyOf(cache.values());
    }

    /** The {@code k} best results so far. */
    public List<Candidate> top(int k) {
        return cache.values().stream().sorted(BEST_FIRST).limit(k).toList();
    }

    /** The initial population (iteration 0): random genes meeting the constraint, a function of the seed only. */
    public List<int[]> initialPopulation() {
        SplittableRandom rnd = rng(0);
        List<int[]> pop = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        fillRandom(pop, seen, cfg.population(), rnd, false);
        return pop;
    }

    /**
     * Runs iterations {@code start .. cfg.iterations() - 1}; {@code population} is the population of
     * iteration {@code start} (from {@link #initialPopulation()} or the store of a killed run).
     * Returns the best results, best first ({@code topK} of them).
     */
    public List<Candidate> run(int start, List<int[]> population, Supplier<Evaluator> evaluators, int workers,
                               Store store, Listener listener) throws IOException {
        if (workers < 1) {
            throw new IllegalArgumentException("workers must be positive, got " + workers);
        }
        Listener l = listener != null ? listener : new Listener() {
        };
        BlockingQueue<Evaluator> pool = new ArrayBlockingQueue<>(workers);
        ExecutorService exec = Executors.newFixedThreadPool(workers, r -> {
            Thread t = new Thread(r, "metaprune-search");
            t.setDaemon(true);
            return t;
        });
        try {
            List<int[]> pop = population;
            for (int it = start; it < cfg.iterations(); it++) {
                store.population(it, pop);
                evaluate(it, pop, evaluators, workers, pool, exec, store, l);
                List<Candidate> top = top(cfg.topK());
                l.iterationDone(it, top);
                if (it + 1 < cfg.iterations()) {
                    pop = nextPopulation(it + 1);
                }
            }
        } finally {
            exec.shutdownNow();
        }
        return top(cfg.topK());
    }

    private void evaluate(int it, List<int[]> pop, Supplier<Evaluator> factory, int workers,
                          BlockingQueue<Evaluator> pool, ExecutorService exec, Store store, Listener l)
            throws IOException {
        List<int[]> todo = new ArrayList<>();
        for (int[] g : pop) {
            if (!cache.containsKey(Candidate.key(g))) {
                todo.add(g);
            }
        }
        l.iterationStarted(it, todo.size(), pop.size() - todo.size());
        if (todo.isEmpty()) {
            return;
        }
        Object lock = new Object();
        List<Future<?>> futures = new ArrayList<>();
        boolean serialKernels = workers > 1;
        for (int[] g : todo) {
            futures.add(exec.submit(() -> {
                Evaluator ev = pool.poll();
                if (ev == null) {
                    ev = factory.get();
                }
                try {
                    long t0 = System.nanoTime();
                    Evaluator e = ev;
                    double err = serialKernels ? Parallel.serially(() -> e.error(g)) : e.error(g);
                    Candidate c = new Candidate(g, err, constraint.value(g), it, (System.nanoTime() - t0) * 1e-9);
                    synchronized (lock) {
                        cache.put(c.key(), c);
                        try {
                            store.candidate(c);
                        } catch (IOException ex) {
                            throw new UncheckedIOException(ex);
                        }
                        l.evaluated(c);
                    }
                } finally {
                    pool.offer(ev);
                }
                return null;
            }));
        }
        for (Future<?> f : futures) {
            try {
                f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("search interrupted", e);
            } catch (ExecutionException e) {
                for (Future<?> o : futures) {
                    o.cancel(true);
                }
                Throwable c = e.getCause();
                if (c instanceof UncheckedIOException u) {
                    throw u.getCause();
                }
                if (c instanceof RuntimeException re) {
                    throw re;
                }
                if (c instanceof Error er) {
                    throw er;
                }
                throw new IllegalStateException(c);
            }
        }
    }

    /** The population of iteration {@code it >= 1}: mutation, crossover, random fill (a function of the seed, it and the results). */
    public List<int[]> nextPopulation(int it) {
        SplittableRandom rnd = rng(it);
        List<Candidate> parents = top(cfg.topK());
        List<int[]> next = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        if (!parents.isEmpty()) {
            int wanted = cfg.mutations();
            for (int tries = cfg.mutations() * cfg.triesPerChild(); tries > 0 && wanted > 0; tries--) {
                int[] g = parents.get(rnd.nextInt(parents.size())).gene();
                for (List<Integer> grp : groups) {
                    if (rnd.nextDouble() < cfg.mutationProb()) {
                        int v = rnd.nextInt(Scales.COUNT - 1);
                        int old = g[grp.get(0)];
                        int nv = v >= old ? v + 1 : v; // a different value
                        for (int p : grp) {
                            g[p] = nv;
                        }
                    }
                }
                if (admit(g, next, seen)) {
                    wanted--;
                }
            }
            wanted = cfg.crossovers();
            for (int tries = cfg.crossovers() * cfg.triesPerChild(); tries > 0 && wanted > 0 && parents.size() > 1;
                 tries--) {
                int a = rnd.nextInt(parents.size());
                int b = rnd.nextInt(parents.size() - 1);
                if (b >= a) {
                    b++;
                }
                int[] ga = parents.get(a).gene(), gb = parents.get(b).gene();
                int[] g = new int[ga.length];
                for (List<Integer> grp : groups) {
                    int[] src = rnd.nextBoolean() ? ga : gb;
                    for (int p : grp) {
                        g[p] = src[p];
                    }
                }
                if (admit(g, next, seen)) {
                    wanted--;
                }
            }
        }
        fillRandom(next, seen, cfg.population(), rnd, true);
        return next;
    }

    private boolean admit(int[] g, List<int[]> next, Set<String> seen) {
        String k = Candidate.key(g);
        if (cache.containsKey(k) || seen.contains(k) || !constraint.accepts(g)) {
            return false;
        }
        seen.add(k);
        next.add(g);
        return true;
    }

    /**
     * Random genes (tied positions drawn together) up to {@code size}; a draw that misses the budget is
     * redrawn, and after {@code triesPerChild} misses it is repaired by narrowing random tie groups
     * until it fits (so tight budgets still fill the population; the narrowest gene is feasible,
     * {@link Constraint#checkFeasible} checked that).
     */
    private void fillRandom(List<int[]> pop, Set<String> seen, int size, SplittableRandom rnd, boolean excludeKnown) {
        int stale = 0;
        while (pop.size() < size && stale < size * cfg.triesPerChild() * 10) {
            int[] g = null;
            for (int t = 0; t < cfg.triesPerChild() && g == null; t++) {
                int[] d = draw(rnd);
                if (constraint.accepts(d)) {
                    g = d;
                }
            }
            if (g == null) {
                g = repair(draw(rnd), rnd);
            }
            String k = Candidate.key(g);
            if (seen.contains(k) || (excludeKnown && cache.containsKey(k)) || !constraint.accepts(g)) {
                stale++;
                continue;
            }
            seen.add(k);
            pop.add(g);
        }
    }

    private int[] draw(SplittableRandom rnd) {
        int[] g = new int[space.length()];
        for (List<Integer> grp : groups) {
            int v = rnd.nextInt(Scales.COUNT);
            for (int p : grp) {
                g[p] = v;
            }
        }
        return g;
    }

    private int[] repair(int[] g, SplittableRandom rnd) {
        for (int guard = 0; guard < 100_000 && !constraint.accepts(g); guard++) {
            List<Integer> grp = groups.get(rnd.nextInt(groups.size()));
            int v = g[grp.get(0)];
            if (v == 0) {
                continue;
            }
            int nv = rnd.nextInt(v);
            for (int p : grp) {
                g[p] = nv;
            }
        }
        return g;
    }

    private SplittableRandom rng(int iteration) {
        return new SplittableRandom(cfg.seed() * 0x9E3779B97F4A7C15L + (iteration + 1) * 0xD1B54A32D192ED03L);
    }

    @Override
    public String toString() {
        return "EvolutionarySearch" + Arrays.asList(space.name(), constraint.describe(), cfg);
    }
}
