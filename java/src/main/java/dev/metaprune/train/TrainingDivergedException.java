package dev.metaprune.train;

/** The training loss stopped being finite; the message says where and which checkpoint is the last good one. */
public final class TrainingDivergedException extends RuntimeException {
    public TrainingDivergedException(String message) {
        super(message);
    }
}
