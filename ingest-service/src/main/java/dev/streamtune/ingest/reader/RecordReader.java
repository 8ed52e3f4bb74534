package dev.streamtune.ingest.reader;

import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * Reads the records of one container file, in order. A bad record becomes a failed {@link RawRecord}, not an
 * exception; an exception means the file itself could not be read.
 */
public abstract class RecordReader implements Iterator<RawRecord>, Closeable {

    private final String name;
    private RawRecord next;
    private boolean done;

    protected RecordReader(String name) {
        this.name = name;
    }

    /** The next record, or null at the end of the file. */
    protected abstract RawRecord readNext() throws IOException;

    @Override
    public final boolean hasNext() {
        if (next == null && !done) {
            try {
                next = readNext();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + name + ": " + e.getMessage(), e);
            }
            done = next == null;
        }
        return next != null;
    }

    @Override
    public final RawRecord next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        RawRecord record = next;
        next = null;
        return record;
    }
}
