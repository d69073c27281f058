package dev.metaprune.cuda;

import dev.metaprune.cuda.ffm.MetaPruneNative;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Device memory (cudaMalloc) of a number of bytes; {@link #close()} frees it. */
public final class DeviceBuffer implements AutoCloseable {
    private final Cuda cuda;
    private final long bytes;
    private MemorySegment ptr;

    public DeviceBuffer(Cuda cuda, long bytes) {
        this.cuda = cuda;
        this.bytes = bytes;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ValueLayout.ADDRESS);
            cuda.check(cuda.lib().mp_malloc(out, bytes), "mp_malloc");
            ptr = out.get(ValueLayout.ADDRESS, 0);
        }
    }

    public static DeviceBuffer floats(Cuda cuda, long count) {
        return new DeviceBuffer(cuda, count * 4);
    }

    /** The device address (as a zero-length segment: never dereferenced on the host). */
    public MemorySegment ptr() {
        if (ptr == null) {
            throw new IllegalStateException("device buffer already freed");
        }
        return ptr;
    }

    /** The address {@code floatOffset} floats in. */
    public MemorySegment at(long floatOffset) {
        return MemorySegment.ofAddress(ptr().address() + floatOffset * 4);
    }

    public long bytes() {
        return bytes;
    }

    public DeviceBuffer upload(float[] src) {
        return upload(src, 0, src.length);
    }

    public DeviceBuffer upload(float[] src, int from, int count) {
        if ((long) count * 4 > bytes) {
            throw new IllegalArgumentException(count + " floats do not fit in " + bytes + " bytes");
        }
        MetaPruneNative lib = cuda.lib();
        cuda.check(lib.mp_memcpy_htod(ptr(), MemorySegment.ofArray(src).asSlice((long) from * 4, (long) count * 4),
                (long) count * 4), "mp_memcpy_htod");
        return this;
    }

    public DeviceBuffer uploadInts(int[] src) {
        cuda.check(cuda.lib().mp_memcpy_htod(ptr(), MemorySegment.ofArray(src), (long) src.length * 4), "mp_memcpy_htod");
        return this;
    }

    public float[] download(int count) {
        float[] out = new float[count];
        cuda.check(cuda.lib().mp_memcpy_dtoh(MemorySegment.ofArray(out), ptr(), (long) count * 4), "mp_memcpy_dtoh");
        return out;
    }

    public int[] downloadInts(int count) {
        int[] out = new int[count];
        cuda.check(cuda.lib().mp_memcpy_dtoh(MemorySegment.ofArray(out), ptr(), (long) count * 4), "mp_memcpy_dtoh");
        return out;
    }

    @Override
    public void close() {
        if (ptr != null) {
            MemorySegment p = ptr;
            ptr = null;
            cuda.check(cuda.lib().mp_free(p), "mp_free");
        }
    }
}
