package dev.streamtune.streams;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The Kafka client settings of a service, shared by every consumer and producer the framework creates: the same
 * {@code kafka.*} configuration the SmallRye connector reads (in Quarkus, the {@code default-kafka-broker} map), so
 * that TLS, SASL, timeouts or any other client setting given once applies everywhere.
 *
 * <p>Three layers, later ones winning: throughput defaults chosen for this pipeline (larger fetches and polls, a
 * short linger, lz4, room for large batches), then the service's own settings, then what the framework's
 * guarantees require (its group and client ids, manual commits, idempotent fully acknowledged sends, the
 * serialisers it reads and writes with).
 */
public final class KafkaSettings {

    /**
     * The largest record the platform publishes, the producers' {@code max.request.size}, and what the broker
     * ({@code message.max.bytes}) and every topic ({@code max.message.bytes}) are declared to accept: 8 MiB. The
     * largest records are training batches at 16 bytes a token (three int32 arrays in base64), so 8 MiB carries
     * micro_batch_size x max_seq_length up to about 500,000 tokens (16 x 8,192 is 2 MiB): four times what
     * recipes ask for today, while a record stays small enough for a consumer's fetch and a broker's replication
     * to handle it whole. A larger record is never sent but dead-lettered ({@link AcknowledgedPublisher}).
     */
    public static final int MAX_RECORD_BYTES = 8 * 1024 * 1024;

    private static final Map<String, Object> CONSUMER_DEFAULTS = Map.of(
            ConsumerConfig.MAX_POLL_RECORDS_CONFIG,
            2000,
            ConsumerConfig.FETCH_MIN_BYTES_CONFIG,
            1,
            ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
            "earliest");

    private static final Map<String, Object> PRODUCER_DEFAULTS = Map.of(
            ProducerConfig.LINGER_MS_CONFIG,
            5,
            ProducerConfig.BATCH_SIZE_CONFIG,
            256 * 1024,
            // lz4 rather than zstd: every batch is compressed once and decompressed by the broker (which checks it)
            // and by each consumer. In bench/pipeline-throughput.sh lz4 instead of zstd cut the CPU of the whole
            // pipeline by a third (docs/PERFORMANCE.md).
            ProducerConfig.COMPRESSION_TYPE_CONFIG,
            "lz4",
            ProducerConfig.MAX_REQUEST_SIZE_CONFIG,
            MAX_RECORD_BYTES,
            ProducerConfig.BUFFER_MEMORY_CONFIG,
            64L * 1024 * 1024);

    /** The environment variables that hold client settings: {@code KAFKA_SECURITY_PROTOCOL} is security.protocol. */
    private static final String ENVIRONMENT_PREFIX = "KAFKA_";

    /** Keys that are not client settings but appear in the service's {@code kafka.*} namespace. */
    private static final Set<String> NOT_CLIENT_SETTINGS = Set.of("group.id", "client.id");

    private final Map<String, Object> service;

    /** From the service's client settings (keys as Kafka names them); {@code bootstrap.servers} is required. */
    public KafkaSettings(Map<String, ?> clientSettings) {
        Map<String, Object> copy = new HashMap<>();
        clientSettings.forEach((key, value) -> {
            if (value != null && !NOT_CLIENT_SETTINGS.contains(key)) {
                copy.put(key, value);
            }
        });
        Objects.requireNonNull(
                copy.get(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG), "the Kafka settings name no bootstrap.servers");
        this.service = Map.copyOf(copy);
    }

    public static KafkaSettings bootstrap(String bootstrapServers) {
        return new KafkaSettings(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers));
    }

    /**
     * The client settings an environment gives a service: every {@code KAFKA_*} variable, named as Quarkus's Kafka
     * extension names it in the {@code default-kafka-broker} map (lower case, {@code _} read as {@code .}:
     * {@code KAFKA_SASL_JAAS_CONFIG} is {@code sasl.jaas.config}), for a process outside Quarkus (the local run, the
     * tests) to reach the same cluster the same way. {@code KAFKA_BOOTSTRAP_SERVERS} is required.
     */
    public static KafkaSettings fromEnvironment(Map<String, String> environment) {
        Map<String, Object> settings = new HashMap<>();
        environment.forEach((variable, value) -> {
            if (variable.startsWith(ENVIRONMENT_PREFIX) && variable.length() > ENVIRONMENT_PREFIX.length()) {
                settings.put(
                        variable.substring(ENVIRONMENT_PREFIX.length())
                                .toLowerCase(Locale.ROOT)
                                .replace('_', '.'),
                        value);
            }
        });
        return new KafkaSettings(settings);
    }

    /**
     * The environment that gives a service these settings ({@link #fromEnvironment}'s inverse): one {@code KAFKA_*}
     * variable per setting, for a process started here (the local run's services) to reach the same cluster.
     */
    public Map<String, String> environment() {
        Map<String, String> environment = new HashMap<>();
        service.forEach((key, value) -> environment.put(
                ENVIRONMENT_PREFIX + key.toUpperCase(Locale.ROOT).replace('.', '_'), String.valueOf(value)));
        return environment;
    }

    public String bootstrapServers() {
        return String.valueOf(service.get(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG));
    }

    /**
     * The largest record its producers send: the service's {@code max.request.size}, else {@link #MAX_RECORD_BYTES}.
     * A service that lowers it dead-letters what no longer fits; one that raises it must raise the topics' limit too.
     */
    public int maxRecordSize() {
        Object setting = service.get(ProducerConfig.MAX_REQUEST_SIZE_CONFIG);
        return setting == null
                ? MAX_RECORD_BYTES
                : Integer.parseInt(String.valueOf(setting).trim());
    }

    /** The service's settings with {@code key} set, for a test or a benchmark that varies one. */
    public KafkaSettings with(String key, Object value) {
        Map<String, Object> copy = new HashMap<>(service);
        copy.put(key, value);
        return new KafkaSettings(copy);
    }

    /**
     * A consumer in {@code groupId} (null: no group, for assigned reads) committing only when told to. A service's
     * {@code group.instance.id} (static membership: an instance restarted under the same id takes its partitions
     * back at once, instead of waiting out the dead member's session) applies to its group consumers only.
     */
    public Map<String, Object> consumer(String groupId, String clientId) {
        Map<String, Object> config = new HashMap<>(CONSUMER_DEFAULTS);
        // Room for the largest record a producer of this service may send, whole in one fetch.
        config.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Math.max(MAX_RECORD_BYTES, maxRecordSize()));
        config.putAll(service);
        if (groupId != null) {
            config.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
        } else {
            config.remove(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG);
        }
        config.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        return config;
    }

    /**
     * An admin client: the service's settings that admin clients know (its security, timeouts), without the
     * consumers' and producers' own, which an admin client would log as unknown.
     */
    public Map<String, Object> admin(String clientId) {
        Map<String, Object> config = new HashMap<>(service);
        config.keySet().removeIf(key -> !AdminClientConfig.configNames().contains(key));
        config.put(AdminClientConfig.CLIENT_ID_CONFIG, clientId);
        return config;
    }

    /** A producer whose every send is acknowledged by all in-sync replicas, idempotent so retries keep order. */
    public Map<String, Object> producer(String clientId) {
        Map<String, Object> config = new HashMap<>(PRODUCER_DEFAULTS);
        config.putAll(service);
        config.put(ProducerConfig.CLIENT_ID_CONFIG, clientId);
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        config.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        config.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        return config;
    }
}
