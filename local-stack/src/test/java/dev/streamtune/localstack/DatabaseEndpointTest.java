package dev.streamtune.localstack;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The JDBC URL the local run prints shows where the database is, never a password. */
class DatabaseEndpointTest {

    @Test
    void keepsAUrlWithoutPasswordsAsWritten() {
        String url = "jdbc:postgresql://localhost:54321/postgres?user=postgres&ssl=false";

        assertThat(DatabaseEndpoint.withoutPasswords(url)).isEqualTo(url);
    }

    @Test
    void hidesThePasswordInTheUserInfo() {
        assertThat(DatabaseEndpoint.withoutPasswords("jdbc:postgresql://streamtune:s3cret@db.example:5432/streamtune"))
                .isEqualTo("jdbc:postgresql://streamtune:***@db.example:5432/streamtune");
    }

    @Test
    void hidesAUserInfoPasswordHoldingAtSignsAndSlashes() {
        assertThat(DatabaseEndpoint.withoutPasswords("jdbc:postgresql://app:a@b/c+d=@db:5432/app?ssl=true"))
                .isEqualTo("jdbc:postgresql://app:***@db:5432/app?ssl=true");
    }

    @Test
    void hidesPasswordParametersWhereverTheyStand() {
        assertThat(DatabaseEndpoint.withoutPasswords(
                        "jdbc:postgresql://db:5432/app?password=first&user=app&PASSWORD=second&sslpassword=third"))
                .isEqualTo("jdbc:postgresql://db:5432/app?password=***&user=app&PASSWORD=***&sslpassword=***");
    }

    @Test
    void hidesBothWhenAUrlCarriesTwoPasswords() {
        assertThat(DatabaseEndpoint.withoutPasswords("jdbc:postgresql://app:one@db/app?password=two"))
                .isEqualTo("jdbc:postgresql://app:***@db/app?password=***");
    }

    @Test
    void thePrintableUrlOfAnEndpointHoldsNoPassword() {
        DatabaseEndpoint endpoint =
                new DatabaseEndpoint("jdbc:postgresql://app:s3cret@db/app?password=s3cret", "app", "s3cret");

        assertThat(endpoint.printableJdbcUrl()).doesNotContain("s3cret").startsWith("jdbc:postgresql://app:***@db/app");
    }
}
