package dev.metaprune.search;

/**
 * The evolutionary search's settings (the paper's Algorithm 1; defaults are the official code's).
 *
 * @param population   candidates per iteration (50)
 * @param topK         parents: the best {@code topK} genes evaluated so far (10)
 * @param mutations    children made by mutation per iteration (25)
 * @param mutationProb probability that a mutation redraws a gene position (a tie group) (0.1)
 * @param crossovers   children made by crossover per iteration (25)
 * @param iterations   iterations (20)
 * @param triesPerChild attempts per wanted child before giving up on the rest (10: the official
 *                      {@code max_iters = num * 10})
 * @param seed         seed of everything random in the search
 */
public record SearchConfig(int population, int topK, int mutations, double mutationProb, int crossovers,
                           int iterations, int triesPerChild, long seed) {
    public SearchConfig {
        if (population < 1 || topK < 1 || mutations < 0 || crossovers < 0 || iterations < 1 || triesPerChild < 1) {
            throw new IllegalArgumentException("search sizes must be positive (population " + population + ", top-k "
                    + topK + ", mutations " + mutations + ", crossovers " + crossovers + ", iterations " + iterations
                    + ", tries " + triesPerChild + ")");
        }
        if (mutations + crossovers > population) {
            throw new IllegalArgumentException("mutations + crossovers (" + (mutations + crossovers)
                    + ") exceed the population (" + population + ")");
        }
        if (!(mutationProb > 0 && mutationProb <= 1)) {
            throw new IllegalArgumentException("mutation probability must be in (0, 1], got " + mutationProb);
        }
    }

    /** The official defaults: 50 / 10 / 25 mutations at 0.1 / 25 crossovers / 20 iterations. */
    public static SearchConfig official(long seed) {
        return new SearchConfig(50, 10, 25, 0.1, 25, 20, 10, seed);
    }
}
