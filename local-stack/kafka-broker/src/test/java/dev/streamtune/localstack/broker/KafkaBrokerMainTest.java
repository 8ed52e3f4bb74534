package dev.streamtune.localstack.broker;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** A failed storage format shows the broker's settings in its error, which lands in logs: never its secrets. */
class KafkaBrokerMainTest {

    @Test
    void theSettingsShownInAnErrorHideEveryPasswordAndLogin() {
        String shown = KafkaBrokerMain.withoutSecrets(List.of(
                "listeners=SASL_SSL://127.0.0.1:9093",
                "ssl.keystore.password=changeit",
                "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=ScramLoginModule required password=\"s3cret\";",
                "log.dirs=/tmp/kafka"));

        assertThat(shown)
                .doesNotContain("changeit")
                .doesNotContain("s3cret")
                .contains("listeners=SASL_SSL://127.0.0.1:9093", "log.dirs=/tmp/kafka")
                .contains("ssl.keystore.password=(hidden)");
    }
}
