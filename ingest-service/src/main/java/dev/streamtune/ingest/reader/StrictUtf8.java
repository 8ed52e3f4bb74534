package dev.streamtune.ingest.reader;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Decodes UTF-8 and refuses anything else. The JDK's default decoding silently replaces bad bytes with U+FFFD,
 * which would put corrupted text into training data.
 */
final class StrictUtf8 {

    private StrictUtf8() {}

    /** The text, or an exception saying at which byte the input stops being UTF-8. */
    static String decode(byte[] bytes, int length) throws InvalidUtf8Exception {
        CharsetDecoder decoder = StandardCharsets.UTF_8
                .newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes, 0, length);
        CharBuffer out = CharBuffer.allocate(length);
        CoderResult result = decoder.decode(in, out, true);
        if (result.isError()) {
            throw new InvalidUtf8Exception(in.position(), bytes[in.position()]);
        }
        result = decoder.flush(out);
        if (result.isError()) {
            throw new InvalidUtf8Exception(in.position(), (byte) 0);
        }
        return out.flip().toString();
    }

    static final class InvalidUtf8Exception extends CharacterCodingException {
        final int offset;
        final byte value;

        InvalidUtf8Exception(int offset, byte value) {
            this.offset = offset;
            this.value = value;
        }

        @Override
        public String getMessage() {
            return String.format(
                    "invalid UTF-8 at byte %d of the record (0x%02X); the file must be UTF-8",
                    offset + 1, value & 0xFF);
        }
    }
}
