package dev.streamtune.localstack;

import dev.streamtune.events.Topics.TopicSpec;
import dev.streamtune.streams.KafkaSettings;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * Creates the platform's topics with their partition counts, cleanup policies and record size limit, leaving
 * existing ones alone.
 * In Kubernetes the Strimzi {@code KafkaTopic} resources do this; locally and in tests, this class.
 */
public final class TopicProvisioner {

    private TopicProvisioner() {}

    /**
     * A topic as {@code spec} defines it, accepting records as large as the services send (its
     * {@code max.message.bytes}, as in the Compose file and the Kubernetes manifests). No replication factor: the
     * cluster's default.replication.factor applies (1 on the local broker).
     */
    static NewTopic newTopic(TopicSpec spec) {
        return new NewTopic(spec.name(), Optional.of(spec.partitions()), Optional.empty())
                .configs(Map.of(
                        TopicConfig.CLEANUP_POLICY_CONFIG,
                        spec.compacted() ? TopicConfig.CLEANUP_POLICY_COMPACT : TopicConfig.CLEANUP_POLICY_DELETE,
                        TopicConfig.MAX_MESSAGE_BYTES_CONFIG,
                        String.valueOf(KafkaSettings.MAX_RECORD_BYTES)));
    }

    public static void ensure(String bootstrapServers, List<TopicSpec> topics) {
        ensure(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers), topics);
    }

    /** As {@link #ensure(String, List)}, on a cluster reached with these settings (TLS, SASL). */
    public static void ensure(KafkaSettings kafka, List<TopicSpec> topics) {
        ensure(kafka.admin("streamtune-topic-provisioner"), topics);
    }

    /** As {@link #ensure(String, List)}, on a cluster reached with these client settings (TLS, SASL). */
    public static void ensure(Map<String, Object> clientSettings, List<TopicSpec> topics) {
        Properties config = new Properties();
        config.putAll(clientSettings);
        config.put(AdminClientConfig.CLIENT_ID_CONFIG, "streamtune-topic-provisioner");
        try (Admin admin = Admin.create(config)) {
            Set<String> existing = admin.listTopics().names().get(60, TimeUnit.SECONDS);
            List<NewTopic> missing = new ArrayList<>();
            for (TopicSpec spec : topics) {
                if (!existing.contains(spec.name())) {
                    missing.add(newTopic(spec));
                }
            }
            for (Map.Entry<String, KafkaFuture<Void>> created :
                    admin.createTopics(missing).values().entrySet()) {
                try {
                    created.getValue().get(60, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) { // another process created it first
                        throw e;
                    }
                }
            }
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException(
                    "cannot create topics on " + clientSettings.get(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG) + ": "
                            + e.getMessage(),
                    e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating topics", e);
        }
    }
}
