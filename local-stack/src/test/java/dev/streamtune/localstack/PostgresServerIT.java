package dev.streamtune.localstack;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PostgresServerIT {

    @TempDir
    Path dataDir;

    @Test
    void startsARealPostgreSqlServer() throws Exception {
        try (PostgresServer server = PostgresServer.start(dataDir)) {
            DatabaseEndpoint db = server.endpoint();
            try (Connection connection = DriverManager.getConnection(db.jdbcUrl(), db.username(), db.password());
                    Statement statement = connection.createStatement()) {
                statement.execute("create table t (id text primary key, n int)");
                statement.execute("insert into t values ('a', 1) on conflict (id) do nothing");
                statement.execute("insert into t values ('a', 2) on conflict (id) do nothing");
                try (ResultSet rows = statement.executeQuery("select n, version() from t")) {
                    assertThat(rows.next()).isTrue();
                    assertThat(rows.getInt(1)).isEqualTo(1);
                    assertThat(rows.getString(2)).startsWith("PostgreSQL 17");
                }
            }
        }
    }
}
