package dev.metaprune.search;

import dev.metaprune.kernels.Kernels;
import dev.metaprune.nn.Network;
import dev.metaprune.nn.arch.Widths;
import dev.metaprune.pruningnet.GeneratedNetwork;
import dev.metaprune.pruningnet.PruningNet;
import dev.metaprune.train.PruningNetTrainer.HeldBatch;
import java.util.List;

/**
 * MetaPruning's score of a candidate: generate its weights with the trained PruningNet, reset its
 * BatchNorm statistics and recalibrate them with the exact average over the given training batches
 * (the official code uses a momentum-0.1 running average instead), then top-1 error on the held-out
 * split. No fine-tuning. One instance per worker thread; the batches are shared read-only.
 */
public final class GeneEvaluator implements EvolutionarySearch.Evaluator {
    private final GeneratedNetwork net;
    private final List<HeldBatch> recalibration;
    private final List<HeldBatch> validation;
    private final Kernels k = Kernels.get();

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
        Widths w = net.load(gene);
        Network n = net.network();
        for (HeldBatch b : recalibration) {
            n.forward(b.images(), w, Network.BnMode.RECALIBRATE);
        }
        long correct = 0, seen = 0;
        for (HeldBatch b : validation) {
            correct += k.countTopK(n.forward(b.images(), w, Network.BnMode.EVAL), b.labels(), 1);
            seen += b.size();
        }
        return 1 - (double) correct / seen;
    }
}
