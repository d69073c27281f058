package dev.metaprune.train;

import dev.metaprune.data.ImageDataset;
import dev.metaprune.optim.LrSchedule;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/** What the PruningNet trainer and the from-scratch trainer share: settings checks, schedules, failures. */
final class Training {
    private Training() {
    }

    /** Checks the common settings; returns the schedule name in lower case. */
    static String checkSettings(int epochs, int batch, double lr, String schedule, int maxStepsPerEpoch) {
        if (epochs <= 0 || batch <= 1) {
            throw new IllegalArgumentException("epochs must be positive and the batch larger than 1 (BatchNorm needs"
                    + " two samples), got epochs " + epochs + ", batch " + batch);
        }
        if (!(lr > 0)) {
            throw new IllegalArgumentException("learning rate must be positive, got " + lr);
        }
        String s = schedule.toLowerCase(Locale.ROOT);
        if (!s.equals("linear") && !s.equals("cosine") && !s.equals("multistep")) {
            throw new IllegalArgumentException("schedule must be linear, cosine or multistep, got '" + schedule + "'");
        }
        if (maxStepsPerEpoch < 0) {
            throw new IllegalArgumentException("the step cap must be >= 0, got " + maxStepsPerEpoch);
        }
        return s;
    }

    /** The data set must have the images and classes the run was configured for. */
    static void checkData(ImageDataset d, int channels, int size, int classes) {
        if (d.channels() != channels || d.height() != size || d.width() != size || d.numClasses() != classes) {
            throw new IllegalArgumentException("data set " + d.name() + " has " + d.channels() + "x" + d.height() + "x"
                    + d.width() + " images and " + d.numClasses() + " classes; the run expects " + channels + "x"
                    + size + "x" + size + " and " + classes);
        }
    }

    /** {@code linear} (the official one), {@code cosine} or {@code multistep} (x0.1 at 1/4, 1/2, 3/4) over {@code total} steps. */
    static LrSchedule schedule(String name, double lr, long total) {
        return switch (name) {
            case "cosine" -> LrSchedule.cosine(lr, total, 0);
            case "multistep" -> LrSchedule.multiStep(lr, new long[] {total / 4, total / 2, 3 * total / 4}, 0.1);
            default -> LrSchedule.linearDecay(lr, total);
        };
    }

    /** The failure of a step whose loss is not finite (no update was applied; the last checkpoint stays). */
    static TrainingDivergedException diverged(float loss, int epoch, long step, double lr, Path dir) {
        Path ckpt = dir.resolve("checkpoint.safetensors");
        return new TrainingDivergedException("the loss became " + loss + " at epoch " + (epoch + 1) + ", step " + step
                + " (lr " + lr + "); no update was applied. The last good checkpoint is " + ckpt
                + (Files.exists(ckpt) ? "" : " (none yet)") + "; try a smaller --lr");
    }
}
