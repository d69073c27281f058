package dev.metaprune.cuda;

import dev.metaprune.cuda.ffm.MetaPruneNative;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;

/**
 * The CUDA runtime of MetaPrune: loads libmetaprune_cuda (from {@code -Dmetaprune.cuda.library=PATH},
 * else from the jar's {@code native/linux-x86_64/}), binds it through the generated FFM bindings and
 * asks it for a device. {@link #availability()} never throws: on a machine without a GPU, driver or
 * library it says why, in one line.
 */
public final class Cuda {
    /** Whether the backend can run, and if not, why. */
    public record Availability(boolean available, String reason, String device) {
        @Override
        public String toString() {
            return available ? "CUDA available: " + device : "CUDA unavailable: " + reason;
        }
    }

    private static volatile Cuda instance;
    private static volatile Availability availability;

    private final MetaPruneNative lib;
    private final String device;

    private Cuda(MetaPruneNative lib, String device) {
        this.lib = lib;
        this.device = device;
    }

    /** Loads the library and probes the device once; the result is cached. */
    public static Availability availability() {
        Availability a = availability;
        if (a == null) {
            synchronized (Cuda.class) {
                a = availability;
                if (a == null) {
                    a = probe();
                    availability = a;
                }
            }
        }
        return a;
    }

    /** The runtime; {@link IllegalStateException} with the reason when unavailable. */
    public static Cuda get() {
        Availability a = availability();
        if (!a.available()) {
            throw new IllegalStateException(a.toString());
        }
        return instance;
    }

    /**
     * The bindings alone, when the library loads but no device need be present (error-path tests).
     * Null when the library itself cannot be loaded.
     */
    public static MetaPruneNative libraryOrNull() {
        try {
            return load();
        } catch (RuntimeException | UnsatisfiedLinkError e) {
            return null;
        }
    }

    private static volatile MetaPruneNative loaded;

    private static synchronized MetaPruneNative load() {
        if (loaded != null) {
            return loaded;
        }
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "");
        Path path;
        String prop = System.getProperty("metaprune.cuda.library");
        if (prop != null && !prop.isBlank()) {
            path = Path.of(prop);
            if (!Files.isReadable(path)) {
                throw new IllegalStateException("no library: -Dmetaprune.cuda.library=" + prop + " is not readable");
            }
        } else {
            if (!os.contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
                throw new IllegalStateException("no library: libmetaprune_cuda is built for linux-x86_64, this is "
                        + os + "-" + arch);
            }
            try (InputStream in = Cuda.class.getResourceAsStream("/native/linux-x86_64/libmetaprune_cuda.so")) {
                if (in == null) {
                    throw new IllegalStateException("no library: this build has no libmetaprune_cuda (it was built "
                            + "without nvcc or with -Dmetaprune.cuda.skip=true)");
                }
                path = Files.createTempFile("libmetaprune_cuda", ".so");
                path.toFile().deleteOnExit();
                Files.copy(in, path, StandardCopyOption.REPLACE_EXISTING);
            } catch (IOException e) {
                throw new IllegalStateException("no library: cannot extract libmetaprune_cuda: " + e.getMessage(), e);
            }
        }
        SymbolLookup lookup = SymbolLookup.libraryLookup(path, Arena.global());
        MetaPruneNative lib = new MetaPruneNative(lookup);
        int abi = lib.mp_abi_version();
        if (abi != MetaPruneNative.MP_ABI_VERSION) {
            throw new IllegalStateException("no library: " + path + " has ABI " + abi + ", the bindings expect "
                    + MetaPruneNative.MP_ABI_VERSION);
        }
        loaded = lib;
        return lib;
    }

    private static Availability probe() {
        MetaPruneNative lib;
        try {
            lib = load();
        } catch (IllegalStateException e) {
            return new Availability(false, e.getMessage(), null);
        } catch (RuntimeException | UnsatisfiedLinkError e) {
            return new Availability(false, "no library: " + e, null);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment count = arena.allocate(ValueLayout.JAVA_INT);
            int st = lib.mp_device_count(count);
            if (st != MetaPruneNative.MP_OK) {
                String why = lib.mp_last_error().reinterpret(512).getString(0);
                String kind = st == MetaPruneNative.MP_ERR_DRIVER ? "no driver or driver too old"
                        : st == MetaPruneNative.MP_ERR_NO_DEVICE ? "no device" : "CUDA error";
                return new Availability(false, kind + " (" + why + ")", null);
            }
            if (count.get(ValueLayout.JAVA_INT, 0) == 0) {
                return new Availability(false, "no device (the driver reports 0 CUDA devices)", null);
            }
            int dev = Integer.getInteger("metaprune.cuda.device", 0);
            MemorySegment name = arena.allocate(256);
            MemorySegment major = arena.allocate(ValueLayout.JAVA_INT), minor = arena.allocate(ValueLayout.JAVA_INT);
            MemorySegment sms = arena.allocate(ValueLayout.JAVA_INT), mem = arena.allocate(ValueLayout.JAVA_LONG);
            int st2 = lib.mp_set_device(dev);
            if (st2 == MetaPruneNative.MP_OK) {
                st2 = lib.mp_device_info(dev, name, 256, major, minor, sms, mem);
            }
            if (st2 != MetaPruneNative.MP_OK) {
                return new Availability(false, "device " + dev + ": " + lib.mp_last_error().reinterpret(512).getString(0),
                        null);
            }
            String desc = name.getString(0) + " (sm_" + major.get(ValueLayout.JAVA_INT, 0) + minor.get(ValueLayout.JAVA_INT, 0)
                    + ", " + sms.get(ValueLayout.JAVA_INT, 0) + " SMs, " + (mem.get(ValueLayout.JAVA_LONG, 0) >> 20) + " MiB)";
            instance = new Cuda(lib, desc);
            if (Boolean.getBoolean("metaprune.cuda.syncCheck")) {
                lib.mp_set_sync_check(1);
            }
            return new Availability(true, null, desc);
        }
    }

    public MetaPruneNative lib() {
        return lib;
    }

    public String device() {
        return device;
    }

    /** "driver X.Y, runtime X.Y" (CUDA's versions as {@code cudaDriverGetVersion} / {@code cudaRuntimeGetVersion}). */
    public String versions() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment rt = arena.allocate(ValueLayout.JAVA_INT), drv = arena.allocate(ValueLayout.JAVA_INT);
            check(lib.mp_runtime_version(rt, drv), "mp_runtime_version");
            return "driver " + version(drv.get(ValueLayout.JAVA_INT, 0)) + ", runtime "
                    + version(rt.get(ValueLayout.JAVA_INT, 0));
        }
    }

    /** CUDA's encoded version (1000 x major + 10 x minor) as "major.minor". */
    static String version(int v) {
        return v / 1000 + "." + (v % 1000) / 10;
    }

    /** Throws {@link CudaException} naming {@code function} unless {@code status} is MP_OK. */
    public void check(int status, String function) {
        check(lib, status, function);
    }

    /** As {@link #check(int, String)} on bare bindings. */
    public static void check(MetaPruneNative lib, int status, String function) {
        if (status != MetaPruneNative.MP_OK) {
            String msg = lib.mp_last_error().reinterpret(512).getString(0);
            throw new CudaException(function, status, lib.mp_last_cuda_error(), msg);
        }
    }
}
