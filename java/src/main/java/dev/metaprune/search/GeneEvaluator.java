package dev.metaprune.search;

import dev.metaprune.data.HeldBatch;
import dev.metaprune.pruningnet.GeneratedNetwork;
import dev.metaprune.pruningnet.PruningNet;
import java.util.List;

/**
 * A search worker's scorer: its own {@link GeneratedNetwork} (weights, buffers, BatchNorm
 * statistics) over the shared recalibration and held-out batches; see
 * {@link GeneratedNetwork#error}.
 */
public final class GeneEvaluator implements EvolutionarySearch.Evaluator {
    private final GeneratedNetwork net;
    private final List<HeldBatch> recalibration;
    private final List<HeldBatch> validation;

    public GeneEvaluator(PruningNet pn, List<HeldBatch> recalibration, List<HeldBatch> validation) {
        if (validation.isEmpty()) {
            throw new IllegalArgumentException("no held-out images to evaluate candidates on (the PruningNet was trained"
                    + " with --holdout-per-class 0)");
        }
        int batch = 1;
        for (HeldBatch b : recalibration) {
            batch = Math.max(batch, b.size());
        }
        for (HeldBatch b : validation) {
            batch = Math.max(batch, b.size());
        }
        this.net = pn.generatedNetwork(batch);
        this.recalibration = recalibration;
        this.validation = validation;
    }

    @Override
    public double error(int[] gene) {
        return net.error(gene, recalibration, validation);
    }
}
