package dev.streamtune.ingest.reader;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

/**
 * Splits a byte stream into lines without ever holding more than a limit of one line: the bytes past the limit are
 * counted and skipped, so a 10 MB line costs no more memory than a short one. Handles LF and CRLF endings and a
 * leading UTF-8 byte-order mark.
 *
 * <p>Hand-written because the JDK's readers decode (replacing invalid UTF-8) and buffer whole lines.
 */
final class BoundedLineReader extends BufferedByteInput {

    private final int limit;
    private long lineNumber;
    private boolean atStart = true;

    /** A line without its terminator: at most {@code limit} bytes kept, {@code size} the full length. */
    record Line(byte[] bytes, int kept, long size, long number) {
        boolean oversize() {
            return size > kept;
        }

        boolean isBlank() {
            for (int i = 0; i < kept; i++) {
                byte b = bytes[i];
                if (b != ' ' && b != '\t' && b != '\r') {
                    return false;
                }
            }
            return size == kept;
        }
    }

    BoundedLineReader(InputStream in, int limit) {
        super(in);
        this.limit = limit;
    }

    /** The next line, or null at the end of the input. */
    Line next() throws IOException {
        if (!fill()) {
            return null;
        }
        if (atStart) {
            atStart = false;
            skipByteOrderMark();
        }
        byte[] kept = new byte[Math.min(limit, 256)];
        int keptLength = 0;
        long size = 0;
        lineNumber++;
        while (fill()) {
            int newline = indexOf((byte) '\n', position, end);
            int stop = newline < 0 ? end : newline;
            int chunk = stop - position;
            int room = limit - keptLength;
            if (room > 0) {
                int copy = Math.min(room, chunk);
                if (keptLength + copy > kept.length) {
                    kept = Arrays.copyOf(kept, Math.min(limit, Math.max(kept.length * 2, keptLength + copy)));
                }
                System.arraycopy(buffer, position, kept, keptLength, copy);
                keptLength += copy;
            }
            size += chunk;
            position = stop;
            if (newline >= 0) {
                position++; // consume '\n'
                break;
            }
        }
        if (size == keptLength && keptLength > 0 && kept[keptLength - 1] == '\r') {
            keptLength--; // CRLF
            size--;
        }
        return new Line(kept, keptLength, size, lineNumber);
    }

    private int indexOf(byte value, int from, int to) {
        for (int i = from; i < to; i++) {
            if (buffer[i] == value) {
                return i;
            }
        }
        return -1;
    }
}
