package dev.streamtune.trainer.worker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.streamtune.events.Evaluation;
import dev.streamtune.events.Split;
import dev.streamtune.events.Topics;
import dev.streamtune.events.serde.EventSerializer;
import dev.streamtune.trainer.run.EarlyStopping;
import dev.streamtune.trainer.run.RunStore;
import dev.streamtune.trainer.run.RunStoreUnavailableException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

/**
 * The trainer's reading of {@code evaluations} given records it cannot use. The feed follows the whole topic and
 * reads it again from its beginning whenever handling a record throws, so a record that throws on every reading
 * would stall it for ever, and every evaluation after it would never reach early stopping.
 */
class EvaluationFeedTest {

    private static final String KNOWN = "r1-0123456789ab";

    /** The run store with one run, refusing what PostgreSQL refuses as the real store does: as its failure. */
    static final class Runs extends RunStore {
        final List<Evaluation> recorded = new ArrayList<>();

        @Override
        public Optional<List<EarlyStopping.Score>> evaluation(Evaluation evaluation) {
            if (evaluation.error() != null && evaluation.error().indexOf('\0') >= 0) {
                throw new RunStoreUnavailableException(
                        "the run store (PostgreSQL) failed: invalid byte sequence for encoding \"UTF8\": 0x00", null);
            }
            if (evaluation.evaluatedAt() != null
                    && evaluation.evaluatedAt().isAfter(Instant.parse("+294276-12-31T23:59:59Z"))) {
                throw new RunStoreUnavailableException(
                        "the run store (PostgreSQL) failed: timestamp out of range", null);
            }
            if (!evaluation.runId().equals(KNOWN)) {
                return Optional.empty();
            }
            recorded.add(evaluation);
            return Optional.of(List.of(new EarlyStopping.Score(evaluation.checkpointStep(), evaluation.loss())));
        }
    }

    @Test
    void recordsItCannotUseArePassedOverAndCountedAndTheNextIsRecorded() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        Runs runs = new Runs();
        EvaluationFeed feed = new EvaluationFeed(
                new TrainerStage(registry, Map.of(), null, runs, null), runs, new TrainerMetrics(registry), Map.of());
        String newer = new String(value(evaluation(KNOWN, 1, null, Instant.EPOCH)), StandardCharsets.UTF_8)
                .replaceFirst("\"schemaVersion\":\\d+,", "\"schemaVersion\":99,");

        List<ConsumerRecord<String, byte[]>> topic = List.of(
                record(0, value(evaluation("someone-elses-run", 1, null, Instant.EPOCH))),
                record(1, newer.getBytes(StandardCharsets.UTF_8)),
                record(2, value(evaluation(KNOWN, 2, "torn\0checkpoint", Instant.EPOCH))),
                record(3, value(evaluation(KNOWN, 3, null, Instant.parse("+300000-01-01T00:00:00Z")))),
                record(4, value(evaluation(KNOWN, 4, null, Instant.EPOCH))));
        topic.forEach(feed::apply);

        assertThat(runs.recorded).extracting(Evaluation::checkpointStep).containsExactly(4L);
        assertThat(count(registry, EvaluationFeed.RECORDED)).isEqualTo(1);
        assertThat(count(registry, EvaluationFeed.UNKNOWN_RUN)).isEqualTo(1);
        assertThat(count(registry, EvaluationFeed.UNREADABLE)).isEqualTo(3);
    }

    private static double count(SimpleMeterRegistry registry, String outcome) {
        Counter counter = registry.find("trainer_evaluations_total")
                .tag("outcome", outcome)
                .counter();
        return counter == null ? 0 : counter.count();
    }

    private static Evaluation evaluation(String runId, long step, String error, Instant at) {
        return new Evaluation(
                Evaluation.SCHEMA_VERSION,
                "r1",
                runId,
                step,
                "file:/checkpoints/r1/checkpoint-" + step,
                Split.VALID,
                2,
                10,
                error == null ? 1.5 : Double.NaN,
                error == null ? Math.exp(1.5) : Double.NaN,
                error == null ? 0.5 : Double.NaN,
                Map.of(),
                at,
                "sha256:" + "ab".repeat(32),
                error);
    }

    private static byte[] value(Evaluation evaluation) {
        return new EventSerializer<Evaluation>().serialize(Topics.EVALUATIONS, evaluation);
    }

    private static ConsumerRecord<String, byte[]> record(long offset, byte[] value) {
        return new ConsumerRecord<>(Topics.EVALUATIONS, 0, offset, "r1", value);
    }
}
