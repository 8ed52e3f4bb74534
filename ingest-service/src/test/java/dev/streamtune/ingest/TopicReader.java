package dev.streamtune.ingest;

import dev.streamtune.localstack.Infrastructure;
import dev.streamtune.localstack.TopicSnapshot;
import java.util.List;
import java.util.function.Function;

/**
 * Reads a topic of the test broker up to its end offsets. An upload returns only after Kafka acknowledged
 * everything it published, so this sees exactly what the upload wrote.
 */
public final class TopicReader {

    private TopicReader() {}

    public static <T> List<T> readAll(String topic, Function<byte[], T> decode) {
        return TopicSnapshot.read(Infrastructure.kafkaBootstrapServers(), topic).stream()
                .map(r -> decode.apply(r.value()))
                .toList();
    }
}
