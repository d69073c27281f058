package dev.metaprune.cuda;

/**
 * A failed call into libmetaprune_cuda: names the native function (the kernel) and carries the CUDA
 * error's name and string as the library reported them ({@code mp_last_error}).
 */
public final class CudaException extends RuntimeException {
    private final String function;
    private final int status;
    private final int cudaError;

    public CudaException(String function, int status, int cudaError, String message) {
        super(message.startsWith(function) ? message : function + ": " + message);
        this.function = function;
        this.status = status;
        this.cudaError = cudaError;
    }

    /** The native function that failed, e.g. {@code mp_depthwise_forward}. */
    public String function() {
        return function;
    }

    /** The library's status code (MP_ERR_*). */
    public int status() {
        return status;
    }

    /** The CUDA error number (0 when the failure was an invalid argument). */
    public int cudaError() {
        return cudaError;
    }
}
