package dev.streamtune.tokenize.export;

import dev.streamtune.events.EvalExample;
import dev.streamtune.events.PackedSequence;
import dev.streamtune.events.Split;
import dev.streamtune.events.Topics;
import dev.streamtune.events.TrainBatch;
import dev.streamtune.events.serde.EvalExampleDeserializer;
import dev.streamtune.events.serde.TrainBatchDeserializer;
import dev.streamtune.streams.KafkaSettings;
import dev.streamtune.streams.TopicReader;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashSet;
import java.util.Set;

/**
 * A recipe's tokens in nanoGPT's (and the Jojo seed's) data format: one flat file of little-endian token ids per
 * split, uint16 when the vocabulary fits in 16 bits and uint32 otherwise, documents one after the other (each ends
 * with the template's turn end or EOS), with a JSON sidecar saying the vocabulary size, dtype and count. The
 * training split comes from the recipe's batches (each example once, padding left out), validation and test from
 * its evaluation examples.
 */
public final class NanoGptExport {

    /** The sidecar. */
    public record Sidecar(
            String recipeId,
            String split,
            String tokenizer,
            int vocabSize,
            String dtype,
            long tokens,
            long documents) {}

    private final TopicReader topics;

    public NanoGptExport(KafkaSettings kafka) {
        this.topics = new TopicReader(kafka);
    }

    public static String dtype(int vocabSize) {
        return vocabSize > 65_535 ? "uint32" : "uint16";
    }

    /** Writes the split's tokens to {@code out}; returns the sidecar describing what was written. */
    public Sidecar write(String recipeId, Split split, String tokenizer, int vocabSize, OutputStream out) {
        boolean wide = vocabSize > 65_535;
        long[] counts = new long[2];
        Writer writer = new Writer(out, wide);
        if (split == Split.TRAIN) {
            TrainBatchDeserializer batches = new TrainBatchDeserializer();
            Set<String> written = new HashSet<>();
            topics.forEach(Topics.BATCHES, record -> {
                if (!recipeId.equals(record.key()) || record.value() == null) {
                    return;
                }
                TrainBatch batch = batches.deserialize(record.topic(), record.value());
                int key = 0;
                for (PackedSequence sequence : batch.sequences()) {
                    int[] ids = sequence.inputIds().toArray();
                    for (int d = 0; d < sequence.documentStarts().size(); d++, key++) {
                        int start = sequence.documentStarts().get(d);
                        int end = d + 1 < sequence.documentStarts().size()
                                ? sequence.documentStarts().get(d + 1)
                                : sequence.length();
                        if (written.add(batch.exampleKeys().get(key))) { // a batch republished after a crash
                            writer.write(ids, start, end);
                            counts[0] += end - start;
                            counts[1]++;
                        }
                    }
                }
            });
        } else {
            EvalExampleDeserializer examples = new EvalExampleDeserializer();
            Set<String> written = new HashSet<>();
            topics.forEach(Topics.EVAL_EXAMPLES, record -> {
                if (record.value() == null) {
                    return;
                }
                EvalExample example = examples.deserialize(record.topic(), record.value());
                // By the example's own key: the windows of a conversation split to fit the context are examples of
                // their own, while a record published again after a crash is the same example.
                if (recipeId.equals(example.recipeId()) && example.split() == split && written.add(example.key())) {
                    int[] ids = example.inputIds().toArray();
                    writer.write(ids, 0, ids.length);
                    counts[0] += ids.length;
                    counts[1]++;
                }
            });
        }
        writer.flush();
        return new Sidecar(recipeId, split.wireName(), tokenizer, vocabSize, dtype(vocabSize), counts[0], counts[1]);
    }

    /** Little-endian ids, buffered. */
    private static final class Writer {
        private final OutputStream out;
        private final boolean wide;
        private final ByteBuffer buffer = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);

        Writer(OutputStream out, boolean wide) {
            this.out = out;
            this.wide = wide;
        }

        void write(int[] ids, int from, int to) {
            for (int i = from; i < to; i++) {
                if (buffer.remaining() < 4) {
                    flush();
                }
                if (wide) {
                    buffer.putInt(ids[i]);
                } else {
                    buffer.putShort((short) ids[i]);
                }
            }
        }

        void flush() {
            try {
                out.write(buffer.array(), 0, buffer.position());
                buffer.clear();
                out.flush();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
