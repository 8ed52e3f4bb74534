package dev.streamtune.ingest;

import dev.streamtune.localstack.testing.KafkaTestResource;
import dev.streamtune.localstack.testing.PostgresTestResource;
import io.quarkus.test.common.QuarkusTestResource;

/**
 * Every Quarkus test in this module runs against a real Kafka broker and a real PostgreSQL, started once per test
 * JVM by local-stack (or taken from KAFKA_BOOTSTRAP_SERVERS / QUARKUS_DATASOURCE_JDBC_URL when set).
 */
@QuarkusTestResource(KafkaTestResource.class)
@QuarkusTestResource(PostgresTestResource.class)
public final class TestInfrastructure {

    private TestInfrastructure() {}
}
