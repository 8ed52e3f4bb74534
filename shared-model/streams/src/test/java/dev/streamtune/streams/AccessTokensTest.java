package dev.streamtune.streams;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class AccessTokensTest {

    private static final String WRITER = "Bearer w-secret";
    private static final String READER = "Bearer r-secret";

    @Test
    void withBothRolesReadsNeedEitherTokenAndWritesTheWriteOne() {
        AccessTokens tokens = AccessTokens.of(Optional.of("w-secret"), Optional.of("r-secret"));

        assertThat(tokens.admits(false, READER)).isTrue();
        assertThat(tokens.admits(false, WRITER)).as("a writer also reads").isTrue();
        assertThat(tokens.admits(false, null)).isFalse();
        assertThat(tokens.admits(false, "Bearer guess")).isFalse();

        assertThat(tokens.admits(true, WRITER)).isTrue();
        assertThat(tokens.admits(true, READER)).as("a reader does not write").isFalse();
        assertThat(tokens.admits(true, null)).isFalse();
    }

    @Test
    void withoutAReadTokenReadsStayOpenAsBeforeRoles() {
        AccessTokens tokens = AccessTokens.of(Optional.of("w-secret"), Optional.empty());

        assertThat(tokens.admits(false, null)).isTrue();
        assertThat(tokens.admits(true, null)).isFalse();
        assertThat(tokens.admits(true, WRITER)).isTrue();
    }

    @Test
    void aReadTokenAloneGuardsReadsAndLeavesWritesOpen() {
        AccessTokens tokens = AccessTokens.of(Optional.of(" "), Optional.of("r-secret"));

        assertThat(tokens.admits(false, null)).isFalse();
        assertThat(tokens.admits(false, READER)).isTrue();
        assertThat(tokens.admits(true, null)).isTrue();
    }

    @Test
    void methodsAndOpenPaths() {
        assertThat(AccessTokens.writes("GET")).isFalse();
        assertThat(AccessTokens.writes("HEAD")).isFalse();
        assertThat(AccessTokens.writes("POST")).isTrue();
        assertThat(AccessTokens.writes("DELETE")).isTrue();
        assertThat(AccessTokens.open("/q/health/ready")).isTrue();
        assertThat(AccessTokens.open("q/metrics")).isTrue();
        assertThat(AccessTokens.open("/recipes")).isFalse();
    }
}
