package dev.streamtune.streams;

import dev.streamtune.events.DeadLetter;
import dev.streamtune.events.SourceRef;
import dev.streamtune.events.Topics;
import dev.streamtune.events.serde.SchemaVersionException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.Header;
import org.jboss.logging.Logger;
import org.jboss.logging.MDC;

/**
 * A stage's reading of one topic in one consumer group, on the worker's own thread: the poll, handle, publish,
 * commit loop every stage shares, whatever it reads for ({@link RecipeStreamWorker}: one recipe; ingest-service's
 * raw door: the {@code conversations-raw} topic for every dataset).
 *
 * <p>Each record is {@linkplain #accept handed} to the stage, which adds what it produces to the poll's
 * {@link Output}. A record the stage cannot handle (it throws) becomes a dead letter naming the record and the
 * reason, whatever it had added is taken back, and the worker goes on: one bad record never stalls the stream.
 * After the poll, the output is published and acknowledged, the holds it carries are released, and the
 * {@link CommitWatermark}'s positions are committed: at least once, nothing lost.
 *
 * <p>A failure of the infrastructure (Kafka unreachable, a publish not acknowledged, a commit refused; or a
 * {@link StartOverException} of the stage) is kept for the health check, and the worker starts over from the
 * committed offsets after a pause, rebuilding its state in {@link #starting}: the uncommitted work is done again
 * rather than lost.
 *
 * <p>While it runs, the worker's thread logs under what the stage asked for with {@link #logUnder} (a recipe's
 * worker: its recipe), which the services' console format prints. {@link #stop} ends it gracefully: what was
 * acknowledged is committed before the consumer closes.
 */
public abstract class StreamWorker implements Runnable {

    private static final Logger LOG = Logger.getLogger(StreamWorker.class);
    private static final Duration POLL = Duration.ofMillis(500);

    /** Where a worker is. */
    public enum State {
        STARTING,
        RUNNING,
        RETRYING,
        STOPPED
    }

    private final StageContext context;
    private final String name;
    private final String groupId;
    private final String topic;
    private volatile Consumer<String, byte[]> consumer;
    private volatile boolean running = true;
    /** Why the worker's work is over for good (its recipe replaced by a new version, deleted), or null. */
    private volatile String retirement;

    private volatile boolean restartRequested;
    /** False once this consumer's session failed: closing it then commits nothing. */
    private volatile boolean committing;

    private volatile State state = State.STARTING;
    private volatile Throwable failure;
    private volatile String lastRecordFailure;
    private volatile long lag = -1;
    private final AtomicLong recordFailures = new AtomicLong();
    private final AtomicLong retries = new AtomicLong();
    /** What the worker's thread logs under while it runs ({@link LogContext}). */
    private final Map<String, String> logContext = new LinkedHashMap<>();

    private CommitWatermark watermark = new CommitWatermark();
    /** Positions to read from again, asked for by the stage during this poll: applied once its output is out. */
    private Map<TopicPartition, Long> rewind;

    private final StageCounts counts = new StageCounts();
    /** Released when {@link #run} returns, or dies. */
    private final CountDownLatch finished = new CountDownLatch(1);

    /** The outcome under which the framework counts records that failed (each now a dead letter). */
    public static final String REJECTED = "rejected";

    /**
     * A worker reading {@code topic} in the consumer group {@code groupId}, under the client id
     * {@code <service>-<name>}; {@code name} is what its health and status know it by.
     */
    protected StreamWorker(StageContext context, String name, String groupId, String topic) {
        this.context = context;
        this.name = name;
        this.groupId = groupId;
        this.topic = topic;
    }

    /** What the worker is known by: its recipe id, for a recipe's worker. */
    public String name() {
        return name;
    }

    /** The worker as its log lines name it ("recipe qa-v1"); its name by default. */
    protected String describe() {
        return name;
    }

    protected StageContext context() {
        return context;
    }

    /** The consumer group the worker reads in. */
    protected String groupId() {
        return groupId;
    }

    /** The watermark of the current consumption: stages that buffer inputs hold their offsets on it. */
    protected CommitWatermark watermark() {
        return watermark;
    }

    /** The worker's accounting: count outcomes here while handling records; they count once acknowledged. */
    public final StageCounts counts() {
        return counts;
    }

