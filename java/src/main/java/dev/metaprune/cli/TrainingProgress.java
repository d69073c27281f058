package dev.metaprune.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.metaprune.train.PruningNetTrainer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Locale;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * The progress bar of a training run (steps, loss, accuracy, images/s, ETA) and its per-epoch
 * records in {@code run.json}.
 */
final class TrainingProgress implements PruningNetTrainer.Listener, AutoCloseable {
    private final ProgressBar pb;
    private final int epochs;
    private final ArrayNode epochsNode;
    private final ObjectNode record;
    private final Path runJson;
    private final long t0 = System.nanoTime();
    private double emaLoss = Double.NaN;
    private double emaAcc = Double.NaN;
    private long images;

    TrainingProgress(String task, long totalSteps, long doneSteps, int epochs, ObjectNode record, Path runJson,
                     boolean quiet) {
        this.epochs = epochs;
        this.record = record;
        this.runJson = runJson;
        this.epochsNode = record.has("epochs") ? (ArrayNode) record.get("epochs") : record.putArray("epochs");
        this.pb = quiet ? null : new ProgressBarBuilder().setTaskName(task).setInitialMax(totalSteps)
                .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(1000).setUnit(" steps", 1)
                .continuousUpdate().build();
        if (pb != null) {
            pb.stepTo(doneSteps);
        }
    }

    @Override
    public void step(int epoch, int b, int per, long step, float loss, int correct, int seen, double lr) {
        emaLoss = Double.isNaN(emaLoss) ? loss : 0.95 * emaLoss + 0.05 * loss;
        double acc = (double) correct / seen;
        emaAcc = Double.isNaN(emaAcc) ? acc : 0.95 * emaAcc + 0.05 * acc;
        images += seen;
        if (pb != null) {
            double sec = (System.nanoTime() - t0) * 1e-9;
            pb.setExtraMessage(String.format(Locale.ROOT, "epoch %d/%d loss %.3f acc %.1f%% %.0f img/s", epoch + 1,
                    epochs, emaLoss, 100 * emaAcc, images / sec));
            pb.step();
        }
    }

    @Override
    public void epoch(int epoch, double meanLoss, double accuracy, Path checkpoint) {
        ObjectNode e = epochsNode.addObject();
        e.put("epoch", epoch + 1).put("train_loss", meanLoss).put("train_top1", accuracy)
                .put("checkpoint", checkpoint.getFileName().toString())
                .put("seconds_this_session", (System.nanoTime() - t0) * 1e-9);
        try {
            RunInfo.write(runJson, record);
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
        String msg = String.format(Locale.ROOT, "epoch %d done: loss %.3f, train top-1 %.1f%%, checkpoint written",
                epoch + 1, meanLoss, 100 * accuracy);
        if (pb != null) {
            pb.setExtraMessage(msg);
        } else {
            System.out.println(msg);
        }
    }

    /** Images per second so far. */
    double imagesPerSecond() {
        return images / Math.max(1e-9, (System.nanoTime() - t0) * 1e-9);
    }

    @Override
    public void close() {
        if (pb != null) {
            pb.close();
        }
    }
}
