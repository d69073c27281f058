package dev.metaprune.cudnn;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.metaprune.cuda.Cuda;
import dev.metaprune.latency.DeviceInfo;
import dev.metaprune.latency.LatencyDevice;
import dev.metaprune.latency.LatencyDeviceProvider;

/**
 * The latency profiler's {@code cudnn} device ({@code metaprune profile --device cudnn}): {@link CudnnKernels}, timed
 * like the {@code cuda} device (each timed call ends with a device synchronisation; wall clock). Its table records the
 * GPU as the {@code cuda} device's does, plus cuDNN's version.
 */
public final class CudnnDeviceProvider implements LatencyDeviceProvider {
    /** Where cuDNN comes from on a machine without a CUDA install: the wheels' library folders. */
    static final String LIBRARY_HINT = "put libcudnn.so.9 and libcudart.so.13 on LD_LIBRARY_PATH: from a CUDA 13"
            + " install and cuDNN 9, or NVIDIA's Python wheels (nvidia-cudnn-cu13, nvidia-cuda-runtime:"
            + " site-packages/nvidia/*/lib)";

    @Override
    public String kind() {
        return "cudnn";
    }

    @Override
    public LatencyDevice create() {
        Cuda.Availability a = Cuda.availability();
        if (!a.available()) {
            throw new IllegalArgumentException("device cudnn: CUDA is not available here: " + a.reason());
        }
        CudnnKernels k;
        try {
            k = CudnnKernels.create();
        } catch (UnsatisfiedLinkError | NoClassDefFoundError | ExceptionInInitializerError e) {
            // JavaCPP throws the first when a library does not load, then the second on the next touch
            throw new IllegalArgumentException("device cudnn: cuDNN does not load here (" + e + "); " + LIBRARY_HINT,
                    e);
        }
        ObjectNode info = DeviceInfo.cuda(Cuda.get(), k, "cudnn");
        info.put("cudnn", CudnnKernels.cudnnVersion());
        return new LatencyDevice("cudnn", k, info);
    }
}
