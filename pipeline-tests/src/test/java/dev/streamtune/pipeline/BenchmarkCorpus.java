package dev.streamtune.pipeline;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * The pipeline benchmark's input: the real ShareGPT conversations and Alpaca records of {@code ../shared}, as
 * producers would put them on {@code conversations-raw}, repeated until there are as many as asked. The first copy
 * of the measured corpus is the data as it is; every other copy has a mark appended to the first user turn
 * (ShareGPT) or the instruction (Alpaca), so that its content id differs and deduplication keeps it. The warm-up
 * corpus, in datasets of its own, is marked throughout.
 */
record BenchmarkCorpus(
        String sharegptDataset, String alpacaDataset, List<RawMessage> messages, int sharegpt, int alpaca) {

    static final String SHAREGPT = "sharegpt";
    static final String ALPACA = "alpaca";
    static final String WARM_UP = "warm-up-";

    /** A message of {@code conversations-raw}: its key, its {@code dataset} header and its JSON value. */
    record RawMessage(String key, String dataset, byte[] value) {}

    /** {@code count} records of {@code sharegpt} and {@code alpaca}. */
    static BenchmarkCorpus measured(Path shared, int count) throws IOException {
        return read(shared, count, "");
    }

    /** {@code count} other records, of {@code warm-up-sharegpt} and {@code warm-up-alpaca}. */
    static BenchmarkCorpus warmUp(Path shared, int count) throws IOException {
        return read(shared, count, WARM_UP);
    }

    private static BenchmarkCorpus read(Path shared, int count, String prefix) throws IOException {
        Messages messages = new Messages(shared, count, prefix);
        List<RawMessage> all = new ArrayList<>(count);
        messages.forEachRemaining(all::add);
        return new BenchmarkCorpus(
                messages.sharegptDataset,
                messages.alpacaDataset,
                List.copyOf(all),
                messages.sharegpt.size(),
                messages.alpaca.size());
    }

    /**
     * The measured corpus's {@code count} messages made one at a time as they are taken, the same as
     * {@link #measured}'s, for a stream too long to hold: a million conversations would not fit a test JVM's heap.
     */
    static Messages stream(Path shared, long count) throws IOException {
        return new Messages(shared, count, "");
    }

    /** The corpus's messages in order, each made when it is taken: copy after copy of the ShareGPT, then Alpaca data. */
    static final class Messages implements Iterator<RawMessage> {
        private final ObjectMapper json = new ObjectMapper();
        private final JsonNode sharegpt;
        private final JsonNode alpaca;
        private final String prefix;
        private final long count;
        final String sharegptDataset;
        final String alpacaDataset;
        private long made;
        private int copy;
        /** The position in the copy: ShareGPT's records first, then Alpaca's. */
        private int index;

        private Messages(Path shared, long count, String prefix) throws IOException {
            this.sharegpt = json.readTree(shared.resolve("data/sharegpt/fastchat_dummy_conversation.json")
                    .toFile());
            this.alpaca = json.readTree(
                    shared.resolve("data/alpaca/alpaca_data_sample.json").toFile());
            this.prefix = prefix;
            this.count = count;
            this.sharegptDataset = prefix + SHAREGPT;
            this.alpacaDataset = prefix + ALPACA;
        }

        @Override
        public boolean hasNext() {
            return made < count;
        }

        @Override
        public RawMessage next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            if (index == sharegpt.size() + alpaca.size()) {
                copy++;
                index = 0;
            }
            String mark = prefix.isEmpty() && copy == 0 ? "" : " (" + prefix + copy + ")";
            RawMessage message =
                    index < sharegpt.size() ? sharegpt(index, mark) : alpaca(index - sharegpt.size(), mark);
            index++;
            made++;
            return message;
        }

        private RawMessage sharegpt(int i, String mark) {
            ObjectNode conversation = sharegpt.get(i).deepCopy();
            if (!mark.isEmpty()) {
                conversation.put("id", conversation.path("id").asText() + "-" + prefix + copy);
                ObjectNode first =
                        (ObjectNode) conversation.path("conversations").get(0);
                first.put("value", first.path("value").asText() + mark);
            }
            return new RawMessage(sharegptDataset + "-" + copy + "-" + i, sharegptDataset, bytes(conversation));
        }

        private RawMessage alpaca(int i, String mark) {
            ObjectNode record = alpaca.get(i).deepCopy();
            if (!mark.isEmpty()) {
                record.put("instruction", record.path("instruction").asText() + mark);
            }
            return new RawMessage(alpacaDataset + "-" + copy + "-" + i, alpacaDataset, bytes(record));
        }

        private byte[] bytes(JsonNode node) {
            try {
                return json.writeValueAsBytes(node);
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    int size() {
        return messages.size();
    }

    long bytes() {
        return messages.stream().mapToLong(message -> message.value().length).sum();
    }
}
