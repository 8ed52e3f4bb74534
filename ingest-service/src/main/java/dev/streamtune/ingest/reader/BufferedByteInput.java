package dev.streamtune.ingest.reader;

import java.io.IOException;
import java.io.InputStream;

/**
 * A byte stream read through one fixed buffer, for the readers that cut records from the bytes before anything
 * decodes them ({@link BoundedLineReader}, {@link CsvRowSplitter}): {@code buffer[position..end)} is what is read
 * and not yet taken.
 */
abstract class BufferedByteInput {

    private static final int BUFFER = 64 * 1024;

    private final InputStream in;
    protected final byte[] buffer = new byte[BUFFER];
    protected int position;
    protected int end;

    protected BufferedByteInput(InputStream in) {
        this.in = in;
    }

    /** Whether a byte is available at {@code position}, reading the next bufferful when none is. */
    protected final boolean fill() throws IOException {
        if (position < end) {
            return true;
        }
        position = 0;
        end = 0;
        int read = in.read(buffer, 0, buffer.length);
        if (read <= 0) {
            return false;
        }
        end = read;
        return true;
    }

    /** Steps over a UTF-8 byte-order mark at {@code position}, reading until three bytes are there or input ends. */
    protected final void skipByteOrderMark() throws IOException {
        if (end - position < 3) {
            System.arraycopy(buffer, position, buffer, 0, end - position);
            end -= position;
            position = 0;
            int read;
            while (end < 3 && (read = in.read(buffer, end, buffer.length - end)) > 0) {
                end += read;
            }
        }
        if (end - position >= 3
                && (buffer[position] & 0xFF) == 0xEF
                && (buffer[position + 1] & 0xFF) == 0xBB
                && (buffer[position + 2] & 0xFF) == 0xBF) {
            position += 3;
        }
    }
}
