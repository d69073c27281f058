package dev.metaprune.latency;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Pins the calling thread to one CPU (Linux {@code sched_setaffinity} through the FFM API), so that a one-thread
 * latency table is measured on a known core, and validated on the same one. It matters where cores differ: on a
 * big.LITTLE board an unpinned thread moves between cores that differ several-fold. Only the calling thread is
 * pinned: the JIT compiler and the garbage collector keep the other cores. (A virtual machine's vCPUs float over the
 * host's cores, so pinning to a vCPU does not fix the host core: on this project's 2-vCPU guest two runs pinned to
 * vCPU 1 differed by 8 %, two unpinned ones by 4 %; see bench/RESULTS.md.)
 */
public final class ThreadPinning {
    private static final MethodHandle SET_AFFINITY;
    private static final MethodHandle GET_AFFINITY;
    private static final MethodHandle GET_CPU;

    static {
        MethodHandle set = null, getAff = null, get = null;
        if (System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).contains("linux")) {
            try {
                Linker l = Linker.nativeLinker();
                Optional<MemorySegment> s = l.defaultLookup().find("sched_setaffinity");
                Optional<MemorySegment> ga = l.defaultLookup().find("sched_getaffinity");
                Optional<MemorySegment> g = l.defaultLookup().find("sched_getcpu");
                if (s.isPresent() && ga.isPresent()) {
                    // int sched_{set,get}affinity(pid_t pid, size_t cpusetsize, cpu_set_t *mask)
                    FunctionDescriptor fd = FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS);
                    set = l.downcallHandle(s.get(), fd);
                    getAff = l.downcallHandle(ga.get(), fd);
                }
                if (g.isPresent()) {
                    get = l.downcallHandle(g.get(), FunctionDescriptor.of(JAVA_INT));
                }
            } catch (RuntimeException | LinkageError e) {
                set = null;
                getAff = null;
                get = null;
            }
        }
        SET_AFFINITY = set;
        GET_AFFINITY = getAff;
        GET_CPU = get;
    }

    /** glibc's {@code cpu_set_t}: 1024 CPUs. */
    private static final int MAX_CPUS = 1024;

    private ThreadPinning() {
    }

    /** Whether this platform can pin threads (Linux with glibc's {@code sched_setaffinity}). */
    public static boolean supported() {
        return SET_AFFINITY != null;
    }

    /**
     * Pins the calling thread to {@code cpu}; on return it runs there. {@link IllegalArgumentException} naming the
     * CPUs this process may use when {@code cpu} is not one of them, or saying that the platform cannot pin.
     */
    public static void pinCurrentThread(int cpu) {
        if (!supported()) {
            throw new IllegalArgumentException("pinning a thread to a CPU needs Linux (sched_setaffinity); this is "
                    + System.getProperty("os.name"));
        }
        if (cpu < 0 || cpu >= MAX_CPUS) {
            throw new IllegalArgumentException("CPU must be in 0.." + (MAX_CPUS - 1) + ", got " + cpu);
        }
        int rc;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment mask = arena.allocate(MAX_CPUS / 8);
            mask.set(JAVA_LONG, (cpu / 64) * 8L, 1L << (cpu % 64));
            rc = (int) SET_AFFINITY.invokeExact(0, (long) (MAX_CPUS / 8), mask);
        } catch (Throwable t) {
            throw new IllegalStateException("sched_setaffinity: " + t, t);
        }
        if (rc != 0) {
            throw new IllegalArgumentException("cannot pin to CPU " + cpu + ": this process may use CPUs "
                    + allowedCpus());
        }
    }

    /**
     * The calling thread's affinity mask (bit {@code i} of word {@code i / 64}: CPU {@code i}), to hand back to
     * {@link #restore} after pinning; null where threads cannot be pinned.
     */
    public static long[] currentMask() {
        if (!supported()) {
            return null;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment mask = arena.allocate(MAX_CPUS / 8);
            int rc = (int) GET_AFFINITY.invokeExact(0, (long) (MAX_CPUS / 8), mask);
            return rc == 0 ? mask.toArray(JAVA_LONG) : null;
        } catch (Throwable t) {
            return null;
        }
    }

    /** Sets the calling thread's affinity back to a mask {@link #currentMask} returned (null: nothing to do). */
    public static void restore(long[] mask) {
        if (mask == null || !supported()) {
            return;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = arena.allocate(MAX_CPUS / 8);
            MemorySegment.copy(mask, 0, m, JAVA_LONG, 0, Math.min(mask.length, MAX_CPUS / 64));
            int rc = (int) SET_AFFINITY.invokeExact(0, (long) (MAX_CPUS / 8), m);
            if (rc != 0) {
                throw new IllegalStateException("sched_setaffinity: cannot restore the thread's CPUs");
            }
        } catch (IllegalStateException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("sched_setaffinity: " + t, t);
        }
    }

    /** The CPU the calling thread runs on now ({@code sched_getcpu}), or -1 where that cannot be read. */
    public static int currentCpu() {
        if (GET_CPU == null) {
            return -1;
        }
        try {
            return (int) GET_CPU.invokeExact();
        } catch (Throwable t) {
            return -1;
        }
    }

    /** The CPUs this process may use, as {@code /proc/self/status} lists them (e.g. {@code 0-1}), or "?". */
    public static String allowedCpus() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Cpus_allowed_list:")) {
                    return line.substring(line.indexOf(':') + 1).strip();
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or no procfs
        }
        return "?";
    }
}
