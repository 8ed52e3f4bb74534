package dev.streamtune.pipeline;

import dev.streamtune.events.Topics;
import dev.streamtune.streams.RecipeStreamWorker;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.ListConsumerGroupOffsetsResult;
import org.apache.kafka.clients.admin.ListConsumerGroupOffsetsSpec;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.GroupIdNotFoundException;

/**
 * How far behind each stage's consumer group is, as an operator would read it: for each partition of the topic the
 * stage reads, the end offset less the group's committed offset (all of it while the group has committed nothing).
 * ingest-service on {@code conversations-raw}, format-service and tokenize-service in their recipe's groups on
 * {@code conversations} and {@code examples}.
 */
final class StageLag {

    /** A stage: the topic it reads and its consumer group. */
    record Stage(String name, String topic, String group) {}

    /** ingest-service's one group: the raw topic is read once, whatever the recipes. */
    static final String INGEST_GROUP = "ingest-service";

    private final Admin admin;
    private final List<Stage> stages;
    private final Map<String, Integer> partitions = new HashMap<>();

    StageLag(Admin admin, String recipeId) {
        this.admin = admin;
        this.stages = List.of(
                new Stage("ingest", Topics.CONVERSATIONS_RAW, INGEST_GROUP),
                new Stage("format", Topics.CONVERSATIONS, RecipeStreamWorker.groupId("format-service", recipeId)),
                new Stage("tokenize", Topics.EXAMPLES, RecipeStreamWorker.groupId("tokenize-service", recipeId)));
    }

    List<Stage> stages() {
        return stages;
    }

    /** The topics' end offsets and the stages' lag at one moment. */
    record Snapshot(Map<String, Long> lag, Map<String, Long> records) {}

    /**
     * Each stage's lag, and how many records each of {@code topics} holds (its end offsets summed: on a fresh broker,
     * everything ever produced to it), in one request for the end offsets and one for the committed offsets, so that
     * sampling often costs the broker little.
     */
    Snapshot snapshot(List<String> topics) throws ExecutionException, InterruptedException, TimeoutException {
        Map<TopicPartition, OffsetSpec> latest = new LinkedHashMap<>();
        for (String topic : topics) {
            partitionsOf(topic).forEach(partition -> latest.put(partition, OffsetSpec.latest()));
        }
        for (Stage stage : stages) {
            partitionsOf(stage.topic()).forEach(partition -> latest.put(partition, OffsetSpec.latest()));
        }
        Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> end =
                admin.listOffsets(latest).all().get(10, TimeUnit.SECONDS);
        Map<String, ListConsumerGroupOffsetsSpec> groups = new LinkedHashMap<>();
        stages.forEach(stage -> groups.put(stage.group(), new ListConsumerGroupOffsetsSpec()));
        ListConsumerGroupOffsetsResult committed = admin.listConsumerGroupOffsets(groups);
        Map<String, Long> lag = new LinkedHashMap<>();
        for (Stage stage : stages) {
            Map<TopicPartition, OffsetAndMetadata> positions =
                    committed.partitionsToOffsetAndMetadata(stage.group()).get(10, TimeUnit.SECONDS);
            long behind = 0;
            for (TopicPartition partition : partitionsOf(stage.topic())) {
                OffsetAndMetadata position = positions.get(partition);
                behind += end.get(partition).offset() - (position == null ? 0 : position.offset());
            }
            lag.put(stage.name(), behind);
        }
        Map<String, Long> records = new LinkedHashMap<>();
        for (String topic : topics) {
            records.put(
                    topic,
                    partitionsOf(topic).stream()
                            .mapToLong(p -> end.get(p).offset())
                            .sum());
        }
        return new Snapshot(lag, records);
    }

    /** Each stage's lag now, by stage name. */
    Map<String, Long> sample() throws ExecutionException, InterruptedException, TimeoutException {
        return snapshot(List.of()).lag();
    }

    private List<TopicPartition> partitionsOf(String topic)
            throws ExecutionException, InterruptedException, TimeoutException {
        Integer count = partitions.get(topic);
        if (count == null) {
            count = admin.describeTopics(List.of(topic))
                    .allTopicNames()
                    .get(10, TimeUnit.SECONDS)
                    .get(topic)
                    .partitions()
                    .size();
            partitions.put(topic, count);
        }
        List<TopicPartition> list = new ArrayList<>(count);
        for (int p = 0; p < count; p++) {
            list.add(new TopicPartition(topic, p));
        }
        return list;
    }

    Map<TopicPartition, Long> endOffsets(String topic)
            throws ExecutionException, InterruptedException, TimeoutException {
        Map<TopicPartition, OffsetSpec> latest = new LinkedHashMap<>();
        partitionsOf(topic).forEach(partition -> latest.put(partition, OffsetSpec.latest()));
        return admin.listOffsets(latest).all().get(10, TimeUnit.SECONDS).entrySet().stream()
                .collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().offset()));
    }

    /** How many consumers the stage's group has now (none when it does not exist). */
    int members(Stage stage) throws ExecutionException, InterruptedException, TimeoutException {
        ConsumerGroupDescription group = describe(stage);
        return group == null ? 0 : group.members().size();
    }

    /** Whether every partition of the stage's topic is assigned to a member of its group. */
    boolean assigned(Stage stage) throws ExecutionException, InterruptedException, TimeoutException {
        ConsumerGroupDescription group = describe(stage);
        if (group == null) {
            return false; // its worker has not joined yet
        }
        long partitions = group.members().stream()
                .mapToLong(m -> m.assignment().topicPartitions().stream()
                        .filter(p -> p.topic().equals(stage.topic()))
                        .count())
                .sum();
        return partitions > 0 && partitions == endOffsets(stage.topic()).size();
    }

    private ConsumerGroupDescription describe(Stage stage)
            throws ExecutionException, InterruptedException, TimeoutException {
        try {
            return admin.describeConsumerGroups(List.of(stage.group()))
                    .all()
                    .get(10, TimeUnit.SECONDS)
                    .get(stage.group());
        } catch (ExecutionException e) {
            if (e.getCause() instanceof GroupIdNotFoundException) {
                return null;
            }
            throw e;
        }
    }
}
