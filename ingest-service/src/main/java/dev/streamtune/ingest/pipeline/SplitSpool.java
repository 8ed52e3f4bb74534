package dev.streamtune.ingest.pipeline;

import dev.streamtune.events.Conversation;
import dev.streamtune.events.serde.ConversationDeserializer;
import dev.streamtune.events.serde.EventJson;
import dev.streamtune.ingest.split.SplitPolicy;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * Holds an ingestion's candidates on disk until its end, for size-capped splits: caps are filled in the seeded
 * shuffle order (by rank), which is known only once every candidate has been read. Memory holds 16 bytes per
 * candidate (rank and file offset); the conversations stay in the spool file.
 */
final class SplitSpool implements AutoCloseable {

    private final Path file;
    private final OutputStream out;
    private final long seed;
    private double[] ranks = new double[1024];
    private long[] offsets = new long[1025];
    private int count;
    private long written;

    SplitSpool(Path directory, long seed) throws IOException {
        this.file = Files.createTempFile(directory, "split-spool-", ".jsonl");
        this.out = new BufferedOutputStream(Files.newOutputStream(file), 64 * 1024);
        this.seed = seed;
    }

    void add(Candidate candidate) throws IOException {
        if (count == ranks.length) {
            ranks = Arrays.copyOf(ranks, count * 2);
            offsets = Arrays.copyOf(offsets, count * 2 + 1);
        }
        byte[] bytes = EventJson.mapper().writeValueAsBytes(candidate.prototype());
        out.write(bytes);
        ranks[count] = SplitPolicy.rank(seed, candidate.id());
        offsets[count] = written;
        written += bytes.length;
        count++;
        offsets[count] = written;
    }

    int size() {
        return count;
    }

    /** The candidates in rank order (the seeded shuffle), read back from the spool file. */
    Iterator<Candidate> inRankOrder() throws IOException {
        out.flush();
        Integer[] order = new Integer[count];
        for (int i = 0; i < count; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Double.compare(ranks[a], ranks[b]));
        RandomAccessFile reader = new RandomAccessFile(file.toFile(), "r");
        ConversationDeserializer deserializer = new ConversationDeserializer();
        return new Iterator<>() {
            private int next;

            @Override
            public boolean hasNext() {
                return next < count;
            }

            @Override
            public Candidate next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                int index = order[next++];
                byte[] bytes = new byte[(int) (offsets[index + 1] - offsets[index])];
                try {
                    reader.seek(offsets[index]);
                    reader.readFully(bytes);
                    if (next == count) {
                        reader.close();
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot read the split spool " + file, e);
                }
                Conversation conversation = deserializer.deserialize(null, bytes);
                return new Candidate(conversation);
            }
        };
    }

    @Override
    public void close() throws IOException {
        out.close();
        Files.deleteIfExists(file);
    }
}
