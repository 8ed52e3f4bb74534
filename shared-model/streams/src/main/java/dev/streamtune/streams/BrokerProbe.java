package dev.streamtune.streams;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.errors.AuthenticationException;

/**
 * Whether the Kafka cluster answers, within a bound: readiness must say DOWN quickly when the broker is away, where
 * an unbounded cluster description waits for the client's whole API timeout (a minute) and the probe itself times
 * out; and a topic's id. One admin client, made from the service's settings, reused by every probe.
 */
public final class BrokerProbe implements AutoCloseable {

    private final Admin admin;
    private final Duration timeout;
    private final String login;

    public BrokerProbe(KafkaSettings kafka, Duration timeout) {
        Map<String, Object> config = new HashMap<>(kafka.admin("broker-probe"));
        config.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) timeout.toMillis());
        config.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) timeout.toMillis());
        this.admin = Admin.create(config);
        this.timeout = timeout;
        this.login = login(config);
    }

    /** How the service logs in, for a refusal's reason: "SASL_SSL (SCRAM-SHA-512)", "SSL". */
    private static String login(Map<String, Object> config) {
        String protocol = String.valueOf(config.getOrDefault(
                CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, CommonClientConfigs.DEFAULT_SECURITY_PROTOCOL));
        return protocol.toUpperCase(Locale.ROOT).startsWith("SASL")
                ? protocol + " (" + config.getOrDefault(SaslConfigs.SASL_MECHANISM, SaslConfigs.DEFAULT_SASL_MECHANISM)
                        + ")"
                : protocol;
    }

    /** Null when the cluster answered, else why not: no answer, or a refused login (naming how the service logs in). */
    public String unreachable() {
        try {
            int nodes = admin.describeCluster(new DescribeClusterOptions().timeoutMs((int) timeout.toMillis()))
                    .nodes()
                    .get(timeout.toMillis() + 500, TimeUnit.MILLISECONDS)
                    .size();
            return nodes == 0 ? "the Kafka cluster has no brokers" : null;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof AuthenticationException refused) {
                // Kafka answered, and said no: the service's credentials or trust store are wrong, not the network.
                return "authentication with Kafka failed over " + login + ": " + refused.getMessage();
            }
            return "Kafka does not answer: " + e.getCause().getMessage();
        } catch (TimeoutException e) {
            return "Kafka does not answer within " + timeout;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted while asking Kafka";
        }
    }

    /**
     * Kafka's id of the topic: a topic deleted and created again under the same name has a new one, so offsets kept
     * beside the id (a checkpoint's) can tell whether they still refer to the same log.
     *
     * @throws IllegalStateException when the cluster does not answer or has no such topic
     */
    public String topicId(String topic) {
        try {
            return admin.describeTopics(List.of(topic))
                    .allTopicNames()
                    .get(timeout.toMillis() + 500, TimeUnit.MILLISECONDS)
                    .get(topic)
                    .topicId()
                    .toString();
        } catch (ExecutionException e) {
            throw new IllegalStateException(
                    "cannot describe topic " + topic + ": " + e.getCause().getMessage(), e);
        } catch (TimeoutException e) {
            throw new IllegalStateException(
                    "cannot describe topic " + topic + ": Kafka does not answer within " + timeout);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while describing topic " + topic, e);
        }
    }

    @Override
    public void close() {
        admin.close(Duration.ofSeconds(5));
    }
}
