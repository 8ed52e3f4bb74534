package dev.streamtune.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

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
        ObjectMapper json = new ObjectMapper();
        JsonNode sharegpt = json.readTree(
                shared.resolve("data/sharegpt/fastchat_dummy_conversation.json").toFile());
        JsonNode alpaca = json.readTree(
                shared.resolve("data/alpaca/alpaca_data_sample.json").toFile());
        String sharegptDataset = prefix + SHAREGPT;
        String alpacaDataset = prefix + ALPACA;
        List<RawMessage> messages = new ArrayList<>(count);
        for (int copy = 0; messages.size() < count; copy++) {
            String mark = prefix.isEmpty() && copy == 0 ? "" : " (" + prefix + copy + ")";
            for (int i = 0; i < sharegpt.size() && messages.size() < count; i++) {
                ObjectNode conversation = sharegpt.get(i).deepCopy();
                if (!mark.isEmpty()) {
                    conversation.put("id", conversation.path("id").asText() + "-" + prefix + copy);
                    ObjectNode first =
                            (ObjectNode) conversation.path("conversations").get(0);
                    first.put("value", first.path("value").asText() + mark);
                }
                messages.add(new RawMessage(
                        sharegptDataset + "-" + copy + "-" + i, sharegptDataset, json.writeValueAsBytes(conversation)));
            }
            for (int i = 0; i < alpaca.size() && messages.size() < count; i++) {
                ObjectNode record = alpaca.get(i).deepCopy();
                if (!mark.isEmpty()) {
                    record.put("instruction", record.path("instruction").asText() + mark);
                }
                messages.add(new RawMessage(
                        alpacaDataset + "-" + copy + "-" + i, alpacaDataset, json.writeValueAsBytes(record)));
            }
        }
        return new BenchmarkCorpus(
                sharegptDataset, alpacaDataset, List.copyOf(messages), sharegpt.size(), alpaca.size());
    }

    int size() {
        return messages.size();
    }

    long bytes() {
        return messages.stream().mapToLong(message -> message.value().length).sum();
    }
}
