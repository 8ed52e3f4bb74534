package dev.streamtune.ingest.worker;

import dev.streamtune.ingest.config.IngestConfig;
import dev.streamtune.ingest.pipeline.IngestionServices;
import dev.streamtune.streams.KafkaSettings;
import dev.streamtune.streams.StageContext;
import dev.streamtune.streams.StageMetrics;
import dev.streamtune.streams.WorkerState;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.common.annotation.Identifier;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Duration;
import java.util.Map;
import org.jboss.logging.Logger;

/**
 * The streaming door: any supported record produced to {@code conversations-raw}, one per message, is normalised
 * like a line of an uploaded file ({@link RawPoll}). Read by a {@link RawDoorWorker} on its own thread from start to
 * shutdown, in the consumer group {@value #SERVICE}: the topic is read once, whatever the datasets and recipes.
 *
 * <p>From the stage framework the door has what every stage has: retries from the committed offsets when the
 * platform fails, readiness DOWN meanwhile ({@code RawDoorCheck}), the lag gauge
 * {@code stage_lag_records{stage="ingest"}}, its log context, and a graceful stop that commits what was finished.
 */
@ApplicationScoped
public class RawTopicDoor {

    /** The service, its consumer group on {@code conversations-raw}, and its Kafka client ids' prefix. */
    static final String SERVICE = "ingest-service";
    /** The stage, as dead letters and the lag gauge name it. */
    static final String STAGE = "ingest";
    /** How long shutdown waits for the poll being ingested to be finished and committed. */
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);

    private static final Logger LOG = Logger.getLogger(RawTopicDoor.class);

    private final IngestionServices ingestions;
    private final IngestConfig config;
    private final EventPublisher publisher;
    private final Map<String, Object> kafka;
    private final MeterRegistry registry;

    private volatile RawDoorWorker worker;

    public RawTopicDoor(
            IngestionServices ingestions,
            IngestConfig config,
            EventPublisher publisher,
            @Identifier("default-kafka-broker") Map<String, Object> kafka,
            MeterRegistry registry) {
        this.ingestions = ingestions;
        this.config = config;
        this.publisher = publisher;
        this.kafka = kafka;
        this.registry = registry;
        RawPoll.checkStreamDataset(config);
    }

    void onStart(@Observes StartupEvent event) {
        StageContext context = StageContext.of(SERVICE, STAGE, new KafkaSettings(kafka), publisher.acknowledged());
        RawDoorWorker door = new RawDoorWorker(context, SERVICE, () -> new RawPoll(ingestions, config));
        StageMetrics.bind(registry, door);
        Thread thread = new Thread(door, STAGE + "-" + RawDoorWorker.NAME);
        thread.setDaemon(true);
        worker = door;
        thread.start();
    }

    void onStop(@Observes ShutdownEvent event) throws InterruptedException {
        RawDoorWorker door = worker;
        if (door == null) {
            return;
        }
        door.stop();
        if (!door.awaitStopped(STOP_TIMEOUT)) {
            LOG.warnf(
                    "the %s door has not stopped after %s; its uncommitted records will be read again",
                    RawDoorWorker.NAME, STOP_TIMEOUT);
        }
    }

    /** The door's worker as the readiness check shows it; null before the service has started. */
    public WorkerState state() {
        RawDoorWorker door = worker;
        return door == null ? null : door.workerState();
    }
}
