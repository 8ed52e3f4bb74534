package dev.streamtune.ingest.reader;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.BitSet;

/**
 * A UTF-8 reader for parsers that need a {@link Reader} (CSV), which remembers the lines holding invalid bytes so
 * that the records on them can be refused instead of silently carrying U+FFFD. It drops a leading byte-order mark.
 */
final class CheckedUtf8Reader extends Reader {

    private final InputStream in;
    private final CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    private final ByteBuffer bytes = ByteBuffer.allocate(64 * 1024).flip();
    private final BitSet invalidLines = new BitSet();
    private boolean endOfInput;
    private boolean finished;
    private boolean atStart = true;
    private int line = 1;

    CheckedUtf8Reader(InputStream in) {
        this.in = in;
    }

    /** Whether any line in [from, to] held bytes that are not UTF-8. */
    boolean invalidBetween(long from, long to) {
        int next = invalidLines.nextSetBit((int) Math.max(from, 0));
        return next >= 0 && next <= to;
    }

    int firstInvalidLine(long from) {
        return invalidLines.nextSetBit((int) Math.max(from, 0));
    }

    @Override
    public int read(char[] target, int offset, int length) throws IOException {
        if (length == 0) {
            return 0;
        }
        if (finished) {
            return -1;
        }
        CharBuffer out = CharBuffer.wrap(target, offset, length);
        while (out.position() == offset && !finished) {
            if (!bytes.hasRemaining() && !endOfInput) {
                refill();
                continue;
            }
            int before = out.position();
            CoderResult result = decoder.decode(bytes, out, endOfInput);
            countLines(target, before, out.position());
            if (result.isError()) {
                invalidLines.set(line);
                bytes.position(bytes.position() + result.length());
                if (out.hasRemaining()) {
                    out.put('\uFFFD');
                }
            } else if (result.isUnderflow()) {
                if (endOfInput) {
                    decoder.flush(out);
                    finished = true;
                } else {
                    refill(); // a multi-byte sequence may continue in the next read
                }
            }
        }
        int produced = out.position() - offset;
        if (produced == 0) {
            return -1;
        }
        if (atStart) {
            atStart = false;
            if (target[offset] == '\uFEFF') {
                System.arraycopy(target, offset + 1, target, offset, produced - 1);
                return produced - 1 == 0 ? read(target, offset, length) : produced - 1;
            }
        }
        return produced;
    }

    private void countLines(char[] chars, int from, int to) {
        for (int i = from; i < to; i++) {
            if (chars[i] == '\n') {
                line++;
            }
        }
    }

    private void refill() throws IOException {
        bytes.compact();
        int read = in.read(bytes.array(), bytes.position(), bytes.remaining());
        if (read < 0) {
            endOfInput = true;
        } else {
            bytes.position(bytes.position() + read);
        }
        bytes.flip();
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
