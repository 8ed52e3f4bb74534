package dev.streamtune.trainer.worker;

import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.OffsetCommitCallback;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;

/**
 * A worker's consumer of the in-memory {@link BatchLog}, whose every poll is a meeting with the test's thread: the
 * worker announces that it waits in poll, the test lets one poll through ({@link Gate#poll}), and the worker's next
 * call to poll tells the test that the poll's records were handled, published and committed. Between the two, the
 * test acts (records arrive, a stop is asked for, the process is killed) while the worker is known to be waiting:
 * no timing is involved. The first poll after a subscribe assigns the partition, as a group's first poll does, and
 * the worker's listener says where to read from; max.poll.records is honoured.
 */
final class SteppedConsumer extends MockConsumer<String, byte[]> {

    /** Thrown out of poll to end the worker's thread as a killed process ends: nothing of it runs after. */
    static final class Killed extends Error {
        Killed() {
            super("the trainer process was killed", null, false, false);
        }
    }

    /** The meeting point of one worker's polls and the test's thread. */
    static final class Gate {
        private enum Command {
            POLL,
            WAKE,
            KILL
        }

        private final BlockingQueue<Command> commands = new LinkedBlockingQueue<>();
        private final BlockingQueue<Boolean> atPoll = new LinkedBlockingQueue<>();
        private final Duration patience;
        private volatile int lastDelivered;

        Gate(Duration patience) {
            this.patience = patience;
        }

        /** On the test's thread: waits until the worker waits in poll; false when it ended (or never came). */
        boolean awaitPoll(RecipeStreamWorkerHandle worker) {
            try {
                while (true) {
                    Boolean arrived = atPoll.poll(100, TimeUnit.MILLISECONDS);
                    if (arrived != null) {
                        return true;
                    }
                    if (worker.ended()) {
                        return false;
                    }
                    worker.checkPatience(patience);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }

        /** On the test's thread: lets the waiting worker's poll through and waits until it polls again. */
        boolean poll(RecipeStreamWorkerHandle worker) {
            commands.add(Command.POLL);
            return awaitPoll(worker);
        }

        /** On the test's thread: the waiting worker's poll throws, as in a process killed with SIGKILL. */
        void kill() {
            commands.add(Command.KILL);
        }

        void wake() {
            commands.add(Command.WAKE);
        }

        /** How many records the last poll let through handed to the worker. */
        int lastDelivered() {
            return lastDelivered;
        }

        /** On the worker's thread, inside poll. */
        private Command meet() {
            atPoll.add(true);
            try {
                return commands.take();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new Killed();
            }
        }
    }

    /** What the gate needs to know of the worker behind it. */
    interface RecipeStreamWorkerHandle {
        boolean ended();

        /** Fails the test when the worker has not come to poll for longer than the patience (a hang). */
        void checkPatience(Duration patience);
    }

    private final BatchLog log;
    private final String group;
    private final int maxPollRecords;
    private final Gate gate;
    private final AtomicBoolean wakeup = new AtomicBoolean();
    private ConsumerRebalanceListener listener;
    private boolean assigned;
    private long position;

    SteppedConsumer(BatchLog log, String group, int maxPollRecords, Gate gate) {
        super("earliest");
        this.log = log;
        this.group = group;
        this.maxPollRecords = maxPollRecords;
        this.gate = gate;
    }

    @Override
    public synchronized void subscribe(Collection<String> topics, ConsumerRebalanceListener listener) {
        this.listener = listener;
    }

    @Override
    public ConsumerRecords<String, byte[]> poll(Duration timeout) {
        Gate.Command command = gate.meet();
        if (command == Gate.Command.KILL) {
            throw new Killed();
        }
        if (wakeup.getAndSet(false) || command == Gate.Command.WAKE) {
            gate.lastDelivered = 0;
            throw new WakeupException();
        }
        if (!assigned) {
            assigned = true;
            Long committed = log.committed(group);
            position = committed == null ? 0 : committed;
            listener.onPartitionsAssigned(List.of(BatchLog.PARTITION));
        }
        List<ConsumerRecord<String, byte[]>> records = log.read(position, maxPollRecords);
        position += records.size();
        gate.lastDelivered = records.size();
        return records.isEmpty()
                ? ConsumerRecords.empty()
                : new ConsumerRecords<>(Map.of(BatchLog.PARTITION, records), Map.of());
    }

    @Override
    public synchronized void seek(TopicPartition partition, long offset) {
        position = offset;
    }

    @Override
    public synchronized void seekToEnd(Collection<TopicPartition> partitions) {
        position = log.end();
    }

    @Override
    public synchronized void commitAsync(
            Map<TopicPartition, OffsetAndMetadata> offsets, OffsetCommitCallback callback) {
        commitSync(offsets);
        if (callback != null) {
            callback.onComplete(offsets, null);
        }
    }

    @Override
    public synchronized void commitSync(Map<TopicPartition, OffsetAndMetadata> offsets) {
        OffsetAndMetadata offset = offsets.get(BatchLog.PARTITION);
        if (offset != null) {
            log.commit(group, offset.offset());
        }
    }

    @Override
    public synchronized OptionalLong currentLag(TopicPartition partition) {
        return OptionalLong.of(log.end() - position);
    }

    @Override
    public synchronized Set<TopicPartition> assignment() {
        return assigned ? Set.of(BatchLog.PARTITION) : Set.of();
    }

    @Override
    public void wakeup() {
        wakeup.set(true);
        gate.wake();
    }

    @Override
    public synchronized void close() {}

    @Override
    public synchronized void close(Duration timeout) {}
}
