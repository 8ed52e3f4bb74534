package dev.streamtune.ingest.reader;

import java.io.BufferedInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.zip.GZIPInputStream;

/**
 * Input made ready for the readers: a plain file on disk. An upload is streamed to a temporary file as it arrives
 * (memory stays bounded whatever its size), gunzipped on the way when it is gzip (by its name, the request's
 * Content-Encoding, or the magic number); a server-side file is used where it lies unless it is gzip.
 *
 * <p>Parquet needs random access (its footer is at the end) and a size limit must be judged before anything is
 * published, which is why uploads are spooled rather than parsed straight off the socket.
 */
public final class SpooledInput implements AutoCloseable {

    private final Path file;
    private final boolean temporary;
    private final long receivedBytes;

    private SpooledInput(Path file, boolean temporary, long receivedBytes) {
        this.file = file;
        this.temporary = temporary;
        this.receivedBytes = receivedBytes;
    }

    /** Thrown when the input is larger than allowed; the REST layer answers 413 with this message. */
    public static final class TooLargeException extends IOException {
        public TooLargeException(String message) {
            super(message);
        }
    }

    /**
     * @param maxBytes             most bytes accepted as sent (compressed, if it is)
     * @param maxDecompressedBytes most bytes accepted after gunzip, against decompression bombs
     */
    public static SpooledInput fromStream(
            InputStream body, String name, boolean gzipDeclared, long maxBytes, long maxDecompressedBytes, Path tempDir)
            throws IOException {
        BufferedInputStream buffered = new BufferedInputStream(body, 64 * 1024);
        CountingInputStream received = new CountingInputStream(
                buffered,
                maxBytes,
                "the upload is larger than the" + " limit of " + maxBytes + " bytes (ingest.max-upload-size)");
        boolean gzip = gzipDeclared || isGzipName(name) || startsWithGzipMagic(buffered);
        Path target = Files.createTempFile(tempDir, "upload-", ".spool");
        try (InputStream source = gzip ? decompressed(received, maxDecompressedBytes) : received;
                OutputStream out = Files.newOutputStream(target)) {
            source.transferTo(out);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(target);
            throw e;
        }
        return new SpooledInput(target, true, received.count());
    }

    /** A server-side file: used in place, or gunzipped to a temporary file. */
    public static SpooledInput fromFile(Path source, long maxDecompressedBytes, Path tempDir) throws IOException {
        boolean gzip;
        try (BufferedInputStream in = new BufferedInputStream(Files.newInputStream(source))) {
            gzip = isGzipName(source.getFileName().toString()) || startsWithGzipMagic(in);
        }
        long size = Files.size(source);
        if (!gzip) {
            return new SpooledInput(source, false, size);
        }
        Path target = Files.createTempFile(tempDir, "import-", ".spool");
        try (InputStream in = decompressed(Files.newInputStream(source), maxDecompressedBytes);
                OutputStream out = Files.newOutputStream(target)) {
            in.transferTo(out);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(target);
            throw e;
        }
        return new SpooledInput(target, true, size);
    }

    /** The file name without a .gz suffix, so that the inner extension decides the container. */
    public static String withoutGzipSuffix(String name) {
        return isGzipName(name) ? name.substring(0, name.length() - 3) : name;
    }

    private static InputStream decompressed(InputStream in, long maxDecompressedBytes) throws IOException {
        return new CountingInputStream(
                new GZIPInputStream(in, 64 * 1024),
                maxDecompressedBytes,
                "the input decompresses to more than " + maxDecompressedBytes
                        + " bytes (ingest.max-decompressed-size)");
    }

    private static boolean isGzipName(String name) {
        return name != null && name.toLowerCase(Locale.ROOT).endsWith(".gz");
    }

    private static boolean startsWithGzipMagic(BufferedInputStream in) throws IOException {
        in.mark(2);
        int first = in.read();
        int second = in.read();
        in.reset();
        return first == 0x1f && second == 0x8b;
    }

    public Path file() {
        return file;
    }

    /** Bytes as received (before decompression). */
    public long receivedBytes() {
        return receivedBytes;
    }

    @Override
    public void close() throws IOException {
        if (temporary) {
            Files.deleteIfExists(file);
        }
    }

    /** Counts bytes and refuses to go past a limit. */
    private static final class CountingInputStream extends FilterInputStream {
        private final long limit;
        private final String message;
        private long count;

        CountingInputStream(InputStream in, long limit, String message) {
            super(in);
            this.limit = limit;
            this.message = message;
        }

        long count() {
            return count;
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) {
                advance(1);
            }
            return b;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            int read = super.read(buffer, offset, length);
            if (read > 0) {
                advance(read);
            }
            return read;
        }

        private void advance(long bytes) throws TooLargeException {
            count += bytes;
            if (count > limit) {
                throw new TooLargeException(message);
            }
        }
    }
}
