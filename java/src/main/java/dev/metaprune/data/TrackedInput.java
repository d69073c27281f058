package dev.metaprune.data;

import java.io.BufferedInputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;

/**
 * A byte stream that knows its file's name and its position, so that every format error can say
 * where it is: "{@code FILE: ... at byte offset N}". Gzip input is recognised by its magic bytes
 * ({@code 1f 8b}) and decompressed; offsets then count decompressed bytes (the position in the data
 * the format describes), and messages say so.
 */
final class TrackedInput implements Closeable {
    /** Largest array a reader allocates for one file's payload. */
    static final long MAX_ARRAY = Integer.MAX_VALUE - 16;

    private final InputStream in;
    private final String file;
    private final boolean gzip;
    private final long rawSize;
    private long pos;

    private TrackedInput(InputStream in, String file, boolean gzip, long rawSize) {
        this.in = in;
        this.file = file;
        this.gzip = gzip;
        this.rawSize = rawSize;
    }

    /** Opens a file, gzip or not (told apart by the first two bytes). */
    static TrackedInput open(Path path) throws IOException {
        InputStream raw = Files.newInputStream(path);
        try {
            return wrap(raw, path.toString(), Files.size(path));
        } catch (IOException | RuntimeException e) {
            raw.close();
            throw e;
        }
    }

    /** Wraps a stream (e.g. a class-path resource) named {@code file} in messages; its size is unknown. */
    static TrackedInput open(InputStream raw, String file) throws IOException {
        try {
            return wrap(raw, file, -1);
        } catch (IOException | RuntimeException e) {
            raw.close();
            throw e;
        }
    }

    private static TrackedInput wrap(InputStream raw, String file, long size) throws IOException {
        BufferedInputStream b = new BufferedInputStream(raw, 1 << 16);
        b.mark(2);
        int b0 = b.read(), b1 = b.read();
        b.reset();
        if (b0 == 0x1f && b1 == 0x8b) {
            try {
                return new TrackedInput(new GZIPInputStream(b, 1 << 16), file, true, -1);
            } catch (IOException e) {
                throw new IOException(file + ": corrupt gzip header at byte offset 0: " + e.getMessage(), e);
            }
        }
        return new TrackedInput(b, file, false, size);
    }

    String file() {
        return file;
    }

    boolean isGzip() {
        return gzip;
    }

    /** Current offset (of the decompressed data for gzip files). */
    long position() {
        return pos;
    }

    /** "byte offset N" plus, for gzip files, which bytes are counted. */
    String at(long offset) {
        return "byte offset " + offset + (gzip ? " of the decompressed data" : "");
    }

    /** An exception whose message starts with the file name. */
    IOException error(String message) {
        return new IOException(file + ": " + message);
    }

    /**
     * Fails before any allocation when a plain file is too short for {@code len} more bytes of
     * {@code what}; gzip and stream inputs are checked as they are read.
     */
    void requireAvailable(long len, String what) throws IOException {
        if (rawSize >= 0 && pos + len > rawSize) {
            throw error("truncated: " + what + " needs " + len + " bytes from " + at(pos) + ", the file ends at "
                    + at(rawSize));
        }
    }

    int readUnsignedByte(String what) throws IOException {
        int b;
        try {
            b = in.read();
        } catch (IOException e) {
            throw readError(e, pos);
        }
        if (b < 0) {
            throw error("truncated: the file ends at " + at(pos) + ", where " + what + " should be");
        }
        pos++;
        return b;
    }

    /** A big-endian 32-bit integer. */
    int readInt(String what) throws IOException {
        byte[] b = new byte[4];
        readFully(b, 0, 4, what);
        return ((b[0] & 0xFF) << 24) | ((b[1] & 0xFF) << 16) | ((b[2] & 0xFF) << 8) | (b[3] & 0xFF);
    }

    /** Reads exactly {@code len} bytes or fails naming the offset where the data stopped. */
    void readFully(byte[] dst, int off, int len, String what) throws IOException {
        int done = 0;
        while (done < len) {
            int r;
            try {
                r = in.read(dst, off + done, len - done);
            } catch (IOException e) {
                throw readError(e, pos + done);
            }
            if (r < 0) {
                throw error("truncated: " + what + " needs " + len + " bytes from " + at(pos) + ", the data ends at "
                        + at(pos + done));
            }
            done += r;
        }
        pos += len;
    }

    /**
     * Reads exactly {@code len} bytes into a new array. The array grows as data arrives (up to
     * {@code len}), so that a corrupt header claiming gigabytes costs no more than the data present.
     */
    byte[] readBytes(long len, String what) throws IOException {
        if (len > MAX_ARRAY) {
            throw error(what + " at " + at(pos) + " would be " + len + " bytes, more than one Java array holds ("
                    + MAX_ARRAY + ")");
        }
        requireAvailable(len, what);
        int n = (int) len;
        byte[] buf = new byte[rawSize >= 0 ? n : Math.min(n, 1 << 24)];
        int done = 0;
        while (done < n) {
            if (done == buf.length) {
                buf = Arrays.copyOf(buf, (int) Math.min(n, 2L * buf.length));
            }
            int r;
            try {
                r = in.read(buf, done, buf.length - done);
            } catch (IOException e) {
                throw readError(e, pos + done);
            }
            if (r < 0) {
                throw error("truncated: " + what + " needs " + n + " bytes from " + at(pos) + ", the data ends at "
                        + at(pos + done));
            }
            done += r;
        }
        pos += n;
        return buf;
    }

    /** Reads everything left (for formats whose record count comes from the length). */
    byte[] readAll(String what) throws IOException {
        if (rawSize >= 0) {
            return readBytes(rawSize - pos, what);
        }
        byte[] buf = new byte[1 << 20];
        int done = 0;
        while (true) {
            if (done == buf.length) {
                if (buf.length >= MAX_ARRAY) {
                    throw error(what + " from " + at(pos) + " is longer than one Java array holds (" + MAX_ARRAY
                            + " bytes)");
                }
                buf = Arrays.copyOf(buf, (int) Math.min(MAX_ARRAY, 2L * buf.length));
            }
            int r;
            try {
                r = in.read(buf, done, buf.length - done);
            } catch (IOException e) {
                throw readError(e, pos + done);
            }
            if (r < 0) {
                break;
            }
            done += r;
        }
        pos += done;
        return Arrays.copyOf(buf, done);
    }

    /** Fails when data follows where the format says the file ends. */
    void expectEnd(String expected) throws IOException {
        int b;
        try {
            b = in.read();
        } catch (IOException e) {
            throw readError(e, pos);
        }
        if (b >= 0) {
            long extra = rawSize >= 0 ? rawSize - pos : -1;
            throw error("unexpected data at " + at(pos) + ": " + expected + " ends there"
                    + (extra > 0 ? " but the file has " + extra + " more bytes" : ""));
        }
    }

    private IOException readError(IOException e, long offset) {
        if (gzip) {
            String kind = e instanceof EOFException ? "truncated gzip stream" : "corrupt gzip data";
            return new IOException(file + ": " + kind + " at " + at(offset) + ": " + e.getMessage(), e);
        }
        return new IOException(file + ": read failed at " + at(offset) + ": " + e.getMessage(), e);
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
