package dev.metaprune.search;

import java.util.Arrays;

/**
 * An evaluated gene: top-1 error on the held-out split (fraction, 0..1), its cost under the
 * constraint, the iteration that evaluated it and how long that took.
 */
public record Candidate(int[] gene, double error, double cost, int iteration, double seconds) {
    public Candidate {
        gene = gene.clone();
    }

    /** The compact gene text (comma-separated scale indices), also the cache key. */
    public String key() {
        return key(gene);
    }

    /** The compact text of a gene. */
    public static String key(int[] gene) {
        StringBuilder b = new StringBuilder(gene.length * 3);
        for (int i = 0; i < gene.length; i++) {
            b.append(i == 0 ? "" : ",").append(gene[i]);
        }
        return b.toString();
    }

    @Override
    public int[] gene() {
        return gene.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Candidate c && Arrays.equals(gene, c.gene) && error == c.error && cost == c.cost
                && iteration == c.iteration;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(gene);
    }
}