    /**
     * Has the worker's thread log under {@code key} = {@code value} while it runs (a recipe's worker under its
     * recipe, the trainer's also under its run); a null value leaves the key out. Call it from the constructor.
     */
    protected final void logUnder(String key, String value) {
        if (value == null) {
            logContext.remove(key);
        } else {
            logContext.put(key, value);
        }
    }

    /** Called before each (re)start of consumption: rebuild whatever state the work keeps. */
    protected void starting() {}

    /** A position of {@link #positionsOnAssignment}: the partition's end, so that nothing already there is read. */
    public static final long END = Long.MAX_VALUE;

    /**
     * Where to read each newly assigned partition from, instead of the group's committed offset: a stage whose
     * progress is stored elsewhere (the trainer's checkpoints) answers its own positions ({@link #END}: from the end).
     * Partitions left out read from the committed offset, or from the beginning when there is none. Nothing by
     * default.
     */
    protected Map<TopicPartition, Long> positionsOnAssignment(Collection<TopicPartition> assigned) {
        return Map.of();
    }

    /** Handles one record, adding what it produces to {@code out}; throws when the record cannot be used. */
    protected abstract void accept(ConsumerRecord<String, byte[]> record, Output out);

    /**
     * What the stage keeps with each commit of its positions (Kafka's offset metadata, at most a few kilobytes): a
     * note of its own progress that belongs to exactly these positions, read back when it starts over (tokenize-service:
     * from where on the {@code batches} topic its batches could hold inputs not yet behind the commit). Called just
     * before each commit, after {@link #published}; nothing by default.
     */
    protected String commitNote() {
        return "";
    }

    /** Called after a poll's records were handled (nothing by default). */
    protected void endOfPoll(Output out) {}

    /**
     * Reads these partitions again from these offsets, once this poll's output is published (the trainer's next
     * epoch replays its batches). The records the current poll still hands over come before the rewind; a stage
     * that asks for one ignores them (holding their offsets, so the commit does not pass them) until
     * {@link #rewound} is called. The commit position never moves back: what is read again was committed already.
     */
    protected final void rewind(Map<TopicPartition, Long> positions) {
        rewind = Map.copyOf(positions);
    }

    /** Called once a {@link #rewind} is in effect: the next records come from the positions asked for. */
    protected void rewound() {}

    /**
     * Called once, on the worker's thread, after it stopped consuming for good: the stage lets go of what it holds.
     * {@code retirement} says why its work is over ({@link #retire}: its recipe replaced by a new version, deleted);
     * null when the worker was only stopped (the service shutting down, a restart), so that its work goes on in the
     * next one. Not called when the thread dies of an error, as nothing is called when a process is killed.
     */
    protected void stopped(String retirement) {}

    /** Called when a poll returned nothing: a stage may flush what it buffers into {@code out}. */
    protected void idle(Output out) {}

    /**
     * How long the next poll may wait for records. A stage that acts when the stream goes quiet ({@link #idle})
     * answers how soon it must, so that it is not kept waiting a whole poll past that moment.
     */
    protected Duration pollTimeout() {
        return POLL;
    }

    /**
     * Called after {@code out} was published and acknowledged, with the counts that thereby became final (a stage
     * reports them as metrics).
     */
    protected void published(Output out, Map<StageCounts.Key, Long> counted) {}

    /**
     * Called when {@link #accept} threw for {@code record}: the stage forgets whatever of it it kept. The framework
     * has already taken back its outputs and released its holds.
     */
    protected void recordFailed(ConsumerRecord<String, byte[]> record, RuntimeException failure) {}

    /** The dead letter for a record the stage could not handle; stages may say more (the field to blame). */
    protected DeadLetter deadLetterFor(ConsumerRecord<String, byte[]> record, RuntimeException failure) {
        InputOffset input = InputOffset.of(record);
        String reason = where(record) + " could not be processed by " + context.stage() + ": " + why(failure);
        return DeadLetter.from(context.stage(), input.source())
                .dataset(header(record, Topics.Headers.DATASET))
                .field(blamedField(failure))
                .reason(reason)
                .payload(record.value())
                .build();
    }

    /** A dead letter of this worker about {@code source}, the rest to fill in (a recipe's worker names its recipe). */
    protected DeadLetter.Builder letterAbout(SourceRef source) {
        return DeadLetter.from(context.stage(), source);
    }

