package dev.metaprune.latency;

/**
 * A latency device that another jar adds (a {@link java.util.ServiceLoader} service): {@link LatencyDevice#of} asks
 * the providers on the class path for any device it does not build itself. The {@code metaprune-cudnn} module
 * provides {@code cudnn} (cuDNN's convolutions through JavaCPP's CUDA presets), which the core jar does not depend on.
 */
public interface LatencyDeviceProvider {
    /** The name {@code metaprune profile --device} takes, lower case. */
    String kind();

    /**
     * The device, set up for timing, or {@link IllegalArgumentException} saying why it cannot be used here (no GPU, a
     * library that does not load).
     */
    LatencyDevice create();
}
