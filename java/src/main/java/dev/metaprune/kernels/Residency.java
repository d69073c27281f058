package dev.metaprune.kernels;

import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Which side holds the current contents of each host array a device backend has seen: the bookkeeping of a
 * device-resident backend ({@code CudaKernels.coherent()}, {@link EmulatedDeviceKernels}), kept apart from any
 * device so that it is tested without one.
 *
 * <p>Each host array ({@code float[]} or {@code int[]}, by identity) gets one device copy the first time a kernel
 * needs it, and is then in one of three states:
 * <ul>
 *   <li><b>both</b> current (after an upload or a download);</li>
 *   <li><b>host newer</b>, after {@link #hostChanged}: the next kernel that reads it uploads it again;</li>
 *   <li><b>device newer</b>, after a kernel wrote it ({@link #deviceWrote}): the host array is stale until
 *       {@link #toHost} downloads it.</li>
 * </ul>
 * The host declaring a write into an array whose device copy is newer is refused ({@link IllegalStateException}):
 * the part the host did not write would be lost. Bring it to the host first.
 *
 * <p>A device copy lives as long as its host array: copies of arrays the garbage collector has taken are freed at
 * the next call (weak keys), and {@link #releaseAll} frees them all. Thread-safe (one lock).
 *
 * @param <B> the device buffer type
 */
public final class Residency<B> {
    /** The device side: allocate, copy and free one array's device copy. */
    public interface Device<B> {
        /** A device buffer for {@code array} (its contents need not be set). */
        B allocate(Object array);

        /** Host array to device copy, whole. */
        void upload(Object array, B buffer);

        /** Device copy to host array, whole. */
        void download(B buffer, Object array);

        void free(B buffer);

        /** Called when the host array becomes stale (a kernel wrote the device copy); an emulator may poison it. */
        default void hostStale(Object array) {
        }
    }

    private enum State { BOTH, HOST_NEWER, DEVICE_NEWER }

    private static final class Key extends WeakReference<Object> {
        final int hash;

        Key(Object array, ReferenceQueue<Object> q) {
            super(array, q);
            this.hash = System.identityHashCode(array);
        }

        @Override
        public int hashCode() {
            return hash;
        }

        @Override
        public boolean equals(Object o) {
            if (this == o) {
                return true;
            }
            if (!(o instanceof Key k)) {
                return false;
            }
            Object a = get();
            return a != null && a == k.get();
        }
    }

    private final class Entry {
        final B buffer;
        State state;

        Entry(B buffer, State state) {
            this.buffer = buffer;
            this.state = state;
        }
    }

    private final Device<B> device;
    private final ReferenceQueue<Object> queue = new ReferenceQueue<>();
    private final Map<Key, Entry> entries = new HashMap<>();
    private long uploads, downloads;

    public Residency(Device<B> device) {
        this.device = device;
    }

    private static void requireArray(Object array) {
        if (!(array instanceof float[] || array instanceof int[])) {
            throw new IllegalArgumentException("device copies are kept for float[] and int[] arrays, not "
                    + (array == null ? "null" : array.getClass().getSimpleName()));
        }
    }

    private Entry find(Object array) {
        // HashMap compares with key.equals(candidate): a temporary Key with the same referent matches
        Key probe = new Key(array, null);
        Entry e = entries.get(probe);
        probe.clear();
        return e;
    }

    /** Frees the copies of host arrays the garbage collector has taken. */
    private void expunge() {
        for (Object r; (r = queue.poll()) != null; ) {
            Key k = (Key) r;
            Entry e = entries.remove(k);   // HashMap matches the dead key by identity
            if (e != null) {
                device.free(e.buffer);
            }
        }
    }

    /**
     * The device copy of {@code array}, current for a kernel to read (uploaded on first sight and after
     * {@link #hostChanged}).
     */
    public synchronized B device(Object array) {
        requireArray(array);
        expunge();
        Entry e = find(array);
        if (e == null) {
            B b = device.allocate(array);
            try {
                device.upload(array, b);
            } catch (RuntimeException ex) {
                device.free(b);
                throw ex;
            }
            uploads++;
            entries.put(new Key(array, queue), new Entry(b, State.BOTH));
            return b;
        }
        if (e.state == State.HOST_NEWER) {
            device.upload(array, e.buffer);
            uploads++;
            e.state = State.BOTH;
        }
        return e.buffer;
    }

    /** A kernel wrote (part of) the device copy: the host array is stale until {@link #toHost}. */
    public synchronized void deviceWrote(Object array) {
        Entry e = find(array);
        if (e == null) {
            throw new IllegalStateException("deviceWrote: the array has no device copy (call device(array) first)");
        }
        if (e.state != State.DEVICE_NEWER) {
            e.state = State.DEVICE_NEWER;
            device.hostStale(array);
        }
    }

    /** Brings the host array up to date (downloads it when a kernel wrote the device copy since). */
    public synchronized void toHost(Object array) {
        requireArray(array);
        Entry e = find(array);
        if (e != null && e.state == State.DEVICE_NEWER) {
            device.download(e.buffer, array);
            downloads++;
            e.state = State.BOTH;
        }
    }

    /**
     * The host wrote the array: the device copy is re-uploaded before the next kernel reads it. Refused when the
     * device copy is newer (bring it to the host with {@link #toHost} before writing part of it).
     */
    public synchronized void hostChanged(Object array) {
        requireArray(array);
        Entry e = find(array);
        if (e == null) {
            return;                   // no copy yet: the first kernel uploads it
        }
        if (e.state == State.DEVICE_NEWER) {
            throw new IllegalStateException("the host wrote an array (" + describe(array) + ") whose device copy a"
                    + " kernel has changed since: the host's write is mixed with stale data. Call Kernels.toHost on it"
                    + " before writing on the host, then Kernels.hostChanged");
        }
        e.state = State.HOST_NEWER;
    }

    /** Whether a kernel wrote the device copy since the host array was last current. */
    public synchronized boolean deviceNewer(Object array) {
        Entry e = find(array);
        return e != null && e.state == State.DEVICE_NEWER;
    }

    /** The device copy of {@code array} as it is, or null when it has none (no upload). */
    public synchronized B existing(Object array) {
        Entry e = find(array);
        return e == null ? null : e.buffer;
    }

    /** Device copies held. */
    public synchronized int size() {
        expunge();
        return entries.size();
    }

    /** Host-to-device copies made so far. */
    public synchronized long uploads() {
        return uploads;
    }

    /** Device-to-host copies made so far. */
    public synchronized long downloads() {
        return downloads;
    }

    /**
     * Frees every device copy; with {@code keepHostCurrent} it first downloads those a kernel wrote since their host
     * array was last current (nothing is lost), without, those host arrays keep stale contents (a timing run that
     * never reads its outputs).
     */
    public synchronized void releaseAll(boolean keepHostCurrent) {
        expunge();
        List<B> all = new ArrayList<>();
        for (var en : entries.entrySet()) {
            Entry e = en.getValue();
            Object array = en.getKey().get();
            if (keepHostCurrent && array != null && e.state == State.DEVICE_NEWER) {
                device.download(e.buffer, array);
                downloads++;
            }
            all.add(e.buffer);
        }
        entries.clear();
        RuntimeException first = null;
        for (B b : all) {
            try {
                device.free(b);
            } catch (RuntimeException ex) {
                if (first == null) {
                    first = ex;
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    private static String describe(Object array) {
        return array instanceof float[] f ? "float[" + f.length + "]" : "int[" + ((int[]) array).length + "]";
    }
}