    /** A record as a dead letter's reason names it: topic, partition, offset and key. */
    protected static String where(ConsumerRecord<String, byte[]> record) {
        return InputOffset.of(record).source().describe() + (record.key() == null ? "" : " (key " + record.key() + ")");
    }

    /**
     * The field a failure blames, when it is one the framework knows of: a record of another schema version blames its
     * {@code schemaVersion} (wrapped by the stage or not), so that dead letters of that kind group together. Null
     * otherwise.
     */
    protected static String blamedField(Throwable failure) {
        for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
            if (cause instanceof SchemaVersionException) {
                return SchemaVersionException.FIELD;
            }
        }
        return null;
    }

    /** A failure as a dead letter's reason states it. */
    protected static String why(RuntimeException failure) {
        return failure.getMessage() == null ? failure.getClass().getSimpleName() : failure.getMessage();
    }

    @Override
    public final void run() {
        logContext.forEach(MDC::put);
        try {
            work();
        } finally {
            logContext.keySet().forEach(MDC::remove);
            finished.countDown();
        }
    }

    /**
     * Waits until the worker's {@link #run} has returned (after {@link #stop} or {@link #retire}, its
     * {@link #stopped} hook included); false when {@code timeout} passed first.
     */
    public boolean awaitStopped(Duration timeout) throws InterruptedException {
        return finished.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void work() {
        while (running) {
            try (Consumer<String, byte[]> current = context.consumer(groupId, context.service() + "-" + name)) {
                consumer = current;
                if (!running) {
                    break;
                }
                watermark = new CommitWatermark();
                counts.discardPending();
                restartRequested = false;
                rewind = null;
                committing = true;
                starting();
                current.subscribe(List.of(topic), new Revocations(current));
                try {
                    consume(current);
                } catch (RuntimeException e) {
                    // What was read but not acknowledged must not be committed when the consumer closes.
                    committing = false;
                    throw e;
                }
                if (running || restartRequested) {
                    continue;
                }
                commitSync(current);
            } catch (WakeupException e) {
                // stop() woke the consumer; what was acknowledged is committed by the next owner's position
            } catch (RuntimeException e) {
                if (!running) {
                    break;
                }
                failure = e;
                state = State.RETRYING;
                retries.incrementAndGet();
                LOG.errorf(e, "work for %s on %s failed; starting over from the committed offsets", describe(), topic);
                settleSends();
                pause();
            }
        }
        state = State.STOPPED;
        stopped(retirement);
    }

    private void consume(Consumer<String, byte[]> current) {
        while (running && !restartRequested) {
            ConsumerRecords<String, byte[]> records;
            try {
                records = current.poll(pollTimeout());
            } catch (WakeupException e) {
                if (running) {
                    throw e;
                }
                return; // stop(): commit what is acknowledged, then close
            }
            if (restartRequested) {
                return; // partitions went elsewhere while inputs were buffered: start over, commit nothing more
            }
            Output out = new Output();
            if (records.isEmpty()) {
                idle(out);
            } else {
                for (ConsumerRecord<String, byte[]> record : records) {
                    handle(record, out);
                }
                endOfPoll(out);
            }
            publish(out);
            for (InputOffset input : out.releases()) {
                watermark.release(input.partition(), input.offset());
            }
            published(out, counts.confirm());
            commitAsync(current);
            if (rewind != null) {
                rewind.forEach(current::seek);
                rewind = null;
                rewound();
            }
            updateLag(current);
            failure = null;
            state = State.RUNNING;
        }
    }

    private void handle(ConsumerRecord<String, byte[]> record, Output out) {
        TopicPartition partition = new TopicPartition(record.topic(), record.partition());
        watermark.read(partition, record.offset());
        Output.Mark mark = out.mark();
        counts.beginRecord();
        out.handling(InputOffset.of(record));
        try {
            accept(record, out);
            checkSizes(out.since(mark));
            counts.endRecord();
        } catch (StartOverException e) {
            counts.abandonRecord();
            throw e; // the stage's state is in doubt, not the record: start over, dead-letter nothing
        } catch (RuntimeException e) {
            reject(record, out, mark, partition, e);
        } catch (StackOverflowError e) {
            // The one Error a record alone can cause (a recursive walk of one nested too deeply) that leaves nothing
            // in doubt: the stack has unwound by the time it is caught here. Left to rise, it would end the thread
            // and the record would kill every worker that reads it again. Other Errors still end the thread.
            reject(
                    record,
                    out,
                    mark,
                    partition,
                    new IllegalArgumentException("handling it overflowed the stack (is it nested too deeply?)", e));
        } finally {
            out.handling(null);
        }
    }

    private void reject(
            ConsumerRecord<String, byte[]> record,
            Output out,
            Output.Mark mark,
            TopicPartition partition,
            RuntimeException e) {
        counts.abandonRecord();
        out.rollBack(mark);
        watermark.releaseAll(partition, record.offset());
        recordFailed(record, e);
        DeadLetter letter = deadLetterFor(record, e);
        out.deadLetter(letter);
        counts.count(REJECTED, letter.dataset());
        recordFailures.incrementAndGet();
        lastRecordFailure = letter.reason();
        LOG.warnf(e, "%s: %s", describe(), letter.reason());
    }

    /**
     * What the record being handled produced from itself alone must fit in a Kafka record: one that does not fails
     * the record (a dead letter naming the size and the limit), since sending it could never succeed. A dead letter
     * is cut to fit instead; a record gathering other inputs is not this record's fault ({@link #publish}).
     */
    private void checkSizes(List<Output.Entry> produced) {
        AcknowledgedPublisher publisher = context.publisher();
        for (Output.Entry entry : produced) {
            entry.value = publisher.serialize(entry.record);
            OversizeRecord oversize = publisher.oversize(entry.record, entry.value);
            if (oversize != null && !entry.gathersInputs()) {
                throw new OversizeRecordException(List.of(oversize));
            }
        }
    }

    /**
     * Publishes the poll's output. A record too large for Kafka that gathers many inputs (a training batch), or
     * that the broker refuses for its size, is never retried: it becomes a dead letter naming it, its size and the
     * limit, in its place, so that the holds it carries are released and the stream goes on.
     */
    private void publish(Output out) {
        AcknowledgedPublisher publisher = context.publisher();
        for (Output.Entry entry : List.copyOf(out.entries())) {
            if (entry.value == null) {
                entry.value = publisher.serialize(entry.record);
            }
            OversizeRecord oversize = publisher.oversize(entry.record, entry.value);
            if (oversize != null) {
                out.replace(entry, oversizeLetter(oversize, entry));
            }
        }
        try {
            out.acknowledged(publisher.publish(out.records(), out.serialized()));
        } catch (OversizeRecordException e) {
            // The others were acknowledged; what the broker refused can never be sent: its dead letters go instead.
            Map<Outgoing, Output.Entry> entries = new IdentityHashMap<>();
            out.entries().forEach(entry -> entries.put(entry.record, entry));
            List<Output.Entry> refused = new ArrayList<>();
            for (OversizeRecord oversize : e.records()) {
                Output.Entry entry = entries.get(oversize.record());
                refused.add(out.replace(entry, oversizeLetter(oversize, entry)));
            }
            List<RecordMetadata> letters = publisher.publish(
                    refused.stream().map(entry -> entry.record).toList());
            List<RecordMetadata> placed = new ArrayList<>(e.placed());
            for (int i = 0, next = 0; i < placed.size(); i++) {
                if (placed.get(i) == null) {
                    placed.set(i, letters.get(next++));
                }
            }
            out.acknowledged(placed);
        }
    }

    /** The dead letter in the place of a record too large for Kafka, named by the first input it was made of. */
    private DeadLetter oversizeLetter(OversizeRecord oversize, Output.Entry entry) {
        Outgoing record = oversize.record();
        InputOffset input = entry.gathersInputs() ? entry.releases.get(0) : entry.from;
        SourceRef source = input != null ? input.source() : SourceRef.inTopic(topic, -1, -1);
        String inputs = entry.releases.isEmpty() ? "" : ", made of " + entry.releases.size() + " inputs";
        String reason = oversize.describe() + inputs + "; " + describe() + " dead-lettered it instead of sending it";
        LOG.warnf("%s: %s", describe(), reason);
        recordFailures.incrementAndGet();
        lastRecordFailure = reason;
        return letterAbout(source)
                .dataset(record.event() instanceof DeadLetter letter ? letter.dataset() : null)
                .reason(reason)
                .payload(entry.value)
                .build();
    }

    private void commitAsync(Consumer<String, byte[]> current) {
        Map<TopicPartition, OffsetAndMetadata> offsets = noted(watermark.committable());
        if (!offsets.isEmpty()) {
            CommitWatermark owner = watermark;
            current.commitAsync(offsets, (committed, e) -> {
                if (e != null) {
                    owner.forget(offsets.keySet());
                    LOG.warnf(
                            "%s: commit of %s failed, retried with the next one: %s",
                            describe(), offsets, e.getMessage());
                }
            });
        }
    }

    private void commitSync(Consumer<String, byte[]> current) {
        Map<TopicPartition, OffsetAndMetadata> offsets = noted(watermark.committable());
        if (!offsets.isEmpty()) {
            current.commitSync(offsets);
        }
    }

    private Map<TopicPartition, OffsetAndMetadata> noted(Map<TopicPartition, OffsetAndMetadata> offsets) {
        if (offsets.isEmpty()) {
            return offsets;
        }
        String note = commitNote();
        Map<TopicPartition, OffsetAndMetadata> noted = new HashMap<>();
        offsets.forEach((partition, offset) -> noted.put(partition, new OffsetAndMetadata(offset.offset(), note)));
        return noted;
    }

    private void updateLag(Consumer<String, byte[]> current) {
        long total = 0;
        for (TopicPartition partition : current.assignment()) {
            var partitionLag = current.currentLag(partition);
            if (partitionLag.isPresent()) {
                total += partitionLag.getAsLong();
            }
        }
        lag = total;
    }

    /**
     * Partitions going to another consumer: commit what is acknowledged on them. Where the stage still buffers
     * inputs, its state no longer matches what it owns: consumption starts over from the committed offsets (whoever
     * owns the partitions now reads the buffered inputs again), and nothing more is handled, published or committed
     * by this consumer, since a later commit would move past inputs whose holds went with the old assignment.
     */
    private final class Revocations implements ConsumerRebalanceListener {
        private final Consumer<String, byte[]> current;

        Revocations(Consumer<String, byte[]> current) {
            this.current = current;
        }

        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            if (partitions.isEmpty() || restartRequested || !committing) {
                return;
            }
            try {
                commitSync(current);
            } catch (RuntimeException e) {
                LOG.warnf("%s: commit on revocation failed: %s", describe(), e.getMessage());
            }
            revoked(partitions);
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            if (!partitions.isEmpty()) {
                List<TopicPartition> toEnd = new ArrayList<>();
                positionsOnAssignment(partitions).forEach((partition, position) -> {
                    if (position == END) {
                        toEnd.add(partition);
                    } else {
                        current.seek(partition, position);
                    }
                });
                if (!toEnd.isEmpty()) {
                    current.seekToEnd(toEnd);
                }
            }
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            if (!partitions.isEmpty() && !restartRequested) {
                revoked(partitions); // lost, not revoked: another member may own them already, so no commit
            }
        }

        private void revoked(Collection<TopicPartition> partitions) {
            if (watermark.holds() > 0) {
                restartRequested = true;
            } else {
                watermark.drop(partitions);
            }
        }
    }

    /** What the failed attempt handed to Kafka lands (or fails for good) before the next one reads anything back. */
    private void settleSends() {
        try {
            context.publisher().settle();
        } catch (RuntimeException e) {
            LOG.warnf("%s: waiting for the earlier attempt's records to settle failed: %s", describe(), e.getMessage());
        }
    }

    private void pause() {
        try {
            Thread.sleep(context.retryBackoff().toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running = false;
        }
    }

    /**
     * Stops consuming for good, saying why (a recipe's new version replaced it, the recipe was deleted): the stage
     * ends its work rather than leaving it to the next worker ({@link #stopped}).
     */
    public void retire(String why) {
        retirement = why;
        stop();
    }

    /** Stops consuming; the consumer group keeps its committed offsets. */
    public void stop() {
        running = false;
        Consumer<String, byte[]> current = consumer;
        if (current != null) {
            current.wakeup();
        }
    }

    protected static String header(ConsumerRecord<String, byte[]> record, String name) {
        Header header = record.headers().lastHeader(name);
        return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }

    /** The worker as the health check and the status views show it. */
    public WorkerState workerState() {
        Throwable current = failure;
        return new WorkerState(
                name,
                state,
                current == null ? null : String.valueOf(current.getMessage()),
                retries.get(),
                recordFailures.get(),
                lastRecordFailure,
                lag);
    }

    /** The last infrastructure failure, while the worker is retrying after it; null when it is working. */
    public Throwable failure() {
        return failure;
    }
}
