package dev.streamtune.streams;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class BearerTokenTest {

    @Test
    void admitsOnlyTheConfiguredToken() {
        BearerToken token = BearerToken.of(Optional.of("s3cret"));
        assertThat(token.required()).isTrue();
        assertThat(token.admits("Bearer s3cret")).isTrue();
        assertThat(token.admits("Bearer s3cret  ")).as("surrounding blanks").isTrue();
        assertThat(token.admits("Bearer s3cre")).isFalse();
        assertThat(token.admits("Bearer s3cret2")).isFalse();
        assertThat(token.admits("Basic s3cret")).as("another scheme").isFalse();
        assertThat(token.admits("s3cret")).as("no scheme").isFalse();
        assertThat(token.admits(null)).as("no header").isFalse();
        assertThat(token.admits("Bearer ")).isFalse();
    }

    @Test
    void anAbsentOrBlankTokenRequiresNothing() {
        for (BearerToken none :
                new BearerToken[] {BearerToken.of(Optional.empty()), BearerToken.of(Optional.of("  "))}) {
            assertThat(none.required()).isFalse();
            assertThat(none.admits(null)).isTrue();
        }
    }
}
