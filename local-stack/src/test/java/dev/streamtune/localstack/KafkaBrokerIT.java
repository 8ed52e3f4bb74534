package dev.streamtune.localstack;

import static org.assertj.core.api.Assertions.assertThat;

import dev.streamtune.events.Topics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KafkaBrokerIT {

    @TempDir
    Path workDir;

    @Test
    void startsARealBrokerThatCarriesRecordsAndStopsCleanly() throws Exception {
        ProcessHandle child;
        try (KafkaBroker broker = KafkaBroker.start(workDir)) {
            child = broker.processHandle();
            assertThat(child.isAlive()).isTrue();
            TopicProvisioner.ensure(broker.bootstrapServers(), Topics.ALL);

            try (KafkaProducer<String, String> producer = producer(broker.bootstrapServers())) {
                for (int i = 0; i < 10; i++) {
                    producer.send(new ProducerRecord<>(Topics.CONVERSATIONS, "k" + i, "v" + i))
                            .get(30, TimeUnit.SECONDS);
                }
            }
            assertThat(consumeAll(broker.bootstrapServers(), Topics.CONVERSATIONS, 10))
                    .extracting(ConsumerRecord::value)
                    .containsExactlyInAnyOrder("v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9");
        }
        assertThat(child.isAlive()).isFalse();
        assertThat(Files.readString(workDir.resolve("broker.log"))).contains("Kafka Server started");
    }

    @Test
    void provisionsTopicsWithTheirPartitionsAndPoliciesAndIsIdempotent() throws Exception {
        try (KafkaBroker broker = KafkaBroker.start(workDir);
                Admin admin =
                        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()))) {
            TopicProvisioner.ensure(broker.bootstrapServers(), Topics.ALL);
            TopicProvisioner.ensure(broker.bootstrapServers(), Topics.ALL);

            Map<String, TopicDescription> topics = admin.describeTopics(
                            Topics.ALL.stream().map(Topics.TopicSpec::name).toList())
                    .allTopicNames()
                    .get(30, TimeUnit.SECONDS);
            for (Topics.TopicSpec spec : Topics.ALL) {
                assertThat(topics.get(spec.name()).partitions()).as(spec.name()).hasSize(spec.partitions());
            }
            ConfigResource recipes = new ConfigResource(ConfigResource.Type.TOPIC, Topics.RECIPES);
            String policy = admin.describeConfigs(Set.of(recipes))
                    .all()
                    .get(30, TimeUnit.SECONDS)
                    .get(recipes)
                    .get("cleanup.policy")
                    .value();
            assertThat(policy).isEqualTo("compact");
        }
    }

    @Test
    void refusesToAutoCreateTopicsSoThatATypoFailsLoudly() throws Exception {
        try (KafkaBroker broker = KafkaBroker.start(workDir);
                Admin admin =
                        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()))) {
            assertThat(Files.readString(workDir.resolve("server.properties")))
                    .contains("auto.create.topics.enable=false");
            assertThat(admin.listTopics().names().get(30, TimeUnit.SECONDS)).doesNotContain("conversatons");
        }
    }

    static KafkaProducer<String, String> producer(String bootstrap) {
        Properties config = new Properties();
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        config.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        config.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        return new KafkaProducer<>(config);
    }

    static List<ConsumerRecord<String, String>> consumeAll(String bootstrap, String topic, int expected) {
        Properties config = new Properties();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        config.put(ConsumerConfig.GROUP_ID_CONFIG, "it-" + System.nanoTime());
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        List<ConsumerRecord<String, String>> records = new ArrayList<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(config)) {
            consumer.subscribe(List.of(topic));
            while (records.size() < expected && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(500)).forEach(records::add);
            }
        }
        return records;
    }
}
