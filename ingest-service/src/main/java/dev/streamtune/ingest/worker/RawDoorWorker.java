package dev.streamtune.ingest.worker;

import dev.streamtune.events.Topics;
import dev.streamtune.ingest.pipeline.Door;
import dev.streamtune.streams.LogContext;
import dev.streamtune.streams.Output;
import dev.streamtune.streams.StageContext;
import dev.streamtune.streams.StartOverException;
import dev.streamtune.streams.StreamWorker;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * The {@code conversations-raw} door on the stage framework's {@link StreamWorker}: one reader of the whole topic
 * for every dataset, in the service's own consumer group. Each poll's records go into ingestions ({@link Poll}),
 * which publish through the ledger's chunk claims and dead-letter bad records themselves; the framework commits the
 * poll's offsets once they are finished, that is published and recorded.
 *
 * <p>So anything that throws here is the platform failing (the database, Kafka, the spool's disk), for every record
 * of the poll alike, never one record's fault: the worker starts over from the committed offsets after a pause,
 * DOWN on the readiness check meanwhile, and reads the poll again. What its chunks had published by then is
 * claimed, so the second reading counts it as duplicates rather than publishing it twice.
 *
 * <p>Its thread logs under {@value LogContext#DOOR}={@code topic}.
 */
final class RawDoorWorker extends StreamWorker {

    /** The worker's name: its client id is {@code <service>-conversations-raw}. */
    static final String NAME = Topics.CONVERSATIONS_RAW;

    /** The records of one poll on their way into ingestions. */
    interface Poll {

        /** Takes one record; bad records are dead-lettered, never thrown for. */
        void take(ConsumerRecord<String, byte[]> record);

        /** Finishes the poll's ingestions: once it returns, what they took is published and recorded. */
        void finish();

        /** Gives up the poll's ingestions: the worker starts over and reads their records again. */
        void abandon();
    }

    private final Supplier<Poll> polls;
    private Poll poll;

    RawDoorWorker(StageContext context, String groupId, Supplier<Poll> polls) {
        super(context, NAME, groupId, Topics.CONVERSATIONS_RAW);
        this.polls = polls;
        logUnder(LogContext.DOOR, Door.TOPIC.wireName());
    }

    @Override
    protected String describe() {
        return "the " + NAME + " door";
    }

    @Override
    protected void starting() {
        abandon(); // what a failed session had begun: read again from the committed offsets
    }

    @Override
    protected void accept(ConsumerRecord<String, byte[]> record, Output out) {
        if (poll == null) {
            poll = polls.get();
        }
        try {
            poll.take(record);
        } catch (RuntimeException e) {
            throw new StartOverException(describe() + " could not take " + where(record) + ": " + why(e), e);
        }
    }

    @Override
    protected void endOfPoll(Output out) {
        Poll finishing = poll;
        poll = null;
        if (finishing != null) {
            finishing.finish(); // a failure here is the platform's: the framework starts over
        }
    }

    @Override
    protected void stopped(String retirement) {
        abandon();
    }

    private void abandon() {
        if (poll != null) {
            poll.abandon();
            poll = null;
        }
    }
}
