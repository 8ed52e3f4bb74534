package dev.streamtune.localstack.testing;

import dev.streamtune.localstack.Infrastructure;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.util.Map;

/**
 * Points the Quarkus application under test at a real PostgreSQL: the one given by the environment, or an
 * embedded server started once for the whole test JVM (see {@link Infrastructure}).
 */
public class PostgresTestResource implements QuarkusTestResourceLifecycleManager {

    @Override
    public Map<String, String> start() {
        return Infrastructure.databaseConfig();
    }

    @Override
    public void stop() {
        // The database is shared by every test in this JVM and stops with it.
    }
}
