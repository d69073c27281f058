package dev.metaprune.data;

/** A failure while preparing a batch, rethrown to the consumer; the cause is the original exception. */
public final class BatchLoaderException extends RuntimeException {
    public BatchLoaderException(String message, Throwable cause) {
        super(message, cause);
    }
}
