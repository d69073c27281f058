package dev.metaprune.search;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaprune.nn.arch.Architecture;
import dev.metaprune.nn.arch.Architectures;
import dev.metaprune.nn.arch.GeneSpace;
import dev.metaprune.nn.arch.Widths;
import dev.metaprune.nn.cost.CostCounter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The evolutionary search with a synthetic score: constraint, cache, ties, determinism, resume. */
class EvolutionarySearchTest {
    @TempDir
    Path tmp;

    static final Architecture ARCH = Architectures.get("mobilenetv2-cifar", 1, 28, 10);
    static final GeneSpace SPACE = ARCH.geneSpace();

    /** A score with a known optimum: distance to a target gene, favouring wide stage outputs. */
    static double score(int[] g) {
        double s = 0;
        for (int i = 0; i < g.length; i++) {
            int target = i < 18 ? 24 : 6;
            s += Math.abs(g[i] - target);
        }
        return s / (30.0 * g.length);
    }

    static Constraint halfFlops() {
        double full = CostCounter.count(Widths.uniform(ARCH, 1.0)).flops() / 1e6;
        return Constraints.flops(ARCH, full / 2);
    }

    static SearchConfig small(long seed) {
        return new SearchConfig(12, 4, 4, 0.1, 4, 4, 10, seed);
    }

    /** Runs a search, counting evaluations per gene. */
    static List<Candidate> search(SearchConfig cfg, int workers, ConcurrentHashMap<String, AtomicInteger> calls)
            throws IOException {
        EvolutionarySearch es = new EvolutionarySearch(SPACE, halfFlops(), cfg);
        es.run(0, es.initialPopulation(), () -> g -> {
            calls.computeIfAbsent(Candidate.key(g), k -> new AtomicInteger()).incrementAndGet();
            return score(g);
        }, workers, EvolutionarySearch.Store.NONE, null);
        return es.results();
    }

    @Test
    void everyCandidateMeetsTheConstraintIsNewAndKeepsTies() throws IOException {
        var calls = new ConcurrentHashMap<String, AtomicInteger>();
        List<Candidate> all = search(small(3), 1, calls);
        Constraint c = halfFlops();
        assertTrue(all.size() >= 12 * 3, "population refilled each iteration: " + all.size());
        for (Candidate cand : all) {
            assertTrue(c.accepts(cand.gene()), cand.key());
            for (List<Integer> grp : SPACE.tieGroups()) {
                for (int p : grp) {
                    assertEquals(cand.gene()[grp.get(0)], cand.gene()[p], "tied positions differ in " + cand.key());
                }
            }
        }
        for (var e : calls.entrySet()) {
            assertEquals(1, e.getValue().get(), "evaluated twice: " + e.getKey());
        }
        assertEquals(all.size(), calls.size());
    }

    @Test
    void theSearchImprovesOnItsInitialPopulation() throws IOException {
        EvolutionarySearch es = new EvolutionarySearch(SPACE, halfFlops(), new SearchConfig(20, 5, 8, 0.1, 8, 10, 10, 5));
        List<int[]> init = es.initialPopulation();
        double bestInit = init.stream().mapToDouble(EvolutionarySearchTest::score).min().orElseThrow();
        List<Candidate> top = es.run(0, init, () -> EvolutionarySearchTest::score, 1, EvolutionarySearch.Store.NONE,
                null);
        assertTrue(top.get(0).error() < bestInit - 0.02, top.get(0).error() + " vs initial " + bestInit);
    }

    @Test
    void deterministicAndIndependentOfWorkers() throws IOException {
        List<Candidate> a = search(small(9), 1, new ConcurrentHashMap<>());
        List<Candidate> b = search(small(9), 3, new ConcurrentHashMap<>());
        Set<String> ka = new HashSet<>(), kb = new HashSet<>();
        a.forEach(c -> ka.add(c.key()));
        b.forEach(c -> kb.add(c.key()));
        assertEquals(ka, kb);
        List<Candidate> c = search(small(10), 1, new ConcurrentHashMap<>());
        Set<String> kc = new HashSet<>();
        c.forEach(x -> kc.add(x.key()));
        assertTrue(!kc.equals(ka), "another seed searches other genes");
    }

    /** A store that dies after n results, like a killed process. */
    static final class Killed extends RuntimeException {
    }

