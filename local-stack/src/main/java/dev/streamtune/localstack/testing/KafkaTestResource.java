package dev.streamtune.localstack.testing;

import dev.streamtune.localstack.Infrastructure;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.util.Map;

/**
 * Points the Quarkus application under test at a real Kafka cluster: the one given by the environment, or a
 * broker started once for the whole test JVM (see {@link Infrastructure}).
 */
public class KafkaTestResource implements QuarkusTestResourceLifecycleManager {

    @Override
    public Map<String, String> start() {
        return Infrastructure.kafkaConfig();
    }

    @Override
    public void stop() {
        // The broker is shared by every test in this JVM and stops with it.
    }
}
