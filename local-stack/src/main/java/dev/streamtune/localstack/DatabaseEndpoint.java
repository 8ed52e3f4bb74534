package dev.streamtune.localstack;

/** How to reach a PostgreSQL database. */
public record DatabaseEndpoint(String jdbcUrl, String username, String password) {
}