    @Test
    void aKilledSearchResumesWithoutReevaluating() throws IOException {
        SearchConfig cfg = small(4);
        // uninterrupted
        List<Candidate> straight = search(cfg, 1, new ConcurrentHashMap<>());
        // killed after 17 results, files on disk
        Path dir = tmp.resolve("s");
        SearchRun run = SearchRun.create(dir, new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode(),
                SPACE, null);
        AtomicInteger left = new AtomicInteger(17);
        EvolutionarySearch.Store dying = new EvolutionarySearch.Store() {
            @Override
            public void candidate(Candidate c) throws IOException {
                if (left.getAndDecrement() <= 0) {
                    throw new Killed();
                }
                run.candidate(c);
            }

            @Override
            public void population(int iteration, List<int[]> genes) throws IOException {
                run.population(iteration, genes);
            }
        };
        EvolutionarySearch first = new EvolutionarySearch(SPACE, halfFlops(), cfg);
        assertThrows(Killed.class, () -> first.run(0, first.initialPopulation(), () -> EvolutionarySearchTest::score,
                1, dying, null));
        run.close();
        // cut the last line in half, as a kill during a write would
        Path lines = dir.resolve("candidates.jsonl");
        String text = Files.readString(lines);
        Files.writeString(lines, text.substring(0, text.length() - 20));

        SearchRun again = SearchRun.resume(dir, SPACE, null);
        assertEquals(16, again.known().size(), "the cut line is dropped");
        EvolutionarySearch second = new EvolutionarySearch(SPACE, halfFlops(), cfg);
        second.preload(again.known());
        Set<String> reevaluated = ConcurrentHashMap.newKeySet();
        Set<String> known = new HashSet<>();
        again.known().forEach(c -> known.add(c.key()));
        second.run(again.populationIteration(), again.population(), () -> g -> {
            reevaluated.add(Candidate.key(g));
            return score(g);
        }, 1, again, null);
        again.close();
        for (String k : reevaluated) {
            assertTrue(!known.contains(k), "re-evaluated " + k);
        }
        Set<String> ks = new HashSet<>(), kr = new HashSet<>();
        straight.forEach(c -> ks.add(c.key()));
        second.results().forEach(c -> kr.add(c.key()));
        assertEquals(ks, kr, "resumed search explores exactly what the uninterrupted one did");
        assertEquals(straight.size(), SearchRun.readCandidates(lines, SPACE).size());
    }

    @Test
    void impossibleBudgetsAreRefusedWithTheRange() {
        Constraint tiny = Constraints.flops(ARCH, 0.001);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> tiny.checkFeasible(ARCH));
        assertTrue(e.getMessage().contains("no gene meets") && e.getMessage().contains("ranges from"), e.getMessage());
        Constraint huge = Constraints.params(ARCH, 1e6);
        e = assertThrows(IllegalArgumentException.class, () -> huge.checkFeasible(ARCH));
        assertTrue(e.getMessage().contains("does not constrain"), e.getMessage());
        Constraint both = Constraints.all(List.of(halfFlops(), Constraints.params(ARCH, 0.0001)));
        e = assertThrows(IllegalArgumentException.class, () -> both.checkFeasible(ARCH));
        assertTrue(e.getMessage().contains("params"), e.getMessage());
        halfFlops().checkFeasible(ARCH);
    }

    @Test
    void combinedConstraintsNeedEveryPart() {
        Constraint f = halfFlops();
        double p = CostCounter.count(Widths.uniform(ARCH, 1.0)).params() / 1e6;
        Constraint pc = Constraints.params(ARCH, p / 3);
        Constraint all = Constraints.all(List.of(f, pc));
        int[] g = new int[SPACE.length()];
        java.util.Arrays.fill(g, 14);
        assertEquals(f.accepts(g) && pc.accepts(g), all.accepts(g));
        int[] narrow = new int[SPACE.length()];
        assertTrue(all.accepts(narrow));
        int[] wide = new int[SPACE.length()];
        java.util.Arrays.fill(wide, 30);
        assertTrue(!all.accepts(wide));
        assertTrue(all.describe().contains(" and "), all.describe());
    }

    @Test
    void budgetsParse() {
        assertEquals(45.0, Constraints.parseMillions("45M", 100, "x"), 1e-12);
        assertEquals(1500.0, Constraints.parseMillions("1.5G", 100, "x"), 1e-9);
        assertEquals(50.0, Constraints.parseMillions("50%", 100, "x"), 1e-12);
        assertEquals(150.0, Constraints.parseMillions("150000000", 100, "x"), 1e-9);
        assertEquals(2.5, Constraints.parseMillis("2.5ms"), 1e-12);
        assertEquals(0.8, Constraints.parseMillis("800us"), 1e-12);
        assertThrows(IllegalArgumentException.class, () -> Constraints.parseMillions("45 apples", 1, "x"));
        assertThrows(IllegalArgumentException.class, () -> Constraints.parseMillis("fast"));
        assertThrows(IllegalArgumentException.class, () -> Constraints.flops(ARCH, -1));
    }

    @Test
    void tightBudgetsStillFillThePopulation() {
        double full = CostCounter.count(Widths.uniform(ARCH, 1.0)).flops() / 1e6;
        EvolutionarySearch es = new EvolutionarySearch(SPACE, Constraints.flops(ARCH, full * 0.08),
                new SearchConfig(30, 5, 10, 0.1, 10, 2, 10, 1));
        List<int[]> pop = es.initialPopulation();
        assertEquals(30, pop.size());
        Set<String> keys = new HashSet<>();
        for (int[] g : pop) {
            keys.add(Candidate.key(g));
        }
        assertEquals(30, keys.size(), "no duplicates");
    }

    @Test
    void uniformMatchIsTheWidestUniformWithinTheFlops() {
        long target = CostCounter.count(Widths.uniform(ARCH, 1.0)).flops() / 2;
        double m = UniformMatch.multiplierForFlops(ARCH, target);
        assertTrue(UniformMatch.flops(ARCH, m) <= target);
        assertTrue(UniformMatch.flops(ARCH, m + 0.01) > target || m >= 1.0, "m " + m + " is not the widest");
        assertTrue(m > 0.5 && m < 0.9, "half the FLOPs of a MobileNetV2 is near width 0.7: " + m);
        assertThrows(IllegalArgumentException.class, () -> UniformMatch.multiplierForFlops(ARCH, 10));
    }
}
