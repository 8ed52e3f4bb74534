package dev.streamtune.ingest.reader;

import java.io.Closeable;
import java.util.Iterator;

/** Reads the records of one container file, in order. A bad record becomes a failed {@link RawRecord}, not an exception. */
public interface RecordReader extends Iterator<RawRecord>, Closeable {
}
