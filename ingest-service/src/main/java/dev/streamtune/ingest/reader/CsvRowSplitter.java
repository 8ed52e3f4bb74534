package dev.streamtune.ingest.reader;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

/**
 * Splits CSV bytes into rows, following quotes so that a quoted value may span lines, and numbers the lines the way
 * the CSV parser does: LF, CRLF and a lone CR each end one line. Never holds more than a limit of one row: the
 * bytes past it are counted and skipped, so an oversize row costs no more memory than a short one. Drops a leading
 * UTF-8 byte-order mark.
 *
 * <p>Hand-written because the rows must be cut before they are decoded or parsed: a row is then decoded on its own
 * (so invalid UTF-8 is pinned to the row and line that hold it, instead of being replaced with U+FFFD by a decoding
 * reader that runs ahead of the parser). Splitting needs only the quote rule; the cells are still parsed by Jackson.
 * UTF-8 makes this safe on bytes: no byte of a multi-byte character can be a quote, comma, CR or LF.
 */
final class CsvRowSplitter extends BufferedByteInput {

    private final int limit;
    private boolean atStart = true;
    /** The line the next byte is on. */
    private long line = 1;
    /** The previous row ended with a CR: an LF right after it belongs to that row's ending. */
    private boolean afterCr;

    /**
     * One row without its line ending: at most {@code limit} bytes kept, {@code size} the full length.
     *
     * @param unclosedQuote the input ended inside a quoted value, so the row runs to the end of the file
     */
    record Row(byte[] bytes, int kept, long size, long firstLine, boolean unclosedQuote) {

        boolean oversize() {
            return size > kept;
        }

        /** The file line holding the byte at {@code offset} of the row (a quoted value may span lines). */
        long lineOf(int offset) {
            long at = firstLine;
            for (int i = 0; i < Math.min(offset, kept); i++) {
                if (bytes[i] == '\n' || bytes[i] == '\r' && (i + 1 >= kept || bytes[i + 1] != '\n')) {
                    at++;
                }
            }
            return at;
        }
    }

    /**
     * @param limit how many bytes of a row to keep; the rest are counted and skipped
     */
    CsvRowSplitter(InputStream in, int limit) {
        super(in);
        this.limit = limit;
    }

    /** The next row that is not blank (only spaces: the CSV parser skips those, a tab is a value), or null at the end. */
    Row next() throws IOException {
        Row row;
        do {
            row = nextRow();
        } while (row != null && isBlank(row));
        return row;
    }

    private Row nextRow() throws IOException {
        if (atStart) {
            atStart = false;
            skipByteOrderMark();
        }
        if (afterCr) {
            afterCr = false;
            if (fill() && buffer[position] == '\n') {
                position++;
            }
        }
        if (!fill()) {
            return null;
        }
        long firstLine = line;
        byte[] kept = new byte[Math.min(limit, 256)];
        int keptLength = 0;
        long size = 0;
        boolean inQuotes = false;
        boolean fieldStart = true;
        boolean justClosed = false;
        boolean leadingSpaces = true;
        byte previous = 0;
        while (fill()) {
            byte b = buffer[position++];
            if (!inQuotes && (b == '\n' || b == '\r')) {
                line++;
                afterCr = b == '\r';
                return new Row(kept, keptLength, size, firstLine, false);
            }
            if (inQuotes) {
                if (b == '"') {
                    inQuotes = false; // closing, or the first of a doubled quote, which the next byte reopens
                    justClosed = true;
                } else if (b == '\r' || b == '\n' && previous != '\r') {
                    line++;
                }
            } else {
                // As the CSV parser reads: a quote opens a value only right at its start (spaces are skipped at the
                // start of a row, nowhere else), or right after a closing quote, where "" stands for one quote.
                inQuotes = b == '"' && (fieldStart || justClosed);
                leadingSpaces &= b == ' ';
                fieldStart = b == ',' || leadingSpaces;
                justClosed = false;
            }
            previous = b;
            size++;
            if (keptLength < limit) {
                if (keptLength == kept.length) {
                    kept = Arrays.copyOf(kept, (int) Math.min(limit, kept.length * 2L));
                }
                kept[keptLength++] = b;
            }
        }
        return new Row(kept, keptLength, size, firstLine, inQuotes);
    }

    private static boolean isBlank(Row row) {
        if (row.oversize()) {
            return false;
        }
        for (int i = 0; i < row.kept(); i++) {
            if (row.bytes()[i] != ' ') {
                return false;
            }
        }
        return true;
    }
}
