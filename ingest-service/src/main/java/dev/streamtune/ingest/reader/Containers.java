package dev.streamtune.ingest.reader;

import dev.streamtune.events.SourceRef;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/** Opens the right reader for a plain (decompressed) file. */
public final class Containers {

    private Containers() {}

    /**
     * @param declared the container the caller named or the request's media type implied; null to go by the file
     *                 name, then by content
     */
    public static RecordReader open(
            Path file, ContainerFormat declared, SourceRef.Kind kind, String name, ReaderLimits limits)
            throws IOException {
        ContainerFormat container = declared != null ? declared : ContainerFormat.fromFileName(name);
        if (container == null) {
            byte[] head = new byte[64];
            int length;
            try (InputStream in = Files.newInputStream(file)) {
                length = Math.max(0, in.readNBytes(head, 0, head.length));
            }
            container = ContainerFormat.sniff(head, length);
        }
        return switch (container) {
            case JSON -> new JsonArrayReader(input(file), kind, name, limits);
            case JSONL -> new JsonLinesReader(input(file), kind, name, limits);
            case CSV -> new CsvRecordReader(input(file), kind, name, limits);
            case PARQUET -> new ParquetRecordReader(file, kind, name, limits);
        };
    }

    private static InputStream input(Path file) throws IOException {
        return new BufferedInputStream(Files.newInputStream(file), 64 * 1024);
    }
}
