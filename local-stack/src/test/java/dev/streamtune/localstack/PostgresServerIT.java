package dev.streamtune.localstack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
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

    @Test
    void aServerStoppedKeepingItsDataComesBackOnTheSamePortWithIt() throws Exception {
        try (PostgresServer server = PostgresServer.start(dataDir)) {
            DatabaseEndpoint db = server.endpoint();
            try (Connection connection = DriverManager.getConnection(db.jdbcUrl(), db.username(), db.password());
                    Statement statement = connection.createStatement()) {
                statement.execute("create table kept (n int)");
                statement.execute("insert into kept values (7)");
            }
            server.stopKeepingData();
            assertThatThrownBy(() -> DriverManager.getConnection(db.jdbcUrl(), db.username(), db.password()))
                    .isInstanceOf(SQLException.class);

            server.startAgain();
            assertThat(server.endpoint()).isEqualTo(db);
            try (Connection connection = DriverManager.getConnection(db.jdbcUrl(), db.username(), db.password());
                    Statement statement = connection.createStatement();
                    ResultSet rows = statement.executeQuery("select n from kept")) {
                assertThat(rows.next()).isTrue();
                assertThat(rows.getInt(1)).isEqualTo(7);
            }
        }
        assertThat(dataDir).doesNotExist();
    }
}
